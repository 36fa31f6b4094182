//! Users and their API keys. A key is 32 random bytes shown once; only its
//! SHA-256 is stored (a key has full entropy, so a slow hash adds nothing).

use rand::RngCore as _;
use sha2::{Digest as _, Sha256};
use sqlx::Row as _;

use crate::{Store, StoreError, new_id, now_ms};

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    User,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
        }
    }
    fn parse(s: &str) -> Role {
        if s == "admin" {
            Role::Admin
        } else {
            Role::User
        }
    }
}

/// A user as the rest of the system sees them.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub plan: String,
    pub created_at: i64,
}

/// A user with the key that was just made for them (shown once).
#[derive(Debug, Clone)]
pub struct NewUser {
    pub user: User,
    pub api_key: String,
}

/// A row of `garmax users list`.
#[derive(Debug, Clone)]
pub struct UserSummary {
    pub user: User,
    pub active_keys: i64,
    pub credits: i64,
}

const KEY_PREFIX: &str = "gmx_";

/// The stored form of an API key.
pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

fn generate_key() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{KEY_PREFIX}{}", hex::encode(bytes))
}

fn user_from_row(row: &sqlx::any::AnyRow) -> Result<User, sqlx::Error> {
    Ok(User {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        role: Role::parse(&row.try_get::<String, _>("role")?),
        plan: row.try_get("plan")?,
        created_at: row.try_get("created_at")?,
    })
}

impl Store {
    /// Creates a user with one API key and, when `credits > 0`, an initial
    /// grant in the credit ledger — all in one transaction.
    pub async fn create_user(
        &self,
        name: &str,
        role: Role,
        plan: &str,
        credits: i64,
    ) -> Result<NewUser, StoreError> {
        if name.trim().is_empty() || name.len() > 100 {
            return Err(StoreError::Invalid(
                "a user name has 1 to 100 characters".into(),
            ));
        }
        let now = now_ms();
        let user = User {
            id: new_id(),
            name: name.to_string(),
            role,
            plan: plan.to_string(),
            created_at: now,
        };
        let api_key = generate_key();
        let mut tx = self.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO users (id, name, role, plan, created_at, period_start, period_end) \
             VALUES ($1, $2, $3, $4, $5, $5, $6)",
        )
        .bind(&user.id)
        .bind(&user.name)
        .bind(role.as_str())
        .bind(plan)
        .bind(now)
        .bind(now + garmax_core::billing::PERIOD_MS)
        .execute(&mut *tx)
        .await;
        if let Err(e) = inserted {
            return Err(if is_unique_violation(&e) {
                StoreError::Conflict(format!("a user named '{name}' exists"))
            } else {
                e.into()
            });
        }
        sqlx::query(
            "INSERT INTO api_keys (id, user_id, key_hash, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(new_id())
        .bind(&user.id)
        .bind(hash_key(&api_key))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        crate::credits::open_account(&mut tx, &user.id).await?;
        if credits > 0 {
            crate::credits::append(
                &mut tx,
                &crate::credits::NewEntry {
                    user_id: &user.id,
                    kind: crate::credits::EntryKind::Grant,
                    amount: credits,
                    idempotency_key: &format!("initial-grant:{}", user.id),
                    actor: "system",
                    reason: "initial grant",
                    subject: None,
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(NewUser { user, api_key })
    }

    /// Adds another key for a user (key rotation).
    pub async fn create_api_key(&self, user_id: &str) -> Result<String, StoreError> {
        let key = generate_key();
        sqlx::query(
            "INSERT INTO api_keys (id, user_id, key_hash, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(new_id())
        .bind(user_id)
        .bind(hash_key(&key))
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(key)
    }

    /// The user an unrevoked key belongs to, or `None`.
    pub async fn authenticate(&self, api_key: &str) -> Result<Option<User>, StoreError> {
        if !api_key.starts_with(KEY_PREFIX) || api_key.len() > 200 {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT u.id, u.name, u.role, u.plan, u.created_at FROM api_keys k \
             JOIN users u ON u.id = k.user_id WHERE k.key_hash = $1 AND k.revoked_at IS NULL",
        )
        .bind(hash_key(api_key))
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| user_from_row(&r)).transpose()?)
    }

    pub async fn user(&self, id: &str) -> Result<User, StoreError> {
        let row = sqlx::query("SELECT id, name, role, plan, created_at FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(user_from_row(&row)?)
    }

    pub async fn user_by_name(&self, name: &str) -> Result<User, StoreError> {
        let row = sqlx::query("SELECT id, name, role, plan, created_at FROM users WHERE name = $1")
            .bind(name)
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(user_from_row(&row)?)
    }

    /// Every account (the persona catalogue's internal owner excepted).
    pub async fn list_users(&self) -> Result<Vec<UserSummary>, StoreError> {
        let rows = sqlx::query(
            "SELECT u.id, u.name, u.role, u.plan, u.created_at, \
             (SELECT COUNT(*) FROM api_keys k WHERE k.user_id = u.id AND k.revoked_at IS NULL) AS active_keys, \
             CAST(COALESCE((SELECT b.balance FROM credit_balances b WHERE b.user_id = u.id), 0) AS BIGINT) AS credits \
             FROM users u WHERE u.id <> $1 ORDER BY u.created_at, u.name",
        )
        // The key-less owner of the persona catalogue is not an account.
        .bind(crate::personas::CATALOGUE_USER)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(UserSummary {
                    user: user_from_row(r)?,
                    active_keys: r.try_get("active_keys")?,
                    credits: r.try_get("credits")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    /// Revokes every key of a user; returns how many were active.
    pub async fn revoke_keys(&self, user_id: &str) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        )
        .bind(now_ms())
        .bind(user_id)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected())
    }
}

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            matches!(d.kind(), sqlx::error::ErrorKind::UniqueViolation)
                || d.message().contains("UNIQUE constraint failed")
                || d.code().as_deref() == Some("23505")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_and_prefixed() {
        let a = generate_key();
        let b = generate_key();
        assert_ne!(a, b);
        assert!(a.starts_with(KEY_PREFIX));
        assert_eq!(a.len(), KEY_PREFIX.len() + 64);
        assert_ne!(hash_key(&a), hash_key(&b));
        assert_eq!(hash_key(&a).len(), 64);
    }
}
