//! The enhanced generation job (the consistency seed's pipeline): product
//! analysis → stage 1 (the persona's processed reference in its pose, or the
//! user's avatar) → stage 2 (product application) → quality validation →
//! adaptive retry, reported live on the seed's five stages, then the seed's
//! response body and the generation's metrics are stored.
//!
//! Progress keys and percentages (`status-update` events of the session):
//! `product-analysis` 10, `model-generation` 25, `product-application` 50,
//! `quality-validation` 70 (attempt n ≥ 2: 74 + 4(n−2)), `adaptive-retry`
//! 72 + 4(n−2) for attempt n ≥ 2 (both capped at 94), `finalizing` 95,
//! `complete` 100.

use std::time::Instant;

use garmax_core::session::{ProgressStage, SessionAction, SessionStatus};
use garmax_core::tier::QualityTier;
use garmax_core::{ErrorCode, session};
use garmax_store::generations::Generation;
use garmax_store::objects::{ObjectKey, Owner};
use garmax_store::sessions::{Outcome, Progress, Session};
use garmax_store::{StoreError, now_ms};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::generation_metrics::{Labels, StageTimes, failure_metrics, success_metrics};
use super::jobs::{JobError, blocking, ready_avatar, render_inputs, start_session};
use crate::engine::{RenderOptions, Rendered};
use crate::state::AppState;

/// The job kind of an enhanced generation.
pub const ENHANCED: &str = "enhanced";

/// A stage of the seed's generation progress interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedStage {
    ProductAnalysis,
    ModelGeneration,
    ProductApplication,
    /// Validation of attempt n (1-based).
    QualityValidation(u32),
    /// Render attempt n ≥ 2.
    AdaptiveRetry(u32),
    Finalizing,
}

impl SeedStage {
    pub fn key(self) -> &'static str {
        match self {
            SeedStage::ProductAnalysis => "product-analysis",
            SeedStage::ModelGeneration => "model-generation",
            SeedStage::ProductApplication => "product-application",
            SeedStage::QualityValidation(_) => "quality-validation",
            SeedStage::AdaptiveRetry(_) => "adaptive-retry",
            SeedStage::Finalizing => "finalizing",
        }
    }

    /// Strictly increasing along a run, so every report is an event.
    pub fn progress(self) -> i64 {
        let retry = |n: u32, base: i64| (base + 4 * (n as i64 - 2)).min(94);
        match self {
            SeedStage::ProductAnalysis => 10,
            SeedStage::ModelGeneration => 25,
            SeedStage::ProductApplication => 50,
            SeedStage::QualityValidation(n) if n <= 1 => 70,
            SeedStage::QualityValidation(n) => retry(n, 74),
            SeedStage::AdaptiveRetry(n) => retry(n.max(2), 72),
            SeedStage::Finalizing => 95,
        }
    }
}

async fn report(
    state: &AppState,
    id: &str,
    stage: SeedStage,
    message: &str,
) -> Result<(), JobError> {
    state
        .store
        .record_progress(
            id,
            &Progress {
                stage: stage.key(),
                progress: stage.progress(),
                message,
                eta_ms: None,
                // The seed's stages order themselves by their percentage.
                attempt: None,
            },
        )
        .await?;
    Ok(())
}

/// Runs (or resumes) the generation of session `id`.
pub async fn run(state: &AppState, id: &str) -> Result<(), JobError> {
    let session = state.store.session_by_id(id).await?;
    if session.status.is_terminal() || session.status == SessionStatus::PreviewReady {
        return Ok(());
    }
    let generation = state.store.generation_by_id(id).await?;
    let avatar = ready_avatar(state, &session.avatar_id).await?;
    if !start_session(state, id).await? {
        return Ok(());
    }
    let started = state.store.start_generation(id).await?;
    let mut times = StageTimes::default();
    match generate(state, &session, &generation, &avatar, &mut times).await {
        Ok(rendered) => deliver(state, &session, &generation, rendered, started, times).await,
        Err(JobError::Permanent(code, message)) => {
            let failed = failure_metrics(&session, &Labels::of(&generation), code, started, times);
            if let Err(e) = state.store.record_metrics(&failed).await {
                tracing::warn!(session = %id, "recording metrics: {e}");
            }
            Err(JobError::Permanent(code, message))
        }
        Err(other) => Err(other),
    }
}

/// Product analysis (once), stage 1 inputs and the render with validation
/// and retry, reporting the seed's stages.
async fn generate(
    state: &AppState,
    session: &Session,
    generation: &Generation,
    avatar: &garmax_store::avatars::Avatar,
    times: &mut StageTimes,
) -> Result<Rendered, JobError> {
    let id = session.id.as_str();
    report(
        state,
        id,
        SeedStage::ProductAnalysis,
        "analysing the product photo",
    )
    .await?;
    let t = Instant::now();
    let garment = analysed_garment(state, session, generation).await?;
    times.analysis = t.elapsed().as_millis() as i64;

    let t = Instant::now();
    let message = match &generation.model_id {
        Some(m) => format!(
            "model {m} in pose {}",
            generation.pose.as_deref().unwrap_or_default()
        ),
        None => "your avatar, as photographed".to_string(),
    };
    report(state, id, SeedStage::ModelGeneration, &message).await?;
    let (avatar_files, garment_files) = render_inputs(state, avatar, &garment).await?;
    times.stage1 = t.elapsed().as_millis() as i64;

    let max_attempts = if generation.enable_retry {
        (generation.max_retries.max(0) as u32 + 1).min(state.config.max_retry_attempts.max(1) + 1)
    } else {
        1
    };
    let options = RenderOptions {
        quality: session.quality.clone(),
        tier: session.tier.clone(),
        max_attempts,
        user_id: Some(session.user_id.clone()),
        router: Some(state.router.clone()),
    };
    let (tx, mut rx) = mpsc::unbounded_channel::<(ProgressStage, String)>();
    let engine = state.engine.clone();
    let work = blocking(state, move || {
        let lookup = |files: &Vec<(String, Vec<u8>)>, name: &str| {
            files
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, b)| b.clone())
        };
        engine.render(
            &|n| lookup(&avatar_files, n),
            &|n| lookup(&garment_files, n),
            &options,
            &mut |stage, _attempt, message| {
                let _ = tx.send((stage, message.to_string()));
            },
        )
    });
    tokio::pin!(work);
    let mut renders = 0u32;
    let mut segment: Option<(bool, Instant)> = None; // (is render, since)
    let close = |segment: &mut Option<(bool, Instant)>, times: &mut StageTimes| {
        if let Some((render, since)) = segment.take() {
            let ms = since.elapsed().as_millis() as i64;
            if render {
                times.stage2 += ms;
            } else {
                times.validation += ms;
            }
        }
    };
    let rendered = loop {
        tokio::select! {
            biased;
            Some((stage, message)) = rx.recv() => {
                let seed = match stage {
                    ProgressStage::AiProcessing => {
                        renders += 1;
                        close(&mut segment, times);
                        segment = Some((true, Instant::now()));
                        if renders == 1 { SeedStage::ProductApplication } else { SeedStage::AdaptiveRetry(renders) }
                    }
                    ProgressStage::AiComplete => {
                        close(&mut segment, times);
                        segment = Some((false, Instant::now()));
                        SeedStage::QualityValidation(renders.max(1))
                    }
                    _ => continue,
                };
                report(state, id, seed, &message).await?;
            }
            done = &mut work => break done??,
        }
    };
    close(&mut segment, times);
    Ok(rendered)
}

/// The generation's garment with its analysis: analysed in this job the
/// first time (the seed's product-analysis stage), reused on a retry.
async fn analysed_garment(
    state: &AppState,
    session: &Session,
    generation: &Generation,
) -> Result<garmax_store::garments::Garment, JobError> {
    let garment = state.store.garment_by_id(&session.garment_id).await?;
    if state
        .engine
        .garment_files()
        .iter()
        .all(|f| garment.files.iter().any(|g| g == f))
    {
        return Ok(garment);
    }
    let image = state
        .objects
        .get(
            &ObjectKey::new(Owner::Garment, &garment.id, "image")?,
            256 * 1024 * 1024,
        )
        .await?
        .to_vec();
    let engine = state.engine.clone();
    let out = blocking(state, move || engine.process_garment(&image)).await??;
    let mut names = vec!["image".to_string()];
    for (name, data) in out.files {
        state
            .objects
            .put(&ObjectKey::new(Owner::Garment, &garment.id, &name)?, data)
            .await?;
        names.push(name);
    }
    state
        .store
        .set_garment_analysis(&garment.id, &out.analysis, &names)
        .await?;
    let prompts = prompts(
        state,
        generation,
        generation
            .product_analysis
            .as_ref()
            .unwrap_or(&out.analysis),
    )
    .await;
    state
        .store
        .set_generation_prompts(&session.id, &prompts)
        .await?;
    Ok(state.store.garment_by_id(&session.garment_id).await?)
}

/// The seed's stage-1 and stage-2 prompts for remote providers, from the
/// persona's characteristics and the product analysis (the client's
/// `productAnalysis` when it sent one).
async fn prompts(state: &AppState, generation: &Generation, analysis: &Value) -> Value {
    let tier = QualityTier::parse(&generation.tier).unwrap_or(QualityTier::Standard);
    let persona = match &generation.model_id {
        Some(m) => state.store.persona(m).await.ok(),
        None => None,
    };
    let brief = garmax_providers::prompt::PersonaBrief {
        name: persona.as_ref().map(|p| p.name.clone()).unwrap_or_default(),
        characteristics: persona
            .map(|p| p.characteristics.into_iter().collect())
            .unwrap_or_default(),
    };
    let pose = generation.pose.as_deref().unwrap_or("as photographed");
    let garment = garmax_providers::GarmentBrief::from_analysis(analysis);
    json!({
        "stage1": garmax_providers::prompt::stage1_prompt(&brief, pose, tier),
        "stage2": garmax_providers::prompt::stage2_prompt(&brief, pose, &garment, tier),
        "negative": garmax_providers::prompt::NEGATIVE_PROMPT,
    })
}

/// Stores the image, the seed's response and the metrics, then completes
/// the session (previewed and confirmed at once: a brand generation needs
/// no approval step).
async fn deliver(
    state: &AppState,
    session: &Session,
    generation: &Generation,
    rendered: Rendered,
    started: i64,
    times: StageTimes,
) -> Result<(), JobError> {
    let id = session.id.as_str();
    report(state, id, SeedStage::Finalizing, "storing the result").await?;
    state
        .objects
        .put(
            &ObjectKey::new(Owner::Session, id, "preview.png")?,
            rendered.preview_png.clone(),
        )
        .await?;
    let finished = now_ms();
    let error = match &rendered.warning {
        Some((code, message)) if generation.enable_retry => Some((*code, message.clone())),
        _ => None,
    };
    let response = response_body(id, &rendered, finished - started, finished, error.as_ref());
    state
        .store
        .finish_generation(
            id,
            &response,
            error.as_ref().map(|e| e.0.as_str()),
            finished,
        )
        .await?;
    let metrics = success_metrics(
        session,
        &Labels::of(generation),
        &rendered,
        error.as_ref().map(|e| e.0),
        finished - started,
        times,
    );
    state.store.record_metrics(&metrics).await?;
    let message = match &error {
        Some((code, text)) => format!("delivered the best attempt ({code}: {text})"),
        None => "delivered".to_string(),
    };
    let outcome = Outcome {
        stage: Some(session::ProgressStage::Complete.key()),
        progress: Some(100),
        message: Some(&message),
        validation: Some(&rendered.validation),
        attempts: Some(rendered.attempts as i64),
        has_preview: true,
        ..Default::default()
    };
    for (action, outcome) in [
        (SessionAction::PreviewReady, outcome),
        (
            SessionAction::Confirm,
            Outcome {
                message: Some("confirmed: an enhanced generation needs no approval"),
                ..Default::default()
            },
        ),
    ] {
        match state.store.transition(id, None, action, outcome).await {
            Ok(_) | Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Rounds a score for the response (scores are f32 inside).
fn round(v: &Value) -> Value {
    match v.as_f64() {
        Some(x) => json!((x * 10_000.0).round() / 10_000.0),
        None => Value::Null,
    }
}

/// The seed's response body of a finished generation; `error` attaches a
/// code (RET_003: thresholds never met, GEN_002: a retry render failed) to
/// the best attempt, which is still delivered.
pub fn response_body(
    id: &str,
    rendered: &Rendered,
    processing_ms: i64,
    finished_ms: i64,
    error: Option<&(ErrorCode, String)>,
) -> Value {
    let v = &rendered.validation;
    let validation = json!({
        "passes": v["passes"].as_bool().unwrap_or(false),
        "overallQuality": round(&v["overallQuality"]),
        "consistency": { "face": round(&v["consistency"]["face"]), "pose": round(&v["consistency"]["pose"]) },
        "accuracy": {
            "color": round(&v["accuracy"]["color"]),
            "style": round(&v["accuracy"]["style"]),
            "branding": round(&v["accuracy"]["branding"]),
        },
        "feedback": v["feedback"].clone(),
    });
    // The attempts that were retried: every attempt before the last.
    let history: Vec<Value> = v["retryHistory"]["attempts"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|r| r["attempt"].as_u64().unwrap_or(0) < rendered.attempts as u64)
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let url = format!("/api/tryon/sessions/{id}/result");
    let mut body = json!({
        "success": error.is_none(),
        "imagePath": format!("sessions/{id}/preview.png"),
        "imageUrl": url,
        "validation": validation,
        "attempts": rendered.attempts,
        "processingTime": processing_ms,
        "retryHistory": history,
        "timestamp": crate::views::rfc3339(finished_ms),
    });
    if let Some((code, message)) = error {
        body["error"] = json!({ "code": code.as_str(), "message": message });
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worker::generation_metrics::failing_metric;

    #[test]
    fn seed_stages_only_move_forward() {
        let run = [
            SeedStage::ProductAnalysis,
            SeedStage::ModelGeneration,
            SeedStage::ProductApplication,
            SeedStage::QualityValidation(1),
            SeedStage::AdaptiveRetry(2),
            SeedStage::QualityValidation(2),
            SeedStage::AdaptiveRetry(3),
            SeedStage::QualityValidation(3),
            SeedStage::AdaptiveRetry(6),
            SeedStage::QualityValidation(6),
            SeedStage::Finalizing,
        ];
        let p: Vec<i64> = run.iter().map(|s| s.progress()).collect();
        assert!(p.windows(2).all(|w| w[0] < w[1]), "{p:?}");
        assert_eq!(SeedStage::AdaptiveRetry(40).progress(), 94);
    }

    fn rendered(attempts: u32) -> Rendered {
        Rendered {
            preview_png: vec![],
            validation: json!({
                "passes": true, "overallQuality": 0.87f32,
                "consistency": {"face": 0.89, "pose": 0.85},
                "accuracy": {"color": 0.91, "style": 0.83, "branding": 0.88},
                "feedback": ["Excellent model consistency", "Good color matching"],
                "tier": "premium", "results": [],
                "retryHistory": {"attempts": [
                    {"attempt": 1, "scores": {"face": 0.5, "pose": 0.9, "color": 0.6}, "passes": false},
                    {"attempt": 2, "scores": {"face": 0.89}, "passes": true}
                ], "totalCost": 0.0}
            }),
            attempts,
            warning: None,
            provider_attempts: Vec::new(),
        }
    }

    #[test]
    fn the_response_has_the_seeds_keys_and_the_retried_attempts() {
        let body = response_body("s1", &rendered(2), 45_000, 1_705_314_600_000, None);
        let keys: Vec<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        let mut want = vec![
            "success",
            "imagePath",
            "imageUrl",
            "validation",
            "attempts",
            "processingTime",
            "retryHistory",
            "timestamp",
        ];
        let mut got = keys.clone();
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want);
        assert_eq!(body["validation"]["overallQuality"], json!(0.87));
        assert_eq!(body["retryHistory"].as_array().unwrap().len(), 1);
        assert_eq!(body["timestamp"], "2024-01-15T10:30:00.000Z");
        let one = response_body("s1", &rendered(1), 1, 0, None);
        assert_eq!(one["retryHistory"], json!([]));
        let failed = response_body(
            "s1",
            &rendered(2),
            1,
            0,
            Some(&(ErrorCode::MaxRetriesExceeded, "thresholds not met".into())),
        );
        assert_eq!(
            (failed["success"].clone(), failed["error"]["code"].clone()),
            (json!(false), json!("RET_003"))
        );
    }

    #[test]
    fn the_failing_metric_is_the_largest_shortfall_of_the_first_attempt() {
        let r = rendered(2);
        // standard: face 0.65 - 0.5 = 0.15, color 0.65 - 0.6 = 0.05.
        assert_eq!(
            failing_metric("standard", &r.validation).as_deref(),
            Some("face")
        );
    }
}
