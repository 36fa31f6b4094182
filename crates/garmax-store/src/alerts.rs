//! Alerts: named leases (one process of many evaluates), the hosts' latest
//! CPU / memory readings, the numbers the quality and cost alerts watch,
//! the alerts with their firing / resolved state, and the outbox of their
//! notifications. A state change and the notifications announcing it are
//! one transaction, and a partial unique index keeps one firing alert per
//! kind and subject however many evaluators race: each episode is
//! announced once.

use sqlx::Row as _;

use crate::{Store, StoreError, new_id};

/// An alert as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub id: String,
    /// `qualityDrop`, `highCost` or `systemHealth`.
    pub kind: String,
    pub subject: String,
    /// `firing` or `resolved`.
    pub state: String,
    pub severity: String,
    pub message: String,
    pub value: f64,
    pub threshold: f64,
    pub fired_at: i64,
    pub resolved_at: Option<i64>,
    pub resolved_message: Option<String>,
}

/// What opening an alert records.
#[derive(Debug, Clone)]
pub struct NewAlert<'a> {
    pub kind: &'a str,
    pub subject: &'a str,
    pub severity: &'a str,
    pub message: &'a str,
    pub value: f64,
    pub threshold: f64,
}

/// Where one notification goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// `webhook` or `email`.
    pub channel: String,
    /// A URL or an address.
    pub target: String,
}

/// One notification of one alert event.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: String,
    pub alert_id: String,
    /// `firing` or `resolved`.
    pub event: String,
    pub channel: String,
    pub target: String,
    pub attempts: i64,
    pub next_at: i64,
    pub delivered_at: Option<i64>,
    pub last_error: Option<String>,
}

/// A host's latest reading.
#[derive(Debug, Clone, PartialEq)]
pub struct HostHealth {
    pub host: String,
    pub cpu_percent: f64,
    pub memory_percent: f64,
    pub updated_at: i64,
}

const ALERT_COLUMNS: &str = "id, kind, subject, state, severity, message, value, threshold, \
     fired_at, resolved_at, resolved_message";
const DELIVERY_COLUMNS: &str =
    "id, alert_id, event, channel, target, attempts, next_at, delivered_at, last_error";

fn alert_from_row(r: &sqlx::any::AnyRow) -> Result<Alert, StoreError> {
    alert_from_prefixed(r, "")
}

/// An alert from columns named `<prefix><column>` (a join's aliases).
fn alert_from_prefixed(r: &sqlx::any::AnyRow, prefix: &str) -> Result<Alert, StoreError> {
    let col = |c: &str| format!("{prefix}{c}");
    Ok(Alert {
        id: r.try_get(col("id").as_str())?,
        kind: r.try_get(col("kind").as_str())?,
        subject: r.try_get(col("subject").as_str())?,
        state: r.try_get(col("state").as_str())?,
        severity: r.try_get(col("severity").as_str())?,
        message: r.try_get(col("message").as_str())?,
        value: r.try_get(col("value").as_str())?,
        threshold: r.try_get(col("threshold").as_str())?,
        fired_at: r.try_get(col("fired_at").as_str())?,
        resolved_at: r.try_get(col("resolved_at").as_str())?,
        resolved_message: r.try_get(col("resolved_message").as_str())?,
    })
}

fn delivery_from_row(r: &sqlx::any::AnyRow) -> Result<Delivery, StoreError> {
    Ok(Delivery {
        id: r.try_get("id")?,
        alert_id: r.try_get("alert_id")?,
        event: r.try_get("event")?,
        channel: r.try_get("channel")?,
        target: r.try_get("target")?,
        attempts: r.try_get("attempts")?,
        next_at: r.try_get("next_at")?,
        delivered_at: r.try_get("delivered_at")?,
        last_error: r.try_get("last_error")?,
    })
}

/// Queues one notification of `event` per recipient.
async fn enqueue_deliveries(
    tx: &mut crate::Tx,
    alert_id: &str,
    event: &str,
    recipients: &[Recipient],
    now: i64,
) -> Result<(), StoreError> {
    for r in recipients {
        sqlx::query(
            "INSERT INTO alert_deliveries (id, alert_id, event, channel, target, attempts, next_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, 0, $6, $7)",
        )
        .bind(new_id())
        .bind(alert_id)
        .bind(event)
        .bind(&r.channel)
        .bind(&r.target)
        .bind(now)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

impl Store {
    /// Takes or renews the lease `name` for `holder` until `now + ttl_ms`:
    /// true when `holder` holds it now (it was free, expired or its own).
    pub async fn try_lease(
        &self,
        name: &str,
        holder: &str,
        ttl_ms: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "INSERT INTO store_leases (name, holder, until_ms, renewed_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms, \
             renewed_at = excluded.renewed_at \
             WHERE store_leases.holder = excluded.holder OR store_leases.until_ms <= excluded.renewed_at",
        )
        .bind(name)
        .bind(holder)
        .bind(now + ttl_ms)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives the lease up if `holder` has it (a stopping process).
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE store_leases SET until_ms = 0 WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// When the lease was last taken or renewed.
    pub async fn lease_renewed_at(&self, name: &str) -> Result<Option<i64>, StoreError> {
        Ok(
            sqlx::query("SELECT renewed_at FROM store_leases WHERE name = $1")
                .bind(name)
                .fetch_optional(self.pool())
                .await?
                .map(|r| r.try_get("renewed_at"))
                .transpose()?,
        )
    }

    /// Records `host`'s latest CPU and memory use.
    pub async fn report_host_health(&self, h: &HostHealth) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO host_health (host, cpu_percent, memory_percent, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (host) DO UPDATE SET cpu_percent = excluded.cpu_percent, \
             memory_percent = excluded.memory_percent, updated_at = excluded.updated_at",
        )
        .bind(&h.host)
        .bind(h.cpu_percent)
        .bind(h.memory_percent)
        .bind(h.updated_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every host's latest reading, by host.
    pub async fn host_health(&self) -> Result<Vec<HostHealth>, StoreError> {
        sqlx::query(
            "SELECT host, cpu_percent, memory_percent, updated_at FROM host_health ORDER BY host",
        )
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(HostHealth {
                host: r.try_get("host")?,
                cpu_percent: r.try_get("cpu_percent")?,
                memory_percent: r.try_get("memory_percent")?,
                updated_at: r.try_get("updated_at")?,
            })
        })
        .collect()
    }

    /// The mean overall quality of the generations since `since_ms` that
    /// have one, and how many they are.
    pub async fn quality_since(&self, since_ms: i64) -> Result<(Option<f64>, i64), StoreError> {
        let r = sqlx::query(
            "SELECT CAST(AVG(overall) AS DOUBLE PRECISION) AS mean, COUNT(overall) AS n \
             FROM generation_metrics WHERE created_at >= $1 AND overall IS NOT NULL",
        )
        .bind(since_ms)
        .fetch_one(self.pool())
        .await?;
        Ok((r.try_get("mean")?, r.try_get("n")?))
    }

    /// The provider spend (USD) of the generations since `since_ms`.
    pub async fn cost_since(&self, since_ms: i64) -> Result<f64, StoreError> {
        let r = sqlx::query(
            "SELECT CAST(COALESCE(SUM(cost), 0) AS DOUBLE PRECISION) AS spend \
             FROM generation_metrics WHERE created_at >= $1",
        )
        .bind(since_ms)
        .fetch_one(self.pool())
        .await?;
        Ok(r.try_get("spend")?)
    }

    /// The alerts firing now.
    pub async fn firing_alerts(&self) -> Result<Vec<Alert>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ALERT_COLUMNS} FROM alerts WHERE state = 'firing' ORDER BY fired_at, id"
        )))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(alert_from_row)
        .collect()
    }

    /// Opens an alert and queues its `firing` notifications, unless one of
    /// the same kind and subject is firing already (then `None`, and
    /// nothing is queued).
    pub async fn open_alert(
        &self,
        a: &NewAlert<'_>,
        recipients: &[Recipient],
        now: i64,
    ) -> Result<Option<Alert>, StoreError> {
        let alert = Alert {
            id: new_id(),
            kind: a.kind.into(),
            subject: a.subject.into(),
            state: "firing".into(),
            severity: a.severity.into(),
            message: a.message.into(),
            value: a.value,
            threshold: a.threshold,
            fired_at: now,
            resolved_at: None,
            resolved_message: None,
        };
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "INSERT INTO alerts (id, kind, subject, state, severity, message, value, threshold, fired_at) \
             VALUES ($1, $2, $3, 'firing', $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
        )
        .bind(&alert.id)
        .bind(&alert.kind)
        .bind(&alert.subject)
        .bind(&alert.severity)
        .bind(&alert.message)
        .bind(alert.value)
        .bind(alert.threshold)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(None);
        }
        enqueue_deliveries(&mut tx, &alert.id, "firing", recipients, now).await?;
        tx.commit().await?;
        Ok(Some(alert))
    }

    /// Resolves a firing alert and queues its `resolved` notifications;
    /// false when it was not firing (someone else resolved it).
    pub async fn resolve_alert(
        &self,
        id: &str,
        message: &str,
        recipients: &[Recipient],
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE alerts SET state = 'resolved', resolved_at = $1, resolved_message = $2 \
             WHERE id = $3 AND state = 'firing'",
        )
        .bind(now)
        .bind(message)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        enqueue_deliveries(&mut tx, id, "resolved", recipients, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Alerts newest first (`state` `firing` or `resolved`, or both for
    /// `None`), each with its notifications.
    pub async fn list_alerts(
        &self,
        state: Option<&str>,
        limit: i64,
    ) -> Result<Vec<(Alert, Vec<Delivery>)>, StoreError> {
        let filter = if state.is_some() {
            "WHERE state = $1"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {ALERT_COLUMNS} FROM alerts {filter} ORDER BY fired_at DESC, id LIMIT {}",
            limit.clamp(1, 500)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(s) = state {
            query = query.bind(s);
        }
        let alerts: Vec<Alert> = query
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(alert_from_row)
            .collect::<Result<_, _>>()?;
        let mut out = Vec::with_capacity(alerts.len());
        for a in alerts {
            let deliveries = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {DELIVERY_COLUMNS} FROM alert_deliveries WHERE alert_id = $1 \
                 ORDER BY created_at, event, channel, target"
            )))
            .bind(&a.id)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(delivery_from_row)
            .collect::<Result<_, _>>()?;
            out.push((a, deliveries));
        }
        Ok(out)
    }

    /// Notifications not yet delivered, due by `now`, with fewer than
    /// `max_attempts` tries, oldest first, each with its alert.
    pub async fn due_deliveries(
        &self,
        now: i64,
        max_attempts: i64,
        limit: i64,
    ) -> Result<Vec<(Delivery, Alert)>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {} , {} FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id \
             WHERE d.delivered_at IS NULL AND d.next_at <= $1 AND d.attempts < $2 \
             ORDER BY d.created_at, d.id LIMIT {}",
            DELIVERY_COLUMNS
                .split(", ")
                .map(|c| format!("d.{c}"))
                .collect::<Vec<_>>()
                .join(", "),
            ALERT_COLUMNS
                .split(", ")
                .map(|c| format!("a.{c} AS a_{c}"))
                .collect::<Vec<_>>()
                .join(", "),
            limit.clamp(1, 1000)
        )))
        .bind(now)
        .bind(max_attempts)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((delivery_from_row(r)?, alert_from_prefixed(r, "a_")?)))
            .collect()
    }

    /// Marks a notification sent; false when it already was (two senders).
    pub async fn mark_delivered(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE alert_deliveries SET delivered_at = $1, attempts = attempts + 1, last_error = NULL \
             WHERE id = $2 AND delivered_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a failed try; the next one is due at `next_at`.
    pub async fn delivery_failed(
        &self,
        id: &str,
        error: &str,
        next_at: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE alert_deliveries SET attempts = attempts + 1, last_error = $1, next_at = $2 \
             WHERE id = $3 AND delivered_at IS NULL",
        )
        .bind(error)
        .bind(next_at)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
