//! Try-on sessions and their event log.
//!
//! State changes go through [`garmax_core::session::SessionStatus::apply`]
//! and a conditional `UPDATE … WHERE status = <the state read>`, so two
//! racing actions (a user's confirm and the auto-confirm timer, two workers
//! after a lease takeover) cannot both win. Progress events are appended
//! only when they move the session forward: a stage retried after a crash
//! re-reports 10 %, 25 %, … and those reports are dropped, so a client never
//! sees progress go backwards and the preview is announced once.

use garmax_core::session::{SessionAction, SessionStatus};
use serde::{Deserialize, Serialize};
use sqlx::Row as _;

use crate::avatars::page;
use crate::{
    Backend, Page, Store, StoreError, Tx, clamp_limit, cursor_bounds, encode_cursor, now_ms,
};

/// A session row.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    pub avatar_id: String,
    pub garment_id: String,
    pub quality: String,
    pub tier: String,
    pub status: SessionStatus,
    pub stage: String,
    pub progress: i64,
    pub message: String,
    pub eta_ms: Option<i64>,
    /// The validation report (JSON made by the pipeline).
    pub validation: Option<serde_json::Value>,
    pub attempts: i64,
    pub error: Option<(String, String)>,
    pub has_preview: bool,
    pub auto_confirm_at: Option<i64>,
    pub credits_held: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What a new session is made of.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub id: &'a str,
    pub user_id: &'a str,
    pub avatar_id: &'a str,
    pub garment_id: &'a str,
    pub quality: &'a str,
    pub tier: &'a str,
    /// Credits held until the session is confirmed (or given back).
    pub credits: i64,
}

/// One status update of a session, as stored and as broadcast.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionEvent {
    pub session_id: String,
    pub seq: i64,
    pub status: String,
    pub stage: String,
    pub progress: i64,
    pub message: String,
    pub eta_ms: Option<i64>,
    pub created_at: i64,
}

/// A progress report from the pipeline.
#[derive(Debug, Clone)]
pub struct Progress<'a> {
    pub stage: &'a str,
    pub progress: i64,
    pub message: &'a str,
    pub eta_ms: Option<i64>,
}

/// The PostgreSQL channel events are announced on.
pub const EVENTS_CHANNEL: &str = "garmax_events";

const SELECT: &str = "SELECT id, user_id, avatar_id, garment_id, quality, tier, status, stage, progress, \
    message, eta_ms, validation, attempts, error_code, error_message, has_preview, auto_confirm_at, \
    credits_held, created_at, updated_at FROM sessions";

fn from_row(row: &sqlx::any::AnyRow) -> Result<Session, StoreError> {
    let status: String = row.try_get("status")?;
    let validation: Option<String> = row.try_get("validation")?;
    let code: Option<String> = row.try_get("error_code")?;
    let message: Option<String> = row.try_get("error_message")?;
    Ok(Session {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        avatar_id: row.try_get("avatar_id")?,
        garment_id: row.try_get("garment_id")?,
        quality: row.try_get("quality")?,
        tier: row.try_get("tier")?,
        status: SessionStatus::parse(&status)
            .ok_or_else(|| StoreError::Invalid(format!("unknown session status {status}")))?,
        stage: row.try_get("stage")?,
        progress: row.try_get("progress")?,
        message: row.try_get("message")?,
        eta_ms: row.try_get("eta_ms")?,
        validation: validation
            .map(|v| serde_json::from_str(&v))
            .transpose()
            .map_err(|e| StoreError::Invalid(e.to_string()))?,
        attempts: row.try_get("attempts")?,
        error: code.map(|c| (c, message.unwrap_or_default())),
        has_preview: row.try_get::<i64, _>("has_preview")? != 0,
        auto_confirm_at: row.try_get("auto_confirm_at")?,
        credits_held: row.try_get("credits_held")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn event_from_row(row: &sqlx::any::AnyRow) -> Result<SessionEvent, StoreError> {
    Ok(SessionEvent {
        session_id: row.try_get("session_id")?,
        seq: row.try_get("seq")?,
        status: row.try_get("status")?,
        stage: row.try_get("stage")?,
        progress: row.try_get("progress")?,
        message: row.try_get("message")?,
        eta_ms: row.try_get("eta_ms")?,
        created_at: row.try_get("created_at")?,
    })
}

/// Inserts a queued session and its first event.
pub(crate) async fn insert(
    tx: &mut Tx,
    backend: Backend,
    s: &NewSession<'_>,
) -> Result<SessionEvent, StoreError> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO sessions (id, user_id, avatar_id, garment_id, quality, tier, status, stage, progress, \
         message, attempts, has_preview, credits_held, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'queued', 'queued', 0, 'waiting for a worker', 0, 0, $8, $7, $7)",
    )
    .bind(s.id)
    .bind(s.user_id)
    .bind(s.avatar_id)
    .bind(s.garment_id)
    .bind(s.quality)
    .bind(s.tier)
    .bind(now)
    .bind(s.credits)
    .execute(&mut **tx)
    .await?;
    let event = SessionEvent {
        session_id: s.id.to_string(),
        seq: 1,
        status: SessionStatus::Queued.as_str().into(),
        stage: "queued".into(),
        progress: 0,
        message: "waiting for a worker".into(),
        eta_ms: None,
        created_at: now,
    };
    insert_event(tx, backend, &event).await?;
    Ok(event)
}

async fn insert_event(tx: &mut Tx, backend: Backend, e: &SessionEvent) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO session_events (session_id, seq, status, stage, progress, message, eta_ms, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&e.session_id)
    .bind(e.seq)
    .bind(&e.status)
    .bind(&e.stage)
    .bind(e.progress)
    .bind(&e.message)
    .bind(e.eta_ms)
    .bind(e.created_at)
    .execute(&mut **tx)
    .await?;
    if backend == Backend::Postgres {
        // Delivered to every listening process when the transaction commits.
        let payload =
            serde_json::to_string(e).map_err(|err| StoreError::Invalid(err.to_string()))?;
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(EVENTS_CHANNEL)
            .bind(payload)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

async fn lock_session(tx: &mut Tx, backend: Backend, id: &str) -> Result<Session, StoreError> {
    // SQLite's BEGIN IMMEDIATE already holds the write lock.
    let sql = match backend {
        Backend::Postgres => {
            "SELECT id, user_id, avatar_id, garment_id, quality, tier, status, stage, progress, \
            message, eta_ms, validation, attempts, error_code, error_message, has_preview, auto_confirm_at, \
            credits_held, created_at, updated_at FROM sessions WHERE id = $1 FOR UPDATE"
        }
        Backend::Sqlite => {
            "SELECT id, user_id, avatar_id, garment_id, quality, tier, status, stage, progress, \
            message, eta_ms, validation, attempts, error_code, error_message, has_preview, auto_confirm_at, \
            credits_held, created_at, updated_at FROM sessions WHERE id = $1"
        }
    };
    debug_assert!(sql.starts_with(SELECT));
    let row = sqlx::query(sql)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// Serialises a user's credit-changing transactions (SQLite's BEGIN
/// IMMEDIATE already serialises every writer).
async fn lock_user(tx: &mut Tx, backend: Backend, user_id: &str) -> Result<(), StoreError> {
    if backend == Backend::Postgres {
        sqlx::query("SELECT id FROM users WHERE id = $1 FOR UPDATE")
            .bind(user_id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or(StoreError::NotFound)?;
    }
    Ok(())
}

async fn next_seq(tx: &mut Tx, id: &str) -> Result<i64, StoreError> {
    let row = sqlx::query("SELECT CAST(COALESCE(MAX(seq), 0) AS BIGINT) AS seq FROM session_events WHERE session_id = $1")
        .bind(id)
        .fetch_one(&mut **tx)
        .await?;
    Ok(row.try_get::<i64, _>("seq")? + 1)
}

/// What a state change also writes.
#[derive(Debug, Clone, Default)]
pub struct Outcome<'a> {
    pub stage: Option<&'a str>,
    pub progress: Option<i64>,
    pub message: Option<&'a str>,
    pub validation: Option<&'a serde_json::Value>,
    pub attempts: Option<i64>,
    pub error: Option<(&'a str, &'a str)>,
    pub has_preview: bool,
    pub auto_confirm_at: Option<i64>,
}

/// The result of [`Store::transition`].
#[derive(Debug, Clone)]
pub struct Transitioned {
    pub session: Session,
    /// The event announcing the change, when it was one.
    pub event: Option<SessionEvent>,
}

impl Store {
    /// Creates a queued session and enqueues `job` in one transaction: the
    /// session exists exactly when its job does.
    pub async fn create_session(
        &self,
        s: &NewSession<'_>,
        job: &crate::queue::NewJob,
    ) -> Result<String, StoreError> {
        let mut tx = self.begin().await?;
        lock_user(&mut tx, self.backend(), s.user_id).await?;
        let event = insert(&mut tx, self.backend(), s).await?;
        if s.credits > 0 {
            crate::credits::hold(&mut tx, s.user_id, s.id, s.credits).await?;
        }
        let job_id = crate::queue::enqueue(&mut tx, job).await?;
        tx.commit().await?;
        self.publish_local(&event);
        Ok(job_id)
    }

    /// The session if it belongs to `user_id`.
    pub async fn session(&self, user_id: &str, id: &str) -> Result<Session, StoreError> {
        let row = sqlx::query(
            "SELECT id, user_id, avatar_id, garment_id, quality, tier, status, stage, progress, \
             message, eta_ms, validation, attempts, error_code, error_message, has_preview, auto_confirm_at, \
             credits_held, created_at, updated_at FROM sessions WHERE id = $1 AND user_id = $2",
        )
        .bind(id)
        .bind(user_id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        from_row(&row)
    }

    /// The session whoever owns it (for workers).
    pub async fn session_by_id(&self, id: &str) -> Result<Session, StoreError> {
        let row = sqlx::query(
            "SELECT id, user_id, avatar_id, garment_id, quality, tier, status, stage, progress, \
             message, eta_ms, validation, attempts, error_code, error_message, has_preview, auto_confirm_at, \
             credits_held, created_at, updated_at FROM sessions WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        from_row(&row)
    }

    /// The user's sessions, newest first.
    pub async fn list_sessions(
        &self,
        user_id: &str,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Page<Session>, StoreError> {
        let limit = clamp_limit(limit);
        let (t, id) = cursor_bounds(cursor)?;
        let rows = sqlx::query(
            "SELECT id, user_id, avatar_id, garment_id, quality, tier, status, stage, progress, \
             message, eta_ms, validation, attempts, error_code, error_message, has_preview, auto_confirm_at, \
             credits_held, created_at, updated_at FROM sessions WHERE user_id = $1 \
             AND (created_at < $2 OR (created_at = $2 AND id < $3)) \
             ORDER BY created_at DESC, id DESC LIMIT $4",
        )
        .bind(user_id)
        .bind(t)
        .bind(id)
        .bind(limit + 1)
        .fetch_all(self.pool())
        .await?;
        page(rows, limit, from_row, |s: &Session| {
            encode_cursor(s.created_at, &s.id)
        })
    }

    /// Applies `action` to a session (of `owner` when given), writing
    /// `outcome` and an event in the same transaction. A transition the
    /// state machine refuses is `StoreError::Conflict`; `Start` on a session
    /// that is already processing succeeds without a new event.
    pub async fn transition(
        &self,
        id: &str,
        owner: Option<&str>,
        action: SessionAction,
        outcome: Outcome<'_>,
    ) -> Result<Transitioned, StoreError> {
        let mut tx = self.begin().await?;
        let current = lock_session(&mut tx, self.backend(), id).await?;
        if owner.is_some_and(|o| o != current.user_id) {
            return Err(StoreError::NotFound);
        }
        let next = current
            .status
            .apply(action)
            .map_err(|e| StoreError::Conflict(e.to_string()))?;
        if next == current.status {
            return Ok(Transitioned {
                session: current,
                event: None,
            });
        }
        let now = now_ms();
        let stage = outcome.stage.unwrap_or(&current.stage).to_string();
        let progress = outcome
            .progress
            .unwrap_or(current.progress)
            .max(current.progress);
        let message = outcome.message.unwrap_or(&current.message).to_string();
        let validation = match outcome.validation {
            Some(v) => Some(v.to_string()),
            None => current.validation.as_ref().map(|v| v.to_string()),
        };
        let attempts = outcome.attempts.unwrap_or(current.attempts);
        let (code, err_msg) = match outcome.error {
            Some((c, m)) => (Some(c.to_string()), Some(m.to_string())),
            None => (
                current.error.as_ref().map(|e| e.0.clone()),
                current.error.as_ref().map(|e| e.1.clone()),
            ),
        };
        let has_preview = current.has_preview || outcome.has_preview;
        let auto_confirm_at = if next == SessionStatus::PreviewReady {
            outcome.auto_confirm_at
        } else {
            None
        };
        let eta = if next.is_terminal() || next == SessionStatus::PreviewReady {
            None
        } else {
            current.eta_ms
        };
        sqlx::query(
            "UPDATE sessions SET status = $1, stage = $2, progress = $3, message = $4, validation = $5, \
             attempts = $6, error_code = $7, error_message = $8, has_preview = $9, auto_confirm_at = $10, \
             eta_ms = $11, updated_at = $12 WHERE id = $13 AND status = $14",
        )
        .bind(next.as_str())
        .bind(&stage)
        .bind(progress)
        .bind(&message)
        .bind(validation)
        .bind(attempts)
        .bind(code)
        .bind(err_msg)
        .bind(has_preview as i64)
        .bind(auto_confirm_at)
        .bind(eta)
        .bind(now)
        .bind(id)
        .bind(current.status.as_str())
        .execute(&mut *tx)
        .await?;
        // The hold is settled in the same transaction as the state change,
        // and a terminal state accepts nothing more: charged exactly once.
        match next {
            SessionStatus::Confirmed => {
                crate::credits::settle(&mut tx, &current.user_id, id, current.credits_held, true)
                    .await?
            }
            SessionStatus::Rejected | SessionStatus::Cancelled | SessionStatus::Failed => {
                crate::credits::settle(&mut tx, &current.user_id, id, current.credits_held, false)
                    .await?
            }
            _ => {}
        }
        let event = SessionEvent {
            session_id: id.to_string(),
            seq: next_seq(&mut tx, id).await?,
            status: next.as_str().to_string(),
            stage,
            progress,
            message,
            eta_ms: eta,
            created_at: now,
        };
        insert_event(&mut tx, self.backend(), &event).await?;
        tx.commit().await?;
        self.publish_local(&event);
        let session = self.session_by_id(id).await?;
        Ok(Transitioned {
            session,
            event: Some(event),
        })
    }

    /// Records progress of a processing session. Returns the new event, or
    /// `None` when the report would not move the session forward (a retried
    /// stage, a session no longer processing).
    pub async fn record_progress(
        &self,
        id: &str,
        p: &Progress<'_>,
    ) -> Result<Option<SessionEvent>, StoreError> {
        let mut tx = self.begin().await?;
        let current = lock_session(&mut tx, self.backend(), id).await?;
        if current.status != SessionStatus::Processing || p.progress <= current.progress {
            return Ok(None);
        }
        let now = now_ms();
        sqlx::query(
            "UPDATE sessions SET stage = $1, progress = $2, message = $3, eta_ms = $4, updated_at = $5 \
             WHERE id = $6",
        )
        .bind(p.stage)
        .bind(p.progress)
        .bind(p.message)
        .bind(p.eta_ms)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let event = SessionEvent {
            session_id: id.to_string(),
            seq: next_seq(&mut tx, id).await?,
            status: current.status.as_str().to_string(),
            stage: p.stage.to_string(),
            progress: p.progress,
            message: p.message.to_string(),
            eta_ms: p.eta_ms,
            created_at: now,
        };
        insert_event(&mut tx, self.backend(), &event).await?;
        tx.commit().await?;
        self.publish_local(&event);
        Ok(Some(event))
    }

    /// The session's events after `after_seq`, in order.
    pub async fn events_after(
        &self,
        id: &str,
        after_seq: i64,
    ) -> Result<Vec<SessionEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT session_id, seq, status, stage, progress, message, eta_ms, created_at \
             FROM session_events WHERE session_id = $1 AND seq > $2 ORDER BY seq",
        )
        .bind(id)
        .bind(after_seq)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    /// The session's latest event.
    pub async fn last_event(&self, id: &str) -> Result<Option<SessionEvent>, StoreError> {
        let row = sqlx::query(
            "SELECT session_id, seq, status, stage, progress, message, eta_ms, created_at \
             FROM session_events WHERE session_id = $1 ORDER BY seq DESC LIMIT 1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(event_from_row).transpose()
    }

    /// Sessions in preview whose auto-confirm time has passed.
    pub async fn due_auto_confirms(&self, now: i64, limit: i64) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT id FROM sessions WHERE status = 'preview_ready' AND auto_confirm_at IS NOT NULL \
             AND auto_confirm_at <= $1 ORDER BY auto_confirm_at LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
    }

    /// Counts sessions by status (for metrics).
    pub async fn session_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM sessions GROUP BY status")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("status")?, r.try_get("n")?)))
            .collect()
    }
}
