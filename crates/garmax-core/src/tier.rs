//! The seed's quality tiers and the five generation parameters, as one
//! table: thresholds, starting parameters and retry limits per tier.
//!
//! This is the single source of the tier table. `garmax-render` re-exports
//! these types, and `config/quality_tiers.toml` (the editable file that
//! `garmax-quality` embeds as its default) repeats the same numbers for its
//! readers; a test in `garmax-quality` fails when the file and this table
//! disagree.
//!
//! The consistency seed's adaptive retry adjusts five generation parameters.
//! A diffusion model would read them as conditioning strengths; the local
//! renderer gives each one a concrete, pixel-level meaning (see
//! [`RenderParams`]), so a retry that raises one of them changes the image
//! in the direction the validator asked for.

use serde::{Deserialize, Serialize};

/// The five parameters the seed's adaptive retry adjusts, as knobs of the
/// local renderer. Every value is clamped to its documented range on use.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RenderParams {
    /// 0–1. How much of the original person is preserved around the
    /// garment: the protected face, hair and hand regions grow with it
    /// (up to 6 % of the shoulder width) and the fabric margin the garment
    /// may extend beyond the person's silhouette shrinks with it. Raised by
    /// the retry when face consistency fails.
    pub model_reference_strength: f32,
    /// 0–1.5. How strongly the warp follows the body instead of the
    /// garment's own flat-lay shape: the hem and armpit targets move from
    /// the garment's proportions toward the hips and torso, and the sleeves
    /// rotate from their flat-lay angle onto the upper arms. Raised when the
    /// pose validator fails.
    pub pose_guidance_scale: f32,
    /// 0–1. Fraction of the remaining difference between the rendered base
    /// fabric's mean colour and the product's dominant colour that is
    /// corrected after shading. Raised when colour matching fails.
    pub color_matching_weight: f32,
    /// 0–1. Exponent applied to the person's shading (folds, light fall-off)
    /// before it multiplies the garment: 0 pastes the flat product, 1
    /// transfers the full contrast of the original clothing. Raised when
    /// style (texture, drape) preservation fails.
    pub style_transfer_weight: f32,
    /// 0–1. On the product's logo/print regions: unsharp-mask amount of the
    /// garment texture and reduction of the transferred shading (a logo
    /// stays legible in a fold). Raised when branding quality fails.
    pub branding_enhancement_weight: f32,
}

impl Default for RenderParams {
    fn default() -> Self {
        QualityTier::Standard.parameters()
    }
}

impl RenderParams {
    /// The values clamped to their documented ranges; NaN becomes the
    /// standard tier's value.
    pub fn clamped(&self) -> RenderParams {
        let d = QualityTier::Standard.parameters();
        let c = |v: f32, dv: f32, hi: f32| if v.is_finite() { v.clamp(0.0, hi) } else { dv };
        RenderParams {
            model_reference_strength: c(
                self.model_reference_strength,
                d.model_reference_strength,
                1.0,
            ),
            pose_guidance_scale: c(self.pose_guidance_scale, d.pose_guidance_scale, 1.5),
            color_matching_weight: c(self.color_matching_weight, d.color_matching_weight, 1.0),
            style_transfer_weight: c(self.style_transfer_weight, d.style_transfer_weight, 1.0),
            branding_enhancement_weight: c(
                self.branding_enhancement_weight,
                d.branding_enhancement_weight,
                1.0,
            ),
        }
    }
}

/// The seed's quality tiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QualityTier {
    Standard,
    Premium,
    Ultra,
}

/// Validation thresholds of a tier (seed: "Validation Thresholds").
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TierThresholds {
    pub overall: f32,
    pub face: f32,
    pub pose: f32,
    pub color: f32,
    pub style: f32,
    pub branding: f32,
}

impl QualityTier {
    pub const ALL: [QualityTier; 3] = [
        QualityTier::Standard,
        QualityTier::Premium,
        QualityTier::Ultra,
    ];

    pub fn name(self) -> &'static str {
        match self {
            QualityTier::Standard => "standard",
            QualityTier::Premium => "premium",
            QualityTier::Ultra => "ultra",
        }
    }

    pub fn parse(s: &str) -> Option<QualityTier> {
        QualityTier::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(s))
    }

    /// The seed's threshold table.
    pub fn thresholds(self) -> TierThresholds {
        match self {
            QualityTier::Standard => TierThresholds {
                overall: 0.65,
                face: 0.65,
                pose: 0.55,
                color: 0.65,
                style: 0.55,
                branding: 0.75,
            },
            QualityTier::Premium => TierThresholds {
                overall: 0.75,
                face: 0.75,
                pose: 0.65,
                color: 0.75,
                style: 0.65,
                branding: 0.85,
            },
            QualityTier::Ultra => TierThresholds {
                overall: 0.85,
                face: 0.85,
                pose: 0.75,
                color: 0.85,
                style: 0.75,
                branding: 0.90,
            },
        }
    }

    /// Starting render parameters. Standard is the seed's
    /// `qualityTiers.js` example; the seed elides premium and ultra, so they
    /// are ours: each step preserves more of the person and the product.
    pub fn parameters(self) -> RenderParams {
        match self {
            QualityTier::Standard => RenderParams {
                model_reference_strength: 0.8,
                pose_guidance_scale: 1.0,
                color_matching_weight: 0.7,
                style_transfer_weight: 0.6,
                branding_enhancement_weight: 0.8,
            },
            QualityTier::Premium => RenderParams {
                model_reference_strength: 0.85,
                pose_guidance_scale: 1.0,
                color_matching_weight: 0.8,
                style_transfer_weight: 0.65,
                branding_enhancement_weight: 0.9,
            },
            QualityTier::Ultra => RenderParams {
                model_reference_strength: 0.9,
                pose_guidance_scale: 1.05,
                color_matching_weight: 0.9,
                style_transfer_weight: 0.7,
                branding_enhancement_weight: 1.0,
            },
        }
    }

    /// The tier's display name (the seed's `qualityTiers` response).
    pub fn title(self) -> &'static str {
        match self {
            QualityTier::Standard => "Standard",
            QualityTier::Premium => "Premium",
            QualityTier::Ultra => "Ultra",
        }
    }

    /// One line on what the tier is for. Standard is the seed's text; the
    /// seed elides the others, so they follow its tier table's use cases.
    pub fn description(self) -> &'static str {
        match self {
            QualityTier::Standard => "Balanced quality and speed",
            QualityTier::Premium => "Higher quality for marketing materials",
            QualityTier::Ultra => "Maximum quality for professional campaigns",
        }
    }

    /// The seed's processing-time range of the tier.
    pub fn estimated_time(self) -> &'static str {
        match self {
            QualityTier::Standard => "30-60 seconds",
            QualityTier::Premium => "60-120 seconds",
            QualityTier::Ultra => "120-300 seconds",
        }
    }

    /// Retry limit of the tier (the seed's standard example says 3).
    pub fn max_retries(self) -> u32 {
        match self {
            QualityTier::Standard => 3,
            QualityTier::Premium => 4,
            QualityTier::Ultra => 5,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_tier_is_the_seed_example() {
        let p = QualityTier::Standard.parameters();
        assert_eq!(p.model_reference_strength, 0.8);
        assert_eq!(p.pose_guidance_scale, 1.0);
        assert_eq!(p.color_matching_weight, 0.7);
        assert_eq!(p.style_transfer_weight, 0.6);
        assert_eq!(p.branding_enhancement_weight, 0.8);
        assert_eq!(QualityTier::Ultra.thresholds().branding, 0.90);
    }

    #[test]
    fn parse_and_clamp() {
        assert_eq!(QualityTier::parse("Premium"), Some(QualityTier::Premium));
        let wild = RenderParams {
            model_reference_strength: f32::NAN,
            pose_guidance_scale: 9.0,
            color_matching_weight: -1.0,
            ..Default::default()
        };
        let c = wild.clamped();
        assert_eq!(c.model_reference_strength, 0.8);
        assert_eq!(c.pose_guidance_scale, 1.5);
        assert_eq!(c.color_matching_weight, 0.0);
    }
}
