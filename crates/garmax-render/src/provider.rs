//! The provider interface every renderer implements — the local one now,
//! the remote clients (Replicate, Gemini, OpenAI, FASHN) with the provider
//! issue. Synchronous for now: the local renderer is CPU-bound, and the
//! remote clients will get an async twin when they arrive.

use image::RgbaImage;

use crate::error::RenderError;
use crate::garment::GarmentInput;
use crate::params::{RenderParams, RenderQuality};
use crate::person::PersonInput;
use crate::render::RenderDetail;

/// One stage-2 render: apply `garment` to `person` (who is already in the
/// target pose after stage 1).
pub struct RenderRequest<'a> {
    pub person: &'a PersonInput,
    pub garment: &'a GarmentInput,
    pub params: RenderParams,
    pub quality: RenderQuality,
}

/// The image plus what the renderer measured and decided.
#[derive(Clone)]
pub struct RenderOutput {
    /// At the person photo's resolution.
    pub image: RgbaImage,
    pub detail: RenderDetail,
}

pub trait RenderProvider: Send + Sync {
    /// Stable provider name (`local`, `replicate`, …) used in reports,
    /// routing and cost accounting.
    fn name(&self) -> &'static str;
    /// USD per image this provider costs; the local renderer is free.
    fn cost_per_image(&self, _quality: RenderQuality) -> f64 {
        0.0
    }
    fn render(&self, request: &RenderRequest<'_>) -> Result<RenderOutput, RenderError>;
    /// The provider calls made since the last drain, for a renderer that
    /// routes between providers (`garmax-providers`' bridge); a single
    /// renderer records none.
    fn drain_attempts(&self) -> Vec<ProviderAttempt> {
        Vec::new()
    }
}

/// One call (or skip) of a render provider behind a routing renderer, as
/// reports and session records list them: which provider, how it went,
/// the error's class and code, the wall time and what it cost. Plain data:
/// the router that makes these lives in `garmax-providers`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderAttempt {
    /// Which render of the retry loop (1 = the first) this call served.
    pub render: u32,
    pub provider: String,
    /// `success`, `failed` or `skipped` (breaker open, over budget).
    pub outcome: String,
    /// `retryable`, `safety_blocked`, `invalid_input`, `auth`, `quota`,
    /// `permanent`; `None` on success or skip.
    pub error_class: Option<String>,
    /// The error code (`GEN_002`, `BUD_017`, …), `None` on success.
    pub code: Option<String>,
    pub message: Option<String>,
    pub latency_ms: f64,
    pub cost_usd: f64,
}

/// The provider for a name; only `local` works offline.
pub fn provider(name: &str) -> Result<Box<dyn RenderProvider>, RenderError> {
    match name {
        "local" => Ok(Box::new(crate::render::LocalRenderer)),
        other => Err(RenderError::ProviderUnavailable(other.to_string())),
    }
}
