//! Errors of the renderer, each with its product error code.

use garmax_core::{Coded, ErrorCode};

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The person input has no usable body for the garment (missing or
    /// invisible shoulders, empty mask; for a dress or bottom, hips or
    /// thighs out of view).
    #[error("no person found: {0}")]
    NoPerson(String),
    /// The garment input cannot be placed (missing landmarks, degenerate
    /// shoulders or waistband).
    #[error("garment cannot be placed: {0}")]
    Garment(String),
    /// The person can be seen but not dressed by this renderer (seen from
    /// the back, degenerate geometry).
    #[error("generation failed: {0}")]
    Generation(String),
    /// Inputs whose sizes disagree.
    #[error("invalid render input: {0}")]
    Input(String),
    #[error("persona '{0}' not found (known: {1})")]
    PersonaNotFound(String, String),
    #[error("persona '{persona}' has no pose '{pose}' (poses: {known})")]
    PoseNotFound {
        persona: String,
        pose: String,
        known: String,
    },
    #[error(
        "persona '{persona}' has no reference photo for pose '{pose}'; the local renderer cannot yet draw a mannequin for it"
    )]
    PoseWithoutPhoto { persona: String, pose: String },
    #[error("invalid persona configuration: {0}")]
    Config(String),
    #[error(
        "provider '{0}' is not available offline; only 'local' is (remote providers arrive with the provider issue)"
    )]
    ProviderUnavailable(String),
    /// A routing renderer (remote providers, failover chain, budgets and
    /// limits) could not deliver: the router's own code is kept (LIM_016
    /// limit, BUD_017 budget, PRV_018 unavailable, SAF_015 blocked, GEN_002).
    #[error("{message}")]
    Routed {
        code: ErrorCode,
        message: String,
        /// When trying again makes sense (a limit that resets, providers
        /// cooling down).
        retry_after_secs: Option<u64>,
    },
}

impl Coded for RenderError {
    fn code(&self) -> ErrorCode {
        match self {
            RenderError::NoPerson(_) => ErrorCode::NoPersonFound,
            RenderError::Garment(_) => ErrorCode::NoGarmentFound,
            RenderError::Generation(_)
            | RenderError::Input(_)
            | RenderError::ProviderUnavailable(_) => ErrorCode::GenerationFailed,
            RenderError::PersonaNotFound(..) => ErrorCode::ModelNotFound,
            RenderError::PoseNotFound { .. } | RenderError::PoseWithoutPhoto { .. } => {
                ErrorCode::InvalidPose
            }
            RenderError::Config(_) => ErrorCode::InvalidConfig,
            RenderError::Routed { code, .. } => *code,
        }
    }
}
