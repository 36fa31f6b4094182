//! Typed provider and router errors, classed the way the router needs them:
//! retryable (move down the chain, count against the breaker), safety
//! blocked, invalid input, auth, quota, permanent — and the router's own
//! limit, budget and exhaustion errors.

use std::time::Duration;

use garmax_core::{Coded, ErrorCode};
use serde::Serialize;

/// What kind of failure an error is, as the router and reports see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// Timeout, connection failure, 5xx, 429: the same request may succeed
    /// later or elsewhere.
    Retryable,
    SafetyBlocked,
    InvalidInput,
    Auth,
    Quota,
    Permanent,
}

impl ErrorClass {
    pub fn name(self) -> &'static str {
        match self {
            ErrorClass::Retryable => "retryable",
            ErrorClass::SafetyBlocked => "safety_blocked",
            ErrorClass::InvalidInput => "invalid_input",
            ErrorClass::Auth => "auth",
            ErrorClass::Quota => "quota",
            ErrorClass::Permanent => "permanent",
        }
    }
}

/// The failure of one provider call.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProviderError {
    #[error("{provider}: timed out after {after:?}")]
    Timeout { provider: String, after: Duration },
    #[error("{provider}: connection failed: {message}")]
    Connection { provider: String, message: String },
    #[error("{provider}: server error {status}: {message}")]
    Server {
        provider: String,
        status: u16,
        message: String,
    },
    #[error("{provider}: rate limited (retry after {retry_after:?})")]
    RateLimited {
        provider: String,
        retry_after: Option<Duration>,
    },
    #[error("{provider}: blocked by the provider's safety filter: {message}")]
    SafetyBlocked { provider: String, message: String },
    #[error("{provider}: invalid input: {message}")]
    InvalidInput { provider: String, message: String },
    #[error("{provider}: authentication failed: {message}")]
    Auth { provider: String, message: String },
    #[error("{provider}: account quota exhausted: {message}")]
    Quota { provider: String, message: String },
    /// The provider answered, but not with something usable (malformed
    /// JSON, a failed prediction, a non-image or oversize output, an output
    /// URL we refuse to fetch).
    #[error("{provider}: {message}")]
    Permanent { provider: String, message: String },
    /// The local renderer could not dress this person with this garment;
    /// its own code is kept (PER_010 no person, GAR_008 no garment, GEN_002
    /// seen from the back …). The renderer is pure and deterministic, so
    /// this is always the request's fault (class invalid input: it never
    /// counts against a breaker).
    #[error("{provider}: [{code}] {message}")]
    Renderer {
        provider: String,
        code: ErrorCode,
        message: String,
    },
}

impl ProviderError {
    pub fn class(&self) -> ErrorClass {
        match self {
            ProviderError::Timeout { .. }
            | ProviderError::Connection { .. }
            | ProviderError::Server { .. }
            | ProviderError::RateLimited { .. } => ErrorClass::Retryable,
            ProviderError::SafetyBlocked { .. } => ErrorClass::SafetyBlocked,
            ProviderError::InvalidInput { .. } => ErrorClass::InvalidInput,
            ProviderError::Auth { .. } => ErrorClass::Auth,
            ProviderError::Quota { .. } => ErrorClass::Quota,
            ProviderError::Permanent { .. } => ErrorClass::Permanent,
            ProviderError::Renderer { .. } => ErrorClass::InvalidInput,
        }
    }

    pub fn is_retryable(&self) -> bool {
        self.class() == ErrorClass::Retryable
    }

    /// The provider's Retry-After, when it sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ProviderError::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    pub fn provider(&self) -> &str {
        match self {
            ProviderError::Timeout { provider, .. }
            | ProviderError::Connection { provider, .. }
            | ProviderError::Server { provider, .. }
            | ProviderError::RateLimited { provider, .. }
            | ProviderError::SafetyBlocked { provider, .. }
            | ProviderError::InvalidInput { provider, .. }
            | ProviderError::Auth { provider, .. }
            | ProviderError::Quota { provider, .. }
            | ProviderError::Permanent { provider, .. }
            | ProviderError::Renderer { provider, .. } => provider,
        }
    }

    pub(crate) fn permanent(provider: &str, message: impl Into<String>) -> ProviderError {
        ProviderError::Permanent {
            provider: provider.to_string(),
            message: message.into(),
        }
    }
}

impl Coded for ProviderError {
    fn code(&self) -> ErrorCode {
        if let ProviderError::Renderer { code, .. } = self {
            return *code;
        }
        match self.class() {
            ErrorClass::Retryable | ErrorClass::Permanent => ErrorCode::GenerationFailed,
            ErrorClass::SafetyBlocked => ErrorCode::ContentBlocked,
            ErrorClass::InvalidInput => ErrorCode::InvalidRequest,
            ErrorClass::Auth | ErrorClass::Quota => ErrorCode::ProviderUnavailable,
        }
    }
}

/// Which per-user limit was hit (the API answers 429 with Retry-After).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitKind {
    ConcurrentRenders,
    DailyRenders,
}

/// Which budget a reservation would exceed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "scope", content = "name", rename_all = "snake_case")]
pub enum BudgetScope {
    Global,
    Provider(String),
    User(String),
    PerGeneration,
}

/// A router failure: a limit, a budget, a bad configuration, or every
/// provider of the chain failing (with the attempts that were made).
#[derive(Debug, Clone, thiserror::Error)]
pub enum RouterError {
    #[error("limit reached: {kind:?} (max {limit})")]
    Limit {
        kind: LimitKind,
        limit: u32,
        /// Seconds until the limit resets, for a Retry-After header.
        retry_after: Option<Duration>,
    },
    #[error("budget exceeded: {scope:?}")]
    Budget { scope: BudgetScope },
    #[error("provider configuration: {0}")]
    Config(String),
    #[error("every provider of the chain failed ({} attempts); last: {}", attempts.len(), last_message(attempts))]
    Exhausted {
        attempts: Vec<crate::router::Attempt>,
        /// The code of the most telling failure (a safety block wins).
        code: ErrorCode,
    },
    #[error("queue full or shut down: {0}")]
    Unavailable(String),
}

fn last_message(attempts: &[crate::router::Attempt]) -> String {
    attempts
        .iter()
        .rev()
        .find_map(|a| a.message.clone())
        .unwrap_or_else(|| "no provider could be tried".into())
}

impl Coded for RouterError {
    fn code(&self) -> ErrorCode {
        match self {
            RouterError::Limit { .. } => ErrorCode::LimitExceeded,
            RouterError::Budget { .. } => ErrorCode::BudgetExceeded,
            RouterError::Config(_) => ErrorCode::InvalidConfig,
            RouterError::Exhausted { code, .. } => *code,
            RouterError::Unavailable(_) => ErrorCode::ProviderUnavailable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_and_codes() {
        let p = "x".to_string();
        let e = ProviderError::RateLimited {
            provider: p.clone(),
            retry_after: Some(Duration::from_secs(3)),
        };
        assert!(e.is_retryable());
        assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
        assert_eq!(e.code(), ErrorCode::GenerationFailed);
        let s = ProviderError::SafetyBlocked {
            provider: p.clone(),
            message: "nsfw".into(),
        };
        assert_eq!(s.class(), ErrorClass::SafetyBlocked);
        assert_eq!(s.code().as_str(), "SAF_015");
        let a = ProviderError::Auth {
            provider: p,
            message: "bad token".into(),
        };
        assert_eq!(a.code().as_str(), "PRV_018");
        let l = RouterError::Limit {
            kind: LimitKind::ConcurrentRenders,
            limit: 3,
            retry_after: None,
        };
        assert_eq!(l.code().as_str(), "LIM_016");
    }
}
