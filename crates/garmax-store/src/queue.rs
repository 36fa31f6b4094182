//! The durable job queue, in the same database as the state it changes.
//!
//! Why not a queue library: `apalis` (checked, and fine otherwise) pushes
//! jobs through its own storage handle, not through a caller's transaction,
//! so "insert the session and enqueue its job" could not commit atomically
//! — a crash between the two would lose the job or run one for a session
//! that never existed. Here [`enqueue`] takes the caller's transaction.
//!
//! A claim sets `status = 'running'`, `locked_by` and a lease, and increments
//! `attempts`, which is the claim's fencing token: heartbeats, completion and
//! failure only apply while `locked_by` and `attempts` still match, so a
//! worker whose lease was taken over cannot finish someone else's claim.
//! Expired leases are claimable again (a crashed worker's job is taken over);
//! a job that expired on its last attempt is failed by [`Store::reap_expired`].
//! PostgreSQL claims with `FOR UPDATE SKIP LOCKED`; SQLite has one writer, so
//! the claiming `UPDATE` is atomic by itself.

use serde_json::Value;
use sqlx::Row as _;

use crate::{Backend, Store, StoreError, Tx, new_id, now_ms};

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: String,
    pub payload: Value,
    /// Higher runs first (ultra > premium > standard).
    pub priority: i64,
    pub max_attempts: i64,
    /// Not before this time (ms); `None` = now.
    pub run_at: Option<i64>,
}

impl NewJob {
    pub fn new(kind: &str, payload: Value) -> NewJob {
        NewJob {
            kind: kind.to_string(),
            payload,
            priority: 0,
            max_attempts: 3,
            run_at: None,
        }
    }
    pub fn priority(mut self, p: i64) -> NewJob {
        self.priority = p;
        self
    }
    pub fn max_attempts(mut self, n: i64) -> NewJob {
        self.max_attempts = n.max(1);
        self
    }
    pub fn run_at(mut self, t: i64) -> NewJob {
        self.run_at = Some(t);
        self
    }
}

/// A claimed job.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: String,
    pub kind: String,
    pub payload: Value,
    /// This claim's attempt number (1-based) and fencing token.
    pub attempt: i64,
    pub max_attempts: i64,
    pub worker: String,
}

/// A job's stored state (for the API and tests).
#[derive(Debug, Clone, PartialEq)]
pub struct JobState {
    pub id: String,
    pub kind: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
}

/// Queue depth and age, for metrics and `/ready`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueStats {
    pub queued: i64,
    pub running: i64,
    pub failed: i64,
    pub done: i64,
    /// Age of the oldest job waiting to run, in ms.
    pub oldest_queued_ms: i64,
}

/// The queued jobs of one kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindBacklog {
    pub kind: String,
    pub queued: i64,
    /// Age of the oldest of them that may run now (0 if none may), ms.
    pub oldest_ready_ms: i64,
}

/// Enqueues `job` inside `tx`: it exists exactly when `tx` commits.
pub async fn enqueue(tx: &mut Tx, job: &NewJob) -> Result<String, StoreError> {
    let id = new_id();
    let now = now_ms();
    sqlx::query(
        "INSERT INTO jobs (id, kind, payload, priority, status, attempts, max_attempts, run_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'queued', 0, $5, $6, $7, $7)",
    )
    .bind(&id)
    .bind(&job.kind)
    .bind(job.payload.to_string())
    .bind(job.priority)
    .bind(job.max_attempts)
    .bind(job.run_at.unwrap_or(now))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

const CLAIM_POSTGRES: &str = "UPDATE jobs SET status = 'running', locked_by = $1, lease_until = $2, \
    attempts = attempts + 1, updated_at = $3 \
    WHERE id = (SELECT id FROM jobs WHERE ((status = 'queued' AND run_at <= $3) \
      OR (status = 'running' AND lease_until < $3 AND attempts < max_attempts)) \
      ORDER BY priority DESC, run_at, created_at LIMIT 1 FOR UPDATE SKIP LOCKED) \
    RETURNING id, kind, payload, attempts, max_attempts";

const CLAIM_SQLITE: &str = "UPDATE jobs SET status = 'running', locked_by = $1, lease_until = $2, \
    attempts = attempts + 1, updated_at = $3 \
    WHERE id = (SELECT id FROM jobs WHERE ((status = 'queued' AND run_at <= $3) \
      OR (status = 'running' AND lease_until < $3 AND attempts < max_attempts)) \
      ORDER BY priority DESC, run_at, created_at LIMIT 1) \
    RETURNING id, kind, payload, attempts, max_attempts";

/// Exponential backoff for attempt `n` (1-based): 2 s, 4 s, 8 s … ≤ 5 min.
pub fn backoff_ms(attempt: i64) -> i64 {
    let exp = (attempt - 1).clamp(0, 20) as u32;
    (2_000i64.saturating_mul(1i64 << exp)).min(300_000)
}

impl Store {
    /// Enqueues in a transaction of its own.
    pub async fn enqueue(&self, job: &NewJob) -> Result<String, StoreError> {
        let mut tx = self.begin().await?;
        let id = enqueue(&mut tx, job).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Claims the most urgent runnable job for `worker` with a lease of
    /// `lease_ms`, or `None` when nothing is runnable.
    pub async fn claim(&self, worker: &str, lease_ms: i64) -> Result<Option<Job>, StoreError> {
        let now = now_ms();
        let sql = match self.backend() {
            Backend::Postgres => CLAIM_POSTGRES,
            Backend::Sqlite => CLAIM_SQLITE,
        };
        let row = sqlx::query(sql)
            .bind(worker)
            .bind(now + lease_ms)
            .bind(now)
            .fetch_optional(self.pool())
            .await?;
        let Some(row) = row else { return Ok(None) };
        let payload: String = row.try_get("payload")?;
        Ok(Some(Job {
            id: row.try_get("id")?,
            kind: row.try_get("kind")?,
            payload: serde_json::from_str(&payload)
                .map_err(|e| StoreError::Invalid(e.to_string()))?,
            attempt: row.try_get("attempts")?,
            max_attempts: row.try_get("max_attempts")?,
            worker: worker.to_string(),
        }))
    }

    /// Extends the lease; false when the claim was lost (taken over).
    pub async fn heartbeat(&self, job: &Job, lease_ms: i64) -> Result<bool, StoreError> {
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE jobs SET lease_until = $1, updated_at = $2 \
             WHERE id = $3 AND status = 'running' AND locked_by = $4 AND attempts = $5",
        )
        .bind(now + lease_ms)
        .bind(now)
        .bind(&job.id)
        .bind(&job.worker)
        .bind(job.attempt)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks the claim done; false when it was lost.
    pub async fn complete(&self, job: &Job) -> Result<bool, StoreError> {
        self.finish(job, "done", None, None).await
    }

    /// A failed attempt: back to the queue after a backoff, or `failed` on
    /// the last attempt (returns the status written, or `None` when the
    /// claim was lost).
    pub async fn fail_attempt(
        &self,
        job: &Job,
        error: &str,
    ) -> Result<Option<&'static str>, StoreError> {
        if job.attempt >= job.max_attempts {
            return Ok(self
                .finish(job, "failed", Some(error), None)
                .await?
                .then_some("failed"));
        }
        let run_at = now_ms() + backoff_ms(job.attempt);
        Ok(self
            .finish(job, "queued", Some(error), Some(run_at))
            .await?
            .then_some("queued"))
    }

    /// A failure no retry can fix: `failed` at once.
    pub async fn fail_permanently(&self, job: &Job, error: &str) -> Result<bool, StoreError> {
        self.finish(job, "failed", Some(error), None).await
    }

    /// Gives the job back without counting the attempt (graceful shutdown,
    /// or a dependency not ready yet), to run again at `run_at`.
    pub async fn release(&self, job: &Job, run_at: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE jobs SET status = 'queued', locked_by = NULL, lease_until = NULL, \
             attempts = attempts - 1, run_at = $1, updated_at = $2 \
             WHERE id = $3 AND status = 'running' AND locked_by = $4 AND attempts = $5",
        )
        .bind(run_at)
        .bind(now_ms())
        .bind(&job.id)
        .bind(&job.worker)
        .bind(job.attempt)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn finish(
        &self,
        job: &Job,
        status: &str,
        error: Option<&str>,
        run_at: Option<i64>,
    ) -> Result<bool, StoreError> {
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE jobs SET status = $1, last_error = COALESCE($2, last_error), locked_by = NULL, \
             lease_until = NULL, run_at = COALESCE($3, run_at), updated_at = $4 \
             WHERE id = $5 AND status = 'running' AND locked_by = $6 AND attempts = $7",
        )
        .bind(status)
        .bind(error)
        .bind(run_at)
        .bind(now)
        .bind(&job.id)
        .bind(&job.worker)
        .bind(job.attempt)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Fails the jobs whose lease expired on their last attempt (their
    /// worker died every time) and returns them, so their owner's state can
    /// be marked failed too.
    pub async fn reap_expired(&self) -> Result<Vec<Job>, StoreError> {
        let now = now_ms();
        let rows = sqlx::query(
            "UPDATE jobs SET status = 'failed', locked_by = NULL, lease_until = NULL, updated_at = $1, \
             last_error = 'the worker stopped answering on every attempt' \
             WHERE status = 'running' AND lease_until < $1 AND attempts >= max_attempts \
             RETURNING id, kind, payload, attempts, max_attempts",
        )
        .bind(now)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let payload: String = row.try_get("payload")?;
                Ok(Job {
                    id: row.try_get("id")?,
                    kind: row.try_get("kind")?,
                    payload: serde_json::from_str(&payload)
                        .map_err(|e| StoreError::Invalid(e.to_string()))?,
                    attempt: row.try_get("attempts")?,
                    max_attempts: row.try_get("max_attempts")?,
                    worker: String::new(),
                })
            })
            .collect()
    }

    pub async fn job_state(&self, id: &str) -> Result<JobState, StoreError> {
        let row =
            sqlx::query("SELECT id, kind, status, attempts, last_error FROM jobs WHERE id = $1")
                .bind(id)
                .fetch_optional(self.pool())
                .await?
                .ok_or(StoreError::NotFound)?;
        Ok(JobState {
            id: row.try_get("id")?,
            kind: row.try_get("kind")?,
            status: row.try_get("status")?,
            attempts: row.try_get("attempts")?,
            last_error: row.try_get("last_error")?,
        })
    }

    /// Every job of a kind, oldest first (for the admin view and tests).
    pub async fn jobs_of_kind(&self, kind: &str) -> Result<Vec<JobState>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, kind, status, attempts, last_error FROM jobs WHERE kind = $1 ORDER BY created_at",
        )
        .bind(kind)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(JobState {
                    id: row.try_get("id")?,
                    kind: row.try_get("kind")?,
                    status: row.try_get("status")?,
                    attempts: row.try_get("attempts")?,
                    last_error: row.try_get("last_error")?,
                })
            })
            .collect()
    }

    /// Queued jobs per kind with the age of the oldest ready one.
    pub async fn queue_backlog(&self) -> Result<Vec<KindBacklog>, StoreError> {
        let now = now_ms();
        let rows = sqlx::query(
            "SELECT kind, COUNT(*) AS n, \
             CAST(COALESCE(MIN(CASE WHEN run_at <= $1 THEN run_at END), $1) AS BIGINT) AS oldest \
             FROM jobs WHERE status = 'queued' GROUP BY kind ORDER BY kind",
        )
        .bind(now)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(KindBacklog {
                    kind: r.try_get("kind")?,
                    queued: r.try_get("n")?,
                    oldest_ready_ms: now - r.try_get::<i64, _>("oldest")?,
                })
            })
            .collect()
    }

    /// Jobs running now per worker (the lease holder), busiest first.
    pub async fn running_by_worker(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT locked_by, COUNT(*) AS n FROM jobs WHERE status = 'running' AND locked_by IS NOT NULL \
             GROUP BY locked_by ORDER BY n DESC, locked_by",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("locked_by")?, r.try_get("n")?)))
            .collect()
    }

    pub async fn queue_stats(&self) -> Result<QueueStats, StoreError> {
        let now = now_ms();
        let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status")
            .fetch_all(self.pool())
            .await?;
        let mut s = QueueStats::default();
        for r in &rows {
            let n: i64 = r.try_get("n")?;
            match r.try_get::<String, _>("status")?.as_str() {
                "queued" => s.queued = n,
                "running" => s.running = n,
                "failed" => s.failed = n,
                "done" => s.done = n,
                _ => {}
            }
        }
        let oldest = sqlx::query(
            "SELECT CAST(COALESCE(MIN(run_at), $1) AS BIGINT) AS t FROM jobs WHERE status = 'queued' AND run_at <= $1",
        )
        .bind(now)
        .fetch_one(self.pool())
        .await?;
        s.oldest_queued_ms = now - oldest.try_get::<i64, _>("t")?;
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff_ms(1), 2_000);
        assert_eq!(backoff_ms(2), 4_000);
        assert_eq!(backoff_ms(3), 8_000);
        assert_eq!(backoff_ms(40), 300_000);
        assert_eq!(backoff_ms(0), 2_000);
    }
}
