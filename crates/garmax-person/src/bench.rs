//! The pose benchmark `garmax bench pose` runs: wall time per image of the
//! whole analysis, single-threaded, after a warm-up run. Never asserted in
//! tests (timings depend on the machine); compare with
//! `tools/reference/pose_reference.py bench` on the same images.

use std::time::Instant;

use image::RgbImage;
use serde::Serialize;

use crate::analyzer::PersonAnalyzer;
use crate::error::PersonError;

/// Timing of one image.
#[derive(Debug, Clone, Serialize)]
pub struct BenchImage {
    pub name: String,
    pub width: u32,
    pub height: u32,
    /// Median milliseconds per `analyze` call.
    pub median_ms: f64,
    /// Mean milliseconds per call.
    pub mean_ms: f64,
    /// Fastest call: the least disturbed by other load on a shared machine.
    pub min_ms: f64,
}

/// Times `analyzer.analyze` `repeats` times per image (plus one warm-up).
pub fn bench_pose(
    analyzer: &PersonAnalyzer,
    images: &[(String, RgbImage)],
    repeats: usize,
) -> Result<Vec<BenchImage>, PersonError> {
    let repeats = repeats.max(1);
    let mut out = Vec::new();
    for (name, img) in images {
        analyzer.analyze(img)?;
        let mut times = Vec::with_capacity(repeats);
        for _ in 0..repeats {
            let t = Instant::now();
            analyzer.analyze(img)?;
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        let mean_ms = times.iter().sum::<f64>() / times.len() as f64;
        times.sort_by(f64::total_cmp);
        out.push(BenchImage {
            name: name.clone(),
            width: img.width(),
            height: img.height(),
            median_ms: times[times.len() / 2],
            min_ms: times[0],
            mean_ms,
        });
    }
    Ok(out)
}
