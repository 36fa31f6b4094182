//! The metrics every generation leaves for the analytics — a try-on
//! session's render and an enhanced (catalogue) generation alike: model,
//! pose, tier, provider, attempts, every score, pass/fail, stage times,
//! cost and error code — and their pruning past `METRICS_RETENTION_DAYS`.

use garmax_core::ErrorCode;
use garmax_core::tier::QualityTier;
use garmax_store::generations::{Generation, GenerationMetrics};
use garmax_store::now_ms;
use garmax_store::sessions::Session;
use serde_json::Value;

use crate::engine::Rendered;
use crate::state::AppState;

/// Per-stage wall time, ms.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct StageTimes {
    pub analysis: i64,
    pub stage1: i64,
    pub stage2: i64,
    pub validation: i64,
}

/// What a generation is grouped by besides its session: the catalogue
/// persona and pose (none for a shopper's own avatar) and the A/B variant.
#[derive(Debug, Clone, Default)]
pub(super) struct Labels {
    pub model_id: Option<String>,
    pub pose: Option<String>,
    pub ab_test_id: Option<String>,
    pub ab_variant: Option<String>,
}

impl Labels {
    pub fn of(generation: &Generation) -> Labels {
        Labels {
            model_id: generation.model_id.clone(),
            pose: generation.pose.clone(),
            ab_test_id: generation.ab_test_id.clone(),
            ab_variant: generation.ab_variant.clone(),
        }
    }
}

fn score(v: &Value) -> Option<f64> {
    v.as_f64()
}

/// The metric furthest below its threshold on the first attempt.
pub(super) fn failing_metric(tier: &str, validation: &Value) -> Option<String> {
    let th = QualityTier::parse(tier)
        .unwrap_or(QualityTier::Standard)
        .thresholds();
    let first = &validation["retryHistory"]["attempts"][0];
    let scores = &first["scores"];
    [
        ("face", th.face),
        ("pose", th.pose),
        ("color", th.color),
        ("style", th.style),
        ("branding", th.branding),
    ]
    .into_iter()
    .filter_map(|(k, t)| scores[k].as_f64().map(|s| (k, t as f64 - s)))
    .filter(|(_, short)| *short > 0.0)
    .max_by(|a, b| a.1.total_cmp(&b.1))
    .map(|(k, _)| k.to_string())
}

/// The metrics of a generation that delivered an image (`error`: the code
/// it was delivered with, e.g. RET_003 for thresholds never met).
pub(super) fn success_metrics(
    session: &Session,
    labels: &Labels,
    rendered: &Rendered,
    error: Option<ErrorCode>,
    total_ms: i64,
    times: StageTimes,
) -> GenerationMetrics {
    let v = &rendered.validation;
    let mut m = base_metrics(session, labels, total_ms, times);
    m.attempts = rendered.attempts as i64;
    // The provider of the delivered image: the last successful call.
    if let Some(a) = rendered
        .provider_attempts
        .iter()
        .rev()
        .find(|a| a.outcome == "success")
    {
        m.provider = a.provider.clone();
    }
    m.face = score(&v["consistency"]["face"]);
    m.pose_score = score(&v["consistency"]["pose"]);
    m.color = score(&v["accuracy"]["color"]);
    m.style = score(&v["accuracy"]["style"]);
    m.branding = score(&v["accuracy"]["branding"]);
    m.overall = score(&v["overallQuality"]);
    m.passes = v["passes"].as_bool().unwrap_or(false) && error.is_none();
    m.failing_metric = failing_metric(&session.tier, v);
    m.cost = v["retryHistory"]["totalCost"].as_f64().unwrap_or(0.0);
    m.error_code = error.map(|c| c.as_str().to_string());
    m
}

/// The metrics of a generation that failed for good.
pub(super) fn failure_metrics(
    session: &Session,
    labels: &Labels,
    code: ErrorCode,
    started: i64,
    times: StageTimes,
) -> GenerationMetrics {
    let mut m = base_metrics(session, labels, now_ms() - started, times);
    m.error_code = Some(code.as_str().to_string());
    m
}

fn base_metrics(
    session: &Session,
    labels: &Labels,
    total_ms: i64,
    times: StageTimes,
) -> GenerationMetrics {
    GenerationMetrics {
        session_id: session.id.clone(),
        user_id: session.user_id.clone(),
        model_id: labels.model_id.clone(),
        pose: labels.pose.clone(),
        tier: session.tier.clone(),
        provider: "local".into(),
        attempts: 0,
        face: None,
        pose_score: None,
        color: None,
        style: None,
        branding: None,
        overall: None,
        passes: false,
        failing_metric: None,
        analysis_ms: times.analysis,
        stage1_ms: times.stage1,
        stage2_ms: times.stage2,
        validation_ms: times.validation,
        total_ms,
        cost: 0.0,
        error_code: None,
        ab_test_id: labels.ab_test_id.clone(),
        ab_variant: labels.ab_variant.clone(),
        created_at: now_ms(),
    }
}

/// When this process last pruned metrics (ms since the epoch).
static LAST_PRUNE: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);
/// How often a process prunes metrics.
const PRUNE_EVERY_MS: i64 = 3_600_000;

/// Deletes metrics older than `METRICS_RETENTION_DAYS` (at most hourly per
/// process; the delete is idempotent, so several processes may run it).
pub async fn prune_metrics(state: &AppState) {
    use std::sync::atomic::Ordering;
    let now = now_ms();
    let last = LAST_PRUNE.load(Ordering::Relaxed);
    if now - last < PRUNE_EVERY_MS
        || LAST_PRUNE
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
    {
        return;
    }
    let cut = now - state.config.metrics_retention_days as i64 * 86_400_000;
    match state.store.prune_metrics(cut).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(deleted = n, "pruned generation metrics past retention"),
        Err(e) => tracing::warn!("pruning metrics: {e}"),
    }
}
