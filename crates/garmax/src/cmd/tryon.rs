//! `garmax tryon`: the main job. Two-stage generation as in the consistency
//! seed — stage 1 puts the person in the target pose (a user's photo is
//! already posed; a catalogue persona uses its reference photo for the pose),
//! stage 2 applies the product through the router of `garmax-providers`
//! (`--provider local`, the offline default; a configured endpoint such as
//! `nano-banana-pro`, with `local` after it; or `auto`, the configured
//! chains and split). The pipeline is `garmax-tryon`, whose retry loop calls
//! the router once per render through `garmax_providers::RoutedRenderer`;
//! this module reads the files, draws the progress bar and writes the image,
//! the guidance maps and `report.json` (with every provider attempt).

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use garmax_assets::Cache;
use garmax_render::{
    PersonaCatalog, QualityTier, RenderProvider as _, RenderQuality, Stage1Source,
};
use garmax_tryon::{
    ModelOptions, Models, PreparedGarment, PreparedPerson, Stage, TryOnOptions, TryOnOutcome,
};
use garmax_vision::ImageLimits;
use indicatif::{ProgressBar, ProgressStyle};

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
    /// Render provider: `local` (offline), an endpoint of the providers
    /// configuration (`nano-banana-pro`, `gemini`, `openai`, `fashn`, …;
    /// `local` stays the fallback), or `auto` (the configured chains).
    #[arg(long, default_value = "local")]
    provider: String,
    /// A TOML file with a `[providers]` section (endpoints, chains, budgets).
    #[arg(long, value_name = "TOML", env = "GARMAX_CONFIG")]
    providers_config: Option<PathBuf>,
    /// User id the sticky split and per-user limits are keyed on.
    #[arg(long)]
    user: Option<String>,
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
    /// Tier configuration (default: the embedded config/quality_tiers.toml).
    #[arg(long, value_name = "TOML", env = "GARMAX_QUALITY_TIERS")]
    tiers_config: Option<PathBuf>,
    /// Working-resolution cap: photos with a longer side are downscaled
    /// before analysis and rendering (bounds memory per job).
    #[arg(long, default_value_t = garmax_tryon::DEFAULT_MAX_SIDE)]
    max_side: u32,
    /// Extra landmark passes of the person analysis on a crop re-centred on
    /// the first pass's landmarks (0: MediaPipe's static-image result).
    #[arg(long, default_value_t = 0)]
    refine_passes: u32,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let tier = QualityTier::parse(&args.tier)
        .with_context(|| format!("unknown tier '{}' (standard, premium, ultra)", args.tier))?;
    let quality = RenderQuality::parse(&args.quality)
        .with_context(|| format!("unknown quality '{}' (sd, hd, 4k)", args.quality))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .worker_threads(2)
        .build()?;
    let router = {
        // Building the router spawns the batcher's collector.
        let _inside = runtime.enter();
        router_for(&args.provider, args.providers_config.as_deref())?
    };
    let config = super::validate::load_config(args.tiers_config.as_deref())?;
    let stage1 = stage1_source(&args)?;

    let bar = ProgressBar::new(100);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}% {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let cache = Cache::resolve()?;
    let models = Models::load(&ModelOptions {
        body: !args.no_body,
        max_side: args.max_side,
        refine_passes: args.refine_passes,
        ..ModelOptions::new(cache.clone())
    })?;
    let mut sink = |stage: Stage, msg: &str| {
        bar.set_position(stage.progress().into());
        bar.set_message(format!("{}: {msg}", stage.key()));
    };
    bar.set_message("product analysis: segmenting the garment, colours, landmarks");
    let garment_img = super::read_image(&args.garment, &ImageLimits::default())?;
    let garment = garmax_tryon::prepare_garment_with(&garment_img, args.max_side)?;
    drop(garment_img);
    let person = garmax_tryon::prepare_stage1(
        &models,
        &stage1,
        |name| load_stage1(&cache, &stage1, name),
        &mut sink,
    )?;
    let options = TryOnOptions {
        tier,
        quality,
        config,
        params: None,
        validate: true,
    };
    let job = garmax_providers::tryon_job(
        args.user.clone(),
        &person.render_input(),
        &garment.input,
        &garment.analysis,
        guidance_maps(&person)?,
        tier,
        quality,
    );
    let renderer = garmax_providers::RoutedRenderer::new(router, runtime.handle().clone(), job);
    let outcome = match garmax_tryon::render_tryon(
        &models, &person, &garment, &options, &renderer, &mut sink,
    ) {
        Ok(o) => o,
        Err(e) => {
            bar.finish_and_clear();
            print_attempts(&renderer);
            return Err(e.into());
        }
    };
    bar.finish_and_clear();

    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("creating {}", args.out_dir.display()))?;
    let written = write(
        &args.out_dir,
        &outcome,
        &person,
        &garment,
        &stage1,
        &options,
    )?;
    print_summary(&args.out_dir, outcome, &person, &garment, tier, &written);
    Ok(())
}

/// Stage 1: the user's photo, or a catalogue persona in one of its poses.
fn stage1_source(args: &Args) -> anyhow::Result<Stage1Source> {
    Ok(match (&args.person, &args.persona) {
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
    })
}

/// The person's guidance maps as remote providers take them (none without
/// the body fit).
fn guidance_maps(person: &PreparedPerson) -> anyhow::Result<garmax_providers::GuidanceMaps> {
    let Some(g) = &person.guidance else {
        return Ok(garmax_providers::GuidanceMaps::default());
    };
    let files = g.to_files()?;
    Ok(garmax_providers::GuidanceMaps::from_pngs(|name| {
        files
            .iter()
            .find(|(n, _)| n.strip_suffix(".png") == Some(name))
            .map(|(_, b)| b.clone())
    }))
}

/// Every provider call of a failed try-on, so the user sees why.
fn print_attempts(renderer: &garmax_providers::RoutedRenderer) {
    for a in renderer.drain_attempts() {
        eprintln!(
            "attempt: {} {} {} {:.0} ms ${:.4}",
            a.provider,
            a.outcome,
            a.code.as_deref().unwrap_or("-"),
            a.latency_ms,
            a.cost_usd
        );
    }
}

/// What was written, how long it took and how good it is.
fn print_summary(
    out_dir: &Path,
    outcome: TryOnOutcome,
    person: &PreparedPerson,
    garment: &PreparedGarment,
    tier: QualityTier,
    written: &[String],
) {
    for w in outcome.all_warnings(person, garment) {
        eprintln!("warning: {w}");
    }
    let s = &outcome.render.detail.stats;
    println!(
        "try-on written to {} ({}×{}, {:.0} ms; base fabric ΔE2000 {:.2}, colour cast ΔE {:.2})",
        out_dir.join("tryon.png").display(),
        outcome.render.image.width(),
        outcome.render.image.height(),
        outcome
            .all_timings(person, garment)
            .iter()
            .map(|t| t.ms)
            .sum::<f64>(),
        s.base_fabric_delta_e,
        s.base_fabric_mean_delta_e
    );
    println!("also: {}", written.join(", "));
    if let Some(v) = &outcome.validation {
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
    if let Some(e) = outcome.quality_error {
        // The best attempt is written anyway; the code tells scripts why
        // it is not good enough.
        eprintln!("warning: {}", super::describe(&anyhow::Error::new(e)));
    }
}

/// The router for `--provider`: `local` alone, one configured endpoint
/// with `local` after it, or `auto` (the configured chains). A named
/// endpoint without its key is an error rather than a silent fallback.
fn router_for(name: &str, config_path: Option<&Path>) -> anyhow::Result<garmax_providers::Router> {
    let mut config = super::providers::load_config(config_path)?;
    let env = |k: &str| std::env::var(k).ok();
    match name {
        "auto" => {}
        "local" => {
            config.default_chain.clear();
            config.split_chain.clear();
            config.enable_gemini_batch = false;
            config.local_last = true;
        }
        other => {
            let endpoints = config.resolve(&env);
            let Some(e) = endpoints.iter().find(|e| e.name == other) else {
                let known: Vec<&str> = endpoints.iter().map(|e| e.name.as_str()).collect();
                anyhow::bail!(
                    "unknown provider '{other}' (local, auto, {})",
                    known.join(", ")
                );
            };
            if !e.has_key {
                return Err(garmax_providers::RouterError::Unavailable(format!(
                    "provider '{other}' needs its key in {} (only 'local' works offline)",
                    e.key_env
                ))
                .into());
            }
            config.default_chain = vec![other.to_string()];
            config.split_chain.clear();
            config.enable_gemini_batch = false;
        }
    }
    Ok(config.build_router(&env)?)
}

/// Reads the stage-1 photo named `name`: the user's photo, or the persona's
/// reference (a packaged asset name or a path).
fn load_stage1(
    cache: &Cache,
    stage1: &Stage1Source,
    name: &str,
) -> anyhow::Result<garmax_vision::DecodedImage> {
    if !matches!(stage1, Stage1Source::PersonaReference { .. }) {
        return super::read_image(Path::new(name), &ImageLimits::default());
    }
    let asset = cache.asset(name);
    let path = if asset.exists() {
        asset
    } else {
        PathBuf::from(name)
    };
    super::read_image(&path, &ImageLimits::default())
        .with_context(|| format!("persona reference photo {name} (run `garmax models fetch`?)"))
}

/// Writes tryon.png, garment_alpha.png, regions.png, guidance/ and
/// report.json; returns the names written besides tryon.png.
fn write(
    dir: &Path,
    outcome: &TryOnOutcome,
    person: &PreparedPerson,
    garment: &PreparedGarment,
    stage1: &Stage1Source,
    options: &TryOnOptions,
) -> anyhow::Result<Vec<String>> {
    let save = |img: &dyn Fn(&Path) -> image::ImageResult<()>, name: &str| -> anyhow::Result<()> {
        let p = dir.join(name);
        img(&p).with_context(|| format!("writing {}", p.display()))
    };
    let d = &outcome.render.detail;
    save(&|p| outcome.render.image.save(p), "tryon.png")?;
    save(&|p| d.garment_alpha.save(p), "garment_alpha.png")?;
    save(&|p| d.regions_overlay.save(p), "regions.png")?;
    let mut written = vec!["garment_alpha.png".to_string(), "regions.png".to_string()];
    if let Some(g) = &person.guidance {
        let gdir = dir.join("guidance");
        std::fs::create_dir_all(&gdir).with_context(|| format!("creating {}", gdir.display()))?;
        let files = g.to_files()?;
        for (name, bytes) in &files {
            let p = gdir.join(name);
            std::fs::write(&p, bytes).with_context(|| format!("writing {}", p.display()))?;
        }
        written.push(format!("guidance/ ({} files)", files.len()));
    }
    let report = outcome.report(person, garment, Some(stage1), options);
    // Through a JSON value: keys sorted, as report.json always had them.
    let text = serde_json::to_string_pretty(&serde_json::to_value(&report)?)?;
    let p = dir.join("report.json");
    std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))?;
    written.push("report.json".into());
    Ok(written)
}
