//! The store's error type.

use garmax_core::{Coded, ErrorCode};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the database schema cannot be used: {0}")]
    Migration(String),
    #[error("object storage: {0}")]
    Objects(#[from] object_store::Error),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error("storage configuration: {0}")]
    Config(String),
    #[error("Insufficient credits: {needed} needed, {available} available")]
    InsufficientCredits { needed: i64, available: i64 },
    #[error("Monthly quota exceeded: {used} of {limit} {what} used this billing period")]
    QuotaExceeded {
        /// `avatars` or `try-ons`.
        what: &'static str,
        limit: i64,
        used: i64,
        /// When the period ends and the quota resets (ms).
        resets_at: i64,
    },
    #[error(
        "the refund window of this session has closed (refunds are possible for 5 minutes after the charge)"
    )]
    RefundWindowClosed { charged_at: i64, closed_at: i64 },
}

impl StoreError {
    /// Credits missing to cover an operation, when that is the error.
    pub fn shortfall(&self) -> Option<i64> {
        match self {
            StoreError::InsufficientCredits { needed, available } => {
                Some((needed - available).max(0))
            }
            _ => None,
        }
    }
}

impl StoreError {
    pub(crate) fn from_migrate(e: sqlx::migrate::MigrateError) -> StoreError {
        use sqlx::migrate::MigrateError as M;
        match e {
            M::Dirty(v) => StoreError::Migration(format!(
                "migration {v} was only partly applied (a previous start failed midway); \
                 restore the database from a backup or repair migration {v} by hand"
            )),
            M::VersionMissing(v) => StoreError::Migration(format!(
                "the database was migrated by a newer garmax (migration {v} is unknown to this binary)"
            )),
            M::VersionMismatch(v) => StoreError::Migration(format!(
                "migration {v} differs from the one applied to this database"
            )),
            M::Execute(e) => StoreError::Database(e),
            other => StoreError::Migration(other.to_string()),
        }
    }

    /// Whether the operation may succeed if tried again (the database or
    /// the storage was unreachable, a lock timed out).
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Database(e) => {
                matches!(
                    e,
                    sqlx::Error::Io(_)
                        | sqlx::Error::PoolTimedOut
                        | sqlx::Error::PoolClosed
                        | sqlx::Error::WorkerCrashed
                        | sqlx::Error::Protocol(_)
                ) || e.to_string().contains("database is locked")
                    || e.as_database_error()
                        .and_then(|d| d.code())
                        .is_some_and(|code| is_transient_sqlstate(&code))
            }
            StoreError::Objects(e) => !matches!(e, object_store::Error::NotFound { .. }),
            _ => false,
        }
    }
}

impl Coded for StoreError {
    fn code(&self) -> ErrorCode {
        match self {
            StoreError::Database(_) | StoreError::Migration(_) => ErrorCode::DatabaseUnavailable,
            StoreError::Objects(object_store::Error::NotFound { .. }) | StoreError::NotFound => {
                ErrorCode::NotFound
            }
            StoreError::Objects(_) => ErrorCode::StorageUnavailable,
            StoreError::Conflict(_) => ErrorCode::InvalidState,
            StoreError::Invalid(_) => ErrorCode::InvalidRequest,
            StoreError::Config(_) => ErrorCode::InvalidConfig,
            StoreError::InsufficientCredits { .. } => ErrorCode::InsufficientCredits,
            StoreError::QuotaExceeded { .. } => ErrorCode::QuotaExceeded,
            StoreError::RefundWindowClosed { .. } => ErrorCode::RefundWindowClosed,
        }
    }
}

/// PostgreSQL errors that a retry can outlive: the server shutting down or
/// restarting (class 57P: `terminating connection due to administrator
/// command`, crash recovery, not accepting connections yet), a lost
/// connection (class 08), and transaction conflicts (serialization failure,
/// deadlock).
fn is_transient_sqlstate(code: &str) -> bool {
    code.starts_with("57P") || code.starts_with("08") || code == "40001" || code == "40P01"
}

#[cfg(test)]
mod tests {
    use super::is_transient_sqlstate;

    #[test]
    fn restarts_and_lost_connections_are_transient_violations_are_not() {
        for code in [
            "57P01", "57P02", "57P03", "08006", "08003", "40001", "40P01",
        ] {
            assert!(is_transient_sqlstate(code), "{code}");
        }
        // unique_violation, check_violation, undefined_table, syntax error
        for code in ["23505", "23514", "42P01", "42601"] {
            assert!(!is_transient_sqlstate(code), "{code}");
        }
    }
}
