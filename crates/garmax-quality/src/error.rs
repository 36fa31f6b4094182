//! Errors of the quality crate, each carrying the product's error code.

use garmax_core::{Coded, ErrorCode};

use crate::retry::{RetryHistory, StopReason};

/// What can go wrong while validating or retrying.
#[derive(Debug, thiserror::Error)]
pub enum QualityError {
    /// The tier file is not valid TOML, misses a field, or holds a value out
    /// of range.
    #[error("invalid quality configuration: {0}")]
    Config(String),
    /// An unknown tier name was asked for.
    #[error("unknown quality tier '{0}' (expected standard, premium or ultra)")]
    UnknownTier(String),
    /// The validators together took longer than the configured limit.
    #[error("validation took {elapsed_ms} ms, more than the {limit_ms} ms limit")]
    Timeout { elapsed_ms: u64, limit_ms: u64 },
    /// The thresholds were never met: the retries, the cost or the time ran
    /// out. The history holds every attempt; [`RetryHistory::best`] is the
    /// one to show the user.
    #[error("quality thresholds not met after {} attempt(s) ({reason}); best overall score {best:.2}", history.attempts.len())]
    MaxRetriesExceeded {
        reason: StopReason,
        best: f32,
        history: Box<RetryHistory>,
    },
    /// The generator itself failed; the attempts before it are kept.
    #[error("generation failed on attempt {attempt}: {message}")]
    Generation {
        attempt: u32,
        message: String,
        history: Box<RetryHistory>,
    },
}

impl Coded for QualityError {
    fn code(&self) -> ErrorCode {
        match self {
            QualityError::Config(_) | QualityError::UnknownTier(_) => ErrorCode::InvalidConfig,
            QualityError::Timeout { .. } => ErrorCode::ValidationTimeout,
            QualityError::MaxRetriesExceeded { .. } => ErrorCode::MaxRetriesExceeded,
            QualityError::Generation { .. } => ErrorCode::GenerationFailed,
        }
    }
}
