//! The point of a validator: it separates good renders from damaged ones.
//!
//! Good composites of four Saleor tees on the scikit-image astronaut are
//! damaged on purpose (colour shifts of ΔE 5/10/20, garment off the body,
//! another pose, the body mirrored, logo blurred/removed/moved, another
//! person's face), and
//! each validator's ROC AUC of good against the damage it is responsible
//! for must stay above a threshold a little below what was measured
//! (`examples/separation_report.rs` prints the full table). Unrelated
//! damage must barely move a validator's mean score.

mod common;

use garmax_quality::testkit::{Damage, build_cases, case_input, separation_table};
use garmax_quality::{Metric, QualityConfig, Tier, ValidationEngine};

#[test]
fn validators_separate_good_from_damaged_renders() {
    let inputs = common::inputs();
    let cases = build_cases(&inputs);
    assert!(cases.len() >= 130, "{} cases", cases.len());
    let config = QualityConfig::default();
    let engine = ValidationEngine::new(&config);
    let tier = config.tier(Tier::Standard);
    let (rp, rf) = (inputs.reference_pose(), inputs.reference_face());
    let scores: Vec<Vec<(Metric, Option<f32>)>> = cases
        .iter()
        .map(|case| {
            let input = case_input(&inputs, case, &rp, &rf);
            let r = engine.validate(&input, tier).expect("validation");
            Metric::ALL
                .iter()
                .map(|m| (*m, r.score(m.as_str())))
                .collect()
        })
        .collect();
    // Every validator scored every case: the set has all inputs.
    for (case, s) in cases.iter().zip(&scores) {
        for (m, v) in s {
            assert!(
                v.is_some(),
                "{m} skipped on {} / {}",
                case.damage.name(),
                case.label
            );
        }
    }
    let rows = separation_table(&cases, &scores);
    for r in &rows {
        println!(
            "{:<9} {:<18} AUC {:.3} good {:.3} damaged {:.3}{}",
            r.metric.as_str(),
            r.damage.name(),
            r.auc,
            r.good_mean,
            r.damaged_mean,
            if r.responsible {
                "  <- responsible"
            } else {
                ""
            }
        );
    }
    // Measured: 1.000 everywhere except logo moved (0.979).
    for r in rows.iter().filter(|r| r.responsible) {
        let floor = if r.damage == Damage::LogoMoved {
            0.93
        } else {
            0.95
        };
        assert!(
            r.auc >= floor,
            "{} vs {}: AUC {:.3} < {floor}",
            r.metric,
            r.damage.name(),
            r.auc
        );
    }
    // Unrelated damage: the mean moves little (measured ≤ 0.06). Three
    // measured exceptions have a reason: style checks the garment against
    // the detected body, so a changed pose moves it (0.98 → 0.83); the
    // branding validator expects the logo upright where the garment is, so
    // a garment rotated off the body moves it (0.98 → 0.62); and a ΔE 20 dye
    // shift changes the print's contrast in grey (0.98 → 0.87).
    for r in rows.iter().filter(|r| !r.responsible) {
        let allowed = match (r.metric, r.damage) {
            (Metric::Style, Damage::PoseChanged) => 0.2,
            (Metric::Branding, Damage::OffBody) => 0.45,
            // A ΔE 20 dye shift changes the print's contrast against the
            // fabric in grey, which is what the matcher sees (0.98 → 0.87).
            (Metric::Branding, Damage::ColorShift20) => 0.2,
            // Style measures the fabric's texture, and a blurred render has
            // lost it too (measured 0.98 → 0.79).
            (Metric::Style, Damage::RenderBlurred) => 0.25,
            _ => 0.12,
        };
        let drop = r.good_mean - r.damaged_mean;
        assert!(
            drop <= allowed,
            "{} moved by unrelated {}: {:.3} → {:.3}",
            r.metric,
            r.damage.name(),
            r.good_mean,
            r.damaged_mean
        );
    }
    // The pose validator reads landmarks only: damage to the pixels (dye,
    // blur, a lost logo, another face) must not move it.
    for r in rows
        .iter()
        .filter(|r| r.metric == Metric::Pose && !r.responsible)
    {
        assert!(
            r.good_mean - r.damaged_mean <= 0.1,
            "pose moved by unrelated {}: {:.3} → {:.3}",
            r.damage.name(),
            r.good_mean,
            r.damaged_mean
        );
    }
    // Good renders reach the standard tier's thresholds, within 0.05: the
    // fine line-art print of the fourth tee, under the spacesuit's folds,
    // correlates weakly (one good render scores 0.72 against 0.75).
    for (case, s) in cases.iter().zip(&scores) {
        if case.damage == Damage::None {
            for (m, v) in s {
                let v = v.unwrap_or(0.0);
                assert!(
                    v >= tier.thresholds.of(*m) - 0.05,
                    "good {} / {}: {m} {v:.2}",
                    case.product,
                    case.label
                );
            }
        }
    }
}
