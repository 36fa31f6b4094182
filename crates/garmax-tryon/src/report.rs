//! `report.json`: the typed report of one try-on.

use garmax_quality::RetryHistory;
use garmax_render::warp::Correspondence;
use garmax_render::{
    BodyFrame, QualitySettings, RenderParams, RenderStats, Stage1Source, TierThresholds,
};
use garmax_vision::GarmentAnalysis;
use serde::{Deserialize, Serialize};

use crate::person::PersonReport;
use crate::{PreparedGarment, PreparedPerson, SeedValidation, TryOnOutcome};

/// One stage's wall time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    pub stage: String,
    pub ms: f64,
}

/// Everything `report.json` says about one try-on (camelCase keys, as the
/// seed's API).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TryOnReport {
    pub provider: String,
    pub tier: String,
    pub thresholds: TierThresholds,
    pub quality: String,
    pub quality_settings: QualitySettings,
    pub cost_estimate: CostEstimate,
    /// Where the person came from (`None` for a stored avatar).
    pub stage1: Option<Stage1Source>,
    pub product_analysis: GarmentAnalysis,
    pub person: PersonReport,
    /// `smpl.json` of the body fit.
    pub body: Option<serde_json::Value>,
    pub render: RenderReport,
    pub timings_ms: Vec<Timing>,
    pub validation: Option<SeedValidation>,
    pub retry_history: Option<RetryHistory>,
    pub warnings: Vec<String>,
    /// Every provider call (or skip) behind the renders, in order.
    pub provider_attempts: Vec<garmax_render::ProviderAttempt>,
}

#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CostEstimate {
    pub credits: u32,
    pub remote_equivalent_usd: f64,
    pub provider_usd: f64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RenderReport {
    pub parameters: RenderParams,
    pub stats: RenderStats,
    pub correspondences: Vec<Correspondence>,
    pub sleeve_rotation_deg: [f32; 2],
    pub body_frame: BodyFrame,
    pub output_size: [u32; 2],
}

impl TryOnOutcome {
    /// The stage timings of the whole try-on, in pipeline order: product
    /// analysis, person analysis, body fit + maps, product application.
    pub fn all_timings(&self, person: &PreparedPerson, garment: &PreparedGarment) -> Vec<Timing> {
        let mut t = garment.timings.clone();
        t.extend(person.timings.iter().cloned());
        t.extend(self.timings.iter().cloned());
        t
    }

    /// Every warning of the try-on: the person's, the garment's, the render's.
    pub fn all_warnings(&self, person: &PreparedPerson, garment: &PreparedGarment) -> Vec<String> {
        let mut w = garment.warnings.clone();
        w.extend(person.warnings.iter().cloned());
        w.extend(self.warnings.iter().cloned());
        w
    }

    /// The typed `report.json`.
    pub fn report(
        &self,
        person: &PreparedPerson,
        garment: &PreparedGarment,
        stage1: Option<&Stage1Source>,
        options: &crate::TryOnOptions,
    ) -> TryOnReport {
        let settings = self.quality.settings();
        let d = &self.render.detail;
        let th = &options.config.tier(self.tier.into()).thresholds;
        TryOnReport {
            provider: self.provider.clone(),
            tier: self.tier.name().into(),
            thresholds: TierThresholds {
                overall: th.overall,
                face: th.consistency.face,
                pose: th.consistency.pose,
                color: th.accuracy.color,
                style: th.accuracy.style,
                branding: th.accuracy.branding,
            },
            quality: self.quality.name().into(),
            quality_settings: settings,
            cost_estimate: CostEstimate {
                credits: settings.credits,
                remote_equivalent_usd: settings.cost_estimate,
                provider_usd: self.provider_cost,
            },
            stage1: stage1.cloned(),
            product_analysis: garment.analysis.clone(),
            person: person.report(),
            body: person.guidance.as_ref().map(|g| g.smpl.clone()),
            render: RenderReport {
                parameters: self.params,
                stats: d.stats.clone(),
                correspondences: d.correspondences.clone(),
                sleeve_rotation_deg: d.sleeve_rotation_deg,
                body_frame: d.body.clone(),
                output_size: [self.render.image.width(), self.render.image.height()],
            },
            timings_ms: self.all_timings(person, garment),
            validation: self.validation.as_ref().map(|v| v.seed()),
            retry_history: self.validation.as_ref().map(|v| v.history.clone()),
            warnings: self.all_warnings(person, garment),
            provider_attempts: self.provider_attempts.clone(),
        }
    }
}
