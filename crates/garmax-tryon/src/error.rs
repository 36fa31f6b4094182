//! The one error type of the pipeline, carrying the inner crates' codes.

use garmax_core::{Coded, ErrorCode};

/// Why a try-on stage failed. Every variant has an [`ErrorCode`]; the inner
/// crates' errors keep theirs (IMG_004, GAR_008, PER_010, POS_006, RET_003,
/// GEN_002, AST_009 …).
#[derive(Debug, thiserror::Error)]
pub enum TryOnError {
    #[error(transparent)]
    Image(#[from] garmax_vision::ImageError),
    #[error("product analysis")]
    Analysis(#[source] garmax_vision::AnalysisError),
    #[error("person analysis")]
    Person(#[source] garmax_person::PersonError),
    #[error("loading the person models (run `garmax models fetch`)")]
    PersonModels(#[source] garmax_person::PersonError),
    #[error(transparent)]
    Body(#[from] garmax_body::BodyError),
    #[error(transparent)]
    Render(#[from] garmax_render::RenderError),
    #[error(transparent)]
    Quality(#[from] garmax_quality::QualityError),
    #[error(transparent)]
    Asset(#[from] garmax_assets::AssetError),
    /// A stored file of a prepared person or garment is missing or damaged.
    #[error("stored {name}: {reason}")]
    Stored { name: String, reason: String },
    /// Encoding a map or JSON document for storage failed.
    #[error("encoding {name}: {reason}")]
    Encode { name: String, reason: String },
}

impl Coded for TryOnError {
    fn code(&self) -> ErrorCode {
        match self {
            TryOnError::Image(e) => e.code(),
            TryOnError::Analysis(e) => e.code(),
            TryOnError::Person(e) | TryOnError::PersonModels(e) => e.code(),
            TryOnError::Body(e) => e.code(),
            TryOnError::Render(e) => e.code(),
            TryOnError::Quality(e) => e.code(),
            TryOnError::Asset(e) => e.code(),
            TryOnError::Stored { .. } | TryOnError::Encode { .. } => ErrorCode::Io,
        }
    }
}

impl TryOnError {
    pub(crate) fn stored(name: &str, reason: impl std::fmt::Display) -> TryOnError {
        TryOnError::Stored {
            name: name.to_string(),
            reason: reason.to_string(),
        }
    }

    pub(crate) fn encode(name: &str, reason: impl std::fmt::Display) -> TryOnError {
        TryOnError::Encode {
            name: name.to_string(),
            reason: reason.to_string(),
        }
    }
}
