//! The validator plug-in interface, the input every validator sees, and the
//! engine that runs them and combines their scores.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use garmax_core::pose::PoseLandmarks;
use garmax_core::product_map::ProductMap;
use garmax_vision::GarmentAnalysis;
use garmax_vision::mask::Mask;
use image::RgbaImage;
use serde::Serialize;

use crate::cache::{Clock, SystemClock};
use crate::config::{Metric, QualityConfig, Thresholds, TierConfig, Weights};
use crate::error::QualityError;
use crate::imgops::Gray;
use crate::region;

/// Which convention a face point list follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaceLayout {
    /// MediaPipe face mesh: 468 points (478 with irises; extra points ignored).
    Mesh468,
    /// Five points in image order: eye on the image's left, eye on the
    /// image's right, nose tip, mouth corner on the left, mouth corner on the
    /// right.
    Five,
}

/// Face landmarks in image pixels.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct FacePoints {
    pub layout: FaceLayout,
    pub points: Vec<[f32; 2]>,
}

impl FacePoints {
    pub fn five(points: [[f32; 2]; 5]) -> FacePoints {
        FacePoints {
            layout: FaceLayout::Five,
            points: points.to_vec(),
        }
    }

    /// The five alignment points (eyes, nose tip, mouth corners), in the
    /// [`FaceLayout::Five`] order; `None` if the list is too short or holds
    /// non-finite values.
    pub fn key_points(&self) -> Option<[[f32; 2]; 5]> {
        let p = |i: usize| {
            self.points
                .get(i)
                .copied()
                .filter(|q| q[0].is_finite() && q[1].is_finite())
        };
        let mid = |i: usize, j: usize| {
            Some({
                let (a, b) = (p(i)?, p(j)?);
                [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0]
            })
        };
        match self.layout {
            FaceLayout::Five => Some([p(0)?, p(1)?, p(2)?, p(3)?, p(4)?]),
            // Mesh indices: 33/133 and 362/263 are the eye corners, 1 the
            // nose tip, 61/291 the mouth corners (subject's right first,
            // which is the image's left in a photo facing the camera).
            FaceLayout::Mesh468 => Some([mid(33, 133)?, mid(362, 263)?, p(1)?, p(61)?, p(291)?]),
        }
    }
}

/// The product side of a validation: the garment analysis with the photo
/// and mask it was computed from.
#[derive(Clone, Copy)]
pub struct ProductInput<'a> {
    pub analysis: &'a GarmentAnalysis,
    pub image: &'a RgbaImage,
    /// The garment mask at the photo's resolution (`AnalysisOutput::mask`).
    pub mask: &'a Mask,
}

/// Everything a validator may look at. Only the generated image and the
/// product are required; validators that need a missing part report
/// themselves skipped.
pub struct ValidationInput<'a> {
    pub generated: &'a RgbaImage,
    pub product: ProductInput<'a>,
    /// The person or persona reference photo.
    pub reference: Option<&'a RgbaImage>,
    /// The pose the render should show (the reference's landmarks or the
    /// persona pose), in the reference's pixels.
    pub expected_pose: Option<&'a PoseLandmarks>,
    /// Landmarks detected on the generated image.
    pub detected_pose: Option<&'a PoseLandmarks>,
    pub reference_face: Option<&'a FacePoints>,
    pub generated_face: Option<&'a FacePoints>,
    /// Where the renderer put the garment in the generated image. Without it
    /// the region is estimated from the product's colours.
    pub garment_mask: Option<&'a Mask>,
    /// The product's branding regions mapped into the generated image
    /// (`[x, y, w, h]`), one per `analysis.branding.regions` entry; `None`
    /// entries (or no list) mean "not known", and the validator searches.
    pub logo_boxes: Option<&'a [Option<[f32; 4]>]>,
    /// Which product pixel each generated pixel shows, when the renderer
    /// knows (the local renderer does; a remote provider's image does not).
    /// The branding validator then reads the print through it instead of
    /// searching for it.
    pub product_map: Option<&'a ProductMap>,
    gray: OnceLock<Gray>,
    region: OnceLock<region::GarmentRegion>,
}

impl<'a> ValidationInput<'a> {
    pub fn new(generated: &'a RgbaImage, product: ProductInput<'a>) -> ValidationInput<'a> {
        ValidationInput {
            generated,
            product,
            reference: None,
            expected_pose: None,
            detected_pose: None,
            reference_face: None,
            generated_face: None,
            garment_mask: None,
            logo_boxes: None,
            product_map: None,
            gray: OnceLock::new(),
            region: OnceLock::new(),
        }
    }

    /// The cache key of this validation: SHA-256 over every input that can
    /// change a score, the tier and the whole configuration (the seed's
    /// validation cache is keyed by content, so a changed threshold or a
    /// re-rendered image never returns a stale verdict).
    pub fn content_key(
        &self,
        tier: crate::config::Tier,
        config: &QualityConfig,
    ) -> crate::cache::ContentKey {
        let mut k = crate::cache::KeyBuilder::new("validation");
        k.image("generated", self.generated)
            .image("product", self.product.image)
            .bytes("product-mask", self.product.mask.as_raw())
            .json("analysis", self.product.analysis)
            .json("tier", &tier)
            .config(config);
        if let Some(r) = self.reference {
            k.image("reference", r);
        }
        k.json("expected-pose", &self.expected_pose)
            .json("detected-pose", &self.detected_pose)
            .json("reference-face", &self.reference_face)
            .json("generated-face", &self.generated_face)
            .json("logo-boxes", &self.logo_boxes);
        if let Some(m) = self.garment_mask {
            k.bytes("garment-mask", m.as_raw());
        }
        if let Some(m) = self.product_map {
            k.bytes("product-map", &m.to_bytes());
        }
        k.finish()
    }

    /// Grey version of the generated image, computed once and shared.
    pub fn generated_gray(&self) -> &Gray {
        self.gray.get_or_init(|| Gray::from_rgba(self.generated))
    }

    /// The garment region in the generated image: the given mask, or one
    /// estimated from the product's colours. Computed once and shared.
    pub fn garment_region(&self) -> &region::GarmentRegion {
        self.region
            .get_or_init(|| region::GarmentRegion::build(self))
    }
}

/// One validator's verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidatorResult {
    /// Weight and threshold key (`face`, `pose`, …).
    pub key: String,
    pub name: String,
    /// 0–1; `None` when the validator could not run (see `skipped`).
    pub score: Option<f32>,
    pub threshold: Option<f32>,
    /// `None` when skipped.
    pub passes: Option<bool>,
    /// Why no score was computed.
    pub skipped: Option<String>,
    pub feedback: Vec<String>,
    pub details: serde_json::Value,
}

impl ValidatorResult {
    pub fn scored(
        key: &str,
        name: &str,
        score: f32,
        threshold: f32,
        feedback: Vec<String>,
        details: serde_json::Value,
    ) -> ValidatorResult {
        // A NaN would poison the overall average; a validator bug must not
        // turn into a passing verdict, so it scores 0.
        let score = if score.is_finite() {
            score.clamp(0.0, 1.0)
        } else {
            0.0
        };
        ValidatorResult {
            key: key.to_string(),
            name: name.to_string(),
            score: Some(score),
            threshold: Some(threshold),
            passes: Some(score >= threshold),
            skipped: None,
            feedback,
            details,
        }
    }

    pub fn skipped(key: &str, name: &str, reason: &str) -> ValidatorResult {
        ValidatorResult {
            key: key.to_string(),
            name: name.to_string(),
            score: None,
            threshold: None,
            passes: None,
            skipped: Some(reason.to_string()),
            feedback: vec![format!("{name}: skipped: {reason}")],
            details: serde_json::Value::Null,
        }
    }
}

/// A quality check. Implement it and [`ValidationEngine::push`] it to add a
/// validator (the seed's "Adding New Quality Validators").
pub trait Validator: Send + Sync {
    /// Display name, e.g. "Colour matching".
    fn name(&self) -> &str;
    /// Key of its weight and threshold (`face`, `pose`, `color`, `style`,
    /// `branding`, or a plug-in's own key with a weight in the config).
    fn key(&self) -> &str;
    /// The pass mark for plug-in keys the tier tables do not know.
    fn default_threshold(&self) -> f32 {
        0.5
    }
    /// Scores the input. Must not panic on any input: a missing part is a
    /// [`ValidatorResult::skipped`] result.
    fn validate(&self, input: &ValidationInput<'_>, thresholds: &Thresholds) -> ValidatorResult;
}

impl Thresholds {
    /// Threshold by validator key; `None` for keys the tiers do not list.
    pub fn get(&self, key: &str) -> Option<f32> {
        Metric::ALL
            .into_iter()
            .find(|m| m.as_str() == key)
            .map(|m| self.of(m))
    }
}

/// All validators' results and the combined verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidationReport {
    pub passes: bool,
    pub overall_quality: f32,
    pub overall_threshold: f32,
    pub results: Vec<ValidatorResult>,
    pub feedback: Vec<String>,
    pub elapsed_ms: f64,
}

impl ValidationReport {
    /// The score of one validator, if it ran.
    pub fn score(&self, key: &str) -> Option<f32> {
        self.results
            .iter()
            .find(|r| r.key == key)
            .and_then(|r| r.score)
    }

    pub fn result(&self, key: &str) -> Option<&ValidatorResult> {
        self.results.iter().find(|r| r.key == key)
    }

    /// The `validation` object of the seed's generate response.
    pub fn seed_json(&self) -> serde_json::Value {
        let s = |k: &str| {
            self.score(k)
                .map_or(serde_json::Value::Null, |v| serde_json::json!(v))
        };
        serde_json::json!({
            "passes": self.passes,
            "overallQuality": self.overall_quality,
            "consistency": { "face": s("face"), "pose": s("pose") },
            "accuracy": { "color": s("color"), "style": s("style"), "branding": s("branding") },
            "feedback": self.feedback,
        })
    }
}

/// Runs the registered validators and combines them.
pub struct ValidationEngine {
    validators: Vec<Box<dyn Validator>>,
    weights: Weights,
    extra_weights: Vec<(String, f32)>,
    timeout: Duration,
    clock: Arc<dyn Clock>,
}

impl ValidationEngine {
    /// The five validators of the seed with the config's weights.
    pub fn new(config: &QualityConfig) -> ValidationEngine {
        let mut e = ValidationEngine::empty(config);
        e.push(Box::new(crate::face::FaceValidator::default()));
        e.push(Box::new(crate::pose::PoseValidator));
        e.push(Box::new(crate::color::ColorValidator));
        e.push(Box::new(crate::style::StyleValidator));
        e.push(Box::new(crate::branding::BrandingValidator));
        e
    }

    /// No validators yet.
    pub fn empty(config: &QualityConfig) -> ValidationEngine {
        ValidationEngine {
            validators: Vec::new(),
            weights: config.weights,
            extra_weights: Vec::new(),
            timeout: Duration::from_millis(config.validation.timeout_ms),
            clock: Arc::new(SystemClock::new()),
        }
    }

    /// Replaces a validator with the same key, or adds it.
    pub fn push(&mut self, v: Box<dyn Validator>) {
        self.validators.retain(|old| old.key() != v.key());
        self.validators.push(v);
    }

    /// Weight for a plug-in validator's key (the five seed keys take theirs
    /// from the config).
    pub fn set_weight(&mut self, key: &str, weight: f32) {
        self.extra_weights.retain(|(k, _)| k != key);
        self.extra_weights.push((key.to_string(), weight.max(0.0)));
    }

    /// Uses another clock for the timeout (tests).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> ValidationEngine {
        self.clock = clock;
        self
    }

    pub fn validators(&self) -> impl Iterator<Item = &dyn Validator> {
        self.validators.iter().map(|v| v.as_ref())
    }

    fn weight(&self, key: &str) -> f32 {
        if let Some(m) = Metric::ALL.into_iter().find(|m| m.as_str() == key) {
            return self.weights.of(m);
        }
        self.extra_weights
            .iter()
            .find(|(k, _)| k == key)
            .map_or(0.0, |(_, w)| *w)
    }

    /// Validates one image against a tier. VAL_001 when the validators
    /// together exceed the configured time (checked between validators: a
    /// validator is never interrupted half-way).
    pub fn validate(
        &self,
        input: &ValidationInput<'_>,
        tier: &TierConfig,
    ) -> Result<ValidationReport, QualityError> {
        let start = self.clock.now();
        let mut results = Vec::with_capacity(self.validators.len());
        for v in &self.validators {
            let mut r = v.validate(input, &tier.thresholds);
            if r.score.is_some() && tier.thresholds.get(v.key()).is_none() {
                let th = v.default_threshold();
                r.threshold = Some(th);
                r.passes = r.score.map(|s| s >= th);
            }
            results.push(r);
            let elapsed = self.clock.now().saturating_sub(start);
            if elapsed > self.timeout {
                return Err(QualityError::Timeout {
                    elapsed_ms: elapsed.as_millis() as u64,
                    limit_ms: self.timeout.as_millis() as u64,
                });
            }
        }
        let (mut sum, mut wsum) = (0.0f32, 0.0f32);
        for r in &results {
            if let Some(s) = r.score {
                let w = self.weight(&r.key);
                sum += w * s;
                wsum += w;
            }
        }
        let overall = if wsum > 0.0 { sum / wsum } else { 0.0 };
        let all_pass = results.iter().all(|r| r.passes != Some(false));
        let any_scored = results.iter().any(|r| r.score.is_some());
        let passes = any_scored && all_pass && overall >= tier.thresholds.overall;
        let mut feedback = Vec::new();
        for r in &results {
            match (r.score, r.passes) {
                (Some(s), Some(p)) => feedback.push(format!(
                    "{}: {:.0}% ({} {:.0}%)",
                    r.name,
                    s * 100.0,
                    if p { "passes" } else { "below" },
                    r.threshold.unwrap_or(0.0) * 100.0
                )),
                _ => feedback.push(format!(
                    "{}: skipped: {}",
                    r.name,
                    r.skipped.as_deref().unwrap_or("no score")
                )),
            }
        }
        let elapsed = self.clock.now().saturating_sub(start);
        Ok(ValidationReport {
            passes,
            overall_quality: overall,
            overall_threshold: tier.thresholds.overall,
            results,
            feedback,
            elapsed_ms: elapsed.as_secs_f64() * 1000.0,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use garmax_core::{Coded, ErrorCode};

    use super::*;
    use crate::cache::ManualClock;
    use crate::config::Tier;

    /// A plug-in that scores a constant and can take (simulated) time.
    struct Fixed {
        key: &'static str,
        score: f32,
        clock: Option<Arc<ManualClock>>,
    }

    impl Validator for Fixed {
        fn name(&self) -> &str {
            "Fixed"
        }
        fn key(&self) -> &str {
            self.key
        }
        fn default_threshold(&self) -> f32 {
            0.7
        }
        fn validate(&self, _: &ValidationInput<'_>, th: &Thresholds) -> ValidatorResult {
            if let Some(c) = &self.clock {
                c.advance(Duration::from_secs(20));
            }
            let t = th.get(self.key).unwrap_or(0.0);
            ValidatorResult::scored(
                self.key,
                "Fixed",
                self.score,
                t,
                vec![],
                serde_json::Value::Null,
            )
        }
    }

    fn product() -> (RgbaImage, garmax_vision::GarmentAnalysis, Mask) {
        let g =
            garmax_vision::synthetic::generate(garmax_vision::shape::GarmentType::Tshirt, 5, 128);
        let decoded = garmax_vision::DecodedImage::from_rgba(g.image.clone());
        let out =
            garmax_vision::analyze_garment(&decoded, &garmax_vision::AnalysisOptions::default())
                .unwrap();
        (g.image, out.analysis, out.mask)
    }

    #[test]
    fn plug_ins_are_weighted_and_use_their_own_threshold() {
        let (img, analysis, mask) = product();
        let config = QualityConfig::default();
        let mut engine = ValidationEngine::empty(&config);
        engine.push(Box::new(Fixed {
            key: "color",
            score: 0.9,
            clock: None,
        }));
        engine.push(Box::new(Fixed {
            key: "drape",
            score: 0.6,
            clock: None,
        }));
        engine.set_weight("drape", config.weights.color);
        let input = ValidationInput::new(
            &img,
            ProductInput {
                analysis: &analysis,
                image: &img,
                mask: &mask,
            },
        );
        let r = engine
            .validate(&input, config.tier(Tier::Standard))
            .unwrap();
        assert!(
            (r.overall_quality - 0.75).abs() < 1e-5,
            "equal weights: {}",
            r.overall_quality
        );
        let drape = r.result("drape").unwrap();
        assert_eq!(drape.threshold, Some(0.7));
        assert_eq!(drape.passes, Some(false));
        assert!(!r.passes, "a failing plug-in fails the verdict");
        // Pushing the same key replaces it.
        engine.push(Box::new(Fixed {
            key: "drape",
            score: 0.95,
            clock: None,
        }));
        assert_eq!(engine.validators().count(), 2);
        assert!(
            engine
                .validate(&input, config.tier(Tier::Standard))
                .unwrap()
                .passes
        );
    }

    #[test]
    fn slow_validation_is_val_001() {
        let (img, analysis, mask) = product();
        let config = QualityConfig::default();
        let clock = Arc::new(ManualClock::default());
        let mut engine = ValidationEngine::empty(&config).with_clock(clock.clone());
        for key in ["face", "pose"] {
            engine.push(Box::new(Fixed {
                key,
                score: 0.9,
                clock: Some(clock.clone()),
            }));
        }
        let input = ValidationInput::new(
            &img,
            ProductInput {
                analysis: &analysis,
                image: &img,
                mask: &mask,
            },
        );
        let err = engine
            .validate(&input, config.tier(Tier::Standard))
            .unwrap_err();
        assert_eq!(
            err.code(),
            ErrorCode::ValidationTimeout,
            "40 s > the 30 s limit"
        );
    }
}
