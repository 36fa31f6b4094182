//! The branding validator on renders that imitate a warping renderer
//! (`testkit::warped`): each Saleor tee's main print bent, keystoned,
//! 10–25 % off in size, turned, shaded with folds, its reported box 20–40 %
//! of the garment width off; good against the print blurred, the whole
//! render blurred, the print removed, and the print replaced by another
//! tee's. Scored with the reported boxes and without them (the place then
//! estimated from the garment's box).

mod common;

use garmax_quality::testkit::warped::{PrintDamage, Warp, render_case};
use garmax_quality::testkit::{Product, main_logo, roc_auc};
use garmax_quality::validator::{ValidationInput, Validator};
use garmax_quality::{QualityConfig, Tier, branding::BrandingValidator};
use garmax_vision::rng::SplitMix64;
use garmax_vision::shape::GarmentType;
use garmax_vision::synthetic::generate;
use garmax_vision::{AnalysisOptions, analyze_garment};

const WARPS_PER_TEE: usize = 5;

const DAMAGES: [(&str, PrintDamage); 5] = [
    ("print blurred r2", PrintDamage::PrintBlurred(2)),
    ("render blurred r2", PrintDamage::RenderBlurred(2)),
    ("print removed", PrintDamage::Removed),
    ("print replaced", PrintDamage::Replaced),
    ("print blurred r3", PrintDamage::PrintBlurred(3)),
];

fn box_iou(a: [u32; 4], b: [u32; 4]) -> f32 {
    let iw = (a[0] + a[2])
        .min(b[0] + b[2])
        .saturating_sub(a[0].max(b[0])) as f32;
    let ih = (a[1] + a[3])
        .min(b[1] + b[3])
        .saturating_sub(a[1].max(b[1])) as f32;
    let union = (a[2] * a[3] + b[2] * b[3]) as f32 - iw * ih;
    if union <= 0.0 { 0.0 } else { iw * ih / union }
}

/// Per case kind (good first, then [`DAMAGES`]), per with/without boxes:
/// the branding scores of `warps` warps of each product's main print.
fn evaluate(products: &[Product], warps: usize, seed: u64) -> Vec<Vec<Vec<f32>>> {
    let config = QualityConfig::default();
    let thresholds = &config.tier(Tier::Standard).thresholds;
    let validator = BrandingValidator;
    let mut scores = vec![vec![Vec::new(); DAMAGES.len() + 1]; 2];
    for (pi, product) in products.iter().enumerate() {
        let Some(li) = main_logo(product) else {
            continue;
        };
        let other = &products[(pi + 1) % products.len()];
        let other_li = main_logo(other).expect("the other product has a print");
        let mut rng = SplitMix64::new(seed + pi as u64);
        for wi in 0..warps {
            let warp = Warp::random(&mut rng);
            let all = std::iter::once(("good", PrintDamage::None)).chain(DAMAGES);
            for (di, (name, damage)) in all.enumerate() {
                let c = render_case(product, li, (other, other_li), [768, 1024], &warp, damage);
                for (bi, with_boxes) in [true, false].into_iter().enumerate() {
                    let mut input = ValidationInput::new(&c.image, product.input());
                    input.garment_mask = Some(&c.garment_mask);
                    if with_boxes {
                        input.logo_boxes = Some(&c.logo_boxes);
                    }
                    let r = validator.validate(&input, thresholds);
                    let s = r.score.expect("branding scored");
                    let region = &r.details["regions"][0];
                    println!(
                        "{} warp {wi} {:<18} boxes {with_boxes:<5} score {s:.3} method {} inliers {} ncc {:.2} sharp {:.2} offset {:.2}",
                        product.name,
                        name,
                        region["method"],
                        region["inliers"],
                        region["correlation"].as_f64().unwrap_or(f64::NAN),
                        region["sharpnessRatio"].as_f64().unwrap_or(f64::NAN),
                        region["offsetGarmentWidths"].as_f64().unwrap_or(f64::NAN),
                    );
                    scores[bi][di].push(s);
                }
            }
        }
    }
    scores
}

/// Prints the table; returns per with/without boxes the good mean and the
/// AUC and damaged mean per damage.
fn report(set: &str, scores: &[Vec<Vec<f32>>]) -> Vec<(f32, Vec<(f32, f32)>)> {
    ["with reported boxes", "without boxes"]
        .iter()
        .enumerate()
        .map(|(bi, label)| {
            let good = &scores[bi][0];
            let mean = good.iter().sum::<f32>() / good.len() as f32;
            println!(
                "{set}, {label}: good mean {mean:.3} ({} renders)",
                good.len()
            );
            let rows = DAMAGES
                .iter()
                .enumerate()
                .map(|(di, (name, _))| {
                    let bad = &scores[bi][di + 1];
                    let auc = roc_auc(good, bad);
                    let bad_mean = bad.iter().sum::<f32>() / bad.len() as f32;
                    println!("{set}, {label}: {name:<18} AUC {auc:.3} damaged mean {bad_mean:.3}");
                    (auc, bad_mean)
                })
                .collect();
            (mean, rows)
        })
        .collect()
}

#[test]
fn warped_prints_are_found_and_damaged_ones_score_low() {
    let inputs = common::inputs();
    let scores = evaluate(&inputs.products, WARPS_PER_TEE, 0xb4a2_d000);
    // Measured (20 warps): good mean 0.905 with the boxes, 0.903 without;
    // AUC 1.000 for every blur and for removal, 0.995 / 0.993 for a
    // replaced print; damaged means ≤ 0.19. The template search as it was
    // scored the good ones 0.129 / 0.748 with AUC 0.655–0.975.
    for (bi, (mean, rows)) in report("Saleor tees", &scores).into_iter().enumerate() {
        assert!(mean >= 0.75, "boxes {bi}: good renders score {mean:.3}");
        for ((name, _), (auc, bad_mean)) in DAMAGES.iter().zip(rows) {
            assert!(auc >= 0.95, "boxes {bi}: {name}: AUC {auc:.3}");
            assert!(
                bad_mean <= 0.25,
                "boxes {bi}: {name}: damaged mean {bad_mean:.3}"
            );
        }
    }
}

#[test]
fn synthetic_logos_through_the_same_warps() {
    // Generated tees with a solid, barred or ring logo: few corners, so the
    // template search decides most of them.
    let products: Vec<Product> = (0..40u64)
        .filter_map(|seed| {
            let g = generate(GarmentType::Tshirt, 7000 + seed, 768);
            let decoded = garmax_vision::DecodedImage::from_rgba(g.image.clone());
            let out = analyze_garment(&decoded, &AnalysisOptions::default()).ok()?;
            // Only tees whose analysis found the drawn logo: a damage to a
            // region the analysis invented would damage nothing.
            let truth = g.truth.logo?.bbox;
            let found = out
                .analysis
                .branding
                .regions
                .iter()
                .max_by(|a, b| a.area_share.total_cmp(&b.area_share))?;
            (box_iou(found.bbox, truth) >= 0.5).then(|| Product {
                name: format!("synthetic {seed}"),
                image: decoded.rgba,
                mask: out.mask,
                analysis: out.analysis,
            })
        })
        .take(8)
        .collect();
    assert!(
        products.len() >= 6,
        "{} synthetic tees with a logo",
        products.len()
    );
    let scores = evaluate(&products, 2, 0x5e17_0000);
    // Measured (8 tees × 2 warps): good mean 0.761 with the boxes, 0.483
    // without; AUC vs a blurred render 0.883 / 0.863 (0.808 / 0.535 and
    // 0.891 / 0.867 before the generator's crew necks gained the back neck
    // band, which the analysis now sees through the opening). A blurred, removed or
    // replaced flat logo separates weakly (AUC 0.58–0.74): its outline is
    // all there is to find, and another tee's solid logo has much the same
    // outline. The template search before the margin and the relative
    // place: good 0.360 / 0.322, blurred render AUC 0.613 / 0.756.
    let blurred_render = 1 + DAMAGES
        .iter()
        .position(|(_, d)| *d == PrintDamage::RenderBlurred(2))
        .expect("render blur in the damages");
    for (bi, (mean, rows)) in report("synthetic tees", &scores).into_iter().enumerate() {
        let floor = if bi == 0 { 0.72 } else { 0.45 };
        assert!(mean >= floor, "boxes {bi}: good flat logos score {mean:.3}");
        let (auc, _) = rows[blurred_render - 1];
        assert!(auc >= 0.85, "boxes {bi}: blurred render AUC {auc:.3}");
    }
}
