//! Validation and adaptive retry of a `garmax tryon` result: the glue
//! between `garmax-render` (which makes images from five knobs),
//! `garmax-person` (which finds the pose and face on each render) and
//! `garmax-quality` (which scores them and plans the next knobs).

use garmax_quality::{
    Attempt, FaceLayout, FacePoints, Parameters, ProductInput, QualityConfig, QualityError,
    RetryHistory, RetryLimits, RetryPlanner, Tier, ValidationEngine, ValidationInput,
    ValidationReport, run_with_retry,
};
use garmax_render::warp::Correspondence;
use garmax_render::{
    QualityTier, RenderOutput, RenderParams, RenderProvider, RenderQuality, RenderRequest,
};
use image::GrayImage;

use super::tryon::{Pipeline, TryOn};

/// The validation of the delivered render and how it was reached.
pub struct Validated {
    pub tier: Tier,
    pub report: ValidationReport,
    pub history: RetryHistory,
}

impl Validated {
    /// The seed's `validation` object plus each validator's details.
    pub fn report_json(&self) -> serde_json::Value {
        let mut v = self.report.seed_json();
        v["tier"] = serde_json::json!(self.tier.as_str());
        v["results"] = serde_json::to_value(&self.report.results).unwrap_or_default();
        v
    }
}

/// The quality crate's parameters as the renderer's knobs (same five
/// names, same meaning).
pub fn render_params(p: &Parameters) -> RenderParams {
    RenderParams {
        model_reference_strength: p.model_reference_strength,
        pose_guidance_scale: p.pose_guidance_scale,
        color_matching_weight: p.color_matching_weight,
        style_transfer_weight: p.style_transfer_weight,
        branding_enhancement_weight: p.branding_enhancement_weight,
    }
}

pub fn parameters_of(r: &RenderParams) -> Parameters {
    Parameters {
        model_reference_strength: r.model_reference_strength,
        pose_guidance_scale: r.pose_guidance_scale,
        color_matching_weight: r.color_matching_weight,
        style_transfer_weight: r.style_transfer_weight,
        branding_enhancement_weight: r.branding_enhancement_weight,
    }
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

fn mesh_points(face: &garmax_person::FaceAnalysis) -> Option<FacePoints> {
    (face.mesh.len() >= 468).then(|| FacePoints {
        layout: FaceLayout::Mesh468,
        points: face.mesh.iter().map(|p| [p[0], p[1]]).collect(),
    })
}

/// Validates one render of `t`'s person and garment: the pose and face are
/// detected on the render itself and compared with the person photo's.
pub fn validate_render(
    pipeline: &Pipeline,
    t: &TryOn,
    render: &RenderOutput,
    engine: &ValidationEngine,
    tier: &garmax_quality::TierConfig,
) -> Result<ValidationReport, QualityError> {
    let rgb = image::DynamicImage::ImageRgba8(render.image.clone()).to_rgb8();
    // No person found on the render is itself a verdict: face and pose are
    // then reported as skipped, and the other three still score.
    let detected = pipeline.analyzer.analyze(&rgb).ok();
    let generated_face = detected
        .as_ref()
        .and_then(|d| d.face.as_ref())
        .and_then(mesh_points);
    let reference_face = t.face.as_ref().and_then(mesh_points);
    let mask = GrayImage::from_fn(render.image.width(), render.image.height(), |x, y| {
        image::Luma(
            [if render.detail.garment_alpha.get_pixel(x, y).0[0] >= 128 {
                255
            } else {
                0
            }],
        )
    });
    let boxes = mapped_logo_boxes(&render.detail.correspondences, &t.garment);
    let product = ProductInput {
        analysis: &t.garment,
        image: &t.garment_input.photo,
        mask: &t.garment_mask,
    };
    let mut input = ValidationInput::new(&render.image, product);
    input.reference = Some(&t.person_input.photo);
    input.expected_pose = Some(&t.person_input.landmarks);
    input.detected_pose = detected.as_ref().map(|d| &d.landmarks);
    input.reference_face = reference_face.as_ref();
    input.generated_face = generated_face.as_ref();
    input.garment_mask = Some(&mask);
    input.logo_boxes = Some(&boxes);
    engine.validate(&input, tier)
}

/// Validates `t.render` against the tier and, while it fails, renders again
/// with the planner's parameters. Afterwards `t` holds the best render, its
/// parameters and the validation with the full history. The outer error is
/// a failure to run at all; the inner one is RET_003 (thresholds never met,
/// the best attempt is still in `t`) or GEN_002.
pub fn validate_and_retry(
    pipeline: &Pipeline,
    t: &mut TryOn,
    tier: QualityTier,
    quality: RenderQuality,
    provider: &dyn RenderProvider,
    on_attempt: &mut dyn FnMut(u32),
) -> anyhow::Result<Result<(), QualityError>> {
    let config = QualityConfig::default();
    let qtier: Tier = tier.name().parse()?;
    let tier_config = config.tier(qtier);
    let engine = ValidationEngine::new(&config);
    let planner = RetryPlanner::from_config(&config);
    let clock = garmax_quality::cache::SystemClock::new();
    let cost = provider.cost_per_image(quality);
    let initial = parameters_of(&t.params);
    let mut number = 0u32;
    // Attempt 1 is the render already made; `None` stands for it.
    let result = {
        let t_ref: &TryOn = t;
        run_with_retry(
            initial,
            &planner,
            RetryLimits::for_tier(tier_config, &config),
            &clock,
            |p| {
                number += 1;
                on_attempt(number);
                let fresh = if number == 1 {
                    None
                } else {
                    let request = RenderRequest {
                        person: &t_ref.person_input,
                        garment: &t_ref.garment_input,
                        params: render_params(p),
                        quality,
                    };
                    Some(provider.render(&request).map_err(|e| e.to_string())?)
                };
                let report = validate_render(
                    pipeline,
                    t_ref,
                    fresh.as_ref().unwrap_or(&t_ref.render),
                    &engine,
                    tier_config,
                )
                .map_err(|e| e.to_string())?;
                Ok::<_, String>(Attempt {
                    output: (fresh, render_params(p)),
                    report,
                    cost,
                })
            },
        )
    };
    let (best, history, error) = match result {
        Ok(o) => (Some(o.best), o.history, None),
        Err(f) => {
            let history = f.history().cloned().unwrap_or_default();
            (f.best, history, Some(f.error))
        }
    };
    if let Some(best) = best {
        if let (Some(render), params) = best.output {
            t.render = render;
            t.params = params;
        }
        t.validation = Some(Validated {
            tier: qtier,
            report: best.report,
            history,
        });
    }
    Ok(error.map_or(Ok(()), Err))
}
