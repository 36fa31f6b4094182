//! The optional tract engine agrees with ONNX Runtime on the same converted
//! models (run with `cargo test -p garmax-person --features tract`).
#![cfg(feature = "tract")]

mod common;

use garmax_person::tract_backend::TractBackend;
use garmax_person::{InferenceBackend, OrtBackend};

#[test]
fn tract_and_onnx_runtime_agree_on_the_pose_models() {
    let models = common::models_dir().expect("models");
    let cache = common::cache_root();
    let ort = OrtBackend::new(
        &garmax_person::default_onnxruntime_library(&cache.join("models")),
        1,
    )
    .unwrap();
    for (file, shape) in [
        ("pose_detection.onnx", [1usize, 224, 224, 3]),
        ("pose_landmark_full.onnx", [1, 256, 256, 3]),
    ] {
        let n: usize = shape.iter().product();
        let input: Vec<f32> = (0..n)
            .map(|i| ((i as f32) * 0.37).sin() * 0.5 + 0.5)
            .collect();
        let a = ort
            .load(&models.join(file))
            .unwrap()
            .run_single(&shape, &input)
            .unwrap();
        let b = TractBackend
            .load(&models.join(file))
            .unwrap()
            .run_single(&shape, &input)
            .unwrap();
        assert_eq!(a.len(), b.len(), "{file}: output count");
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.tensor.shape, y.tensor.shape, "{file} {}", x.name);
            let scale = x.tensor.data.iter().fold(1.0f32, |m, v| m.max(v.abs()));
            let worst = x
                .tensor
                .data
                .iter()
                .zip(&y.tensor.data)
                .map(|(p, q)| (p - q).abs())
                .fold(0.0, f32::max);
            println!(
                "{file} {}: max |ort − tract| {worst:.2e} (scale {scale:.1})",
                x.name
            );
            assert!(worst <= 1e-3 * scale, "{file} {}: {worst}", x.name);
        }
    }
}
