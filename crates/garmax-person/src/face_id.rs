//! Face identity: a 128-d embedding from face-api's `faceRecognitionNet`
//! (a dlib-style ResNet-34, TF.js weights in the `@vladmandic/face-api`
//! npm package), converted to ONNX by our own importer and run by any
//! [`InferenceBackend`].
//!
//! The network is defined in face-api's source
//! (`src/faceRecognitionNet/`), not in the weight file, so the graph is
//! written here layer by layer from that definition:
//!
//! - input 150 × 150 RGB, minus the mean `[122.782, 117.001, 104.298]`,
//!   divided by 255;
//! - `conv32_down`: 7 × 7 stride-2 `valid` conv, scale layer, ReLU; 3 × 3
//!   stride-2 `valid` max pool;
//! - residual blocks `conv32_1..3`, `conv64_down`, `conv64_1..3`,
//!   `conv128_down`, `conv128_1..2`, `conv256_down`, `conv256_1..2`,
//!   `conv256_down_out`: two 3 × 3 convs each with a scale layer (ReLU after
//!   the first), the shortcut added, ReLU. A `_down` block strides its
//!   first conv by 2 (`valid`), and its shortcut is a 2 × 2 average pool,
//!   zero-padded to the block's channels; when the pool is one pixel larger
//!   than the conv output, the conv output gets a zero row and column at the
//!   bottom and right (face-api's `residualDown`);
//! - global average, then `fc` (256 → 128).
//!
//! A scale layer `y·w + b` after a conv with bias is folded into the conv's
//! weights and bias (exact up to rounding; one node instead of three).
//!
//! [`FaceIdentity::embed`] takes the 112 × 112 crop aligned to the
//! five-point template (`garmax_quality::face::TEMPLATE`, repeated here as
//! [`ALIGNED_TEMPLATE`]), pads it to a square and resizes it to 150 × 150
//! exactly as face-api's `NetInput::toBatchTensor` does (TF's bilinear
//! resize, no corner alignment, no half-pixel centres), and returns the
//! L2-normalised embedding; identity similarity is the cosine (dot product)
//! of two embeddings.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use garmax_tflite::graph::{Attr, GraphBuilder};
use garmax_tflite::tfjs::{self, WeightTensor};
use image::RgbImage;

use crate::backend::{InferenceBackend, Model};
use crate::error::PersonError;

/// The ONNX file written into the models directory.
pub const FACE_RECOGNITION_MODEL: &str = "face_recognition.onnx";
/// The TF.js manifest inside the asset cache's `assets/` directory (the
/// `.bin` shard sits beside it).
pub const FACE_RECOGNITION_MANIFEST: &str =
    "face-api/package/model/face_recognition_model-weights_manifest.json";
/// Embedding length.
pub const EMBEDDING_LEN: usize = 128;
/// The network's input side.
pub const INPUT_SIZE: usize = 150;
/// Side of the aligned crop [`FaceIdentity::embed`] expects.
pub const ALIGNED_SIZE: u32 = 112;
/// Where eyes (subject's right first), nose tip and mouth corners land in
/// the aligned crop; equal to `garmax_quality::face::TEMPLATE`.
pub const ALIGNED_TEMPLATE: [[f32; 2]; 5] = [
    [38.2946, 51.6963],
    [73.5318, 51.5014],
    [56.0252, 71.7366],
    [41.5493, 92.3655],
    [70.7299, 92.2041],
];

/// face-api's per-channel RGB mean.
const MEAN_RGB: [f32; 3] = [122.782, 117.001, 104.298];
/// Part of the stamp beside the converted model: bump when the graph
/// written here changes, so cached models are rebuilt.
const GRAPH_VERSION: &str = "faceRecognitionNet-1";

/// A loaded face-recognition model.
pub struct FaceIdentity {
    model: Box<dyn Model>,
}

impl std::fmt::Debug for FaceIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaceIdentity").finish_non_exhaustive()
    }
}

impl FaceIdentity {
    /// Converts face-api's weights under `assets_dir` into
    /// `models_dir/face_recognition.onnx` when missing or stale, and loads
    /// it with `backend`.
    pub fn load(
        backend: &dyn InferenceBackend,
        assets_dir: &Path,
        models_dir: &Path,
    ) -> Result<Self, PersonError> {
        let path = convert_face_recognition(assets_dir, models_dir, false)?;
        Self::from_onnx(backend, &path)
    }

    /// Loads an already converted model file.
    pub fn from_onnx(backend: &dyn InferenceBackend, path: &Path) -> Result<Self, PersonError> {
        Ok(FaceIdentity {
            model: backend.load(path)?,
        })
    }

    /// The L2-normalised embedding of an aligned face crop (112 × 112 for
    /// the template; any non-empty size is padded and resized the same way).
    pub fn embed(&self, aligned: &RgbImage) -> Result<[f32; EMBEDDING_LEN], PersonError> {
        if aligned.width() == 0 || aligned.height() == 0 {
            return Err(PersonError::InvalidImage("empty face crop".into()));
        }
        let input = network_input(aligned);
        let outputs = self
            .model
            .run_single(&[1, INPUT_SIZE, INPUT_SIZE, 3], &input)?;
        let raw = outputs
            .iter()
            .find(|o| o.tensor.len() == EMBEDDING_LEN)
            .ok_or_else(|| {
                PersonError::Inference(format!("no {EMBEDDING_LEN}-value embedding output"))
            })?;
        l2_normalised(&raw.tensor.data)
    }
}

/// Cosine similarity of two L2-normalised embeddings.
pub fn similarity(a: &[f32; EMBEDDING_LEN], b: &[f32; EMBEDDING_LEN]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Separation of same-person from different-person similarities.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Roc {
    /// Probability that a same pair scores above a different pair (ties
    /// count one half).
    pub auc: f32,
    /// Equal error rate: where the share of same pairs below the threshold
    /// meets the share of different pairs at or above it.
    pub eer: f32,
    /// The cosine threshold at that point.
    pub eer_threshold: f32,
}

/// ROC summary of same-person vs different-person similarities; `NaN`s when
/// either list is empty.
pub fn roc(same: &[f32], different: &[f32]) -> Roc {
    if same.is_empty() || different.is_empty() {
        return Roc {
            auc: f32::NAN,
            eer: f32::NAN,
            eer_threshold: f32::NAN,
        };
    }
    let mut wins = 0.0f64;
    for s in same {
        for d in different {
            wins += if s > d {
                1.0
            } else if s == d {
                0.5
            } else {
                0.0
            };
        }
    }
    let auc = (wins / (same.len() * different.len()) as f64) as f32;
    let mut best = (f32::INFINITY, 0.0f32, 0.0f32);
    for &t in same.iter().chain(different) {
        let frr = same.iter().filter(|&&s| s < t).count() as f32 / same.len() as f32;
        let far = different.iter().filter(|&&d| d >= t).count() as f32 / different.len() as f32;
        if (far - frr).abs() < best.0 {
            best = ((far - frr).abs(), (far + frr) / 2.0, t);
        }
    }
    Roc {
        auc,
        eer: best.1,
        eer_threshold: best.2,
    }
}

fn l2_normalised(v: &[f32]) -> Result<[f32; EMBEDDING_LEN], PersonError> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if !(norm.is_finite() && norm > 0.0) {
        return Err(PersonError::Inference(format!(
            "degenerate embedding (norm {norm})"
        )));
    }
    let mut out = [0.0; EMBEDDING_LEN];
    for (o, x) in out.iter_mut().zip(v) {
        *o = x / norm;
    }
    Ok(out)
}

/// The 150 × 150 × 3 NHWC input (0–255) face-api builds from a crop:
/// zero-padded to a centred square, then TF's legacy bilinear resize.
pub fn network_input(crop: &RgbImage) -> Vec<f32> {
    let square = pad_to_square(crop);
    resize_bilinear_tf(&square, INPUT_SIZE)
}

/// face-api's `padToSquare(x, true)`: the short side padded with zeros,
/// `round(diff / 2)` after the image and the rest before it.
fn pad_to_square(img: &RgbImage) -> RgbImage {
    let (w, h) = img.dimensions();
    if w == h {
        return img.clone();
    }
    let side = w.max(h);
    let diff = side - w.min(h);
    let after = (f64::from(diff) * 0.5).round() as u32;
    let before = diff - after;
    let (ox, oy) = if w < h { (before, 0) } else { (0, before) };
    let mut out = RgbImage::new(side, side);
    image::imageops::overlay(&mut out, img, i64::from(ox), i64::from(oy));
    out
}

/// `tf.image.resizeBilinear(x, [n, n], alignCorners = false,
/// halfPixelCenters = false)` of a square image, as the TF.js CPU kernel
/// computes it.
fn resize_bilinear_tf(img: &RgbImage, n: usize) -> Vec<f32> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let scale_y = h as f32 / n as f32;
    let scale_x = w as f32 / n as f32;
    let px = |x: usize, y: usize, c: usize| f32::from(img.get_pixel(x as u32, y as u32).0[c]);
    let mut out = Vec::with_capacity(n * n * 3);
    for oy in 0..n {
        let fy = scale_y * oy as f32;
        let y0 = fy.floor().max(0.0) as usize;
        let y1 = (fy.ceil() as usize).min(h - 1);
        let dy = fy - y0 as f32;
        for ox in 0..n {
            let fx = scale_x * ox as f32;
            let x0 = fx.floor().max(0.0) as usize;
            let x1 = (fx.ceil() as usize).min(w - 1);
            let dx = fx - x0 as f32;
            for c in 0..3 {
                let top = px(x0, y0, c) + (px(x1, y0, c) - px(x0, y0, c)) * dx;
                let bottom = px(x0, y1, c) + (px(x1, y1, c) - px(x0, y1, c)) * dx;
                out.push(top + (bottom - top) * dy);
            }
        }
    }
    out
}

/// The crop of `photo` aligned to [`ALIGNED_TEMPLATE`] by the least-squares
/// similarity of the five points (image pixels, template order), bilinear,
/// black outside the photo.
pub fn align_face(photo: &RgbImage, points: &[[f32; 2]; 5]) -> Option<RgbImage> {
    align_face_to(photo, points, &ALIGNED_TEMPLATE, ALIGNED_SIZE)
}

/// The `size` × `size` crop of `photo` whose pixels at `template` show the
/// five `points` (least-squares similarity), bilinear, black outside.
pub fn align_face_to(
    photo: &RgbImage,
    points: &[[f32; 2]; 5],
    template: &[[f32; 2]; 5],
    size: u32,
) -> Option<RgbImage> {
    // Fit template → photo directly: that is the map each crop pixel samples.
    let map = fit_similarity(template, points)?;
    let mut out = RgbImage::new(size, size);
    let (w, h) = (photo.width() as f32, photo.height() as f32);
    for (x, y, p) in out.enumerate_pixels_mut() {
        let [sx, sy] = map.apply([x as f32, y as f32]);
        // Half a pixel of slack: rounding must not blacken the border
        // column of an exact fit.
        if sx < -0.5 || sy < -0.5 || sx > w - 0.5 || sy > h - 0.5 {
            continue;
        }
        let (sx, sy) = (sx.clamp(0.0, w - 1.0), sy.clamp(0.0, h - 1.0));
        let (x0, y0) = (sx.floor() as u32, sy.floor() as u32);
        let (x1, y1) = (
            (x0 + 1).min(photo.width() - 1),
            (y0 + 1).min(photo.height() - 1),
        );
        let (fx, fy) = (sx - x0 as f32, sy - y0 as f32);
        for c in 0..3 {
            let v = |xx: u32, yy: u32| f32::from(photo.get_pixel(xx, yy).0[c]);
            let top = v(x0, y0) * (1.0 - fx) + v(x1, y0) * fx;
            let bottom = v(x0, y1) * (1.0 - fx) + v(x1, y1) * fx;
            p.0[c] = (top * (1.0 - fy) + bottom * fy).round().clamp(0.0, 255.0) as u8;
        }
    }
    Some(out)
}

/// `q ≈ [a −b; b a]·p + t`.
#[derive(Debug, Clone, Copy)]
struct Similarity2 {
    a: f32,
    b: f32,
    t: [f32; 2],
}

impl Similarity2 {
    fn apply(&self, p: [f32; 2]) -> [f32; 2] {
        [
            self.a * p[0] - self.b * p[1] + self.t[0],
            self.b * p[0] + self.a * p[1] + self.t[1],
        ]
    }
}

/// Least-squares similarity from `from` to `to`; `None` when `from`'s
/// points coincide.
fn fit_similarity(from: &[[f32; 2]], to: &[[f32; 2]]) -> Option<Similarity2> {
    let n = from.len().min(to.len()) as f64;
    let mean = |pts: &[[f32; 2]]| {
        let (sx, sy) = pts.iter().fold((0.0f64, 0.0f64), |(x, y), p| {
            (x + f64::from(p[0]), y + f64::from(p[1]))
        });
        (sx / n, sy / n)
    };
    let (fx, fy) = mean(from);
    let (tx, ty) = mean(to);
    let (mut num_a, mut num_b, mut den) = (0.0f64, 0.0f64, 0.0f64);
    for (p, q) in from.iter().zip(to) {
        let (px, py) = (f64::from(p[0]) - fx, f64::from(p[1]) - fy);
        let (qx, qy) = (f64::from(q[0]) - tx, f64::from(q[1]) - ty);
        num_a += px * qx + py * qy;
        num_b += px * qy - py * qx;
        den += px * px + py * py;
    }
    if den < 1e-12 {
        return None;
    }
    let (a, b) = (num_a / den, num_b / den);
    Some(Similarity2 {
        a: a as f32,
        b: b as f32,
        t: [
            (tx - (a * fx - b * fy)) as f32,
            (ty - (b * fx + a * fy)) as f32,
        ],
    })
}

/// Converts the TF.js weights under `assets_dir` to `models_dir`'s
/// [`FACE_RECOGNITION_MODEL`] unless a fresh one is there (its `.source`
/// stamp holds the SHA-256 of the manifest followed by its shards, the
/// graph version and the importer's version).
/// Returns the model's path.
pub fn convert_face_recognition(
    assets_dir: &Path,
    models_dir: &Path,
    force: bool,
) -> Result<PathBuf, PersonError> {
    let manifest_path = assets_dir.join(FACE_RECOGNITION_MANIFEST);
    let manifest = std::fs::read(&manifest_path).map_err(|_| PersonError::AssetMissing {
        what: "face-api faceRecognitionNet weights manifest".into(),
        path: manifest_path.clone(),
    })?;
    let dir = manifest_path.parent().unwrap_or(assets_dir).to_path_buf();
    let mut sources = manifest.clone();
    let weights = tfjs::read_weights(&manifest, |shard| {
        let bytes = std::fs::read(dir.join(shard))?;
        sources.extend_from_slice(&bytes);
        Ok(bytes)
    })
    .map_err(|e| match e {
        tfjs::TfjsError::Shard { path, .. } => PersonError::AssetMissing {
            what: "face-api faceRecognitionNet weights".into(),
            path: dir.join(path),
        },
        other => PersonError::Inference(format!("{}: {other}", manifest_path.display())),
    })?;
    let stamp = format!(
        "{} {GRAPH_VERSION} garmax-tflite {}\n",
        crate::models::hex_digest(&sources),
        garmax_tflite::VERSION
    );
    let target = models_dir.join(FACE_RECOGNITION_MODEL);
    let stamp_path = target.with_extension("onnx.source");
    let fresh = target.is_file() && std::fs::read_to_string(&stamp_path).is_ok_and(|s| s == stamp);
    if fresh && !force {
        return Ok(target);
    }
    let onnx = build_graph(&weights)?;
    std::fs::create_dir_all(models_dir)
        .map_err(|e| PersonError::Inference(format!("{}: {e}", models_dir.display())))?;
    let tmp = target.with_extension(format!("onnx.tmp{}", std::process::id()));
    std::fs::write(&tmp, &onnx)
        .and_then(|_| std::fs::rename(&tmp, &target))
        .and_then(|_| std::fs::write(&stamp_path, &stamp))
        .map_err(|e| PersonError::Inference(format!("writing {}: {e}", target.display())))?;
    Ok(target)
}

/// Writes face-api's `FaceRecognitionNet.forwardInput` as an ONNX graph:
/// input `image` [1, 150, 150, 3] NHWC 0–255, output `embedding` [1, 128]
/// (not normalised).
pub fn build_graph(weights: &BTreeMap<String, WeightTensor>) -> Result<Vec<u8>, PersonError> {
    let mut net = NetWriter {
        g: GraphBuilder::new("faceRecognitionNet"),
        weights,
    };
    net.g.input("image", &[1, INPUT_SIZE, INPUT_SIZE, 3]);
    let mean: Vec<f32> = MEAN_RGB.to_vec();
    let mean = net.g.constant_f32("mean_rgb", &[1, 1, 1, 3], &mean);
    let centred = net.g.node("Sub", &["image", &mean], &[]);
    let inv = net.g.constant_f32("inv_255", &[1], &[1.0 / 255.0]);
    let scaled = net.g.node("Mul", &[&centred, &inv], &[]);
    let nchw = net.g.node(
        "Transpose",
        &[&scaled],
        &[Attr::Ints("perm", vec![0, 3, 1, 2])],
    );
    let mut x = Value {
        name: nchw,
        channels: 3,
        side: INPUT_SIZE,
    };
    x = net.conv_layer(&x, "conv32_down", 2, true)?;
    x = net.max_pool(&x, 3, 2);
    for block in ["conv32_1", "conv32_2", "conv32_3"] {
        x = net.residual(&x, block)?;
    }
    x = net.residual_down(&x, "conv64_down")?;
    for block in ["conv64_1", "conv64_2", "conv64_3"] {
        x = net.residual(&x, block)?;
    }
    x = net.residual_down(&x, "conv128_down")?;
    for block in ["conv128_1", "conv128_2"] {
        x = net.residual(&x, block)?;
    }
    x = net.residual_down(&x, "conv256_down")?;
    for block in ["conv256_1", "conv256_2"] {
        x = net.residual(&x, block)?;
    }
    x = net.residual_down(&x, "conv256_down_out")?;
    let pooled = net.g.node(
        "ReduceMean",
        &[&x.name],
        &[Attr::Ints("axes", vec![2, 3]), Attr::Int("keepdims", 0)],
    );
    let fc = net.weight("fc", 2)?;
    if fc.shape != [x.channels, EMBEDDING_LEN] {
        return Err(bad_weight("fc", &fc.shape));
    }
    let fc = net.g.constant_f32("fc", &fc.shape, &fc.data);
    let embedding = net.g.node("MatMul", &[&pooled, &fc], &[]);
    net.g.output(&embedding, &[1, EMBEDDING_LEN]);
    Ok(net.g.finish(
        "garmax-person",
        "face-api faceRecognitionNet (TF.js weights) written by garmax-person::face_id",
    ))
}

/// An NCHW value of the graph with its static channel count and side.
struct Value {
    name: String,
    channels: usize,
    side: usize,
}

struct NetWriter<'w> {
    g: GraphBuilder,
    weights: &'w BTreeMap<String, WeightTensor>,
}

fn bad_weight(name: &str, shape: &[usize]) -> PersonError {
    PersonError::Inference(format!(
        "faceRecognitionNet weight {name} has an unexpected shape {shape:?}"
    ))
}

impl<'w> NetWriter<'w> {
    fn weight(&self, name: &str, rank: usize) -> Result<&'w WeightTensor, PersonError> {
        let w = self.weights.get(name).ok_or_else(|| {
            PersonError::Inference(format!("faceRecognitionNet weight {name} is missing"))
        })?;
        if w.shape.len() != rank {
            return Err(bad_weight(name, &w.shape));
        }
        Ok(w)
    }

    /// face-api's `convLayer`: conv (stride 1 `same`, or stride 2 `valid`)
    /// with bias, scale layer folded in, optional ReLU.
    fn conv_layer(
        &mut self,
        x: &Value,
        prefix: &str,
        stride: usize,
        relu: bool,
    ) -> Result<Value, PersonError> {
        let filters = self.weight(&format!("{prefix}/conv/filters"), 4)?;
        let bias = self.weight(&format!("{prefix}/conv/bias"), 1)?;
        let gain = self.weight(&format!("{prefix}/scale/weights"), 1)?;
        let shift = self.weight(&format!("{prefix}/scale/biases"), 1)?;
        let [kh, kw, cin, cout] = filters.shape[..] else {
            return Err(bad_weight(prefix, &filters.shape));
        };
        if cin != x.channels || kh != kw || [&bias, &gain, &shift].iter().any(|t| t.shape != [cout])
        {
            return Err(bad_weight(prefix, &filters.shape));
        }
        // HWIO → OIHW, each output channel multiplied by the scale's gain.
        let mut oihw = vec![0.0f32; filters.data.len()];
        for (i, v) in filters.data.iter().enumerate() {
            let o = i % cout;
            let ci = (i / cout) % cin;
            let kx = (i / (cout * cin)) % kw;
            let ky = i / (cout * cin * kw);
            oihw[((o * cin + ci) * kh + ky) * kw + kx] = v * gain.data[o];
        }
        let folded_bias: Vec<f32> = (0..cout)
            .map(|o| bias.data[o] * gain.data[o] + shift.data[o])
            .collect();
        let w = self
            .g
            .constant_f32(&format!("{prefix}/w"), &[cout, cin, kh, kw], &oihw);
        let b = self
            .g
            .constant_f32(&format!("{prefix}/b"), &[cout], &folded_bias);
        let (pad, side) = if stride == 1 {
            // TF `same` at stride 1 with an odd kernel: symmetric padding.
            ((kh - 1) / 2, x.side)
        } else {
            (0, (x.side - kh) / stride + 1)
        };
        let p = pad as i64;
        let conv = self.g.node(
            "Conv",
            &[&x.name, &w, &b],
            &[
                Attr::Ints("kernel_shape", vec![kh as i64, kw as i64]),
                Attr::Ints("strides", vec![stride as i64, stride as i64]),
                Attr::Ints("pads", vec![p, p, p, p]),
            ],
        );
        let name = if relu {
            self.g.node("Relu", &[&conv], &[])
        } else {
            conv
        };
        Ok(Value {
            name,
            channels: cout,
            side,
        })
    }

    fn max_pool(&mut self, x: &Value, kernel: usize, stride: usize) -> Value {
        let k = kernel as i64;
        let s = stride as i64;
        let name = self.g.node(
            "MaxPool",
            &[&x.name],
            &[
                Attr::Ints("kernel_shape", vec![k, k]),
                Attr::Ints("strides", vec![s, s]),
            ],
        );
        Value {
            name,
            channels: x.channels,
            side: (x.side - kernel) / stride + 1,
        }
    }

    /// face-api's `residual`: conv-ReLU, conv, add the input, ReLU.
    fn residual(&mut self, x: &Value, prefix: &str) -> Result<Value, PersonError> {
        let a = self.conv_layer(x, &format!("{prefix}/conv1"), 1, true)?;
        let b = self.conv_layer(&a, &format!("{prefix}/conv2"), 1, false)?;
        let sum = self.g.node("Add", &[&b.name, &x.name], &[]);
        let name = self.g.node("Relu", &[&sum], &[]);
        Ok(Value { name, ..b })
    }

    /// face-api's `residualDown`: strided conv-ReLU, conv; the shortcut is a
    /// 2 × 2 average pool zero-padded to the block's channels, and the conv
    /// path gets a zero row and column when it is one pixel smaller.
    fn residual_down(&mut self, x: &Value, prefix: &str) -> Result<Value, PersonError> {
        let a = self.conv_layer(x, &format!("{prefix}/conv1"), 2, true)?;
        let mut b = self.conv_layer(&a, &format!("{prefix}/conv2"), 1, false)?;
        let pooled = self.g.node(
            "AveragePool",
            &[&x.name],
            &[
                Attr::Ints("kernel_shape", vec![2, 2]),
                Attr::Ints("strides", vec![2, 2]),
            ],
        );
        let pooled_side = x.side / 2;
        if pooled_side != b.side {
            if pooled_side != b.side + 1 {
                return Err(PersonError::Inference(format!(
                    "{prefix}: shortcut {pooled_side} px vs conv {} px",
                    b.side
                )));
            }
            // NCHW pads: begins of n, c, h, w then their ends.
            let pads = self.g.constant_i64("pads_hw", &[0, 0, 0, 0, 0, 0, 1, 1]);
            b.name = self.g.node("Pad", &[&b.name, &pads], &[]);
            b.side = pooled_side;
        }
        let shortcut = if b.channels > x.channels {
            let extra = (b.channels - x.channels) as i64;
            let pads = self.g.constant_i64("pads_c", &[0, 0, 0, 0, 0, extra, 0, 0]);
            self.g.node("Pad", &[&pooled, &pads], &[])
        } else if b.channels == x.channels {
            pooled
        } else {
            return Err(PersonError::Inference(format!(
                "{prefix}: block narrows {} → {} channels",
                x.channels, b.channels
            )));
        };
        let sum = self.g.node("Add", &[&shortcut, &b.name], &[]);
        let name = self.g.node("Relu", &[&sum], &[]);
        Ok(Value { name, ..b })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roc_of_separated_and_mixed_scores() {
        let r = roc(&[0.9, 0.8], &[0.1, 0.2, 0.3]);
        assert_eq!(r.auc, 1.0);
        assert_eq!(r.eer, 0.0);
        assert!(r.eer_threshold > 0.3 && r.eer_threshold <= 0.8);
        let r = roc(&[0.5, 0.4], &[0.3, 0.6]);
        assert_eq!(r.auc, 0.5);
        assert_eq!(roc(&[0.3], &[0.3]).auc, 0.5, "a tie counts one half");
        assert!(roc(&[], &[0.1]).auc.is_nan());
    }

    #[test]
    fn similarity_fit_recovers_a_known_transform() {
        let truth = Similarity2 {
            a: 1.2,
            b: -0.3,
            t: [40.0, -7.0],
        };
        let to: Vec<[f32; 2]> = ALIGNED_TEMPLATE.iter().map(|&p| truth.apply(p)).collect();
        let fit = fit_similarity(&ALIGNED_TEMPLATE, &to).unwrap();
        assert!((fit.a - 1.2).abs() < 1e-4 && (fit.b + 0.3).abs() < 1e-4);
        assert!((fit.t[0] - 40.0).abs() < 1e-3 && (fit.t[1] + 7.0).abs() < 1e-3);
        assert!(fit_similarity(&[[1.0, 1.0]; 5], &to).is_none());
    }

    #[test]
    fn aligning_the_template_itself_is_the_identity() {
        let photo = RgbImage::from_fn(112, 112, |x, y| image::Rgb([x as u8, y as u8, 7]));
        let crop = align_face(&photo, &ALIGNED_TEMPLATE).unwrap();
        assert_eq!(crop, photo);
    }

    #[test]
    fn resize_matches_tf_legacy_bilinear() {
        // 2 × 2 → 3 × 3 with scale 2/3: source rows/cols 0, 2/3, 4/3 (the
        // last clamped to the edge), as TF.js computes without half-pixel
        // centres.
        let img = RgbImage::from_fn(2, 2, |x, y| {
            let v = [0u8, 30, 60, 90][(y * 2 + x) as usize];
            image::Rgb([v, v, v])
        });
        let out = resize_bilinear_tf(&img, 3);
        let red: Vec<f32> = out.chunks(3).map(|p| p[0]).collect();
        let expect = [0.0, 20.0, 30.0, 40.0, 60.0, 70.0, 60.0, 80.0, 90.0];
        for (a, b) in red.iter().zip(expect) {
            assert!((a - b).abs() < 1e-4, "{red:?}");
        }
    }

    #[test]
    fn pad_to_square_centres_like_face_api() {
        let img = RgbImage::from_pixel(2, 5, image::Rgb([9, 9, 9]));
        let sq = pad_to_square(&img);
        assert_eq!(sq.dimensions(), (5, 5));
        // diff 3: round(1.5) = 2 columns after, 1 before.
        assert_eq!(sq.get_pixel(0, 0).0, [0, 0, 0]);
        assert_eq!(sq.get_pixel(1, 0).0, [9, 9, 9]);
        assert_eq!(sq.get_pixel(2, 4).0, [9, 9, 9]);
        assert_eq!(sq.get_pixel(3, 0).0, [0, 0, 0]);
    }

    #[test]
    fn missing_weights_are_ast_009_naming_the_file() {
        use garmax_core::Coded;
        let dir = std::env::temp_dir().join(format!("garmax-face-id-{}", std::process::id()));
        let err = convert_face_recognition(&dir, &dir.join("models"), false).unwrap_err();
        assert_eq!(err.code().as_str(), "AST_009");
        assert!(err.to_string().contains(FACE_RECOGNITION_MANIFEST), "{err}");
    }

    #[test]
    fn graph_refuses_missing_or_misshapen_weights() {
        let err = build_graph(&BTreeMap::new()).unwrap_err();
        assert!(
            err.to_string().contains("conv32_down/conv/filters"),
            "{err}"
        );
        let mut w = BTreeMap::new();
        for (name, shape) in [
            ("conv32_down/conv/filters", vec![7, 7, 4, 32]),
            ("conv32_down/conv/bias", vec![32]),
            ("conv32_down/scale/weights", vec![32]),
            ("conv32_down/scale/biases", vec![32]),
        ] {
            let n = shape.iter().product();
            w.insert(
                name.to_string(),
                WeightTensor {
                    shape,
                    data: vec![0.0; n],
                },
            );
        }
        let err = build_graph(&w).unwrap_err();
        assert!(err.to_string().contains("unexpected shape"), "{err}");
    }
}
