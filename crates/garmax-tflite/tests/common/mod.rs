//! Shared by the parity tests and the `convert_all` example: locating the
//! fetched assets, the deterministic input images, the reference fixtures and
//! an ONNX Runtime session.
#![allow(dead_code)] // each user needs a different subset

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// One of the five MediaPipe models: fixture name, path inside the
/// mediapipe wheel, input normalisation range and synthetic scene. Must
/// match `MODELS` in `tools/reference/tflite_reference.py`.
pub struct ModelSpec {
    pub name: &'static str,
    pub wheel_path: &'static str,
    pub lo: f64,
    pub hi: f64,
    pub scene: Scene,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Scene {
    Body,
    Face,
}

pub const MODELS: [ModelSpec; 5] = [
    ModelSpec {
        name: "pose_detection",
        wheel_path: "mediapipe/modules/pose_detection/pose_detection.tflite",
        lo: -1.0,
        hi: 1.0,
        scene: Scene::Body,
    },
    ModelSpec {
        name: "pose_landmark_full",
        wheel_path: "mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
        lo: 0.0,
        hi: 1.0,
        scene: Scene::Body,
    },
    ModelSpec {
        name: "selfie_segmentation",
        wheel_path: "mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite",
        lo: 0.0,
        hi: 1.0,
        scene: Scene::Body,
    },
    ModelSpec {
        name: "face_detection_short_range",
        wheel_path: "mediapipe/modules/face_detection/face_detection_short_range.tflite",
        lo: -1.0,
        hi: 1.0,
        scene: Scene::Face,
    },
    ModelSpec {
        name: "face_landmark",
        wheel_path: "mediapipe/modules/face_landmark/face_landmark.tflite",
        lo: 0.0,
        hi: 1.0,
        scene: Scene::Face,
    },
];

/// The asset cache, resolved as `garmax models fetch` does
/// (`garmax_assets::Cache`).
pub fn cache_root() -> PathBuf {
    garmax_assets::Cache::resolve()
        .expect("an asset cache directory (GARMAX_CACHE_DIR or HOME)")
        .root()
        .to_path_buf()
}

/// Path of a fetched asset; panics with the fix when it is missing, because
/// a parity test that silently skips would prove nothing (CI fetches the
/// models before running the tests).
pub fn asset(wheel_path: &str) -> PathBuf {
    let path = cache_root().join("assets").join(wheel_path);
    assert!(
        path.is_file(),
        "missing model asset {}: run `garmax models fetch` first (or set GARMAX_CACHE_DIR)",
        path.display()
    );
    path
}

pub fn onnxruntime_library() -> PathBuf {
    asset("onnxruntime/capi/libonnxruntime.so.1.32.0")
}

/// The process-wide ONNX Runtime environment (ort allows only one).
pub fn ort_env() -> &'static ort::environment::Environment {
    static ENV: OnceLock<ort::environment::Environment> = OnceLock::new();
    ENV.get_or_init(|| {
        let lib = onnxruntime_library();
        ort::init_from(&lib)
            .unwrap_or_else(|e| panic!("cannot load {}: {e}", lib.display()))
            .with_name("garmax-tflite-tests")
            .build()
            .unwrap_or_else(|e| panic!("cannot create the ONNX Runtime environment: {e}"))
    })
}

/// A single-threaded session on an in-memory ONNX model.
pub fn session(onnx: &[u8]) -> ort::session::Session {
    ort::session::Session::builder(ort_env())
        .and_then(|b| Ok(b.with_intra_threads(1)?))
        .and_then(|b| Ok(b.with_inter_threads(1)?))
        .and_then(|mut b| b.commit_from_memory(onnx))
        .unwrap_or_else(|e| panic!("ONNX Runtime rejected the converted model: {e}"))
}

/// Runs `session` on one NHWC input and returns every output (name, data).
pub fn run(
    session: &mut ort::session::Session,
    input_name: &str,
    shape: &[usize],
    data: Vec<f32>,
) -> Vec<(String, Vec<f32>)> {
    let tensor = ort::value::Tensor::from_array((shape.to_vec(), data)).expect("input tensor");
    let names: Vec<String> = session
        .outputs()
        .iter()
        .map(|o| o.name().to_string())
        .collect();
    let outputs = session
        .run(ort::inputs![input_name => tensor])
        .unwrap_or_else(|e| panic!("inference failed: {e}"));
    names
        .into_iter()
        .map(|n| {
            let (_, v) = outputs[n.as_str()]
                .try_extract_tensor::<f32>()
                .expect("float output");
            (n, v.to_vec())
        })
        .collect()
}

/// The closed-form synthetic input image, NHWC, bit-for-bit the pattern of
/// `tools/reference/tflite_reference.py` (float64 arithmetic, then f32).
pub fn pattern(shape: &[usize], lo: f64, hi: f64, scene: Scene) -> Vec<f32> {
    let [n, height, width, ch] = <[usize; 4]>::try_from(shape).expect("NHWC input");
    let skin = [0.87, 0.68, 0.55];
    let cloth_base = [0.15, 0.25, 0.6];
    let sq = |v: f64| v * v;
    (0..n * height * width * ch)
        .map(|idx| {
            let i = idx as f64;
            let c = idx % ch;
            let w = ((idx / ch) % width) as f64;
            let h = ((idx / (ch * width)) % height) as f64;
            let (y, x) = (h / height as f64, w / width as f64);
            let cf = c as f64;
            let bg = 0.35 + 0.15 * (0.071 * w + 0.9 * cf).sin() * (0.053 * h).cos();
            let skin = skin[c % 3];
            let cloth = cloth_base[c % 3] + 0.05 * (0.37 * i).sin();
            let v = match scene {
                Scene::Body => {
                    let head = sq((x - 0.5) / 0.08) + sq((y - 0.18) / 0.1) <= 1.0;
                    let torso = (x - 0.5).abs() <= 0.15 && (0.28..=0.62).contains(&y);
                    let legs = ((x - 0.5).abs() - 0.07).abs() <= 0.05 && y > 0.62 && y <= 0.95;
                    let arms = ((x - 0.5).abs() - 0.2).abs() <= 0.04 && (0.3..=0.6).contains(&y);
                    if head || arms {
                        skin
                    } else if torso || legs {
                        cloth
                    } else {
                        bg
                    }
                }
                Scene::Face => {
                    let face = sq((x - 0.5) / 0.3) + sq((y - 0.5) / 0.38) <= 1.0;
                    let eyes = sq((x - 0.38) / 0.06) + sq((y - 0.42) / 0.03) <= 1.0
                        || sq((x - 0.62) / 0.06) + sq((y - 0.42) / 0.03) <= 1.0;
                    let mouth = (x - 0.5).abs() <= 0.1 && (y - 0.68).abs() <= 0.02;
                    if eyes || mouth {
                        0.1
                    } else if face {
                        skin
                    } else {
                        bg
                    }
                }
            };
            (lo + (hi - lo) * v) as f32
        })
        .collect()
}

/// One reference output: TFLite name, NHWC shape, sampling stride, the
/// sampled values (`flatten()[::stride]`) and TFLite's own float noise on
/// this output (max abs difference between its XNNPACK and builtin kernels;
/// `None` when the builtin kernels cannot run the model).
pub struct Reference {
    pub name: String,
    pub shape: Vec<usize>,
    pub stride: usize,
    pub values: Vec<f32>,
    pub tflite_noise: Option<f32>,
}

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
}

/// Reads `<model>.txt` and its `.f32` files (see the reference script).
pub fn references(model: &str) -> Vec<Reference> {
    let dir = fixtures_dir();
    let manifest = std::fs::read_to_string(dir.join(format!("{model}.txt")))
        .unwrap_or_else(|e| panic!("fixture manifest for {model}: {e}"));
    manifest
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(k, line)| {
            let f: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(f.len(), 5, "bad manifest line {line:?}");
            let shape = f[1]
                .split(',')
                .map(|d| d.parse().expect("dimension"))
                .collect();
            let stride = f[2].parse().expect("stride");
            let count: usize = f[3].parse().expect("count");
            let raw = std::fs::read(dir.join(format!("{model}.{k}.f32"))).expect("fixture values");
            let values: Vec<f32> = raw
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            assert_eq!(values.len(), count, "fixture {model}.{k} length");
            Reference {
                name: f[0].to_string(),
                shape,
                stride,
                values,
                tflite_noise: f[4].parse().ok(),
            }
        })
        .collect()
}
