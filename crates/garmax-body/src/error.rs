//! Errors of the body crate, each mapped to a product error code.

use garmax_core::{Coded, ErrorCode};

/// Everything that can go wrong while loading the body assets, fitting the
/// model, rendering the guidance maps or writing the outputs.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// An asset file the caller pointed at does not exist or cannot be read.
    #[error("asset {path} unavailable: {reason}")]
    AssetMissing { path: String, reason: String },
    /// An asset file exists but its content is not what the format promises.
    #[error("asset {path} is malformed: {reason}")]
    AssetMalformed { path: String, reason: String },
    /// The caller's inputs are inconsistent (sizes, counts, non-finite values).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A pose name that [`crate::poses`] does not define.
    #[error("unknown pose '{pose}' (known poses: {known})")]
    UnknownPose { pose: String, known: String },
    /// The optimiser could not produce a usable fit.
    #[error("body fit failed: {0}")]
    FitFailed(String),
    /// Encoding an output image or file failed.
    #[error("encoding {what} failed: {reason}")]
    Encode { what: &'static str, reason: String },
    /// Writing an output file failed.
    #[error("writing {path} failed: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl BodyError {
    pub(crate) fn malformed(path: impl Into<String>, reason: impl Into<String>) -> Self {
        BodyError::AssetMalformed {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

impl Coded for BodyError {
    fn code(&self) -> ErrorCode {
        match self {
            BodyError::AssetMissing { .. } | BodyError::AssetMalformed { .. } => {
                ErrorCode::AssetUnavailable
            }
            BodyError::InvalidInput(_) | BodyError::FitFailed(_) => ErrorCode::BodyFitFailed,
            BodyError::UnknownPose { .. } => ErrorCode::InvalidPose,
            BodyError::Encode { .. } | BodyError::Io { .. } => ErrorCode::Io,
        }
    }
}

/// Result alias of the crate.
pub type Result<T, E = BodyError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(
            BodyError::malformed("x", "y").code(),
            ErrorCode::AssetUnavailable
        );
        assert_eq!(
            BodyError::FitFailed("n".into()).code(),
            ErrorCode::BodyFitFailed
        );
    }
}
