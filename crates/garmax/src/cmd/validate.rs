//! `garmax validate`: the five quality scores of a generated try-on image
//! against the product (and the reference person, when given), with the
//! tier's verdict; and `--separation-report`, the table that shows the
//! validators tell good renders from damaged ones.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use garmax_core::pose::PoseLandmarks;
use garmax_quality::testkit::{self, Product, SeparationInputs};
use garmax_quality::{
    FacePoints, Metric, QualityConfig, Tier, ValidationEngine, ValidationInput, ValidationReport,
};
use garmax_vision::{AnalysisOptions, ImageLimits, analyze_garment};

#[derive(clap::Args)]
pub struct Args {
    /// The generated try-on image.
    #[arg(
        long,
        value_name = "IMAGE",
        required_unless_present = "separation_report"
    )]
    generated: Option<PathBuf>,
    /// The product photo the render should show.
    #[arg(
        long,
        value_name = "IMAGE",
        required_unless_present = "separation_report"
    )]
    product: Option<PathBuf>,
    /// The person or persona reference photo (for face consistency).
    #[arg(long, value_name = "IMAGE")]
    reference: Option<PathBuf>,
    /// Quality tier: standard, premium or ultra.
    #[arg(long, default_value = "standard")]
    tier: String,
    /// Print the report as JSON (the seed's `validation` object plus details).
    #[arg(long)]
    json: bool,
    /// Exit with an error when the tier's thresholds are not met.
    #[arg(long)]
    strict: bool,
    /// Tier configuration (default: the embedded config/quality_tiers.toml).
    #[arg(long, value_name = "TOML", env = "GARMAX_QUALITY_TIERS")]
    tiers_config: Option<PathBuf>,
    /// Where the garment is in the generated image (PNG mask, white = garment);
    /// estimated from the product's colours when absent.
    #[arg(long, value_name = "PNG")]
    garment_mask: Option<PathBuf>,
    /// Expected pose (JSON `PoseLandmarks`, in the reference's pixels).
    #[arg(long, value_name = "JSON")]
    expected_pose: Option<PathBuf>,
    /// Pose detected on the generated image (JSON `PoseLandmarks`).
    #[arg(long, value_name = "JSON")]
    detected_pose: Option<PathBuf>,
    /// Face points of the reference (JSON `FacePoints`).
    #[arg(long, value_name = "JSON")]
    reference_face: Option<PathBuf>,
    /// Face points of the generated image (JSON `FacePoints`).
    #[arg(long, value_name = "JSON")]
    generated_face: Option<PathBuf>,
    /// Detect pose and face landmarks on the reference and the generated
    /// image with the local MediaPipe models (`auto`: when the models are
    /// installed; `off`: never). Landmark files given above take precedence.
    #[arg(long, default_value = "auto", value_parser = ["auto", "off"])]
    landmarks: String,
    /// Instead of validating a file: build the good and damaged composites
    /// from the packaged photos and print each validator's ROC AUC.
    #[arg(long, conflicts_with_all = ["generated", "product"])]
    separation_report: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let config = load_config(args.tiers_config.as_deref())?;
    if args.separation_report {
        return separation_report(&config, args.json);
    }
    let tier: Tier = args.tier.parse()?;
    let (Some(generated_path), Some(product_path)) = (&args.generated, &args.product) else {
        anyhow::bail!("--generated and --product are required");
    };
    let limits = ImageLimits::default();
    let generated = super::read_image(generated_path, &limits)?.rgba;
    let product = load_product(product_path)?;
    let reference = args
        .reference
        .as_deref()
        .map(|p| super::read_image(p, &limits))
        .transpose()?
        .map(|d| d.rgba);
    let garment_mask = args
        .garment_mask
        .as_deref()
        .map(|p| -> anyhow::Result<image::GrayImage> {
            let m = super::read_image(p, &limits)?.rgba;
            Ok(image::DynamicImage::ImageRgba8(m).to_luma8())
        })
        .transpose()?;
    if let Some(m) = &garment_mask
        && m.dimensions() != generated.dimensions()
    {
        anyhow::bail!(
            "the garment mask is {:?}, the generated image {:?}",
            m.dimensions(),
            generated.dimensions()
        );
    }
    let mut expected_pose: Option<PoseLandmarks> = read_json(args.expected_pose.as_deref())?;
    let mut detected_pose: Option<PoseLandmarks> = read_json(args.detected_pose.as_deref())?;
    let mut reference_face: Option<FacePoints> = read_json(args.reference_face.as_deref())?;
    let mut generated_face: Option<FacePoints> = read_json(args.generated_face.as_deref())?;
    let mut notes = Vec::new();
    if args.landmarks == "auto" {
        match super::person_analyzer(garmax_person::AnalyzerOptions::default()) {
            Ok(analyzer) => {
                let (pose, face) = detect(&analyzer, &generated, "generated image", &mut notes);
                detected_pose = detected_pose.or(pose);
                generated_face = generated_face.or(face);
                if let Some(r) = &reference {
                    let (pose, face) = detect(&analyzer, r, "reference", &mut notes);
                    expected_pose = expected_pose.or(pose);
                    reference_face = reference_face.or(face);
                }
            }
            Err(e) => notes.push(format!("landmarks not detected: {}", super::describe(&e))),
        }
    }

    let mut input = ValidationInput::new(&generated, product.input());
    input.reference = reference.as_ref();
    input.expected_pose = expected_pose.as_ref();
    input.detected_pose = detected_pose.as_ref();
    input.reference_face = reference_face.as_ref();
    input.generated_face = generated_face.as_ref();
    input.garment_mask = garment_mask.as_ref();
    let mut engine = ValidationEngine::new(&config);
    if args.landmarks == "auto" {
        // Identity as the pipeline judges it, when the model is installed.
        let identity = garmax_assets::Cache::resolve()
            .map_err(anyhow::Error::from)
            .and_then(|cache| Ok(garmax_tryon::face_identity(&cache)?));
        match identity {
            Ok(identity) => engine.push(Box::new(garmax_quality::face::FaceValidator {
                embedder: Some(Box::new(garmax_tryon::FaceApiEmbedder(
                    std::sync::Arc::new(identity),
                ))),
            })),
            Err(e) => notes.push(format!("face identity not judged: {}", super::describe(&e))),
        }
    }
    let tier_config = config.tier(tier);
    let report = engine.validate(&input, tier_config)?;
    if args.json {
        let mut v = serde_json::to_value(garmax_tryon::SeedValidation::of(tier, &report))?;
        v["elapsedMs"] = serde_json::json!(report.elapsed_ms);
        v["notes"] = serde_json::json!(notes);
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print_report(&report, tier_config, colour_enabled());
        for n in &notes {
            println!("note: {n}");
        }
    }
    if args.strict && !report.passes {
        anyhow::bail!("quality below the {} tier's thresholds", tier);
    }
    Ok(())
}

/// Pose landmarks and face mesh of the most prominent person in `image`;
/// what could not be found is noted, not fatal (the validators that need it
/// say they were skipped).
fn detect(
    analyzer: &garmax_person::PersonAnalyzer,
    image: &image::RgbaImage,
    what: &str,
    notes: &mut Vec<String>,
) -> (Option<PoseLandmarks>, Option<FacePoints>) {
    let rgb = image::DynamicImage::ImageRgba8(image.clone()).to_rgb8();
    match analyzer.analyze(&rgb) {
        Ok(a) => {
            let face = a.face.as_ref().and_then(garmax_tryon::face_points);
            if face.is_none() {
                notes.push(format!("no face found on the {what}"));
            }
            (Some(a.landmarks), face)
        }
        Err(e) => {
            notes.push(format!("no landmarks on the {what}: {e}"));
            (None, None)
        }
    }
}

pub fn load_config(path: Option<&Path>) -> anyhow::Result<QualityConfig> {
    match path {
        None => Ok(QualityConfig::default()),
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            Ok(QualityConfig::from_toml(&text).with_context(|| format!("in {}", p.display()))?)
        }
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: Option<&Path>) -> anyhow::Result<Option<T>> {
    let Some(p) = path else { return Ok(None) };
    let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
    Ok(Some(
        serde_json::from_str(&text).with_context(|| format!("parsing {}", p.display()))?,
    ))
}

/// Decodes and analyses a product photo, keeping the photo and mask the
/// validators compare against.
pub fn load_product(path: &Path) -> anyhow::Result<Product> {
    let decoded = super::read_image(path, &ImageLimits::default())?;
    let out = analyze_garment(&decoded, &AnalysisOptions::default())
        .with_context(|| format!("analysing {}", path.display()))?;
    Ok(Product {
        name: path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        ),
        image: decoded.rgba,
        mask: out.mask,
        analysis: out.analysis,
    })
}

/// ANSI colour only on a terminal, and never with NO_COLOR set.
fn colour_enabled() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// The seed's UI colours: green from 80 %, yellow 60–79 %, red below.
pub fn meter(score: f32, colour: bool) -> String {
    const WIDTH: usize = 20;
    let pct = (score.clamp(0.0, 1.0) * 100.0).round();
    let filled = ((score.clamp(0.0, 1.0) * WIDTH as f32).round() as usize).min(WIDTH);
    let bar = format!("{}{}", "█".repeat(filled), "░".repeat(WIDTH - filled));
    let text = format!("{bar} {pct:>3.0}%");
    if !colour {
        return text;
    }
    let code = if pct >= 80.0 {
        "32"
    } else if pct >= 60.0 {
        "33"
    } else {
        "31"
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

fn print_report(report: &ValidationReport, tier: &garmax_quality::TierConfig, colour: bool) {
    println!(
        "quality tier {} (overall ≥ {:.0}%)",
        tier.name,
        tier.thresholds.overall * 100.0
    );
    for r in &report.results {
        match (r.score, r.passes) {
            (Some(s), Some(p)) => println!(
                "  {:<18} {}  {} (needs {:.0}%)",
                r.name,
                meter(s, colour),
                if p { "pass" } else { "FAIL" },
                r.threshold.unwrap_or(0.0) * 100.0
            ),
            _ => println!(
                "  {:<18} skipped: {}",
                r.name,
                r.skipped.as_deref().unwrap_or("no score")
            ),
        }
    }
    println!(
        "  {:<18} {}  {}",
        "Overall",
        meter(report.overall_quality, colour),
        if report.passes {
            "PASSES"
        } else {
            "DOES NOT PASS"
        }
    );
    let notes: Vec<&String> = report
        .results
        .iter()
        .filter(|r| r.skipped.is_none())
        .flat_map(|r| &r.feedback)
        .collect();
    if !notes.is_empty() {
        println!("feedback:");
        for f in notes {
            println!("  - {f}");
        }
    }
    println!("validated in {:.0} ms", report.elapsed_ms);
}

/// Loads the packaged photos the separation set is built from.
pub fn separation_inputs() -> anyhow::Result<SeparationInputs> {
    let cache = garmax_assets::Cache::resolve()?;
    let limits = ImageLimits::default();
    let load = |name: &str| -> anyhow::Result<image::RgbaImage> {
        Ok(super::read_image(&cache.require(name)?, &limits)?.rgba)
    };
    let mut donors = Vec::new();
    for (name, pts) in testkit::FACE_DONORS {
        donors.push((load(name)?, pts));
    }
    let mut products = Vec::new();
    for name in testkit::TEE_ASSETS {
        products.push(load_product(&cache.require(name)?)?);
    }
    Ok(SeparationInputs {
        person: load(testkit::PERSON_ASSET)?,
        products,
        donors,
    })
}

fn separation_report(config: &QualityConfig, json: bool) -> anyhow::Result<()> {
    let inputs = separation_inputs()?;
    let cases = testkit::build_cases(&inputs);
    let engine = ValidationEngine::new(config);
    let tier = config.tier(Tier::Standard);
    let (rp, rf) = (inputs.reference_pose(), inputs.reference_face());
    let mut scores = Vec::with_capacity(cases.len());
    for case in &cases {
        let input = testkit::case_input(&inputs, case, &rp, &rf);
        let r = engine.validate(&input, tier)?;
        scores.push(
            Metric::ALL
                .iter()
                .map(|m| (*m, r.score(m.as_str())))
                .collect::<Vec<_>>(),
        );
    }
    let rows = testkit::separation_table(&cases, &scores);
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    let good = cases
        .iter()
        .filter(|c| c.damage == testkit::Damage::None)
        .count();
    println!(
        "separation of {good} good composites from {} damaged ones ({} tees on the astronaut photo)",
        cases.len() - good,
        inputs.products.len()
    );
    println!(
        "{:<9} {:<18} {:>6} {:>10} {:>10}",
        "validator", "damage", "AUC", "good mean", "damaged"
    );
    for r in &rows {
        println!(
            "{:<9} {:<18} {:>6.3} {:>10.3} {:>10.3}{}",
            r.metric.as_str(),
            r.damage.name(),
            r.auc,
            r.good_mean,
            r.damaged_mean,
            if r.responsible {
                "  <- responsible"
            } else {
                ""
            }
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meters_use_the_seed_colours() {
        assert!(meter(0.85, true).starts_with("\x1b[32m"));
        assert!(meter(0.80, true).starts_with("\x1b[32m"));
        assert!(meter(0.79, true).starts_with("\x1b[33m"));
        assert!(meter(0.60, true).starts_with("\x1b[33m"));
        assert!(meter(0.59, true).starts_with("\x1b[31m"));
        let plain = meter(0.5, false);
        assert!(!plain.contains('\x1b'));
        assert!(plain.ends_with(" 50%"));
        assert_eq!(plain.chars().filter(|&c| c == '█').count(), 10);
    }
}
