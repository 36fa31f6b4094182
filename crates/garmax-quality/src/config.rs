//! Quality tiers, validator weights, retry bounds and cache settings, read
//! from a TOML file a user can edit (`config/quality_tiers.toml`, embedded as
//! the default) and checked before use.
//!
//! Field names follow the seed's `qualityTiers.js` (camelCase), so the same
//! structure serialises to the JSON of `GET /api/enhanced-tryon/quality-tiers`
//! ([`QualityConfig::tiers_response`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::QualityError;

/// The embedded default configuration (the committed `config/quality_tiers.toml`).
pub const DEFAULT_TOML: &str = include_str!("../../../config/quality_tiers.toml");

/// The seed's three quality tiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Standard,
    Premium,
    Ultra,
}

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::Standard, Tier::Premium, Tier::Ultra];

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Standard => "standard",
            Tier::Premium => "premium",
            Tier::Ultra => "ultra",
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Tier {
    type Err = QualityError;
    fn from_str(s: &str) -> Result<Tier, QualityError> {
        Tier::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| QualityError::UnknownTier(s.to_string()))
    }
}

/// The five validators, in report order. Used as the key of weights,
/// thresholds and retry strategies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    Face,
    Pose,
    Color,
    Style,
    Branding,
}

impl Metric {
    pub const ALL: [Metric; 5] = [
        Metric::Face,
        Metric::Pose,
        Metric::Color,
        Metric::Style,
        Metric::Branding,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Face => "face",
            Metric::Pose => "pose",
            Metric::Color => "color",
            Metric::Style => "style",
            Metric::Branding => "branding",
        }
    }

    /// The generation parameter the seed's retry strategy raises when this
    /// metric fails.
    pub fn knob(self) -> Knob {
        match self {
            Metric::Face => Knob::ModelReferenceStrength,
            Metric::Pose => Knob::PoseGuidanceScale,
            Metric::Color => Knob::ColorMatchingWeight,
            Metric::Style => Knob::StyleTransferWeight,
            Metric::Branding => Knob::BrandingEnhancementWeight,
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The seed's `consistency` group of thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyThresholds {
    pub face: f32,
    pub pose: f32,
}

/// The seed's `accuracy` group of thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccuracyThresholds {
    pub color: f32,
    pub style: f32,
    pub branding: f32,
}

/// Pass marks of one tier, as fractions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    pub overall: f32,
    pub consistency: ConsistencyThresholds,
    pub accuracy: AccuracyThresholds,
}

impl Thresholds {
    pub fn of(&self, metric: Metric) -> f32 {
        match metric {
            Metric::Face => self.consistency.face,
            Metric::Pose => self.consistency.pose,
            Metric::Color => self.accuracy.color,
            Metric::Style => self.accuracy.style,
            Metric::Branding => self.accuracy.branding,
        }
    }
}

/// The generation parameters the retry planner turns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Knob {
    ModelReferenceStrength,
    PoseGuidanceScale,
    ColorMatchingWeight,
    StyleTransferWeight,
    BrandingEnhancementWeight,
}

impl Knob {
    pub const ALL: [Knob; 5] = [
        Knob::ModelReferenceStrength,
        Knob::PoseGuidanceScale,
        Knob::ColorMatchingWeight,
        Knob::StyleTransferWeight,
        Knob::BrandingEnhancementWeight,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Knob::ModelReferenceStrength => "modelReferenceStrength",
            Knob::PoseGuidanceScale => "poseGuidanceScale",
            Knob::ColorMatchingWeight => "colorMatchingWeight",
            Knob::StyleTransferWeight => "styleTransferWeight",
            Knob::BrandingEnhancementWeight => "brandingEnhancementWeight",
        }
    }
}

/// The seed's generation parameters; the renderer reads these knobs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Parameters {
    pub model_reference_strength: f32,
    pub pose_guidance_scale: f32,
    pub color_matching_weight: f32,
    pub style_transfer_weight: f32,
    pub branding_enhancement_weight: f32,
}

impl Parameters {
    pub fn get(&self, knob: Knob) -> f32 {
        match knob {
            Knob::ModelReferenceStrength => self.model_reference_strength,
            Knob::PoseGuidanceScale => self.pose_guidance_scale,
            Knob::ColorMatchingWeight => self.color_matching_weight,
            Knob::StyleTransferWeight => self.style_transfer_weight,
            Knob::BrandingEnhancementWeight => self.branding_enhancement_weight,
        }
    }

    pub fn set(&mut self, knob: Knob, value: f32) {
        let slot = match knob {
            Knob::ModelReferenceStrength => &mut self.model_reference_strength,
            Knob::PoseGuidanceScale => &mut self.pose_guidance_scale,
            Knob::ColorMatchingWeight => &mut self.color_matching_weight,
            Knob::StyleTransferWeight => &mut self.style_transfer_weight,
            Knob::BrandingEnhancementWeight => &mut self.branding_enhancement_weight,
        };
        *slot = value;
    }
}

/// The renderer's knobs (`garmax_core::tier::RenderParams`) are the same
/// five numbers under the same names.
impl From<garmax_core::tier::RenderParams> for Parameters {
    fn from(r: garmax_core::tier::RenderParams) -> Parameters {
        Parameters {
            model_reference_strength: r.model_reference_strength,
            pose_guidance_scale: r.pose_guidance_scale,
            color_matching_weight: r.color_matching_weight,
            style_transfer_weight: r.style_transfer_weight,
            branding_enhancement_weight: r.branding_enhancement_weight,
        }
    }
}

impl From<Parameters> for garmax_core::tier::RenderParams {
    fn from(p: Parameters) -> garmax_core::tier::RenderParams {
        garmax_core::tier::RenderParams {
            model_reference_strength: p.model_reference_strength,
            pose_guidance_scale: p.pose_guidance_scale,
            color_matching_weight: p.color_matching_weight,
            style_transfer_weight: p.style_transfer_weight,
            branding_enhancement_weight: p.branding_enhancement_weight,
        }
    }
}

impl From<garmax_core::tier::QualityTier> for Tier {
    fn from(t: garmax_core::tier::QualityTier) -> Tier {
        match t {
            garmax_core::tier::QualityTier::Standard => Tier::Standard,
            garmax_core::tier::QualityTier::Premium => Tier::Premium,
            garmax_core::tier::QualityTier::Ultra => Tier::Ultra,
        }
    }
}

/// A `[min, max]` range per knob, or a step per knob: both keyed like
/// [`Parameters`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PerKnob<T> {
    pub model_reference_strength: T,
    pub pose_guidance_scale: T,
    pub color_matching_weight: T,
    pub style_transfer_weight: T,
    pub branding_enhancement_weight: T,
}

impl<T: Copy> PerKnob<T> {
    pub fn get(&self, knob: Knob) -> T {
        match knob {
            Knob::ModelReferenceStrength => self.model_reference_strength,
            Knob::PoseGuidanceScale => self.pose_guidance_scale,
            Knob::ColorMatchingWeight => self.color_matching_weight,
            Knob::StyleTransferWeight => self.style_transfer_weight,
            Knob::BrandingEnhancementWeight => self.branding_enhancement_weight,
        }
    }
}

/// One tier: the seed's `qualityTiers.js` entry plus the display fields of
/// the `quality-tiers` API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TierConfig {
    pub name: String,
    pub description: String,
    pub estimated_time: String,
    pub thresholds: Thresholds,
    pub parameters: Parameters,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// Time limit of the whole generation, all attempts together.
    pub timeout_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tiers {
    pub standard: TierConfig,
    pub premium: TierConfig,
    pub ultra: TierConfig,
}

/// Weights of the overall score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weights {
    pub face: f32,
    pub pose: f32,
    pub color: f32,
    pub style: f32,
    pub branding: f32,
}

impl Weights {
    pub fn of(&self, metric: Metric) -> f32 {
        match metric {
            Metric::Face => self.face,
            Metric::Pose => self.pose,
            Metric::Color => self.color,
            Metric::Style => self.style,
            Metric::Branding => self.branding,
        }
    }
}

/// The seed's `cacheConfig`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CacheSettings {
    pub enable_validation_cache: bool,
    pub enable_analysis_cache: bool,
    /// Time to live of an entry, ms.
    pub cache_timeout: u64,
    pub max_cache_size: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RetrySettings {
    /// Total cost allowed for one generation, all attempts together.
    pub cost_limit: f64,
    /// Factor by which each later retry's step grows.
    pub growth: f32,
    pub bounds: PerKnob<[f32; 2]>,
    pub steps: PerKnob<f32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ValidationSettings {
    /// The seed's VALIDATION_TIMEOUT for one image, ms.
    pub timeout_ms: u64,
}

/// Everything `config/quality_tiers.toml` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QualityConfig {
    pub validation: ValidationSettings,
    pub weights: Weights,
    pub cache: CacheSettings,
    pub retry: RetrySettings,
    pub tiers: Tiers,
}

impl Default for QualityConfig {
    /// The embedded default. It is checked by a unit test, so parsing it
    /// cannot fail in a released build.
    fn default() -> QualityConfig {
        match QualityConfig::from_toml(DEFAULT_TOML) {
            Ok(c) => c,
            Err(e) => unreachable!("the embedded quality_tiers.toml is checked by tests: {e}"),
        }
    }
}

impl QualityConfig {
    /// Parses and checks a TOML document.
    pub fn from_toml(text: &str) -> Result<QualityConfig, QualityError> {
        let config: QualityConfig =
            toml::from_str(text).map_err(|e| QualityError::Config(e.to_string()))?;
        config.check()?;
        Ok(config)
    }

    pub fn tier(&self, tier: Tier) -> &TierConfig {
        match tier {
            Tier::Standard => &self.tiers.standard,
            Tier::Premium => &self.tiers.premium,
            Tier::Ultra => &self.tiers.ultra,
        }
    }

    /// Checks every value is in range, so later code can trust it.
    pub fn check(&self) -> Result<(), QualityError> {
        let bad = |what: String| Err(QualityError::Config(what));
        let fraction = |x: f32| x.is_finite() && (0.0..=1.0).contains(&x);
        for metric in Metric::ALL {
            let w = self.weights.of(metric);
            if !(w.is_finite() && w >= 0.0) {
                return bad(format!(
                    "weights.{metric} = {w} must be a finite number ≥ 0"
                ));
            }
        }
        if Metric::ALL.iter().map(|&m| self.weights.of(m)).sum::<f32>() <= 0.0 {
            return bad("weights must not all be zero".into());
        }
        if self.cache.max_cache_size == 0 {
            return bad("cache.maxCacheSize must be at least 1".into());
        }
        if self.cache.cache_timeout == 0 {
            return bad("cache.cacheTimeout must be positive".into());
        }
        if self.validation.timeout_ms == 0 {
            return bad("validation.timeoutMs must be positive".into());
        }
        let r = &self.retry;
        if !(r.cost_limit.is_finite() && r.cost_limit >= 0.0) {
            return bad(format!("retry.costLimit = {} must be ≥ 0", r.cost_limit));
        }
        if !(r.growth.is_finite() && (1.0..=4.0).contains(&r.growth)) {
            return bad(format!("retry.growth = {} must lie in [1, 4]", r.growth));
        }
        for knob in Knob::ALL {
            let [lo, hi] = r.bounds.get(knob);
            if !(lo.is_finite() && hi.is_finite() && lo >= 0.0 && lo < hi) {
                return bad(format!(
                    "retry.bounds.{} = [{lo}, {hi}] must be finite with 0 ≤ min < max",
                    knob.as_str()
                ));
            }
            let step = r.steps.get(knob);
            if !(step.is_finite() && step > 0.0 && step <= hi - lo) {
                return bad(format!(
                    "retry.steps.{} = {step} must be positive and no wider than its range",
                    knob.as_str()
                ));
            }
        }
        for tier in Tier::ALL {
            let t = self.tier(tier);
            let th = &t.thresholds;
            if !fraction(th.overall) {
                return bad(format!(
                    "tiers.{tier}.thresholds.overall = {} must lie in [0, 1]",
                    th.overall
                ));
            }
            for metric in Metric::ALL {
                let v = th.of(metric);
                if !fraction(v) {
                    return bad(format!(
                        "tiers.{tier}.thresholds.{metric} = {v} must lie in [0, 1]"
                    ));
                }
            }
            for knob in Knob::ALL {
                let v = t.parameters.get(knob);
                let [lo, hi] = r.bounds.get(knob);
                if !(v.is_finite() && v >= lo && v <= hi) {
                    return bad(format!(
                        "tiers.{tier}.parameters.{} = {v} lies outside retry.bounds [{lo}, {hi}]",
                        knob.as_str()
                    ));
                }
            }
            if t.max_retries > 10 {
                return bad(format!(
                    "tiers.{tier}.maxRetries = {} is more than 10",
                    t.max_retries
                ));
            }
            if t.timeout_ms == 0 {
                return bad(format!("tiers.{tier}.timeoutMs must be positive"));
            }
        }
        Ok(())
    }

    /// The body of `GET /api/enhanced-tryon/quality-tiers`, in the seed's
    /// shape (`{"success": true, "qualityTiers": {"standard": {...}, ...}}`),
    /// with the parameters, retry limit and timeout added to each tier.
    pub fn tiers_response(&self) -> serde_json::Value {
        let mut tiers = serde_json::Map::new();
        for tier in Tier::ALL {
            let value = serde_json::to_value(self.tier(tier)).unwrap_or(serde_json::Value::Null);
            tiers.insert(tier.as_str().to_string(), value);
        }
        serde_json::json!({ "success": true, "qualityTiers": tiers })
    }
}

#[cfg(test)]
mod tests {

    /// `config/quality_tiers.toml` repeats the tier table of
    /// `garmax_core::tier` (the source) for its readers: they must agree.
    #[test]
    fn the_tier_file_agrees_with_the_core_table() {
        use garmax_core::tier::QualityTier;
        let config = QualityConfig::default();
        for t in QualityTier::ALL {
            let c = config.tier(Tier::from(t));
            let th = t.thresholds();
            assert_eq!(c.thresholds.overall, th.overall, "{t:?} overall");
            assert_eq!(c.thresholds.consistency.face, th.face, "{t:?} face");
            assert_eq!(c.thresholds.consistency.pose, th.pose, "{t:?} pose");
            assert_eq!(c.thresholds.accuracy.color, th.color, "{t:?} color");
            assert_eq!(c.thresholds.accuracy.style, th.style, "{t:?} style");
            assert_eq!(
                c.thresholds.accuracy.branding, th.branding,
                "{t:?} branding"
            );
            assert_eq!(
                c.parameters,
                Parameters::from(t.parameters()),
                "{t:?} parameters"
            );
            assert_eq!(c.max_retries, t.max_retries(), "{t:?} maxRetries");
            assert_eq!(Tier::from(t).as_str(), t.name());
        }
    }

    use super::*;

    #[test]
    fn embedded_default_parses_with_the_seed_thresholds() {
        let c = QualityConfig::from_toml(DEFAULT_TOML).unwrap();
        let expect = [
            (Tier::Standard, [0.65, 0.65, 0.55, 0.65, 0.55, 0.75]),
            (Tier::Premium, [0.75, 0.75, 0.65, 0.75, 0.65, 0.85]),
            (Tier::Ultra, [0.85, 0.85, 0.75, 0.85, 0.75, 0.90]),
        ];
        for (tier, [overall, face, pose, color, style, branding]) in expect {
            let th = c.tier(tier).thresholds;
            assert_eq!(th.overall, overall, "{tier}");
            assert_eq!(
                [
                    Metric::Face,
                    Metric::Pose,
                    Metric::Color,
                    Metric::Style,
                    Metric::Branding
                ]
                .map(|m| th.of(m)),
                [face, pose, color, style, branding],
                "{tier}"
            );
        }
        let p = c.tier(Tier::Standard).parameters;
        assert_eq!(
            Knob::ALL.map(|k| p.get(k)),
            [0.8, 1.0, 0.7, 0.6, 0.8],
            "the seed's standard parameters"
        );
        assert_eq!(c.tier(Tier::Standard).max_retries, 3);
        assert_eq!(c.tier(Tier::Standard).timeout_ms, 60_000);
        assert_eq!(c.cache.max_cache_size, 1000);
        assert_eq!(c.cache.cache_timeout, 3_600_000);
        assert_eq!(QualityConfig::default(), c);
    }

    #[test]
    fn tiers_response_has_the_seed_shape() {
        let v = QualityConfig::default().tiers_response();
        assert_eq!(v["success"], true);
        let std = &v["qualityTiers"]["standard"];
        assert_eq!(std["name"], "Standard");
        assert_eq!(std["description"], "Balanced quality and speed");
        assert_eq!(std["estimatedTime"], "30-60 seconds");
        assert!((std["thresholds"]["overall"].as_f64().unwrap() - 0.65).abs() < 1e-6);
        assert!((std["thresholds"]["consistency"]["pose"].as_f64().unwrap() - 0.55).abs() < 1e-6);
        assert!((std["thresholds"]["accuracy"]["branding"].as_f64().unwrap() - 0.75).abs() < 1e-6);
        assert!(
            (std["parameters"]["modelReferenceStrength"]
                .as_f64()
                .unwrap()
                - 0.8)
                .abs()
                < 1e-6
        );
        assert_eq!(std["maxRetries"], 3);
        assert!(v["qualityTiers"]["ultra"].is_object());
    }

    #[test]
    fn bad_values_are_refused_with_cfg_013() {
        use garmax_core::Coded;
        let cases = [
            ("overall = 0.65", "overall = 1.65"),
            ("maxCacheSize = 1000", "maxCacheSize = 0"),
            (
                "modelReferenceStrength = 0.8",
                "modelReferenceStrength = 1.8",
            ),
            ("growth = 1.5", "growth = 0.5"),
            ("face = 0.20", "face = -1.0"),
            ("maxRetries = 3", "maxRetries = 30"),
            ("[weights]", "[weights]\nextra = 1.0"),
            (
                "modelReferenceStrength = [0.5, 1.0]",
                "modelReferenceStrength = [1.0, 0.5]",
            ),
        ];
        for (from, to) in cases {
            assert!(DEFAULT_TOML.contains(from), "{from}");
            let text = DEFAULT_TOML.replacen(from, to, 1);
            let err = QualityConfig::from_toml(&text).expect_err(to);
            assert_eq!(err.code(), garmax_core::ErrorCode::InvalidConfig, "{to}");
        }
        assert!(QualityConfig::from_toml("not toml [").is_err());
        assert!(QualityConfig::from_toml("").is_err());
    }

    #[test]
    fn tier_names_parse() {
        assert_eq!("Premium".parse::<Tier>().unwrap(), Tier::Premium);
        assert!("gold".parse::<Tier>().is_err());
    }
}
