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
    #[error("the refund window of this session has closed (refunds are possible for 5 minutes after the charge)")]
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
