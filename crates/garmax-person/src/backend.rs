//! Model inference behind a small trait, with ONNX Runtime as the default
//! engine.
//!
//! The pipeline only needs "feed one NHWC f32 tensor, read f32 outputs", so
//! the trait is that and nothing more; another engine (tract, a GPU runtime)
//! plugs in by implementing [`InferenceBackend`] and [`Model`].

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use crate::error::PersonError;

/// A dense f32 tensor: row-major data and its shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

impl Tensor {
    /// Number of elements the shape describes.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the tensor holds no element.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

/// A named model output.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedTensor {
    pub name: String,
    pub tensor: Tensor,
}

/// One loaded model, ready to run many times. Implementations must be usable
/// from several threads (`&self`); they serialise internally where the
/// engine needs exclusive access.
pub trait Model: Send + Sync {
    /// Names of the model's inputs, in declaration order.
    fn input_names(&self) -> Vec<String>;

    /// Runs the model on named inputs (NHWC f32 with `shape`) and returns
    /// every output in declaration order.
    fn run(&self, inputs: &[(&str, &[usize], &[f32])]) -> Result<Vec<NamedTensor>, PersonError>;

    /// Convenience for the single-input models of this crate.
    fn run_single(&self, shape: &[usize], data: &[f32]) -> Result<Vec<NamedTensor>, PersonError> {
        let names = self.input_names();
        let name = names
            .first()
            .ok_or_else(|| PersonError::Inference("model declares no input".into()))?;
        self.run(&[(name.as_str(), shape, data)])
    }
}

/// An inference engine that turns model files into [`Model`]s.
pub trait InferenceBackend: Send + Sync {
    /// Loads (and prepares) the model at `path`.
    fn load(&self, path: &Path) -> Result<Box<dyn Model>, PersonError>;
}

/// ONNX Runtime, loaded dynamically from a `libonnxruntime.so` path.
#[derive(Clone)]
pub struct OrtBackend {
    intra_threads: usize,
    environment: &'static ort::environment::Environment,
}

impl std::fmt::Debug for OrtBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrtBackend")
            .field("intra_threads", &self.intra_threads)
            .finish_non_exhaustive()
    }
}

/// The library can be loaded once per process; later callers share the
/// outcome (including a failure, so every caller gets the same error).
/// The environment is kept alive for the process: sessions created later
/// attach to it.
static ORT_INIT: OnceLock<Result<ort::environment::Environment, String>> = OnceLock::new();

impl OrtBackend {
    /// Loads ONNX Runtime from `library` (once per process) and returns a
    /// backend whose sessions use `intra_threads` threads (at least 1).
    ///
    /// A missing or too old library is an [`PersonError::AssetMissing`] /
    /// [`PersonError::Inference`] error, never a panic.
    pub fn new(library: &Path, intra_threads: usize) -> Result<Self, PersonError> {
        if !library.is_file() {
            return Err(PersonError::AssetMissing {
                what: "ONNX Runtime library".into(),
                path: library.to_path_buf(),
            });
        }
        let outcome = ORT_INIT.get_or_init(|| {
            let builder = ort::init_from(library)
                .map_err(|e| format!("cannot load {}: {e}", library.display()))?;
            builder
                .with_name("garmax-person")
                .build()
                .map_err(|e| format!("cannot start ONNX Runtime from {}: {e}", library.display()))
        });
        match outcome {
            Ok(environment) => Ok(OrtBackend {
                intra_threads: intra_threads.max(1),
                environment,
            }),
            Err(e) => Err(PersonError::Inference(e.clone())),
        }
    }
}

impl InferenceBackend for OrtBackend {
    fn load(&self, path: &Path) -> Result<Box<dyn Model>, PersonError> {
        if !path.is_file() {
            return Err(PersonError::AssetMissing {
                what: "ONNX model".into(),
                path: path.to_path_buf(),
            });
        }
        let err =
            |e: &dyn std::fmt::Display| PersonError::Inference(format!("{}: {e}", path.display()));
        let session = ort::session::Session::builder(self.environment)
            .map_err(|e| err(&e))?
            .with_intra_threads(self.intra_threads)
            .map_err(|e| err(&e))?
            .with_inter_threads(1)
            .map_err(|e| err(&e))?
            // All optimisations, including the NCHWc layout transform: on
            // these MobileNet-style models it halves the run time.
            .with_optimization_level(ort::session::builder::GraphOptimizationLevel::All)
            .map_err(|e| err(&e))?
            .commit_from_file(path)
            .map_err(|e| err(&e))?;
        let inputs = session
            .inputs()
            .iter()
            .map(|o| o.name().to_string())
            .collect();
        Ok(Box::new(OrtModel {
            session: Mutex::new(session),
            inputs,
            path: path.to_path_buf(),
        }))
    }
}

struct OrtModel {
    /// `Session::run` takes `&mut self`; the mutex lets one analyzer be shared
    /// between threads while each model runs one request at a time.
    session: Mutex<ort::session::Session>,
    inputs: Vec<String>,
    path: PathBuf,
}

impl Model for OrtModel {
    fn input_names(&self) -> Vec<String> {
        self.inputs.clone()
    }

    fn run(&self, inputs: &[(&str, &[usize], &[f32])]) -> Result<Vec<NamedTensor>, PersonError> {
        let err = |e: &dyn std::fmt::Display| {
            PersonError::Inference(format!("{}: {e}", self.path.display()))
        };
        let mut values = Vec::with_capacity(inputs.len());
        for (name, shape, data) in inputs {
            let expected: usize = shape.iter().product();
            if expected != data.len() {
                return Err(PersonError::Inference(format!(
                    "input {name}: shape {shape:?} needs {expected} values, got {}",
                    data.len()
                )));
            }
            let dims: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
            let tensor =
                ort::value::TensorRef::from_array_view((dims, *data)).map_err(|e| err(&e))?;
            values.push((
                std::borrow::Cow::Borrowed(*name),
                ort::session::SessionInputValue::from(tensor),
            ));
        }
        let mut session = self.session.lock().map_err(|_| {
            PersonError::Inference("a previous run panicked while holding the session".into())
        })?;
        let outputs = session.run(values).map_err(|e| err(&e))?;
        let mut result = Vec::with_capacity(outputs.len());
        for (name, value) in outputs.iter() {
            let (shape, data) = value.try_extract_tensor::<f32>().map_err(|e| err(&e))?;
            result.push(NamedTensor {
                name: name.to_string(),
                tensor: Tensor {
                    shape: shape.iter().map(|&d| d.max(0) as usize).collect(),
                    data: data.to_vec(),
                },
            });
        }
        Ok(result)
    }
}
