//! Error codes of the product.
//!
//! The first six come from the consistency seed's error table; the rest name
//! failures the seed does not list but a user still needs to tell apart
//! (an image that is too large is not the same mistake as a file that is not
//! an image). Every library error type in the workspace implements [`Coded`],
//! so whatever reaches the CLI or the HTTP API carries one of these codes.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A stable, user-facing error code such as `IMG_004`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ErrorCode {
    /// Validation took longer than its time limit.
    #[serde(rename = "VAL_001")]
    ValidationTimeout,
    /// A generation provider failed.
    #[serde(rename = "GEN_002")]
    GenerationFailed,
    /// Quality thresholds were not met within the allowed retries.
    #[serde(rename = "RET_003")]
    MaxRetriesExceeded,
    /// The file is not a supported, intact image.
    #[serde(rename = "IMG_004")]
    InvalidImage,
    /// The requested model or persona does not exist.
    #[serde(rename = "MOD_005")]
    ModelNotFound,
    /// The requested pose is not offered for the model.
    #[serde(rename = "POS_006")]
    InvalidPose,
    /// The image exceeds the byte or pixel limits (e.g. a decompression bomb).
    #[serde(rename = "IMG_007")]
    ImageTooLarge,
    /// No garment could be separated from the product photo.
    #[serde(rename = "GAR_008")]
    NoGarmentFound,
    /// A packaged model or data file is missing or fails its checksum.
    #[serde(rename = "AST_009")]
    AssetUnavailable,
    /// No person was found in the photo.
    #[serde(rename = "PER_010")]
    NoPersonFound,
    /// The local inference engine failed to load or run a model.
    #[serde(rename = "INF_011")]
    InferenceFailed,
    /// The body model could not be fitted to the photo.
    #[serde(rename = "BOD_012")]
    BodyFitFailed,
    /// A configuration file or value is invalid.
    #[serde(rename = "CFG_013")]
    InvalidConfig,
    /// Reading or writing a file failed.
    #[serde(rename = "IO_014")]
    Io,
    /// A provider refused the request or its output on safety grounds.
    #[serde(rename = "SAF_015")]
    ContentBlocked,
    /// A per-user limit (concurrent or daily renders) was reached; the API
    /// answers 429.
    #[serde(rename = "LIM_016")]
    LimitExceeded,
    /// A daily or per-generation spending budget would be exceeded.
    #[serde(rename = "BUD_017")]
    BudgetExceeded,
    /// A provider cannot be used: not configured, bad credentials, account
    /// quota spent, or its circuit breaker is open.
    #[serde(rename = "PRV_018")]
    ProviderUnavailable,
    /// The request is malformed, or a provider rejected it as invalid (bad
    /// input image, size, parameters).
    #[serde(rename = "REQ_019")]
    InvalidRequest,
    /// No valid API key was given.
    #[serde(rename = "AUTH_020")]
    Unauthorized,
    /// The key's role may not do this.
    #[serde(rename = "AUTH_021")]
    Forbidden,
    /// The object does not exist (or belongs to someone else).
    #[serde(rename = "NOT_022")]
    NotFound,
    /// The object's state does not allow the operation.
    #[serde(rename = "STA_023")]
    InvalidState,
    /// Too many requests or a quota is used up.
    #[serde(rename = "LIM_024")]
    RateLimited,
    /// A URL was refused (private address, scheme, host not allowed).
    #[serde(rename = "URL_025")]
    UrlRefused,
    /// The database failed or is unreachable.
    #[serde(rename = "DB_027")]
    DatabaseUnavailable,
    /// Object storage failed or is unreachable.
    #[serde(rename = "OBJ_028")]
    StorageUnavailable,
    /// The request body exceeds its limit.
    #[serde(rename = "REQ_029")]
    RequestTooLarge,
    /// The balance cannot cover the operation's cost.
    #[serde(rename = "PAY_030")]
    InsufficientCredits,
    /// A monthly quota of the user's plan (avatars, try-ons) is used up
    /// until the billing period resets; the API answers 429 with
    /// Retry-After.
    #[serde(rename = "QUO_031")]
    QuotaExceeded,
    /// The refund window of a charged session has passed.
    #[serde(rename = "PAY_032")]
    RefundWindowClosed,
    /// A webhook's signature is missing, wrong or outside the tolerance.
    #[serde(rename = "SIG_033")]
    InvalidSignature,
    /// The payment provider (Stripe) failed or refused the request.
    #[serde(rename = "PAY_034")]
    PaymentProviderFailed,
    /// An alert's notification (webhook or email) could not be delivered.
    #[serde(rename = "NTF_035")]
    NotificationFailed,
}

impl ErrorCode {
    /// Every code, in numeric order.
    pub const ALL: [ErrorCode; 34] = [
        ErrorCode::ValidationTimeout,
        ErrorCode::GenerationFailed,
        ErrorCode::MaxRetriesExceeded,
        ErrorCode::InvalidImage,
        ErrorCode::ModelNotFound,
        ErrorCode::InvalidPose,
        ErrorCode::ImageTooLarge,
        ErrorCode::NoGarmentFound,
        ErrorCode::AssetUnavailable,
        ErrorCode::NoPersonFound,
        ErrorCode::InferenceFailed,
        ErrorCode::BodyFitFailed,
        ErrorCode::InvalidConfig,
        ErrorCode::Io,
        ErrorCode::ContentBlocked,
        ErrorCode::LimitExceeded,
        ErrorCode::BudgetExceeded,
        ErrorCode::ProviderUnavailable,
        ErrorCode::InvalidRequest,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::InvalidState,
        ErrorCode::RateLimited,
        ErrorCode::UrlRefused,
        ErrorCode::DatabaseUnavailable,
        ErrorCode::StorageUnavailable,
        ErrorCode::RequestTooLarge,
        ErrorCode::InsufficientCredits,
        ErrorCode::QuotaExceeded,
        ErrorCode::RefundWindowClosed,
        ErrorCode::InvalidSignature,
        ErrorCode::PaymentProviderFailed,
        ErrorCode::NotificationFailed,
    ];

    /// The code as shown to users, e.g. `"IMG_004"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::ValidationTimeout => "VAL_001",
            ErrorCode::GenerationFailed => "GEN_002",
            ErrorCode::MaxRetriesExceeded => "RET_003",
            ErrorCode::InvalidImage => "IMG_004",
            ErrorCode::ModelNotFound => "MOD_005",
            ErrorCode::InvalidPose => "POS_006",
            ErrorCode::ImageTooLarge => "IMG_007",
            ErrorCode::NoGarmentFound => "GAR_008",
            ErrorCode::AssetUnavailable => "AST_009",
            ErrorCode::NoPersonFound => "PER_010",
            ErrorCode::InferenceFailed => "INF_011",
            ErrorCode::BodyFitFailed => "BOD_012",
            ErrorCode::InvalidConfig => "CFG_013",
            ErrorCode::Io => "IO_014",
            ErrorCode::ContentBlocked => "SAF_015",
            ErrorCode::LimitExceeded => "LIM_016",
            ErrorCode::BudgetExceeded => "BUD_017",
            ErrorCode::ProviderUnavailable => "PRV_018",
            ErrorCode::InvalidRequest => "REQ_019",
            ErrorCode::Unauthorized => "AUTH_020",
            ErrorCode::Forbidden => "AUTH_021",
            ErrorCode::NotFound => "NOT_022",
            ErrorCode::InvalidState => "STA_023",
            ErrorCode::RateLimited => "LIM_024",
            ErrorCode::UrlRefused => "URL_025",
            ErrorCode::DatabaseUnavailable => "DB_027",
            ErrorCode::StorageUnavailable => "OBJ_028",
            ErrorCode::RequestTooLarge => "REQ_029",
            ErrorCode::InsufficientCredits => "PAY_030",
            ErrorCode::QuotaExceeded => "QUO_031",
            ErrorCode::RefundWindowClosed => "PAY_032",
            ErrorCode::InvalidSignature => "SIG_033",
            ErrorCode::PaymentProviderFailed => "PAY_034",
            ErrorCode::NotificationFailed => "NTF_035",
        }
    }

    /// The short message of the seed's error table (or ours for added codes).
    pub const fn title(self) -> &'static str {
        match self {
            ErrorCode::ValidationTimeout => "Validation timeout",
            ErrorCode::GenerationFailed => "Generation failed",
            ErrorCode::MaxRetriesExceeded => "Max retries exceeded",
            ErrorCode::InvalidImage => "Invalid image format",
            ErrorCode::ModelNotFound => "Model not found",
            ErrorCode::InvalidPose => "Invalid pose",
            ErrorCode::ImageTooLarge => "Image too large",
            ErrorCode::NoGarmentFound => "No garment found",
            ErrorCode::AssetUnavailable => "Asset unavailable",
            ErrorCode::NoPersonFound => "No person found",
            ErrorCode::InferenceFailed => "Inference failed",
            ErrorCode::BodyFitFailed => "Body fit failed",
            ErrorCode::InvalidConfig => "Invalid configuration",
            ErrorCode::Io => "I/O error",
            ErrorCode::ContentBlocked => "Content blocked",
            ErrorCode::LimitExceeded => "Limit exceeded",
            ErrorCode::BudgetExceeded => "Budget exceeded",
            ErrorCode::ProviderUnavailable => "Provider unavailable",
            ErrorCode::InvalidRequest => "Invalid request",
            ErrorCode::Unauthorized => "Unauthorized",
            ErrorCode::Forbidden => "Forbidden",
            ErrorCode::NotFound => "Not found",
            ErrorCode::InvalidState => "Invalid state",
            ErrorCode::RateLimited => "Rate limited",
            ErrorCode::UrlRefused => "URL refused",
            ErrorCode::DatabaseUnavailable => "Database unavailable",
            ErrorCode::StorageUnavailable => "Storage unavailable",
            ErrorCode::RequestTooLarge => "Request too large",
            ErrorCode::InsufficientCredits => "Insufficient credits",
            ErrorCode::QuotaExceeded => "Monthly quota exceeded",
            ErrorCode::RefundWindowClosed => "Refund window closed",
            ErrorCode::InvalidSignature => "Invalid signature",
            ErrorCode::PaymentProviderFailed => "Payment provider failed",
            ErrorCode::NotificationFailed => "Notification failed",
        }
    }

    /// Parses `"IMG_004"` back into a code.
    pub fn parse(code: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.as_str() == code)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error that knows which [`ErrorCode`] describes it.
pub trait Coded: std::error::Error {
    fn code(&self) -> ErrorCode;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "duplicate {code}");
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
        assert_eq!(ErrorCode::parse("NOPE_000"), None);
    }

    #[test]
    fn seed_codes_keep_their_numbers() {
        assert_eq!(ErrorCode::ValidationTimeout.as_str(), "VAL_001");
        assert_eq!(ErrorCode::GenerationFailed.as_str(), "GEN_002");
        assert_eq!(ErrorCode::MaxRetriesExceeded.as_str(), "RET_003");
        assert_eq!(ErrorCode::InvalidImage.as_str(), "IMG_004");
        assert_eq!(ErrorCode::ModelNotFound.as_str(), "MOD_005");
        assert_eq!(ErrorCode::InvalidPose.as_str(), "POS_006");
    }
}
