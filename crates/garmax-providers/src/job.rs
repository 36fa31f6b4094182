//! What a provider is asked to render and what it gives back.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use garmax_render::{GarmentInput, PersonInput, QualityTier, RenderParams, RenderQuality};
use serde::Serialize;

/// Encoded image bytes with their media type, as sent to and received from
/// remote providers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageData {
    pub bytes: Arc<Vec<u8>>,
    /// `image/png`, `image/jpeg` or `image/webp`.
    pub mime: String,
}

impl ImageData {
    pub fn new(bytes: Vec<u8>, mime: impl Into<String>) -> ImageData {
        ImageData {
            bytes: Arc::new(bytes),
            mime: mime.into(),
        }
    }

    /// A PNG of an in-memory image.
    pub fn png(image: &image::RgbaImage) -> ImageData {
        let mut out = std::io::Cursor::new(Vec::new());
        image
            .write_to(&mut out, image::ImageFormat::Png)
            .expect("encoding a PNG into memory cannot fail");
        ImageData::new(out.into_inner(), "image/png")
    }

    pub fn base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.bytes.as_slice())
    }

    /// `data:image/png;base64,…` — how Replicate, Cog and FASHN accept
    /// inline files.
    pub fn data_uri(&self) -> String {
        format!("data:{};base64,{}", self.mime, self.base64())
    }

    /// The media type from the magic bytes, if the bytes are an image we
    /// accept (PNG, JPEG, WebP).
    pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
        if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a]) {
            Some("image/png")
        } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
            Some("image/jpeg")
        } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some("image/webp")
        } else {
            None
        }
    }
}

/// The facts of the garment analysis a prompt and a category are built
/// from.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GarmentBrief {
    /// Garment type name of the analysis (`tshirt`, `hoodie`, `dress`, …).
    pub garment_type: String,
    /// Human colour names, dominant first (`navy blue`, `white`).
    pub colors: Vec<String>,
    /// A sentence about logos and prints (`a white chest logo, printed`),
    /// empty when plain.
    pub branding: String,
    /// Style words (`casual`, `fitted`).
    pub style: Vec<String>,
}

/// Guidance maps rendered from the fitted body (each optional; a provider
/// sends the ones it accepts).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GuidanceMaps {
    /// OpenPose/COCO-18 coloured skeleton.
    pub pose: Option<ImageData>,
    pub depth: Option<ImageData>,
    pub normal: Option<ImageData>,
    pub segment: Option<ImageData>,
}

impl GuidanceMaps {
    /// The maps from stored PNG files, looked up by name (`pose`, `depth`,
    /// `normal`, `segment`); missing ones stay `None`.
    pub fn from_pngs(lookup: impl Fn(&str) -> Option<Vec<u8>>) -> GuidanceMaps {
        let png = |name: &str| lookup(name).map(|b| ImageData::new(b, "image/png"));
        GuidanceMaps {
            pose: png("pose"),
            depth: png("depth"),
            normal: png("normal"),
            segment: png("segment"),
        }
    }
}

/// Decoded inputs for the local renderer (remote providers use the encoded
/// images instead).
pub struct LocalInputs {
    pub person: PersonInput,
    pub garment: GarmentInput,
}

/// One render request, owned and cheap to clone so the router can hand it
/// down a failover chain and the batcher can queue it.
#[derive(Clone)]
pub struct RenderJob {
    /// Routes the sticky split and keys per-user limits and budgets.
    pub user_id: Option<String>,
    /// Person (or persona in pose, after stage 1).
    pub person_image: ImageData,
    pub garment_image: ImageData,
    pub garment: GarmentBrief,
    pub maps: GuidanceMaps,
    /// Built from the garment and persona by [`crate::prompt`] when empty.
    pub prompt: String,
    pub negative_prompt: String,
    /// Pose description of the persona (`standing, front view`).
    pub pose: Option<String>,
    pub quality: RenderQuality,
    pub tier: QualityTier,
    /// The five retry knobs.
    pub params: RenderParams,
    pub seed: Option<u64>,
    pub local: Option<Arc<LocalInputs>>,
}

impl RenderJob {
    /// A job with the seed's prompts for `garment`, standard tier, sd.
    pub fn new(person_image: ImageData, garment_image: ImageData, garment: GarmentBrief) -> Self {
        let mut job = RenderJob {
            user_id: None,
            person_image,
            garment_image,
            garment,
            maps: GuidanceMaps::default(),
            prompt: String::new(),
            negative_prompt: crate::prompt::NEGATIVE_PROMPT.to_string(),
            pose: None,
            quality: RenderQuality::Sd,
            tier: QualityTier::Standard,
            params: RenderParams::default(),
            seed: None,
            local: None,
        };
        job.prompt = crate::prompt::build_prompt(&job);
        job
    }

    pub fn with_user(mut self, user: impl Into<String>) -> Self {
        self.user_id = Some(user.into());
        self
    }
}

/// Where the time went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Timings {
    /// Wall time of the whole call, uploads and downloads included.
    pub total: Duration,
    /// Time spent waiting in a batch queue before the call.
    pub queued: Duration,
    /// The provider's own measure of compute, when it reports one
    /// (Replicate's `metrics.predict_time`).
    pub predict: Option<Duration>,
}

/// A successful render.
#[derive(Debug, Clone)]
pub struct RenderResult {
    pub images: Vec<ImageData>,
    /// Provider name as configured (`nano-banana-pro`, `local`).
    pub provider: String,
    /// USD charged for this call.
    pub cost_usd: f64,
    /// Provider-side identifiers and details (prediction id, model version,
    /// finish reason, usage).
    pub metadata: serde_json::Map<String, serde_json::Value>,
    pub timings: Timings,
    /// `local` only: the renderer's whole output (image and geometry),
    /// handed through the router to the try-on bridge without re-decoding.
    pub local_output: Option<LocalOutput>,
}

/// The local renderer's output, taken once by whoever needs it.
#[derive(Clone, Default)]
pub struct LocalOutput(Arc<std::sync::Mutex<Option<garmax_render::RenderOutput>>>);

impl LocalOutput {
    pub fn new(output: garmax_render::RenderOutput) -> LocalOutput {
        LocalOutput(Arc::new(std::sync::Mutex::new(Some(output))))
    }

    /// The output, the first time only.
    pub fn take(&self) -> Option<garmax_render::RenderOutput> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

impl std::fmt::Debug for LocalOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LocalOutput")
    }
}
