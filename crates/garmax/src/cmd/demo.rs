//! `garmax demo`: the README's first command. Fetches the packaged assets if
//! they are missing, then runs the main job on the bundled sample: the
//! garment analysis and a full try-on of the sample person.

use std::path::PathBuf;

use anyhow::Context as _;
use garmax_assets::{Cache, Manifest};

/// The bundled sample person: scikit-image's astronaut portrait (public domain).
pub const SAMPLE_PERSON: &str = "skimage/data/astronaut.png";

/// The bundled sample garment: a printed Saleor demo tee (CC BY 4.0).
pub const SAMPLE_GARMENT: &str = "saleor/static/placeholders/saleordemoproduct_cl_boot01_1.png";

#[derive(clap::Args)]
pub struct Args {
    /// Where to write the results.
    #[arg(long, default_value = "out/demo")]
    out_dir: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let cache = Cache::resolve()?;
    let manifest = Manifest::builtin()?;
    if !garmax_assets::status(&cache, &manifest).is_ok() {
        eprintln!("assets missing: running `garmax models fetch` first");
        super::models::fetch()?;
    }
    let garment = cache.require(SAMPLE_GARMENT)?;
    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("creating {}", args.out_dir.display()))?;
    let overlay = args.out_dir.join("garment_overlay.png");
    let analysis = super::analyze::analyze_file(&garment, Some(&overlay))?;
    let json_path = args.out_dir.join("garment_analysis.json");
    std::fs::write(&json_path, serde_json::to_string_pretty(&analysis)?)
        .with_context(|| format!("writing {}", json_path.display()))?;
    println!("sample garment: {}", garment.display());
    super::analyze::print_summary(&analysis);
    println!();
    println!("analysis: {}", json_path.display());
    println!("overlay:  {}", overlay.display());

    // The main job: dress the sample person in the sample garment.
    let person = super::read_image(
        &cache.require(SAMPLE_PERSON)?,
        &garmax_vision::ImageLimits::default(),
    )?;
    let garment_img = super::read_image(&garment, &garmax_vision::ImageLimits::default())?;
    let pipeline = super::tryon::Pipeline::load(&cache, true)?;
    let provider = garmax_render::provider("local")?;
    let (tier, quality) = (
        garmax_render::QualityTier::Standard,
        garmax_render::RenderQuality::Hd,
    );
    let mut result = pipeline.run(
        &garment_img,
        &person,
        tier,
        quality,
        provider.as_ref(),
        &mut |_, _| {},
    )?;
    // Validation and adaptive retry; a RET_003 still delivers the best attempt.
    if let Err(e) = super::quality::validate_and_retry(
        &pipeline,
        &mut result,
        tier,
        quality,
        provider.as_ref(),
        &mut |_| {},
    )? {
        eprintln!("warning: {}", super::describe(&anyhow::Error::new(e)));
    }
    let dir = args.out_dir.join("tryon");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let stage1 = garmax_render::Stage1Source::Photo {
        path: SAMPLE_PERSON.to_string(),
    };
    result.write(&dir, &stage1, provider.name(), tier, quality)?;
    println!();
    if let Some(v) = &result.validation {
        println!(
            "quality:  overall {:.0}% ({}), {} attempt(s)",
            v.report.overall_quality * 100.0,
            if v.report.passes {
                "passes"
            } else {
                "below the standard tier"
            },
            v.history.attempts.len()
        );
    }
    println!(
        "try-on:   {} (report: {})",
        dir.join("tryon.png").display(),
        dir.join("report.json").display()
    );
    Ok(())
}
