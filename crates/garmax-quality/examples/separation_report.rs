//! Prints the separation table: per validator and damage, the ROC AUC of
//! good composites against damaged ones. `cargo run --release -p
//! garmax-quality --example separation_report` (needs the packaged photos).

#[path = "../tests/common/mod.rs"]
mod common;

use garmax_quality::testkit::{build_cases, case_input, separation_table};
use garmax_quality::{Metric, QualityConfig, Tier, ValidationEngine};

fn main() {
    let inputs = common::inputs();
    if let Ok(size) = std::env::var("BENCH") {
        let size: u32 = size.parse().unwrap_or(1024);
        let config = QualityConfig::default();
        let engine = ValidationEngine::new(&config);
        for product in &inputs.products {
            let case = garmax_quality::testkit::bench_case(&inputs.person, product, size);
            let mut times = Vec::new();
            for _ in 0..5 {
                let input = case.input(product);
                let t = std::time::Instant::now();
                let r = engine
                    .validate(&input, config.tier(Tier::Standard))
                    .unwrap();
                times.push(t.elapsed().as_secs_f64() * 1000.0);
                if times.len() == 1 {
                    println!(
                        "{}",
                        r.results
                            .iter()
                            .map(|x| format!("{}={:?}", x.key, x.score))
                            .collect::<Vec<_>>()
                            .join(" ")
                    );
                }
            }
            let per: Vec<String> = engine
                .validators()
                .map(|v| {
                    let input = case.input(product);
                    let _ = input.generated_gray();
                    let _ = input.garment_region();
                    let t = std::time::Instant::now();
                    v.validate(&input, &config.tier(Tier::Standard).thresholds);
                    format!("{}={:.1}", v.key(), t.elapsed().as_secs_f64() * 1000.0)
                })
                .collect();
            println!("{} {:?} {}", product.name, times, per.join(" "));
        }
        return;
    }
    let cases = build_cases(&inputs);
    let config = QualityConfig::default();
    let engine = ValidationEngine::new(&config);
    let tier = config.tier(Tier::Standard);
    let (rp, rf) = (inputs.reference_pose(), inputs.reference_face());
    let mut scores = Vec::new();
    for case in &cases {
        let input = case_input(&inputs, case, &rp, &rf);
        let r = engine.validate(&input, tier).expect("validate");
        let row: Vec<(Metric, Option<f32>)> = Metric::ALL
            .iter()
            .map(|m| (*m, r.score(m.as_str())))
            .collect();
        if std::env::var("VERBOSE").is_ok() {
            println!(
                "{:<3} {:<18} {:<34} {}",
                case.product,
                case.damage.name(),
                case.label,
                row.iter()
                    .map(|(m, s)| format!("{}={}", m, s.map_or("-".into(), |v| format!("{v:.2}"))))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
            if std::env::var("DETAILS").is_ok() {
                for res in &r.results {
                    println!("      {} {}", res.key, res.details);
                }
            }
        }
        if let Ok(dir) = std::env::var("SAVE") {
            let _ = case.image.save(format!(
                "{dir}/{}_{}_{}.png",
                case.product,
                case.damage.name().replace(' ', "_"),
                case.label.replace([' ', ',', '/'], "_")
            ));
        }
        scores.push(row);
    }
    let rows = separation_table(&cases, &scores);
    println!(
        "{:<9} {:<18} {:>6} {:>7} {:>7}",
        "validator", "damage", "AUC", "good", "damaged"
    );
    for r in rows {
        println!(
            "{:<9} {:<18} {:>6.3} {:>7.3} {:>7.3} {}",
            r.metric.as_str(),
            r.damage.name(),
            r.auc,
            r.good_mean,
            r.damaged_mean,
            if r.responsible { "<- responsible" } else { "" }
        );
    }
}
