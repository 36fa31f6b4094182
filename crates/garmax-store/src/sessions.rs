//! Try-on sessions and their event log.
//!
//! State changes go through [`garmax_core::session::SessionStatus::apply`]
//! and a conditional `UPDATE … WHERE status = <the state read>`, so two
//! racing actions (a user's confirm and the auto-confirm timer, two workers
//! after a lease takeover) cannot both win. Progress events are appended
//! only when they move the session forward: a stage retried after a crash
//! re-reports 10 %, 25 %, … and those reports are dropped, so a client never
//! sees progress go backwards and the preview is announced once.

use garmax_core::session::{ProgressStage, SessionAction, SessionStatus};
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
    /// When the hold became a charge (confirm or auto-confirm).
    pub charged_at: Option<i64>,
    /// When that charge was refunded (a cancel within the refund window).
    pub refunded_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Session {
    /// Credits this session holds now, was charged, was given back
    /// unspent, and was refunded after the charge.
    pub fn credits(&self) -> SessionCredits {
        let held = self.credits_held;
        let charged = self.charged_at.is_some();
        let refunded = self.refunded_at.is_some();
        let open = !self.status.is_terminal();
        SessionCredits {
            held: if open { held } else { 0 },
            captured: if charged && !refunded { held } else { 0 },
            released: if !open && !charged { held } else { 0 },
            refunded: if refunded { held } else { 0 },
        }
    }
}

/// What a session did with its credits (see [`Session::credits`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SessionCredits {
    pub held: i64,
    pub captured: i64,
    pub released: i64,
    pub refunded: i64,
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
    /// The render attempt the event belongs to (1-based; 0 before the
    /// first attempt and for state changes that carry none).
    #[serde(default)]
    pub attempt: i64,
}

/// A progress report from the pipeline.
#[derive(Debug, Clone)]
pub struct Progress<'a> {
    pub stage: &'a str,
    pub progress: i64,
    pub message: &'a str,
    pub eta_ms: Option<i64>,
    /// The render attempt reporting (1-based), `None` for stages outside
    /// the retry loop. A later attempt may revisit an earlier stage.
    pub attempt: Option<i64>,
}

/// The PostgreSQL channel events are announced on.
pub const EVENTS_CHANNEL: &str = "garmax_events";

const SELECT: &str = "SELECT id, user_id, avatar_id, garment_id, quality, tier, status, stage, progress, \
    message, eta_ms, validation, attempts, error_code, error_message, has_preview, auto_confirm_at, \
    credits_held, charged_at, refunded_at, created_at, updated_at FROM sessions";

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
        charged_at: row.try_get("charged_at")?,
        refunded_at: row.try_get("refunded_at")?,
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
        attempt: row.try_get("attempt")?,
    })
}

/// Whether a report of `stage_progress` by render `attempt` comes after
/// the session's current position: a new attempt always does; within an
/// attempt, only a later stage (the stage's own percentage, which the
/// shown progress may exceed after a retry, orders the stages).
fn moves_forward(current: &Session, attempt: i64, stage_progress: i64) -> bool {
    if attempt > current.attempts {
        return true;
    }
    let current_stage = ProgressStage::parse(&current.stage)
        .map(|s| s.progress() as i64)
        .unwrap_or(current.progress);
    stage_progress > current_stage
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
        attempt: 0,
    };
    insert_event(tx, backend, &event).await?;
    Ok(event)
}

async fn insert_event(tx: &mut Tx, backend: Backend, e: &SessionEvent) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO session_events (session_id, seq, status, stage, progress, message, eta_ms, created_at, attempt) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&e.session_id)
    .bind(e.seq)
    .bind(&e.status)
    .bind(&e.stage)
    .bind(e.progress)
    .bind(&e.message)
    .bind(e.eta_ms)
    .bind(e.created_at)
    .bind(e.attempt)
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
            credits_held, charged_at, refunded_at, created_at, updated_at FROM sessions WHERE id = $1 FOR UPDATE"
        }
        Backend::Sqlite => {
            "SELECT id, user_id, avatar_id, garment_id, quality, tier, status, stage, progress, \
            message, eta_ms, validation, attempts, error_code, error_message, has_preview, auto_confirm_at, \
            credits_held, charged_at, refunded_at, created_at, updated_at FROM sessions WHERE id = $1"
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
pub(crate) async fn lock_user(
    tx: &mut Tx,
    backend: Backend,
    user_id: &str,
) -> Result<(), StoreError> {
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
    /// session exists exactly when its job does. No quota applies.
    pub async fn create_session(
        &self,
        s: &NewSession<'_>,
        job: &crate::queue::NewJob,
    ) -> Result<String, StoreError> {
        self.create_session_within(s, job, None).await
    }

    /// Like [`Store::create_session`], refused with `QuotaExceeded` when the
    /// user already started `max_per_period` sessions in their current
    /// billing period. The count, the hold and the insert happen under the
    /// user's lock, so concurrent requests cannot exceed the quota or spend
    /// the same credits twice.
    pub async fn create_session_within(
        &self,
        s: &NewSession<'_>,
        job: &crate::queue::NewJob,
        max_per_period: Option<i64>,
    ) -> Result<String, StoreError> {
        let mut tx = self.begin().await?;
        lock_user(&mut tx, self.backend(), s.user_id).await?;
        if let Some(limit) = max_per_period {
            crate::billing::check_quota(&mut tx, s.user_id, crate::billing::Usage::TryOns, limit)
                .await?;
        }
        let event = insert(&mut tx, self.backend(), s).await?;
        if s.credits > 0 {
            crate::credits::hold(
                &mut tx,
                s.user_id,
                crate::credits::Subject::Session(s.id),
                s.credits,
            )
            .await?;
        }
        let job_id = crate::queue::enqueue(&mut tx, job).await?;
        sqlx::query("UPDATE sessions SET job_id = $1 WHERE id = $2")
            .bind(&job_id)
            .bind(s.id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.publish_local(&event);
        Ok(job_id)
    }

    /// The session if it belongs to `user_id`.
    pub async fn session(&self, user_id: &str, id: &str) -> Result<Session, StoreError> {
        let row = sqlx::query(
            "SELECT id, user_id, avatar_id, garment_id, quality, tier, status, stage, progress, \
             message, eta_ms, validation, attempts, error_code, error_message, has_preview, auto_confirm_at, \
             credits_held, charged_at, refunded_at, created_at, updated_at FROM sessions WHERE id = $1 AND user_id = $2",
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
             credits_held, charged_at, refunded_at, created_at, updated_at FROM sessions WHERE id = $1",
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
             credits_held, charged_at, refunded_at, created_at, updated_at FROM sessions WHERE user_id = $1 \
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
        if action == SessionAction::Refund {
            let charged_at = current.charged_at.unwrap_or(i64::MIN);
            if current.refunded_at.is_some()
                || !garmax_core::billing::refund_allowed(charged_at, now)
            {
                return Err(StoreError::RefundWindowClosed {
                    charged_at,
                    closed_at: charged_at.saturating_add(garmax_core::billing::REFUND_WINDOW_MS),
                });
            }
        }
        let charged_at = match next {
            SessionStatus::Confirmed => Some(now),
            _ => current.charged_at,
        };
        let refunded_at = match action {
            SessionAction::Refund => Some(now),
            _ => current.refunded_at,
        };
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
             eta_ms = $11, updated_at = $12, charged_at = $15, refunded_at = $16 WHERE id = $13 AND status = $14",
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
        .bind(charged_at)
        .bind(refunded_at)
        .execute(&mut *tx)
        .await?;
        // The hold is settled in the same transaction as the state change,
        // and a terminal state accepts nothing more: charged exactly once.
        let subject = crate::credits::Subject::Session(id);
        let (user, held) = (current.user_id.as_str(), current.credits_held);
        let actor = match owner {
            Some(o) => format!("user:{o}"),
            None => "system".to_string(),
        };
        match (action, next) {
            (SessionAction::Refund, _) => {
                crate::credits::refund(&mut tx, user, subject, held, &actor).await?
            }
            (_, SessionStatus::Confirmed) => {
                crate::credits::settle(&mut tx, user, subject, held, true, &actor).await?
            }
            (_, SessionStatus::Rejected | SessionStatus::Cancelled | SessionStatus::Failed) => {
                crate::credits::settle(&mut tx, user, subject, held, false, &actor).await?
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
            attempt: attempts,
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
    /// `None` when the report would not move the session forward: a stage
    /// re-reported by a retried job, a session no longer processing.
    ///
    /// Reports are ordered by (attempt, stage): a later render attempt may
    /// revisit an earlier stage (rendering again after a failed
    /// validation), while the shown `progress` never goes backwards.
    pub async fn record_progress(
        &self,
        id: &str,
        p: &Progress<'_>,
    ) -> Result<Option<SessionEvent>, StoreError> {
        let mut tx = self.begin().await?;
        let current = lock_session(&mut tx, self.backend(), id).await?;
        let attempt = p.attempt.unwrap_or(current.attempts).max(current.attempts);
        if current.status != SessionStatus::Processing
            || !moves_forward(&current, attempt, p.progress)
        {
            return Ok(None);
        }
        let now = now_ms();
        let progress = p.progress.max(current.progress);
        sqlx::query(
            "UPDATE sessions SET stage = $1, progress = $2, message = $3, eta_ms = $4, attempts = $5, \
             updated_at = $6 WHERE id = $7",
        )
        .bind(p.stage)
        .bind(progress)
        .bind(p.message)
        .bind(p.eta_ms)
        .bind(attempt)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let event = SessionEvent {
            session_id: id.to_string(),
            seq: next_seq(&mut tx, id).await?,
            status: current.status.as_str().to_string(),
            stage: p.stage.to_string(),
            progress,
            message: p.message.to_string(),
            eta_ms: p.eta_ms,
            created_at: now,
            attempt,
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
            "SELECT session_id, seq, status, stage, progress, message, eta_ms, created_at, attempt \
             FROM session_events WHERE session_id = $1 AND seq > $2 ORDER BY seq",
        )
        .bind(id)
        .bind(after_seq)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    /// SQLite: events stored after `rowid`, with their rowids, oldest
    /// first (at most 1000; the tail reads again).
    pub(crate) async fn events_after_rowid(
        &self,
        rowid: i64,
    ) -> Result<Vec<(i64, SessionEvent)>, StoreError> {
        let rows = sqlx::query(
            "SELECT rowid AS row_id, session_id, seq, status, stage, progress, message, eta_ms, \
             created_at, attempt FROM session_events WHERE rowid > $1 ORDER BY rowid LIMIT 1000",
        )
        .bind(rowid)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("row_id")?, event_from_row(r)?)))
            .collect()
    }

    /// The session's latest event.
    pub async fn last_event(&self, id: &str) -> Result<Option<SessionEvent>, StoreError> {
        let row = sqlx::query(
            "SELECT session_id, seq, status, stage, progress, message, eta_ms, created_at, attempt \
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

    /// Sessions still queued or processing whose job failed for good or is
    /// gone (their worker died and the failure was never written to the
    /// session): the reaper fails them, which releases their holds.
    pub async fn orphaned_sessions(&self, limit: i64) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT s.id FROM sessions s LEFT JOIN jobs j ON j.id = s.job_id \
             WHERE s.status IN ('queued', 'processing') AND s.job_id IS NOT NULL \
             AND (j.id IS NULL OR j.status = 'failed') ORDER BY s.created_at LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
    }
}
