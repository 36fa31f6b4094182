//! The credit ledger: append-only entries, each with an idempotency key, the
//! balance derived from their sum. (Holds, captures and plans build on this
//! table.)

use sqlx::Row as _;

use crate::{Store, StoreError, Tx, new_id, now_ms};

/// What an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Grant,
    Adjustment,
    /// Reserved for a session (negative).
    Hold,
    /// A hold became a charge (zero: the hold already took the credits).
    Capture,
    /// A hold given back (positive).
    Release,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Grant => "grant",
            EntryKind::Adjustment => "adjustment",
            EntryKind::Hold => "hold",
            EntryKind::Capture => "capture",
            EntryKind::Release => "release",
        }
    }
}

/// Appends an entry; an entry with the same idempotency key already there
/// makes this a no-op (returns false).
pub(crate) async fn append(
    tx: &mut Tx,
    user_id: &str,
    kind: EntryKind,
    amount: i64,
    idempotency_key: &str,
    reason: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO credit_entries (id, user_id, kind, amount, idempotency_key, reason, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (idempotency_key) DO NOTHING",
    )
    .bind(new_id())
    .bind(user_id)
    .bind(kind.as_str())
    .bind(amount)
    .bind(idempotency_key)
    .bind(reason)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The balance as seen inside `tx`.
pub(crate) async fn balance_in(tx: &mut Tx, user_id: &str) -> Result<i64, StoreError> {
    let row = sqlx::query(
        "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS balance FROM credit_entries WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.try_get("balance")?)
}

/// Holds `amount` for `session_id`: refused when the balance cannot cover
/// it. The caller's transaction holds the user's lock (see
/// `Store::create_session`), so two holds cannot both spend the same credits.
pub(crate) async fn hold(
    tx: &mut Tx,
    user_id: &str,
    session_id: &str,
    amount: i64,
) -> Result<(), StoreError> {
    let available = balance_in(tx, user_id).await?;
    if available < amount {
        return Err(StoreError::InsufficientCredits {
            needed: amount,
            available,
        });
    }
    append(
        tx,
        user_id,
        EntryKind::Hold,
        -amount,
        &format!("hold:{session_id}"),
        "session hold",
    )
    .await?;
    Ok(())
}

/// Settles a session's hold: captured (`charge`) or released.
pub(crate) async fn settle(
    tx: &mut Tx,
    user_id: &str,
    session_id: &str,
    held: i64,
    charge: bool,
) -> Result<(), StoreError> {
    if held <= 0 {
        return Ok(());
    }
    if charge {
        append(
            tx,
            user_id,
            EntryKind::Capture,
            0,
            &format!("capture:{session_id}"),
            "session confirmed",
        )
        .await?;
    } else {
        append(
            tx,
            user_id,
            EntryKind::Release,
            held,
            &format!("release:{session_id}"),
            "session not charged",
        )
        .await?;
    }
    Ok(())
}

impl Store {
    /// The user's balance: the sum of their ledger entries.
    pub async fn balance(&self, user_id: &str) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS balance FROM credit_entries WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_one(self.pool())
        .await?;
        Ok(row.try_get("balance")?)
    }

    /// Grants credits (an operator's action); idempotent on `idempotency_key`.
    pub async fn grant_credits(
        &self,
        user_id: &str,
        amount: i64,
        idempotency_key: &str,
        reason: &str,
    ) -> Result<bool, StoreError> {
        if amount <= 0 {
            return Err(StoreError::Invalid("a grant is a positive amount".into()));
        }
        let mut tx = self.begin().await?;
        let added = append(
            &mut tx,
            user_id,
            EntryKind::Grant,
            amount,
            idempotency_key,
            reason,
        )
        .await?;
        tx.commit().await?;
        Ok(added)
    }
}
