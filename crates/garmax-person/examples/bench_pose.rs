//! Side-by-side benchmark, Rust half: times `PersonAnalyzer::analyze`
//! (single ONNX Runtime thread, MediaPipe-equivalent settings: no refine
//! pass, no face) on the reference photos; `tools/reference/pose_reference.py
//! bench` times MediaPipe on the same photos. Run both pinned to one core:
//!
//! ```sh
//! taskset -c 0 cargo run --release -p garmax-person --example bench_pose
//! taskset -c 0 python tools/reference/pose_reference.py bench --fixtures crates/garmax-person/tests/fixtures
//! ```

use std::path::PathBuf;

use garmax_person::{AnalyzerOptions, PersonAnalyzer, bench::bench_pose};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The one cache resolver: GARMAX_CACHE_DIR, XDG_CACHE_HOME or ~/.cache.
    let cache = garmax_assets::Cache::resolve()?.root().to_path_buf();
    // The ONNX files come from the product's own importer (once).
    garmax_person::convert_models(&cache.join("assets"), &cache.join("models"), false)?;
    let repeats = std::env::args()
        .skip(1)
        .find_map(|v| v.parse().ok())
        .unwrap_or(20);
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let photos = [
        ("astronaut", cache.join("assets/skimage/data/astronaut.png")),
        ("camera", cache.join("assets/skimage/data/camera.png")),
        (
            "faceapi_sample4_crop",
            fixtures.join("faceapi_sample4_crop.png"),
        ),
    ];
    let images = photos
        .iter()
        .map(|(n, p)| Ok((n.to_string(), image::open(p)?.to_rgb8())))
        .collect::<Result<Vec<_>, image::ImageError>>()?;
    // `--equivalent-only`: skip the default-settings run (shorter, for
    // alternating with the MediaPipe script on a busy machine).
    let equivalent_only = std::env::args().any(|a| a == "--equivalent-only");
    for (label, options) in [
        (
            "mediapipe-equivalent (no refine, no face)",
            AnalyzerOptions {
                refine_passes: 0,
                face: false,
                ..Default::default()
            },
        ),
        (
            "refine pass + face",
            AnalyzerOptions {
                refine_passes: 1,
                ..AnalyzerOptions::default()
            },
        ),
    ]
    .into_iter()
    .take(if equivalent_only { 1 } else { 2 })
    {
        let analyzer = PersonAnalyzer::new(cache.join("models"), options)?;
        for r in bench_pose(&analyzer, &images, repeats)? {
            println!(
                "garmax {label}: {} {}x{}: median {:.1} ms, mean {:.1} ms, min {:.1} ms",
                r.name, r.width, r.height, r.median_ms, r.mean_ms, r.min_ms
            );
        }
    }
    Ok(())
}
