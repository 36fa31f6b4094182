//! The credit ledger: append-only entries (grant, purchase, hold, capture,
//! release, refund, adjustment), each with a unique idempotency key, the
//! actor and a reason. The balance is the sum of a user's entries; a row of
//! `credit_balances` holds that sum, changed in the same transaction as
//! every append by a conditional `UPDATE … SET balance = balance + d WHERE
//! balance + d >= 0` (never read-modify-write), and a `CHECK (balance >= 0)`
//! backs it. An entry whose key is already there is not applied again.
//!
//! Holds take credits when a session or avatar is created; a capture (zero
//! amount) turns the hold into a charge; a release gives it back; a refund
//! gives a captured charge back. Which of these happens is decided by the
//! state change of the session or avatar, in the same transaction
//! (`sessions`, `avatars`), so each happens at most once.

use sqlx::Row as _;

use crate::{
    Page, Store, StoreError, Tx, avatars::page, clamp_limit, cursor_bounds, encode_cursor, new_id,
    now_ms,
};

/// What an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// Credits given by an operator (or at sign-up).
    Grant,
    /// Credits bought (a paid Stripe invoice).
    Purchase,
    /// Reserved for a session or avatar (negative).
    Hold,
    /// A hold became a charge (zero: the hold already took the credits).
    Capture,
    /// A hold given back (positive).
    Release,
    /// A captured charge given back (positive).
    Refund,
    /// An operator's correction (either sign).
    Adjustment,
}

impl EntryKind {
    pub const ALL: [EntryKind; 7] = [
        EntryKind::Grant,
        EntryKind::Purchase,
        EntryKind::Hold,
        EntryKind::Capture,
        EntryKind::Release,
        EntryKind::Refund,
        EntryKind::Adjustment,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Grant => "grant",
            EntryKind::Purchase => "purchase",
            EntryKind::Hold => "hold",
            EntryKind::Capture => "capture",
            EntryKind::Release => "release",
            EntryKind::Refund => "refund",
            EntryKind::Adjustment => "adjustment",
        }
    }

    pub fn parse(s: &str) -> Option<EntryKind> {
        EntryKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// An entry to append.
#[derive(Debug, Clone)]
pub struct NewEntry<'a> {
    pub user_id: &'a str,
    pub kind: EntryKind,
    pub amount: i64,
    pub idempotency_key: &'a str,
    /// Who caused it: `user:<id>`, `admin:<id>`, `system`, `stripe`.
    pub actor: &'a str,
    pub reason: &'a str,
    /// The session, avatar or invoice it is about.
    pub subject: Option<&'a str>,
}

/// An entry as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: String,
    pub user_id: String,
    pub kind: EntryKind,
    pub amount: i64,
    pub idempotency_key: String,
    pub actor: String,
    pub reason: String,
    pub subject: Option<String>,
    pub created_at: i64,
}

fn entry_from_row(row: &sqlx::any::AnyRow) -> Result<Entry, StoreError> {
    let kind: String = row.try_get("kind")?;
    Ok(Entry {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        kind: EntryKind::parse(&kind)
            .ok_or_else(|| StoreError::Invalid(format!("unknown entry kind {kind}")))?,
        amount: row.try_get("amount")?,
        idempotency_key: row.try_get("idempotency_key")?,
        actor: row.try_get("actor")?,
        reason: row.try_get("reason")?,
        subject: row.try_get("subject")?,
        created_at: row.try_get("created_at")?,
    })
}

/// Creates the balance row of a new user (zero).
pub(crate) async fn open_account(tx: &mut Tx, user_id: &str) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO credit_balances (user_id, balance) VALUES ($1, 0) ON CONFLICT (user_id) DO NOTHING",
    )
    .bind(user_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Appends an entry and moves the balance by its amount. An entry with the
/// same idempotency key already there makes this a no-op (returns false);
/// an amount that would make the balance negative is refused with
/// `InsufficientCredits` (the caller's transaction is then dropped, so the
/// entry is not kept either).
pub(crate) async fn append(tx: &mut Tx, e: &NewEntry<'_>) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO credit_entries (id, user_id, kind, amount, idempotency_key, reason, actor, subject, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (idempotency_key) DO NOTHING",
    )
    .bind(new_id())
    .bind(e.user_id)
    .bind(e.kind.as_str())
    .bind(e.amount)
    .bind(e.idempotency_key)
    .bind(e.reason)
    .bind(e.actor)
    .bind(e.subject)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    if e.amount != 0 {
        let moved = sqlx::query(
            "UPDATE credit_balances SET balance = balance + $1 WHERE user_id = $2 AND balance + $1 >= 0",
        )
        .bind(e.amount)
        .bind(e.user_id)
        .execute(&mut **tx)
        .await?;
        if moved.rows_affected() != 1 {
            let available = balance_in(tx, e.user_id).await?;
            return Err(StoreError::InsufficientCredits {
                needed: -e.amount,
                available,
            });
        }
    }
    Ok(true)
}

/// The balance as seen inside `tx`.
pub(crate) async fn balance_in(tx: &mut Tx, user_id: &str) -> Result<i64, StoreError> {
    let row = sqlx::query("SELECT balance FROM credit_balances WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(match row {
        Some(r) => r.try_get("balance")?,
        None => 0,
    })
}

/// What a hold, capture, release or refund is for.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Subject<'a> {
    Session(&'a str),
    Avatar(&'a str),
}

impl Subject<'_> {
    fn id(&self) -> &str {
        match self {
            Subject::Session(id) | Subject::Avatar(id) => id,
        }
    }
    /// `hold:<session>` (the keys sessions always had) or
    /// `hold:avatar:<avatar>`.
    fn key(&self, step: &str) -> String {
        match self {
            Subject::Session(id) => format!("{step}:{id}"),
            Subject::Avatar(id) => format!("{step}:avatar:{id}"),
        }
    }
    fn noun(&self) -> &'static str {
        match self {
            Subject::Session(_) => "session",
            Subject::Avatar(_) => "avatar",
        }
    }
}

/// Holds `amount` for `subject`: refused with the shortfall when the
/// balance cannot cover it.
pub(crate) async fn hold(
    tx: &mut Tx,
    user_id: &str,
    subject: Subject<'_>,
    amount: i64,
) -> Result<(), StoreError> {
    let actor = format!("user:{user_id}");
    let reason = format!("{} hold", subject.noun());
    append(
        tx,
        &NewEntry {
            user_id,
            kind: EntryKind::Hold,
            amount: -amount,
            idempotency_key: &subject.key("hold"),
            actor: &actor,
            reason: &reason,
            subject: Some(subject.id()),
        },
    )
    .await?;
    Ok(())
}

/// Settles a hold: captured (`charge`) or released.
pub(crate) async fn settle(
    tx: &mut Tx,
    user_id: &str,
    subject: Subject<'_>,
    held: i64,
    charge: bool,
    actor: &str,
) -> Result<(), StoreError> {
    if held <= 0 {
        return Ok(());
    }
    let (kind, amount, step, reason) = if charge {
        (EntryKind::Capture, 0, "capture", "charged")
    } else {
        (EntryKind::Release, held, "release", "not charged")
    };
    let reason = format!("{} {reason}", subject.noun());
    append(
        tx,
        &NewEntry {
            user_id,
            kind,
            amount,
            idempotency_key: &subject.key(step),
            actor,
            reason: &reason,
            subject: Some(subject.id()),
        },
    )
    .await?;
    Ok(())
}

/// Gives a captured charge back in full.
pub(crate) async fn refund(
    tx: &mut Tx,
    user_id: &str,
    subject: Subject<'_>,
    charged: i64,
    actor: &str,
) -> Result<(), StoreError> {
    if charged <= 0 {
        return Ok(());
    }
    let reason = format!("{} refunded", subject.noun());
    append(
        tx,
        &NewEntry {
            user_id,
            kind: EntryKind::Refund,
            amount: charged,
            idempotency_key: &subject.key("refund"),
            actor,
            reason: &reason,
            subject: Some(subject.id()),
        },
    )
    .await?;
    Ok(())
}

/// A user whose balance row disagrees with the sum of their entries, or is
/// negative (see [`Store::ledger_violations`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub user_id: String,
    pub balance: i64,
    pub sum: i64,
}

impl Store {
    /// The user's balance.
    pub async fn balance(&self, user_id: &str) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT balance FROM credit_balances WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(self.pool())
            .await?;
        Ok(match row {
            Some(r) => r.try_get("balance")?,
            None => 0,
        })
    }

    /// Grants credits (an operator's action); idempotent on `idempotency_key`.
    pub async fn grant_credits(
        &self,
        user_id: &str,
        amount: i64,
        idempotency_key: &str,
        reason: &str,
    ) -> Result<bool, StoreError> {
        self.add_entry(&NewEntry {
            user_id,
            kind: EntryKind::Grant,
            amount,
            idempotency_key,
            actor: "system",
            reason,
            subject: None,
        })
        .await
    }

    /// Appends an operator's grant or adjustment (or a purchase) in its own
    /// transaction. A grant or purchase is positive; an adjustment is
    /// non-zero and may not take the balance below zero. Returns false when
    /// the idempotency key was already used.
    pub async fn add_entry(&self, e: &NewEntry<'_>) -> Result<bool, StoreError> {
        match e.kind {
            EntryKind::Grant | EntryKind::Purchase if e.amount <= 0 => {
                return Err(StoreError::Invalid(format!(
                    "a {} is a positive amount",
                    e.kind.as_str()
                )));
            }
            EntryKind::Adjustment if e.amount == 0 => {
                return Err(StoreError::Invalid("an adjustment is not zero".into()));
            }
            EntryKind::Grant | EntryKind::Purchase | EntryKind::Adjustment => {}
            other => {
                return Err(StoreError::Invalid(format!(
                    "a {} entry is made by a session or avatar, not by hand",
                    other.as_str()
                )));
            }
        }
        if e.reason.trim().is_empty() || e.idempotency_key.trim().is_empty() {
            return Err(StoreError::Invalid(
                "an entry needs a reason and an idempotency key".into(),
            ));
        }
        let mut tx = self.begin().await?;
        crate::sessions::lock_user(&mut tx, self.backend(), e.user_id).await?;
        let added = append(&mut tx, e).await?;
        tx.commit().await?;
        Ok(added)
    }

    /// The user's entries, newest first.
    pub async fn ledger(
        &self,
        user_id: &str,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Page<Entry>, StoreError> {
        let limit = clamp_limit(limit);
        let (t, id) = cursor_bounds(cursor)?;
        let rows = sqlx::query(
            "SELECT id, user_id, kind, amount, idempotency_key, actor, reason, subject, created_at \
             FROM credit_entries WHERE user_id = $1 \
             AND (created_at < $2 OR (created_at = $2 AND id < $3)) \
             ORDER BY created_at DESC, id DESC LIMIT $4",
        )
        .bind(user_id)
        .bind(t)
        .bind(id)
        .bind(limit + 1)
        .fetch_all(self.pool())
        .await?;
        page(rows, limit, entry_from_row, |e: &Entry| {
            encode_cursor(e.created_at, &e.id)
        })
    }

    /// Whether an entry with this idempotency key exists.
    pub async fn entry_by_key(&self, key: &str) -> Result<Option<Entry>, StoreError> {
        let row = sqlx::query(
            "SELECT id, user_id, kind, amount, idempotency_key, actor, reason, subject, created_at \
             FROM credit_entries WHERE idempotency_key = $1",
        )
        .bind(key)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(entry_from_row).transpose()
    }

    /// The invariant of the ledger, as one query: every balance equals the
    /// sum of its user's entries and none is negative. Returns the users
    /// that break it (none, always).
    pub async fn ledger_violations(&self) -> Result<Vec<Violation>, StoreError> {
        let rows = sqlx::query(
            "SELECT b.user_id, b.balance, \
             CAST(COALESCE((SELECT SUM(c.amount) FROM credit_entries c WHERE c.user_id = b.user_id), 0) AS BIGINT) AS total \
             FROM credit_balances b",
        )
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::new();
        for r in rows {
            let v = Violation {
                user_id: r.try_get("user_id")?,
                balance: r.try_get("balance")?,
                sum: r.try_get("total")?,
            };
            if v.balance < 0 || v.balance != v.sum {
                out.push(v);
            }
        }
        Ok(out)
    }
}
