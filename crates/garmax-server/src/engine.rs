//! The seam between the service and the try-on pipeline.
//!
//! Workers hand stored files to an [`Engine`] and store what it returns; the
//! engine does the CPU work synchronously (workers call it on tokio's
//! blocking pool). [`crate::pipeline::PipelineEngine`] is the real one, on
//! `garmax-tryon`.

use garmax_core::ErrorCode;
use garmax_core::session::ProgressStage;

/// Files by name (`photo`, `depth`, `body.glb`, …) and their bytes.
pub type Files = Vec<(String, Vec<u8>)>;

/// Reports progress of a job: a stage of the seed's map, the render
/// attempt it belongs to (`None` outside the retry loop) and a message.
pub type ProgressFn<'a> = &'a mut (dyn FnMut(ProgressStage, Option<u32>, &str) + Send);

/// What went wrong in the pipeline, with its code.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("[{code}] {message}")]
pub struct EngineError {
    pub code: ErrorCode,
    pub message: String,
    /// Whether running the job again may succeed (a provider timed out)
    /// rather than fail the same way (the photo shows nobody).
    pub retryable: bool,
    /// The provider calls made before the failure (for the session record).
    pub provider_attempts: Vec<ProviderAttempt>,
}

impl EngineError {
    pub fn permanent(code: ErrorCode, message: impl Into<String>) -> EngineError {
        EngineError {
            code,
            message: message.into(),
            retryable: false,
            provider_attempts: Vec::new(),
        }
    }
}

pub use garmax_render::ProviderAttempt;

/// A processed garment: the analysis (as `garmax analyze --json` prints it)
/// and the files a render needs later.
#[derive(Debug, Clone)]
pub struct GarmentFiles {
    pub analysis: serde_json::Value,
    pub files: Files,
}

/// How to render one session.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// `sd`, `hd` or `4k`.
    pub quality: String,
    /// `standard`, `premium` or `ultra`.
    pub tier: String,
    /// Upper bound on attempts (the tier's own limit applies too).
    pub max_attempts: u32,
    /// The session's owner: keys the sticky split and per-user limits.
    pub user_id: Option<String>,
    /// The render router (remote providers, failover chain ending in
    /// `local`, budgets); `None` renders with the local renderer alone.
    pub router: Option<garmax_providers::Router>,
}

/// A finished render.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub preview_png: Vec<u8>,
    /// The validation in the seed's shape (`passes`, `overallQuality`,
    /// `consistency`, `accuracy`, `feedback`, …) plus the retry history.
    pub validation: serde_json::Value,
    pub attempts: u32,
    /// Set when the thresholds were never met (RET_003): the best attempt
    /// is delivered with this warning.
    pub warning: Option<(ErrorCode, String)>,
    /// Every provider call behind the renders, in order.
    pub provider_attempts: Vec<ProviderAttempt>,
}

/// A reference person's stored avatar files, read by name.
pub type ReferenceFiles<'a> = &'a dyn Fn(&str) -> Option<Vec<u8>>;

/// The try-on pipeline as the service sees it.
pub trait Engine: Send + Sync + 'static {
    /// Person analysis, body fit and guidance maps of a photo (the avatar's
    /// `photo` file is kept by the caller).
    fn process_avatar(&self, photo: &[u8], progress: ProgressFn<'_>) -> Result<Files, EngineError>;

    /// Garment analysis of a product photo.
    fn process_garment(&self, image: &[u8]) -> Result<GarmentFiles, EngineError>;

    /// Renders, validates and retries one try-on. `avatar` and `garment`
    /// look up stored files by name.
    fn render(
        &self,
        avatar: &dyn Fn(&str) -> Option<Vec<u8>>,
        garment: &dyn Fn(&str) -> Option<Vec<u8>>,
        options: &RenderOptions,
        progress: ProgressFn<'_>,
    ) -> Result<Rendered, EngineError>;

    /// The names of the files `process_avatar` makes, and of the garment's,
    /// so workers can load them before calling `render`.
    fn avatar_files(&self) -> &'static [&'static str];
    fn garment_files(&self) -> &'static [&'static str];

    /// Validates a generated image against a product photo and, when
    /// given, a reference person's stored avatar files (the seed's
    /// `POST /api/enhanced-tryon/validate`): the seed's `validation` object
    /// plus `tier` and each validator's `results`.
    fn validate_image(
        &self,
        generated: &[u8],
        product: &[u8],
        reference: Option<ReferenceFiles<'_>>,
        tier: &str,
    ) -> Result<serde_json::Value, EngineError> {
        let _ = (generated, product, reference, tier);
        Err(EngineError::permanent(
            ErrorCode::InvalidRequest,
            "this engine cannot validate uploaded images",
        ))
    }
}
