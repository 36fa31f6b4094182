//! The render router's shared state (issue 10): spend against daily
//! budgets, per-user render counters, provider breakers opened by any
//! process, and each session's provider attempts.
//!
//! Every check-and-change is one conditional statement inside one
//! transaction, so any number of serve and worker processes on one
//! database share a budget without overshooting it:
//!
//! - a reservation adds its amount to each budget line with `UPDATE …
//!   WHERE spent + reserved + amount <= limit`; a line that matches no row
//!   refuses the whole reservation (rolled back). PostgreSQL re-checks the
//!   condition on the latest row after waiting for its lock; SQLite runs
//!   writers one at a time (`BEGIN IMMEDIATE`). Lines are always changed in
//!   the caller's order (global, provider, user), so two reservations never
//!   wait on each other crosswise;
//! - settling replaces the reservation by the actual charge, so spend
//!   passes a limit only when a provider charges more than its estimate —
//!   by at most that one request's difference;
//! - a render slot is a row with an expiry (a worker that died frees its
//!   user's slot when the lease runs out); the user's row in `usage_users`
//!   is updated first to serialise that user's slot changes.
//!
//! The router's `UsageStore` trait is implemented on these methods by the
//! server crate (this crate knows SQL, not the router).

use sqlx::Row as _;

use crate::{Store, StoreError, new_id, now_ms};

/// One budget a reservation is checked and counted against.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetLine {
    /// `global`, `provider:NAME`, `user:ID`.
    pub scope: String,
    /// Micro-USD per day; `None` = tracked, not limited.
    pub limit_micro: Option<i64>,
}

/// Spend of one scope on one day, micro-USD.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpendRow {
    pub spent_micro: i64,
    pub reserved_micro: i64,
}

/// Why a render could not start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenderRefusal {
    Concurrent,
    Daily,
}

/// One provider call behind a session's renders (`providerAttempts` of the
/// session view).
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptRecord {
    /// Which render of the retry loop, from 1.
    pub render: i64,
    pub provider: String,
    /// `success`, `failed`, `skipped`.
    pub outcome: String,
    pub error_class: Option<String>,
    pub code: Option<String>,
    pub message: Option<String>,
    pub latency_ms: f64,
    pub cost_usd: f64,
}

const ENSURE_SPEND: &str = "INSERT INTO usage_spend (day, scope, spent_micro, reserved_micro) \
     VALUES ($1, $2, 0, 0) ON CONFLICT (day, scope) DO NOTHING";

impl Store {
    /// Reserves `amount_micro` on every line, or refuses with the index of
    /// the first limited line it would take over its limit (nothing is
    /// reserved then).
    pub async fn reserve_budget(
        &self,
        day: i64,
        amount_micro: i64,
        lines: &[BudgetLine],
    ) -> Result<Result<(), usize>, StoreError> {
        let amount = amount_micro.max(0);
        let mut tx = self.begin().await?;
        for (i, line) in lines.iter().enumerate() {
            sqlx::query(ENSURE_SPEND)
                .bind(day)
                .bind(&line.scope)
                .execute(&mut *tx)
                .await?;
            let done = match line.limit_micro {
                Some(limit) => {
                    sqlx::query(
                        "UPDATE usage_spend SET reserved_micro = reserved_micro + $1 \
                         WHERE day = $2 AND scope = $3 AND spent_micro + reserved_micro + $4 <= $5",
                    )
                    .bind(amount)
                    .bind(day)
                    .bind(&line.scope)
                    .bind(amount)
                    .bind(limit)
                    .execute(&mut *tx)
                    .await?
                }
                None => {
                    sqlx::query(
                        "UPDATE usage_spend SET reserved_micro = reserved_micro + $1 \
                         WHERE day = $2 AND scope = $3",
                    )
                    .bind(amount)
                    .bind(day)
                    .bind(&line.scope)
                    .execute(&mut *tx)
                    .await?
                }
            };
            if done.rows_affected() != 1 {
                tx.rollback().await?;
                return Ok(Err(i));
            }
        }
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Replaces a reservation of `reserved_micro` on `scopes` by the
    /// actual charge.
    pub async fn settle_budget(
        &self,
        day: i64,
        scopes: &[String],
        reserved_micro: i64,
        actual_micro: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        for scope in scopes {
            sqlx::query(ENSURE_SPEND)
                .bind(day)
                .bind(scope)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE usage_spend SET \
                 reserved_micro = CASE WHEN reserved_micro > $1 THEN reserved_micro - $2 ELSE 0 END, \
                 spent_micro = spent_micro + $3 \
                 WHERE day = $4 AND scope = $5",
            )
            .bind(reserved_micro.max(0))
            .bind(reserved_micro.max(0))
            .bind(actual_micro.max(0))
            .bind(day)
            .bind(scope)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Spend of `scope` on `day`.
    pub async fn budget_spend(&self, day: i64, scope: &str) -> Result<SpendRow, StoreError> {
        let row = sqlx::query(
            "SELECT spent_micro, reserved_micro FROM usage_spend WHERE day = $1 AND scope = $2",
        )
        .bind(day)
        .bind(scope)
        .fetch_optional(self.pool())
        .await?;
        Ok(match row {
            Some(r) => SpendRow {
                spent_micro: r.try_get("spent_micro")?,
                reserved_micro: r.try_get("reserved_micro")?,
            },
            None => SpendRow::default(),
        })
    }

    /// Starts a render for `user`: refuses past `max_concurrent` live
    /// slots or `max_daily` renders today, otherwise counts it and takes a
    /// slot that expires after `slot_ttl_ms`.
    pub async fn begin_render(
        &self,
        user: &str,
        day: i64,
        max_concurrent: i64,
        max_daily: i64,
        slot_ttl_ms: i64,
    ) -> Result<Result<(), RenderRefusal>, StoreError> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        // Serialises this user's slot changes (a row lock on PostgreSQL).
        sqlx::query(
            "INSERT INTO usage_users (user_id, touched_at) VALUES ($1, $2) \
             ON CONFLICT (user_id) DO UPDATE SET touched_at = excluded.touched_at",
        )
        .bind(user)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM usage_render_slots WHERE user_id = $1 AND expires_at <= $2")
            .bind(user)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let live: i64 =
            sqlx::query("SELECT COUNT(*) AS n FROM usage_render_slots WHERE user_id = $1")
                .bind(user)
                .fetch_one(&mut *tx)
                .await?
                .try_get("n")?;
        if live >= max_concurrent {
            tx.rollback().await?;
            return Ok(Err(RenderRefusal::Concurrent));
        }
        sqlx::query(
            "INSERT INTO usage_daily_renders (day, user_id, renders) VALUES ($1, $2, 0) \
             ON CONFLICT (day, user_id) DO NOTHING",
        )
        .bind(day)
        .bind(user)
        .execute(&mut *tx)
        .await?;
        let counted = sqlx::query(
            "UPDATE usage_daily_renders SET renders = renders + 1 \
             WHERE day = $1 AND user_id = $2 AND renders < $3",
        )
        .bind(day)
        .bind(user)
        .bind(max_daily)
        .execute(&mut *tx)
        .await?;
        if counted.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(Err(RenderRefusal::Daily));
        }
        sqlx::query("INSERT INTO usage_render_slots (id, user_id, expires_at) VALUES ($1, $2, $3)")
            .bind(new_id())
            .bind(user)
            .bind(now + slot_ttl_ms.max(1))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Frees one of `user`'s render slots (the oldest).
    pub async fn end_render(&self, user: &str) -> Result<(), StoreError> {
        sqlx::query(
            "DELETE FROM usage_render_slots WHERE id = \
             (SELECT id FROM usage_render_slots WHERE user_id = $1 ORDER BY expires_at LIMIT 1)",
        )
        .bind(user)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Renders `user` has in flight, and started on `day`.
    pub async fn user_render_counts(&self, user: &str, day: i64) -> Result<(i64, i64), StoreError> {
        let live: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM usage_render_slots WHERE user_id = $1 AND expires_at > $2",
        )
        .bind(user)
        .bind(now_ms())
        .fetch_one(self.pool())
        .await?
        .try_get("n")?;
        let today =
            sqlx::query("SELECT renders FROM usage_daily_renders WHERE day = $1 AND user_id = $2")
                .bind(day)
                .bind(user)
                .fetch_optional(self.pool())
                .await?
                .map(|r| r.try_get::<i64, _>("renders"))
                .transpose()?
                .unwrap_or(0);
        Ok((live, today))
    }

    /// The user's sessions waiting for or in a render (`queued`,
    /// `processing`), and those created since `since_ms` — what the API
    /// checks the per-user render limits against before it queues another.
    pub async fn user_session_load(
        &self,
        user: &str,
        since_ms: i64,
    ) -> Result<(i64, i64), StoreError> {
        let row = sqlx::query(
            "SELECT \
             COALESCE(SUM(CASE WHEN status IN ('queued', 'processing') THEN 1 ELSE 0 END), 0) AS active, \
             COALESCE(SUM(CASE WHEN created_at >= $1 THEN 1 ELSE 0 END), 0) AS recent \
             FROM sessions WHERE user_id = $2",
        )
        .bind(since_ms)
        .bind(user)
        .fetch_one(self.pool())
        .await?;
        Ok((row.try_get("active")?, row.try_get("recent")?))
    }

    /// Publishes a provider's breaker: open until `until_ms` (0 = closed).
    pub async fn set_breaker(&self, provider: &str, until_ms: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO provider_breakers (provider, open_until, updated_at, probe_until) VALUES ($1, $2, $3, 0) \
             ON CONFLICT (provider) DO UPDATE SET open_until = excluded.open_until, \
             updated_at = excluded.updated_at, probe_until = 0",
        )
        .bind(provider)
        .bind(until_ms.max(0))
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Until when a provider's breaker was opened (0 or `None`: closed).
    pub async fn breaker_open_until(&self, provider: &str) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query("SELECT open_until FROM provider_breakers WHERE provider = $1")
            .bind(provider)
            .fetch_optional(self.pool())
            .await?;
        Ok(match row {
            Some(r) => Some(r.try_get("open_until")?),
            None => None,
        })
    }

    /// Claims the probe of a shared breaker whose cooldown has passed
    /// (`0 < open_until <= now_ms`) until `until_ms`; `false` while another
    /// claim holds, or when the breaker is closed or still open. One
    /// conditional UPDATE, so of racing processes exactly one wins.
    pub async fn claim_breaker_probe(
        &self,
        provider: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE provider_breakers SET probe_until = $1, updated_at = $2 \
             WHERE provider = $3 AND open_until > 0 AND open_until <= $2 AND probe_until <= $2",
        )
        .bind(until_ms)
        .bind(now_ms)
        .bind(provider)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Appends provider attempts to a session's record, after those
    /// already there.
    pub async fn record_provider_attempts(
        &self,
        session_id: &str,
        attempts: &[AttemptRecord],
    ) -> Result<(), StoreError> {
        if attempts.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        let last: i64 = sqlx::query(
            "SELECT COALESCE(MAX(seq), 0) AS n FROM provider_attempts WHERE session_id = $1",
        )
        .bind(session_id)
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
        let now = now_ms();
        for (i, a) in attempts.iter().enumerate() {
            sqlx::query(
                "INSERT INTO provider_attempts (id, session_id, seq, render, provider, outcome, \
                 error_class, code, message, latency_ms, cost_usd, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(new_id())
            .bind(session_id)
            .bind(last + 1 + i as i64)
            .bind(a.render)
            .bind(&a.provider)
            .bind(&a.outcome)
            .bind(a.error_class.clone())
            .bind(a.code.clone())
            .bind(a.message.clone())
            .bind(a.latency_ms)
            .bind(a.cost_usd)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A session's provider attempts in order.
    pub async fn provider_attempts(
        &self,
        session_id: &str,
    ) -> Result<Vec<AttemptRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT render, provider, outcome, error_class, code, message, latency_ms, cost_usd \
             FROM provider_attempts WHERE session_id = $1 ORDER BY seq",
        )
        .bind(session_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AttemptRecord {
                    render: r.try_get("render")?,
                    provider: r.try_get("provider")?,
                    outcome: r.try_get("outcome")?,
                    error_class: r.try_get("error_class")?,
                    code: r.try_get("code")?,
                    message: r.try_get("message")?,
                    latency_ms: r.try_get("latency_ms")?,
                    cost_usd: r.try_get("cost_usd")?,
                })
            })
            .collect()
    }
}
