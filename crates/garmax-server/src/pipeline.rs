//! [`PipelineEngine`]: the [`Engine`] on `garmax-tryon`, rendering through
//! the router of `garmax-providers` (remote providers, failover chain
//! ending in `local`, budgets and per-user limits) when the worker hands it
//! one, with the offline local renderer alone otherwise.
//!
//! The render runs on the blocking pool; the retry loop of `render_tryon`
//! calls `garmax_providers::RoutedRenderer` once per attempt, which waits
//! for the async router on the worker's runtime (`Handle::block_on` from
//! the blocking thread).
//!
//! Avatar files keep the API's names: PNGs are stored without their
//! extension (`depth`, `normal`, `parts`, `segment`, `pose`, `photo`, …) and
//! mapped back to the pipeline's file names when a render reads them.

use garmax_core::{Coded as _, ErrorCode};
use garmax_render::{LocalRenderer, QualityTier, RenderQuality};
use garmax_tryon::{
    ModelOptions, Models, PreparedGarment, PreparedPerson, ProgressSink, Stage, TryOnError,
    TryOnOptions,
};
use garmax_vision::{ImageLimits, decode_image};

use crate::engine::{
    Engine, EngineError, Files, GarmentFiles, ProgressFn, RenderOptions, Rendered,
};

/// The try-on pipeline with the models loaded once.
pub struct PipelineEngine {
    models: Models,
    config: garmax_quality::QualityConfig,
    limits: ImageLimits,
}

/// What the avatar stage stores (API names).
const AVATAR_FILES: &[&str] = &[
    "photo",
    "mask",
    "person.json",
    "smpl.json",
    "depth",
    "normal",
    "parts",
    "segment",
    "pose",
    "overlay",
    "body.glb",
];
const GARMENT_FILES: &[&str] = &["photo.png", "analysis.json", "garment.json"];

fn engine_error(e: TryOnError) -> EngineError {
    let code = e.code();
    // The inputs were checked at upload: what fails now fails every time,
    // except the inference engine itself, providers that are all cooling
    // down, and a user's concurrent-render limit (a slot frees soon).
    let retryable = match &e {
        TryOnError::Render(garmax_render::RenderError::Routed {
            code,
            retry_after_secs,
            ..
        }) => {
            *code == ErrorCode::ProviderUnavailable
                || (*code == ErrorCode::LimitExceeded && retry_after_secs.is_some_and(|s| s <= 60))
        }
        _ => matches!(code, ErrorCode::InferenceFailed | ErrorCode::Io),
    };
    EngineError {
        code,
        message: e.to_string(),
        retryable,
        provider_attempts: Vec::new(),
    }
}

/// The API name of a pipeline file.
fn api_name(file: &str) -> String {
    file.strip_suffix(".png").unwrap_or(file).to_string()
}

impl PipelineEngine {
    /// Loads the models from the asset cache (`garmax models fetch`).
    pub fn load() -> Result<PipelineEngine, EngineError> {
        let cache = garmax_assets::Cache::resolve()
            .map_err(|e| EngineError::permanent(e.code(), e.to_string()))?;
        let models = Models::load(&ModelOptions::new(cache)).map_err(engine_error)?;
        Ok(PipelineEngine {
            models,
            config: garmax_quality::QualityConfig::default(),
            limits: ImageLimits::default(),
        })
    }

    /// Applies the service's limits (the seed's `VALIDATION_TIMEOUT` and
    /// `CACHE_VALIDATION_RESULTS`) to the quality configuration.
    pub fn with_service_limits(
        mut self,
        validation_timeout_ms: u64,
        cache_validation_results: bool,
    ) -> PipelineEngine {
        self.config.validation.timeout_ms = validation_timeout_ms;
        self.config.cache.enable_validation_cache = cache_validation_results;
        self
    }

    fn decode(&self, bytes: &[u8]) -> Result<garmax_vision::DecodedImage, EngineError> {
        decode_image(bytes, &self.limits)
            .map_err(|e| EngineError::permanent(e.code(), e.to_string()))
    }
}

/// Forwards the pipeline's stages to a worker's progress function.
struct Forward<'a, 'b>(&'a mut ProgressFn<'b>);

impl ProgressSink for Forward<'_, '_> {
    fn stage(&mut self, stage: Stage, message: &str) {
        let message = match stage.attempt() {
            Some(n) if n > 1 => format!("{message} (attempt {n})"),
            _ => message.to_string(),
        };
        if let Some(s) = garmax_core::session::ProgressStage::parse(stage.key()) {
            (self.0)(s, stage.attempt(), &message);
        }
    }
}

impl Engine for PipelineEngine {
    fn process_avatar(
        &self,
        photo: &[u8],
        mut progress: ProgressFn<'_>,
    ) -> Result<Files, EngineError> {
        let image = self.decode(photo)?;
        let person =
            garmax_tryon::prepare_person(&self.models, &image, &mut Forward(&mut progress))
                .map_err(engine_error)?;
        let files = person.to_files().map_err(engine_error)?;
        Ok(files.into_iter().map(|(n, b)| (api_name(&n), b)).collect())
    }

    fn process_garment(&self, image: &[u8]) -> Result<GarmentFiles, EngineError> {
        let image = self.decode(image)?;
        let garment = garmax_tryon::prepare_garment_with(&image, self.models.max_side)
            .map_err(engine_error)?;
        let analysis = serde_json::to_value(&garment.analysis)
            .map_err(|e| EngineError::permanent(ErrorCode::InvalidRequest, e.to_string()))?;
        Ok(GarmentFiles {
            analysis,
            files: garment.to_files().map_err(engine_error)?,
        })
    }

    fn render(
        &self,
        avatar: &dyn Fn(&str) -> Option<Vec<u8>>,
        garment: &dyn Fn(&str) -> Option<Vec<u8>>,
        options: &RenderOptions,
        mut progress: ProgressFn<'_>,
    ) -> Result<Rendered, EngineError> {
        let person =
            PreparedPerson::from_files(|name| avatar(&api_name(name))).map_err(engine_error)?;
        let garment = PreparedGarment::from_files(garment).map_err(engine_error)?;
        let bad = |what: &str, v: &str| {
            EngineError::permanent(ErrorCode::InvalidRequest, format!("unknown {what} '{v}'"))
        };
        let mut config = self.config.clone();
        let retries = options.max_attempts.saturating_sub(1);
        for t in [
            &mut config.tiers.standard,
            &mut config.tiers.premium,
            &mut config.tiers.ultra,
        ] {
            t.max_retries = t.max_retries.min(retries);
        }
        let try_on = TryOnOptions {
            tier: QualityTier::parse(&options.tier).ok_or_else(|| bad("tier", &options.tier))?,
            quality: RenderQuality::parse(&options.quality)
                .ok_or_else(|| bad("quality", &options.quality))?,
            config,
            ..TryOnOptions::default()
        };
        let outcome = match &options.router {
            Some(router) => {
                let job = garmax_providers::tryon_job(
                    options.user_id.clone(),
                    &person.render_input(),
                    &garment.input,
                    &garment.analysis,
                    garmax_providers::GuidanceMaps::from_pngs(|name| avatar(name)),
                    try_on.tier,
                    try_on.quality,
                );
                let renderer = garmax_providers::RoutedRenderer::new(
                    router.clone(),
                    tokio::runtime::Handle::current(),
                    job,
                );
                garmax_tryon::render_tryon(
                    &self.models,
                    &person,
                    &garment,
                    &try_on,
                    &renderer,
                    &mut Forward(&mut progress),
                )
                .map_err(|e| {
                    let mut err = engine_error(e);
                    err.provider_attempts =
                        garmax_render::RenderProvider::drain_attempts(&renderer);
                    err
                })?
            }
            None => garmax_tryon::render_tryon(
                &self.models,
                &person,
                &garment,
                &try_on,
                &LocalRenderer,
                &mut Forward(&mut progress),
            )
            .map_err(engine_error)?,
        };
        let mut validation = match &outcome.validation {
            Some(v) => serde_json::to_value(v.seed()).unwrap_or_default(),
            None => serde_json::Value::Null,
        };
        if let (Some(v), Some(obj)) = (&outcome.validation, validation.as_object_mut()) {
            obj.insert(
                "retryHistory".into(),
                serde_json::to_value(&v.history).unwrap_or_default(),
            );
        }
        let warning = outcome
            .quality_error
            .as_ref()
            .map(|e| (e.code(), e.to_string()));
        Ok(Rendered {
            preview_png: outcome.png().map_err(engine_error)?,
            validation,
            attempts: outcome.attempts,
            warning,
            provider_attempts: outcome.provider_attempts,
        })
    }

    fn avatar_files(&self) -> &'static [&'static str] {
        AVATAR_FILES
    }

    fn garment_files(&self) -> &'static [&'static str] {
        GARMENT_FILES
    }

    fn validate_image(
        &self,
        generated: &[u8],
        product: &[u8],
        reference: Option<crate::engine::ReferenceFiles<'_>>,
        tier: &str,
    ) -> Result<serde_json::Value, EngineError> {
        validate_upload(self, generated, product, reference, tier)
    }
}

/// The five validators on an uploaded render: pose and face are detected on
/// it and compared with the reference's; the garment region is estimated
/// from the product's colours (no renderer mask for an outside image).
fn validate_upload(
    engine: &PipelineEngine,
    generated: &[u8],
    product: &[u8],
    reference: Option<crate::engine::ReferenceFiles<'_>>,
    tier: &str,
) -> Result<serde_json::Value, EngineError> {
    let tier = QualityTier::parse(tier).ok_or_else(|| {
        EngineError::permanent(ErrorCode::InvalidRequest, format!("unknown tier '{tier}'"))
    })?;
    let image = engine.decode(generated)?;
    let rgba = image.rgba;
    let product = engine.decode(product)?;
    let garment = garmax_tryon::prepare_garment_with(&product, engine.models.max_side)
        .map_err(engine_error)?;
    let person = reference
        .map(|files| PreparedPerson::from_files(|name| files(&api_name(name))))
        .transpose()
        .map_err(engine_error)?;
    let rgb = image::DynamicImage::ImageRgba8(rgba.clone()).to_rgb8();
    let detected = engine.models.analyzer.analyze(&rgb).ok();
    let generated_face = detected
        .as_ref()
        .and_then(|d| d.face.as_ref())
        .and_then(garmax_tryon::face_points);
    let reference_face = person
        .as_ref()
        .and_then(|p| p.face.as_ref())
        .and_then(garmax_tryon::face_points);
    let product_input = garmax_quality::ProductInput {
        analysis: &garment.analysis,
        image: &garment.input.photo,
        mask: &garment.input.mask,
    };
    let mut input = garmax_quality::ValidationInput::new(&rgba, product_input);
    if let Some(p) = &person {
        input.reference = Some(&p.photo);
        input.expected_pose = Some(&p.landmarks);
    }
    input.detected_pose = detected.as_ref().map(|d| &d.landmarks);
    input.reference_face = reference_face.as_ref();
    input.generated_face = generated_face.as_ref();
    let qtier = garmax_quality::Tier::from(tier);
    let validator = engine.models.validation_engine(&engine.config);
    let report = validator
        .validate(&input, engine.config.tier(qtier))
        .map_err(|e| EngineError::permanent(e.code(), e.to_string()))?;
    serde_json::to_value(garmax_tryon::SeedValidation::of(qtier, &report))
        .map_err(|e| EngineError::permanent(ErrorCode::InvalidRequest, e.to_string()))
}
