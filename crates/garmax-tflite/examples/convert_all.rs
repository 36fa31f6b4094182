//! Converts the five MediaPipe models, prints their summaries and operator
//! counts, and measures conversion time and single-threaded ONNX Runtime
//! inference time of each converted model.
//!
//! ```text
//! cargo run -p garmax-tflite --example convert_all [--release] [-- OUT_DIR]
//! ```
//! With `OUT_DIR`, the `.onnx` files are written there. Needs the fetched
//! assets (`garmax models fetch`).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

/// Timed inference runs per model (after 5 warm-up runs). On a shared
/// machine the minimum is the best estimate of the uncontended time; the
/// median shows the contention.
const RUNS: usize = 100;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out_dir = std::env::args_os().nth(1).map(std::path::PathBuf::from);
    if let Some(d) = &out_dir {
        std::fs::create_dir_all(d)?;
    }
    for spec in &common::MODELS {
        let tflite = std::fs::read(common::asset(spec.wheel_path))?;
        // Conversion: best of 5, so the figure is the converter's cost and
        // not the noise of a shared machine.
        let mut conversion = garmax_tflite::convert_with_summary(&tflite)?;
        let mut best = Duration::MAX;
        for _ in 0..5 {
            let t = Instant::now();
            conversion = garmax_tflite::convert_with_summary(&tflite)?;
            best = best.min(t.elapsed());
        }
        println!(
            "{} ({} KiB → {} KiB)",
            spec.name,
            tflite.len() / 1024,
            conversion.onnx.len() / 1024
        );
        println!("  {}", conversion.summary);
        println!("  conversion: {:.1} ms", best.as_secs_f64() * 1e3);
        if let Some(d) = &out_dir {
            std::fs::write(d.join(format!("{}.onnx", spec.name)), &conversion.onnx)?;
        }

        let input = &conversion.summary.inputs[0];
        let data = common::pattern(&input.shape, spec.lo, spec.hi, spec.scene);
        let t = Instant::now();
        let mut session = common::session(&conversion.onnx);
        let load = t.elapsed();
        for _ in 0..5 {
            common::run(&mut session, &input.name, &input.shape, data.clone());
        }
        let times: Vec<Duration> = (0..RUNS)
            .map(|_| {
                let t = Instant::now();
                common::run(&mut session, &input.name, &input.shape, data.clone());
                t.elapsed()
            })
            .collect();
        let min = times.iter().min().copied().unwrap_or_default();
        println!(
            "  ort session load {:.1} ms; inference (1 thread, {RUNS} runs) median {:.2} ms, min {:.2} ms",
            load.as_secs_f64() * 1e3,
            median(times).as_secs_f64() * 1e3,
            min.as_secs_f64() * 1e3
        );
    }
    Ok(())
}
