//! Colour matching: is the rendered fabric the product's colour?
//!
//! The base-fabric colour of the render is the per-channel median (CIELAB)
//! of the garment region's interior, with the product's mapped logo boxes
//! left out and then, in a second pass, every pixel far from the first
//! estimate (prints the boxes missed, occluding hands and hair). A median
//! over the whole region is robust to folds: shading darkens a minority of
//! pixels on either side of the fabric's true tone.
//!
//! It is compared to the product's dominant colour with CIEDE2000 whose
//! lightness weight is relaxed (`k_L` = [`K_L`]) while chroma and hue keep
//! the standard weight 1. Why: the renderer transfers the person photo's
//! lighting onto the garment, which legitimately moves lightness by several
//! units (a tee in a dim room is darker than the studio flat-lay) but barely
//! moves hue or chroma; a wrong dye moves hue and chroma. A second term
//! checks the palette: the share of fabric pixels that lie near some product
//! palette colour, so a render that is right on average but blotchy scores
//! lower.

use garmax_vision::color::{DeltaEWeights, Lab, delta_e2000_weighted, srgb_to_lab};
use garmax_vision::mask::{ON, median_lab};
use imageproc::distance_transform::Norm;
use serde_json::json;

use crate::config::{Metric, Thresholds};
use crate::validator::{ValidationInput, Validator, ValidatorResult};

/// Lightness weight: a lightness difference counts `1/K_L` as much as the
/// same chroma or hue difference.
pub const K_L: f32 = 2.0;

/// ΔE weights of the base-colour comparison (see the module comment).
pub const WEIGHTS: DeltaEWeights = DeltaEWeights {
    k_l: K_L,
    k_c: 1.0,
    k_h: 1.0,
};

/// ΔE (weighted) at which the base-colour score is one half. ΔE ≈ 2 is a
/// just-noticeable difference on fabric; 4–5 is what a customer returns a
/// garment for.
const HALF_SCORE_DELTA_E: f32 = 4.0;

/// Pixels farther than this (weighted ΔE) from the first median estimate
/// are not fabric: print, logo, a hand in front of the garment.
const OUTLIER_DELTA_E: f32 = 18.0;

/// Pixels within this (weighted ΔE) of a product palette colour count as
/// "on palette".
const PALETTE_DELTA_E: f32 = 8.0;

/// At most this many samples are converted to Lab; larger regions are
/// sampled on a regular grid (the median does not need every pixel).
const MAX_SAMPLES: usize = 40_000;

pub struct ColorValidator;

/// Maps a weighted ΔE to a 0–1 score: 1 at 0, ½ at [`HALF_SCORE_DELTA_E`],
/// falling off quadratically so small differences cost little.
pub fn score_for_delta_e(de: f32) -> f32 {
    1.0 / (1.0 + (de / HALF_SCORE_DELTA_E).powi(2))
}

impl Validator for ColorValidator {
    fn name(&self) -> &str {
        "Colour matching"
    }
    fn key(&self) -> &str {
        Metric::Color.as_str()
    }

    fn validate(&self, input: &ValidationInput<'_>, thresholds: &Thresholds) -> ValidatorResult {
        let region = input.garment_region();
        let (key, name) = (self.key(), self.name());
        if region.area < 50 {
            return ValidatorResult::skipped(
                key,
                name,
                "no garment region found in the generated image",
            );
        }
        let img = input.generated;
        // Edges blend with the body and background: use the interior.
        let interior = imageproc::morphology::erode(&region.mask, Norm::LInf, 2);
        let logo_boxes = crate::branding::expected_boxes(input);
        let in_logo = |x: u32, y: u32| {
            let (x, y) = (x as f32, y as f32);
            logo_boxes
                .iter()
                .any(|b| x >= b[0] && y >= b[1] && x < b[0] + b[2] && y < b[1] + b[3])
        };
        let step = ((region.area as f32 / MAX_SAMPLES as f32).sqrt().ceil() as u32).max(1);
        let mut samples: Vec<Lab> = Vec::new();
        let [x0, y0, x1, y1] = region.bbox.unwrap_or([0, 0, 0, 0]);
        for y in (y0..=y1).step_by(step as usize) {
            for x in (x0..=x1).step_by(step as usize) {
                if interior.get_pixel(x, y).0[0] == ON && !in_logo(x, y) {
                    let p = img.get_pixel(x, y).0;
                    samples.push(srgb_to_lab([p[0], p[1], p[2]]));
                }
            }
        }
        if samples.len() < 20 {
            return ValidatorResult::skipped(
                key,
                name,
                "the garment region has too few fabric pixels",
            );
        }
        let first = median_lab(samples.iter().copied());
        let fabric: Vec<Lab> = samples
            .iter()
            .copied()
            .filter(|&c| delta_e2000_weighted(c, first, WEIGHTS) < OUTLIER_DELTA_E)
            .collect();
        let base = if fabric.len() >= samples.len() / 4 {
            median_lab(fabric.iter().copied())
        } else {
            first
        };

        let product = input.product.analysis.colors.dominant.lab;
        let de_weighted = delta_e2000_weighted(base, product, WEIGHTS);
        let de_standard = garmax_vision::color::delta_e2000(base, product);
        let base_score = score_for_delta_e(de_weighted);

        // Palette coverage over all samples (prints included): each pixel
        // should be near some product colour.
        let palette: Vec<Lab> = std::iter::once(product)
            .chain(input.product.analysis.colors.palette.iter().map(|s| s.lab))
            .collect();
        let on_palette = samples
            .iter()
            .filter(|&&c| {
                palette
                    .iter()
                    .any(|&p| delta_e2000_weighted(c, p, WEIGHTS) < PALETTE_DELTA_E)
            })
            .count() as f32
            / samples.len() as f32;
        // Coverage only lowers the score: shading at the fabric's edges
        // keeps coverage below 1 even for a perfect render.
        let coverage_score = (on_palette / 0.7).min(1.0);
        let score = 0.8 * base_score + 0.2 * coverage_score;

        let threshold = thresholds.of(Metric::Color);
        let mut feedback = Vec::new();
        let dl = base.l - product.l;
        if de_weighted < 2.0 {
            feedback.push("Excellent colour matching".to_string());
        } else if score >= threshold {
            feedback.push(format!("Good colour matching (ΔE2000 {de_weighted:.1})"));
        } else {
            let (da, db) = (base.a - product.a, base.b - product.b);
            feedback.push(format!(
                "Fabric colour is off by ΔE2000 {de_weighted:.1} (lightness {dl:+.1}, a {da:+.1}, b {db:+.1}); raise colour matching"
            ));
        }
        if dl.abs() > 12.0 {
            feedback.push(format!(
                "Fabric is {} than the product by {:.0} L*",
                if dl < 0.0 { "darker" } else { "lighter" },
                dl.abs()
            ));
        }
        if region.estimated {
            feedback.push(format!(
                "Garment region estimated ({}): no mask from the renderer",
                if region.method == "changed-vs-reference" {
                    "what changed against the reference"
                } else {
                    "from the product colours"
                }
            ));
        }
        ValidatorResult::scored(
            key,
            name,
            score,
            threshold,
            feedback,
            json!({
                "renderedBase": { "l": base.l, "a": base.a, "b": base.b },
                "productBase": { "l": product.l, "a": product.a, "b": product.b },
                "deltaE2000": de_standard,
                "deltaE2000Weighted": de_weighted,
                "weights": { "kL": WEIGHTS.k_l, "kC": WEIGHTS.k_c, "kH": WEIGHTS.k_h },
                "baseScore": base_score,
                "paletteCoverage": on_palette,
                "samples": samples.len(),
                "fabricSamples": fabric.len(),
                "regionEstimated": region.estimated,
                "regionMethod": region.method,
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_falls_with_delta_e() {
        assert!((score_for_delta_e(0.0) - 1.0).abs() < 1e-6);
        assert!((score_for_delta_e(HALF_SCORE_DELTA_E) - 0.5).abs() < 1e-6);
        assert!(score_for_delta_e(10.0) < score_for_delta_e(5.0));
    }

    #[test]
    fn lightness_counts_less_than_hue() {
        let base = Lab::new(50.0, 40.0, 30.0);
        let lighter = Lab::new(56.0, 40.0, 30.0);
        let other_hue = Lab::new(50.0, 40.0, 36.0);
        let dl = delta_e2000_weighted(base, lighter, WEIGHTS);
        let dh = delta_e2000_weighted(base, other_hue, WEIGHTS);
        assert!(dl < garmax_vision::color::delta_e2000(base, lighter));
        assert!(dl < 4.0, "{dl}");
        assert!(dh > 1.5, "{dh}");
    }
}
