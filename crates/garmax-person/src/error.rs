//! The crate's error type, each variant mapped to a product error code.

use std::path::PathBuf;

use garmax_core::{Coded, ErrorCode};

/// Everything person analysis can fail with.
#[derive(Debug, thiserror::Error)]
pub enum PersonError {
    /// The pose detector found no person above its score threshold, or the
    /// landmark model said the crop it was given holds no person.
    #[error("no person found in the photo: {0}")]
    NoPerson(String),
    /// A model file or the ONNX Runtime library is missing.
    #[error("asset missing: {what} at {path}")]
    AssetMissing { what: String, path: PathBuf },
    /// ONNX Runtime failed to load, build a session, or run a model.
    #[error("inference failed: {0}")]
    Inference(String),
    /// The photo cannot be analysed (empty, degenerate size).
    #[error("invalid image: {0}")]
    InvalidImage(String),
}

impl Coded for PersonError {
    fn code(&self) -> ErrorCode {
        match self {
            PersonError::NoPerson(_) => ErrorCode::NoPersonFound,
            PersonError::AssetMissing { .. } => ErrorCode::AssetUnavailable,
            PersonError::Inference(_) => ErrorCode::InferenceFailed,
            PersonError::InvalidImage(_) => ErrorCode::InvalidImage,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(PersonError::NoPerson("x".into()).code().as_str(), "PER_010");
        assert_eq!(
            PersonError::Inference("x".into()).code().as_str(),
            "INF_011"
        );
        assert_eq!(
            PersonError::AssetMissing {
                what: "m".into(),
                path: "p".into()
            }
            .code()
            .as_str(),
            "AST_009"
        );
        assert_eq!(
            PersonError::InvalidImage("x".into()).code().as_str(),
            "IMG_004"
        );
    }
}
