//! Shared helpers of the integration tests: where the models are, the
//! reference fixtures, and the synthetic-image warp that reproduces
//! `tools/reference/pose_reference.py` bit for bit.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use garmax_person::{AnalyzerOptions, PersonAnalyzer};
use image::RgbImage;

/// The asset cache, resolved as the product does (`garmax_assets::Cache`).
pub fn cache_root() -> PathBuf {
    garmax_assets::Cache::resolve()
        .expect("an asset cache directory (GARMAX_CACHE_DIR or HOME)")
        .root()
        .to_path_buf()
}

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The ONNX models the tests use: converted from the cached TFLite files by
/// `garmax-tflite` (the product's own importer) into this test build's
/// temporary directory, once per test binary. Missing assets fail the test:
/// `scripts/test` fetches them first, so absence is a broken setup, not a
/// reason to pass.
pub fn models_dir() -> Option<PathBuf> {
    static DIR: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("garmax-person-models");
        match garmax_person::convert_models(&cache_root().join("assets"), &dir, true) {
            Ok(_) => Some(dir),
            Err(e) => {
                panic!("cannot convert the MediaPipe models: {e} (run `garmax models fetch`)")
            }
        }
    })
    .clone()
}

/// An analyzer on the converted models; panics with the fix when the assets
/// or ONNX Runtime are not there.
pub fn analyzer(options: AnalyzerOptions) -> Option<PersonAnalyzer> {
    let models = models_dir()?;
    let options = AnalyzerOptions {
        onnxruntime_library: Some(garmax_person::default_onnxruntime_library(
            &cache_root().join("models"),
        )),
        ..options
    };
    match PersonAnalyzer::new(&models, options) {
        Ok(a) => Some(a),
        Err(e) => panic!("cannot load the person models: {e} (run `garmax models fetch`)"),
    }
}

pub fn load_photo(spec: &str) -> RgbImage {
    let (kind, path) = spec.split_once(':').expect("photo spec kind:path");
    let full = match kind {
        "cache" => cache_root().join(path),
        _ => fixtures_dir().join(path),
    };
    image::open(&full)
        .unwrap_or_else(|e| panic!("{}: {e}", full.display()))
        .to_rgb8()
}

/// FNV-1a 64 of the raw RGB bytes.
pub fn fnv1a64(data: &[u8]) -> String {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for &b in data {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    format!("{h:016x}")
}

/// Bilinear warp through `m` (output pixel → source pixel), zero outside,
/// `floor(v + 0.5)`: the same float64 operations, in the same order, as the
/// Python generator.
pub fn warp(src: &RgbImage, m: &[f64; 6], out_w: u32, out_h: u32) -> RgbImage {
    let (w, h) = (src.width() as i64, src.height() as i64);
    let raw = src.as_raw();
    let fetch = |x: i64, y: i64, c: usize| -> f64 {
        if x >= 0 && y >= 0 && x < w && y < h {
            raw[((y * w + x) * 3) as usize + c] as f64
        } else {
            0.0
        }
    };
    RgbImage::from_fn(out_w, out_h, |x, y| {
        let (xs, ys) = (x as f64, y as f64);
        let sx = m[0] * xs + m[1] * ys + m[2];
        let sy = m[3] * xs + m[4] * ys + m[5];
        let (x0, y0) = (sx.floor(), sy.floor());
        let (fx, fy) = (sx - x0, sy - y0);
        let (x0, y0) = (x0 as i64, y0 as i64);
        let mut px = [0u8; 3];
        for (c, out) in px.iter_mut().enumerate() {
            let a = fetch(x0, y0, c);
            let b = fetch(x0 + 1, y0, c);
            let cc = fetch(x0, y0 + 1, c);
            let d = fetch(x0 + 1, y0 + 1, c);
            let top = a * (1.0 - fx) + b * fx;
            let bottom = cc * (1.0 - fx) + d * fx;
            let v = top * (1.0 - fy) + bottom * fy;
            *out = (v + 0.5).floor().clamp(0.0, 255.0) as u8;
        }
        image::Rgb(px)
    })
}

/// Expands a row-major RLE (runs alternating 0, 1, starting with 0).
pub fn rle_decode(counts: &[u64], len: usize) -> Vec<bool> {
    let mut out = Vec::with_capacity(len);
    for (i, &n) in counts.iter().enumerate() {
        out.extend(std::iter::repeat_n(i % 2 == 1, n as usize));
    }
    out.resize(len, false);
    out
}
