//! Plans, billing periods, quotas and Stripe's state.
//!
//! A user has a plan (`users.plan`, falling back to `free` at
//! `plan_ends_at` when a subscription was deleted) and a billing period
//! (`period_start`, `period_end`, rolled forward by whole periods by
//! [`garmax_core::billing::current_window`]). Monthly quotas count the
//! avatars and try-ons created in the current window, inside the
//! transaction that would add one, under the user's lock.
//!
//! Stripe events are applied at most once (`stripe_events` keyed by the
//! event id, inserted in the transaction that applies the event) and in
//! order per subscription (`stripe_subscriptions.event_created`: an event
//! older than the one applied changes nothing; a deletion is final).

use sqlx::Row as _;

use crate::{Store, StoreError, Tx, now_ms};

/// What a quota counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    Avatars,
    TryOns,
}

impl Usage {
    fn noun(self) -> &'static str {
        match self {
            Usage::Avatars => "avatars",
            Usage::TryOns => "try-ons",
        }
    }
}

/// A user's billing state.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub user_id: String,
    /// The plan stored on the user.
    pub plan: String,
    /// When set, the plan is `free` from this time on.
    pub plan_ends_at: Option<i64>,
    pub period_start: i64,
    pub period_end: i64,
    pub stripe_customer_id: Option<String>,
}

impl Account {
    /// The plan in force at `now`.
    pub fn plan_at(&self, now: i64) -> &str {
        match self.plan_ends_at {
            Some(end) if now >= end => "free",
            _ => &self.plan,
        }
    }

    /// The billing window containing `now`.
    pub fn window_at(&self, now: i64) -> (i64, i64) {
        garmax_core::billing::current_window(self.period_start, self.period_end, now)
    }
}

/// Avatars and try-ons counted against the quotas in one window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeriodUsage {
    pub avatars: i64,
    pub tryons: i64,
}

async fn account_in(tx: &mut Tx, user_id: &str) -> Result<Account, StoreError> {
    let row = sqlx::query(
        "SELECT id, plan, plan_ends_at, period_start, period_end, stripe_customer_id FROM users WHERE id = $1",
    )
    .bind(user_id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    account_from_row(&row)
}

fn account_from_row(row: &sqlx::any::AnyRow) -> Result<Account, StoreError> {
    Ok(Account {
        user_id: row.try_get("id")?,
        plan: row.try_get("plan")?,
        plan_ends_at: row.try_get("plan_ends_at")?,
        period_start: row.try_get("period_start")?,
        period_end: row.try_get("period_end")?,
        stripe_customer_id: row.try_get("stripe_customer_id")?,
    })
}

/// What counts against a quota in `[start, end)`: avatars that did not
/// fail, sessions that did not fail and were not refunded.
async fn count_in<'e, E>(
    exec: E,
    user_id: &str,
    what: Usage,
    window: (i64, i64),
) -> Result<i64, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = match what {
        Usage::Avatars => {
            "SELECT COUNT(*) AS n FROM avatars WHERE user_id = $1 AND created_at >= $2 \
             AND created_at < $3 AND status <> 'failed'"
        }
        Usage::TryOns => {
            "SELECT COUNT(*) AS n FROM sessions WHERE user_id = $1 AND created_at >= $2 \
             AND created_at < $3 AND status <> 'failed' AND refunded_at IS NULL"
        }
    };
    let row = sqlx::query(sql)
        .bind(user_id)
        .bind(window.0)
        .bind(window.1)
        .fetch_one(exec)
        .await?;
    Ok(row.try_get("n")?)
}

/// Refuses one more `what` when `limit` are already used this period. The
/// caller holds the user's lock.
pub(crate) async fn check_quota(
    tx: &mut Tx,
    user_id: &str,
    what: Usage,
    limit: i64,
) -> Result<(), StoreError> {
    let account = account_in(tx, user_id).await?;
    let window = account.window_at(now_ms());
    let used = count_in(&mut **tx, user_id, what, window).await?;
    if used >= limit {
        return Err(StoreError::QuotaExceeded {
            what: what.noun(),
            limit,
            used,
            resets_at: window.1,
        });
    }
    Ok(())
}

/// A subscription as a Stripe event describes it.
#[derive(Debug, Clone)]
pub struct SubscriptionChange<'a> {
    pub event_id: &'a str,
    pub event_type: &'a str,
    /// The event's `created` (seconds): orders deliveries.
    pub event_created: i64,
    pub subscription_id: &'a str,
    pub customer_id: &'a str,
    /// Our user, from the subscription's metadata, when it names one.
    pub user_id: Option<&'a str>,
    pub price_id: &'a str,
    /// Our plan for `price_id` (from configuration), or `None` when the
    /// price is not one of ours.
    pub plan: Option<&'a str>,
    pub status: &'a str,
    /// Seconds, as Stripe sends them.
    pub current_period_start: i64,
    pub current_period_end: i64,
    pub deleted: bool,
}

/// A paid invoice as a Stripe event describes it.
#[derive(Debug, Clone)]
pub struct InvoicePaid<'a> {
    pub event_id: &'a str,
    pub event_type: &'a str,
    pub event_created: i64,
    pub invoice_id: &'a str,
    pub customer_id: &'a str,
    pub user_id: Option<&'a str>,
    /// The plan's monthly credits (0: nothing to grant).
    pub credits: i64,
}

/// What applying an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The event changed state.
    Applied,
    /// The event id was seen before: nothing done.
    Duplicate,
    /// An event about a newer state was applied before: nothing changed.
    Stale,
    /// Recorded and ignored (an event type we do not act on, a price not
    /// ours, an invoice of an already-credited invoice).
    Ignored,
}

/// Records the event id; false when it was already there.
async fn record_event(tx: &mut Tx, id: &str, kind: &str, created: i64) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO stripe_events (id, type, created, received_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(kind)
    .bind(created)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The user a Stripe object belongs to: the metadata's user id when it
/// names an existing user, else the user with that customer id.
async fn resolve_user(
    tx: &mut Tx,
    user_id: Option<&str>,
    customer_id: &str,
) -> Result<String, StoreError> {
    if let Some(id) = user_id {
        let row = sqlx::query("SELECT id FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
        if let Some(r) = row {
            return Ok(r.try_get("id")?);
        }
    }
    let row = sqlx::query("SELECT id FROM users WHERE stripe_customer_id = $1")
        .bind(customer_id)
        .fetch_optional(&mut **tx)
        .await?;
    match row {
        Some(r) => Ok(r.try_get("id")?),
        None => Err(StoreError::NotFound),
    }
}

impl Store {
    /// The user's billing state.
    pub async fn account(&self, user_id: &str) -> Result<Account, StoreError> {
        let row = sqlx::query(
            "SELECT id, plan, plan_ends_at, period_start, period_end, stripe_customer_id FROM users WHERE id = $1",
        )
        .bind(user_id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        account_from_row(&row)
    }

    /// What counts against the quotas in `window`.
    pub async fn usage(
        &self,
        user_id: &str,
        window: (i64, i64),
    ) -> Result<PeriodUsage, StoreError> {
        Ok(PeriodUsage {
            avatars: count_in(self.pool(), user_id, Usage::Avatars, window).await?,
            tryons: count_in(self.pool(), user_id, Usage::TryOns, window).await?,
        })
    }

    /// Sets a user's plan and starts a new billing period at `now` (an
    /// operator's change; Stripe's go through [`Store::apply_subscription`]).
    pub async fn set_plan(&self, user_id: &str, plan: &str, now: i64) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE users SET plan = $1, plan_ends_at = NULL, period_start = $2, period_end = $3 WHERE id = $4",
        )
        .bind(plan)
        .bind(now)
        .bind(now + garmax_core::billing::PERIOD_MS)
        .bind(user_id)
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Records the Stripe customer made for a user (at checkout).
    pub async fn set_stripe_customer(
        &self,
        user_id: &str,
        customer: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE users SET stripe_customer_id = $1 WHERE id = $2")
            .bind(customer)
            .bind(user_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Records an event we do not act on (so a redelivery is a duplicate).
    pub async fn ignore_stripe_event(
        &self,
        id: &str,
        kind: &str,
        created: i64,
    ) -> Result<Applied, StoreError> {
        let mut tx = self.begin().await?;
        let fresh = record_event(&mut tx, id, kind, created).await?;
        tx.commit().await?;
        Ok(if fresh {
            Applied::Ignored
        } else {
            Applied::Duplicate
        })
    }

    /// Applies `customer.subscription.created|updated|deleted`: the user's
    /// plan follows an active subscription's price; a deleted subscription
    /// leaves the plan until the end of its period, then free. An event
    /// older than the last one applied to the subscription, or any event
    /// after its deletion, changes nothing. `NotFound` when no user can be
    /// resolved (the event is then not recorded, so Stripe's redelivery is
    /// applied once the customer is known).
    pub async fn apply_subscription(
        &self,
        c: &SubscriptionChange<'_>,
    ) -> Result<Applied, StoreError> {
        let mut tx = self.begin().await?;
        if !record_event(&mut tx, c.event_id, c.event_type, c.event_created).await? {
            return Ok(Applied::Duplicate);
        }
        let existing = sqlx::query(
            "SELECT user_id, status, event_created FROM stripe_subscriptions WHERE id = $1",
        )
        .bind(c.subscription_id)
        .fetch_optional(&mut *tx)
        .await?;
        let user_id = match &existing {
            Some(r) => r.try_get::<String, _>("user_id")?,
            None => resolve_user(&mut tx, c.user_id, c.customer_id).await?,
        };
        crate::sessions::lock_user(&mut tx, self.backend(), &user_id).await?;
        if let Some(r) = &existing {
            let status: String = r.try_get("status")?;
            let applied_at: i64 = r.try_get("event_created")?;
            let ended = status == "canceled";
            if c.event_created < applied_at || (ended && !c.deleted) {
                tx.commit().await?;
                return Ok(Applied::Stale);
            }
        }
        let Some(plan) = c.plan else {
            tx.commit().await?;
            return Ok(Applied::Ignored);
        };
        let now = now_ms();
        let status = if c.deleted { "canceled" } else { c.status };
        sqlx::query(
            "INSERT INTO stripe_subscriptions (id, user_id, customer_id, price_id, plan, status, \
             current_period_start, current_period_end, event_created, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (id) DO UPDATE SET price_id = $4, plan = $5, status = $6, \
             current_period_start = $7, current_period_end = $8, event_created = $9, updated_at = $10",
        )
        .bind(c.subscription_id)
        .bind(&user_id)
        .bind(c.customer_id)
        .bind(c.price_id)
        .bind(plan)
        .bind(status)
        .bind(c.current_period_start)
        .bind(c.current_period_end)
        .bind(c.event_created)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let (start, end) = (c.current_period_start * 1000, c.current_period_end * 1000);
        if c.deleted {
            // Paid until the end of the period, free after it.
            sqlx::query(
                "UPDATE users SET plan_ends_at = $1, stripe_customer_id = $2 WHERE id = $3",
            )
            .bind(end.max(start))
            .bind(c.customer_id)
            .bind(&user_id)
            .execute(&mut *tx)
            .await?;
        } else {
            let paid = matches!(status, "active" | "trialing" | "past_due");
            let plan = if paid { plan } else { "free" };
            sqlx::query(
                "UPDATE users SET plan = $1, plan_ends_at = NULL, period_start = $2, period_end = $3, \
                 stripe_customer_id = $4 WHERE id = $5",
            )
            .bind(plan)
            .bind(start)
            .bind(end)
            .bind(c.customer_id)
            .bind(&user_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Applied::Applied)
    }

    /// Applies `invoice.payment_succeeded` (or `invoice.paid`): the plan's
    /// monthly credits, granted once per invoice (the entry's key is the
    /// invoice id, whichever event announces it).
    pub async fn apply_invoice_paid(&self, i: &InvoicePaid<'_>) -> Result<Applied, StoreError> {
        let mut tx = self.begin().await?;
        if !record_event(&mut tx, i.event_id, i.event_type, i.event_created).await? {
            return Ok(Applied::Duplicate);
        }
        if i.credits <= 0 {
            tx.commit().await?;
            return Ok(Applied::Ignored);
        }
        let user_id = resolve_user(&mut tx, i.user_id, i.customer_id).await?;
        crate::sessions::lock_user(&mut tx, self.backend(), &user_id).await?;
        let key = format!("invoice:{}", i.invoice_id);
        let added = crate::credits::append(
            &mut tx,
            &crate::credits::NewEntry {
                user_id: &user_id,
                kind: crate::credits::EntryKind::Purchase,
                amount: i.credits,
                idempotency_key: &key,
                actor: "stripe",
                reason: "subscription invoice paid",
                subject: Some(i.invoice_id),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(if added {
            Applied::Applied
        } else {
            Applied::Ignored
        })
    }
}
