//! The render stage: stage 2 with a render provider, then validation and
//! adaptive retry per tier.

use std::time::Instant;

use garmax_quality::{
    Attempt, FaceLayout, FacePoints, ProductInput, QualityConfig, QualityError, RetryHistory,
    RetryLimits, RetryPlanner, Tier, ValidationEngine, ValidationInput, ValidationReport,
    ValidatorResult, run_with_retry,
};
use garmax_render::warp::Correspondence;
use garmax_render::{
    PersonInput, QualityTier, RenderOutput, RenderParams, RenderProvider, RenderQuality,
    RenderRequest,
};
use image::GrayImage;
use serde::Serialize;

use crate::person::lap;
use crate::{Models, PreparedGarment, PreparedPerson, ProgressSink, Stage, Timing, TryOnError};

/// How to render one try-on.
#[derive(Debug, Clone)]
pub struct TryOnOptions {
    pub tier: QualityTier,
    pub quality: RenderQuality,
    /// Thresholds, weights, retry bounds and limits (`config/quality_tiers.toml`
    /// by default; `garmax validate --tiers-config` reads the same file).
    pub config: QualityConfig,
    /// The first attempt's knobs; the tier's parameters in `config` when
    /// `None`.
    pub params: Option<RenderParams>,
    /// Validate and retry (the default). Off: one render, no validation
    /// (benchmarks, the gallery).
    pub validate: bool,
}

impl Default for TryOnOptions {
    fn default() -> Self {
        TryOnOptions {
            tier: QualityTier::Standard,
            quality: RenderQuality::Hd,
            config: QualityConfig::default(),
            params: None,
            validate: true,
        }
    }
}

/// The validation of the delivered render and how it was reached.
#[derive(Debug, Clone)]
pub struct Validated {
    pub tier: Tier,
    pub report: ValidationReport,
    pub history: RetryHistory,
}

/// The seed's `validation` object, plus the tier and each validator's
/// details.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedValidation {
    pub passes: bool,
    pub overall_quality: f32,
    pub consistency: Consistency,
    pub accuracy: Accuracy,
    pub feedback: Vec<String>,
    pub tier: Tier,
    pub results: Vec<ValidatorResult>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Consistency {
    pub face: Option<f32>,
    pub pose: Option<f32>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Accuracy {
    pub color: Option<f32>,
    pub style: Option<f32>,
    pub branding: Option<f32>,
}

impl Validated {
    /// The seed's `validation` object plus each validator's details.
    pub fn seed(&self) -> SeedValidation {
        SeedValidation::of(self.tier, &self.report)
    }
}

impl SeedValidation {
    /// The seed's shape of `r`, validated against `tier`.
    pub fn of(tier: Tier, r: &ValidationReport) -> SeedValidation {
        SeedValidation {
            passes: r.passes,
            overall_quality: r.overall_quality,
            consistency: Consistency {
                face: r.score("face"),
                pose: r.score("pose"),
            },
            accuracy: Accuracy {
                color: r.score("color"),
                style: r.score("style"),
                branding: r.score("branding"),
            },
            feedback: r.feedback.clone(),
            tier,
            results: r.results.clone(),
        }
    }
}

/// What [`render_tryon`] delivers.
pub struct TryOnOutcome {
    /// The delivered (best) render: `render.image` is the try-on.
    pub render: RenderOutput,
    /// The knobs `render` was made with.
    pub params: RenderParams,
    /// Validation and retry history (`None` when validation was off or the
    /// first validation itself failed).
    pub validation: Option<Validated>,
    /// Renders made, the first included.
    pub attempts: u32,
    /// Set when the thresholds were never met (RET_003) or a retry render
    /// failed (GEN_002): the best attempt is still delivered.
    pub quality_error: Option<QualityError>,
    pub tier: QualityTier,
    pub quality: RenderQuality,
    /// `provider.name()` and its price per image at `quality`.
    pub provider: String,
    pub provider_cost: f64,
    /// `product application`: the first render.
    pub timings: Vec<Timing>,
    /// Validation of every attempt and the retry renders, ms.
    pub validation_ms: Option<f64>,
    /// The render's warnings.
    pub warnings: Vec<String>,
    /// Every provider call behind the renders, when the renderer routes
    /// between providers (`RenderProvider::drain_attempts`): provider,
    /// outcome, error class, latency, cost. Empty for a single renderer.
    pub provider_attempts: Vec<garmax_render::ProviderAttempt>,
}

impl TryOnOutcome {
    /// Whether the best attempt was delivered below the thresholds (RET_003).
    pub fn max_retries_exceeded(&self) -> bool {
        matches!(
            self.quality_error,
            Some(QualityError::MaxRetriesExceeded { .. })
        )
    }

    /// Takes the routed provider calls: the delivered render's provider is
    /// the last one that succeeded, and the provider cost is what the calls
    /// actually charged.
    fn record_provider_attempts(&mut self, attempts: Vec<garmax_render::ProviderAttempt>) {
        if attempts.is_empty() {
            return;
        }
        if let Some(ok) = attempts.iter().rev().find(|a| a.outcome == "success") {
            self.provider = ok.provider.clone();
        }
        self.provider_cost = attempts.iter().map(|a| a.cost_usd).sum();
        self.provider_attempts = attempts;
    }

    /// The try-on as PNG bytes.
    pub fn png(&self) -> Result<Vec<u8>, TryOnError> {
        crate::files::png_rgba(&self.render.image, "tryon.png")
    }
}

/// Renders the garment on the person, validates the render against the
/// tier and, while it fails, renders again with the retry planner's knobs
/// until it passes or a limit is hit. Thresholds not met is not an `Err`:
/// the outcome carries the best attempt and `quality_error` (RET_003).
pub fn render_tryon(
    models: &Models,
    person: &PreparedPerson,
    garment: &PreparedGarment,
    options: &TryOnOptions,
    provider: &dyn RenderProvider,
    sink: &mut dyn ProgressSink,
) -> Result<TryOnOutcome, TryOnError> {
    let mut timings = Vec::new();
    let mut t = Instant::now();
    let qtier = Tier::from(options.tier);
    let tier_config = options.config.tier(qtier);
    let first_params = options
        .params
        .unwrap_or_else(|| tier_config.parameters.into());
    let person_input = person.render_input();
    sink.stage(Stage::Queued, "render inputs ready");
    sink.stage(Stage::Render { attempt: 1 }, "warping, occlusion, shading");
    let first = provider.render(&RenderRequest {
        person: &person_input,
        garment: &garment.input,
        params: first_params,
        quality: options.quality,
    })?;
    lap(&mut timings, "product application", &mut t);
    let warnings = first.detail.warnings.clone();
    let mut outcome = TryOnOutcome {
        render: first,
        params: first_params,
        validation: None,
        attempts: 1,
        quality_error: None,
        tier: options.tier,
        quality: options.quality,
        provider: provider.name().to_string(),
        provider_cost: provider.cost_per_image(options.quality),
        timings,
        validation_ms: None,
        warnings,
        provider_attempts: Vec::new(),
    };
    if options.validate {
        validate_and_retry(
            models,
            person,
            &person_input,
            garment,
            options,
            provider,
            &mut outcome,
            sink,
        );
        outcome.validation_ms = Some(t.elapsed().as_secs_f64() * 1000.0);
    }
    outcome.record_provider_attempts(provider.drain_attempts());
    sink.stage(Stage::Finalizing, "best attempt chosen");
    Ok(outcome)
}

/// The product's branding boxes carried into the render by the similarity
/// that best maps the garment's torso landmarks onto where the renderer put
/// them (sleeve ends left out: sleeves rotate on their own).
pub fn mapped_logo_boxes(
    corr: &[Correspondence],
    analysis: &garmax_vision::GarmentAnalysis,
) -> Vec<Option<[f32; 4]>> {
    let (from, to): (Vec<[f32; 2]>, Vec<[f32; 2]>) = corr
        .iter()
        .filter(|c| !c.name.starts_with("sleeve"))
        .map(|c| ([c.garment.x, c.garment.y], [c.target.x, c.target.y]))
        .unzip();
    let boxes: Vec<[u32; 4]> = analysis.branding.regions.iter().map(|r| r.bbox).collect();
    garmax_quality::imgops::map_boxes(&from, &to, &boxes)
}

/// The face mesh as the face validator's points.
pub fn face_points(face: &garmax_person::FaceAnalysis) -> Option<FacePoints> {
    (face.mesh.len() >= 468).then(|| FacePoints {
        layout: FaceLayout::Mesh468,
        points: face.mesh.iter().map(|p| [p[0], p[1]]).collect(),
    })
}

/// The render's garment alpha as a 0/255 mask.
pub fn garment_mask_of(render: &RenderOutput) -> GrayImage {
    GrayImage::from_fn(render.image.width(), render.image.height(), |x, y| {
        image::Luma(
            [if render.detail.garment_alpha.get_pixel(x, y).0[0] >= 128 {
                255
            } else {
                0
            }],
        )
    })
}

/// Validates one render of `person` wearing `garment`: pose and face are
/// detected on the render itself and compared with the person photo's.
pub fn validate_render(
    models: &Models,
    person: &PreparedPerson,
    garment: &PreparedGarment,
    render: &RenderOutput,
    engine: &ValidationEngine,
    tier: &garmax_quality::TierConfig,
) -> Result<ValidationReport, QualityError> {
    let rgb = image::DynamicImage::ImageRgba8(render.image.clone()).to_rgb8();
    // No person found on the render is itself a verdict: face and pose are
    // then reported as skipped, and the other three still score.
    let detected = models.analyzer.analyze(&rgb).ok();
    let generated_face = detected
        .as_ref()
        .and_then(|d| d.face.as_ref())
        .and_then(face_points);
    let reference_face = person.face.as_ref().and_then(face_points);
    let mask = garment_mask_of(render);
    let boxes = mapped_logo_boxes(&render.detail.correspondences, &garment.analysis);
    let product = ProductInput {
        analysis: &garment.analysis,
        image: &garment.input.photo,
        mask: &garment.input.mask,
    };
    let mut input = ValidationInput::new(&render.image, product);
    input.reference = Some(&person.photo);
    input.expected_pose = Some(&person.landmarks);
    input.detected_pose = detected.as_ref().map(|d| &d.landmarks);
    input.reference_face = reference_face.as_ref();
    input.generated_face = generated_face.as_ref();
    input.garment_mask = Some(&mask);
    input.logo_boxes = Some(&boxes);
    input.product_map = render.detail.product_map.as_ref();
    engine.validate(&input, tier)
}

/// Validates `outcome.render` and, while it fails, renders again with the
/// planner's parameters; afterwards `outcome` holds the best render, its
/// parameters, the validation with the full history and, when the tier was
/// never met, the RET_003 / GEN_002 error.
#[allow(clippy::too_many_arguments)]
fn validate_and_retry(
    models: &Models,
    person: &PreparedPerson,
    person_input: &PersonInput,
    garment: &PreparedGarment,
    options: &TryOnOptions,
    provider: &dyn RenderProvider,
    outcome: &mut TryOnOutcome,
    sink: &mut dyn ProgressSink,
) {
    let config = &options.config;
    let qtier = Tier::from(options.tier);
    let tier_config = config.tier(qtier);
    let engine = models.validation_engine(config);
    let planner = RetryPlanner::from_config(config);
    let clock = garmax_quality::cache::SystemClock::new();
    let cost = outcome.provider_cost;
    let mut number = 0u32;
    // Attempt 1 is the render already made; `None` stands for it.
    let result = {
        let first = &outcome.render;
        run_with_retry(
            outcome.params.into(),
            &planner,
            RetryLimits::for_tier(tier_config, config),
            &clock,
            |p| {
                number += 1;
                let params: RenderParams = (*p).into();
                let fresh = if number == 1 {
                    None
                } else {
                    sink.stage(
                        Stage::Render { attempt: number },
                        &format!("attempt {number}"),
                    );
                    let request = RenderRequest {
                        person: person_input,
                        garment: &garment.input,
                        params,
                        quality: options.quality,
                    };
                    Some(provider.render(&request).map_err(|e| e.to_string())?)
                };
                sink.stage(
                    Stage::Validation { attempt: number },
                    "face, pose, colour, style, branding",
                );
                let report = validate_render(
                    models,
                    person,
                    garment,
                    fresh.as_ref().unwrap_or(first),
                    &engine,
                    tier_config,
                )
                .map_err(|e| e.to_string())?;
                Ok::<_, String>(Attempt {
                    output: (fresh, params),
                    report,
                    cost,
                })
            },
        )
    };
    outcome.attempts = number;
    let (best, history, error) = match result {
        Ok(o) => (Some(o.best), o.history, None),
        Err(f) => {
            let history = f.history().cloned().unwrap_or_default();
            (f.best, history, Some(f.error))
        }
    };
    if let Some(best) = best {
        if let (Some(render), params) = best.output {
            outcome.render = render;
            outcome.params = params;
        }
        outcome.validation = Some(Validated {
            tier: qtier,
            report: best.report,
            history,
        });
    }
    outcome.quality_error = error;
}
