//! The job kinds and their handlers.

use std::time::{Duration, Instant};

use garmax_core::ErrorCode;
use garmax_core::session::{ProgressStage, SessionAction, SessionStatus};
use garmax_store::avatars::AvatarStatus;
use garmax_store::objects::{ObjectKey, Owner};
use garmax_store::queue::Job;
use garmax_store::sessions::{Outcome, Progress};
use garmax_store::{StoreError, now_ms};
use tokio::sync::mpsc;

use super::generation_metrics::{Labels, StageTimes, failure_metrics, success_metrics};
use crate::engine::{EngineError, RenderOptions};
use crate::state::AppState;

/// Person analysis, body fit and guidance maps of an avatar.
pub const AVATAR: &str = "avatar";
/// Render, validation and retry of a session, up to its preview.
pub const RENDER: &str = "render";
/// Avatars run before renders, which wait for them.
pub const AVATAR_PRIORITY: i64 = 5;

/// Largest stored file a job reads back.
const MAX_OBJECT: u64 = 256 * 1024 * 1024;

/// Why a job did not finish.
#[derive(Debug)]
pub enum JobError {
    /// A dependency is not ready (the avatar is still processing): run again
    /// soon without counting an attempt.
    NotReady,
    /// Worth another attempt after a backoff (storage or database away, a
    /// provider timed out).
    Retry(String),
    /// Will fail the same way again.
    Permanent(ErrorCode, String),
}

impl From<StoreError> for JobError {
    fn from(e: StoreError) -> JobError {
        if e.is_transient() {
            JobError::Retry(e.to_string())
        } else {
            JobError::Permanent(garmax_core::Coded::code(&e), e.to_string())
        }
    }
}

impl From<EngineError> for JobError {
    fn from(e: EngineError) -> JobError {
        if e.retryable {
            JobError::Retry(e.to_string())
        } else {
            JobError::Permanent(e.code, e.message)
        }
    }
}

fn payload_id(job: &Job, key: &str) -> Result<String, JobError> {
    job.payload
        .get(key)
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .ok_or_else(|| {
            JobError::Permanent(
                ErrorCode::InvalidRequest,
                format!("job payload without {key}"),
            )
        })
}

/// Runs a claimed job.
pub async fn handle(state: &AppState, job: &Job) -> Result<(), JobError> {
    match job.kind.as_str() {
        AVATAR => process_avatar(state, &payload_id(job, "avatarId")?).await,
        RENDER => render_session(state, &payload_id(job, "sessionId")?).await,
        super::enhanced::ENHANCED => {
            super::enhanced::run(state, &payload_id(job, "sessionId")?).await
        }
        other => Err(JobError::Permanent(
            ErrorCode::InvalidRequest,
            format!("unknown job kind {other}"),
        )),
    }
}

/// Writes a job's outcome to the queue, and to the avatar or session when
/// the job has failed for good.
pub async fn settle(state: &AppState, job: &Job, outcome: Result<(), JobError>) {
    let result = match outcome {
        Ok(()) => state.store.complete(job).await.map(|_| ()),
        Err(JobError::NotReady) => state.store.release(job, now_ms() + 1_000).await.map(|_| ()),
        Err(JobError::Retry(message)) => match state.store.fail_attempt(job, &message).await {
            Ok(Some("failed")) => {
                mark_failed(state, job, ErrorCode::GenerationFailed, &message).await;
                Ok(())
            }
            Ok(_) => Ok(()),
            Err(e) => Err(e),
        },
        Err(JobError::Permanent(code, message)) => {
            match state.store.fail_permanently(job, &message).await {
                Ok(true) => {
                    mark_failed(state, job, code, &message).await;
                    Ok(())
                }
                Ok(false) => Ok(()),
                Err(e) => Err(e),
            }
        }
    };
    if let Err(e) = result {
        // The lease runs out and another worker takes the job over.
        tracing::warn!(job = %job.id, "recording the job's outcome: {e}");
    }
}

async fn mark_failed(state: &AppState, job: &Job, code: ErrorCode, message: &str) {
    let result = match job.kind.as_str() {
        AVATAR => match payload_id(job, "avatarId") {
            Ok(id) => state
                .store
                .fail_avatar(&id, code.as_str(), message)
                .await
                .map(|_| ()),
            Err(_) => Ok(()),
        },
        RENDER | super::enhanced::ENHANCED => match payload_id(job, "sessionId") {
            Ok(id) => {
                let outcome = Outcome {
                    message: Some("the try-on failed"),
                    error: Some((code.as_str(), message)),
                    ..Default::default()
                };
                match state
                    .store
                    .transition(&id, None, SessionAction::Fail, outcome)
                    .await
                {
                    Ok(_) | Err(StoreError::Conflict(_)) => Ok(()),
                    Err(e) => Err(e),
                }
            }
            Err(_) => Ok(()),
        },
        _ => Ok(()),
    };
    if let Err(e) = result {
        tracing::warn!(job = %job.id, "marking the job's object failed: {e}");
    }
}

/// Periodic work of every worker: confirm previews whose countdown ran
/// out, fail what dead workers left behind, and release the holds of
/// sessions and avatars whose job died without saying so.
pub async fn sweep(state: &AppState) {
    sweep_confirms_and_dead_jobs(state).await;
    release_orphaned_holds(state).await;
    super::generation_metrics::prune_metrics(state).await;
}

/// Sessions and avatars still running whose job has failed for good or is
/// gone are failed, which releases their holds (in the same transaction).
async fn release_orphaned_holds(state: &AppState) {
    if let Ok(ids) = state.store.orphaned_sessions(100).await {
        for id in ids {
            let outcome = Outcome {
                message: Some("the try-on failed"),
                error: Some((
                    ErrorCode::GenerationFailed.as_str(),
                    "the session's job died; its credits were released",
                )),
                ..Default::default()
            };
            match state
                .store
                .transition(&id, None, SessionAction::Fail, outcome)
                .await
            {
                Ok(_) | Err(StoreError::Conflict(_)) => {}
                Err(e) => tracing::warn!(session = %id, "releasing an orphaned hold: {e}"),
            }
        }
    }
    if let Ok(ids) = state.store.orphaned_avatars(100).await {
        for id in ids {
            let message = "the avatar's job died; its credits were released";
            if let Err(e) = state
                .store
                .fail_avatar(&id, ErrorCode::GenerationFailed.as_str(), message)
                .await
            {
                tracing::warn!(avatar = %id, "releasing an orphaned hold: {e}");
            }
        }
    }
}

async fn sweep_confirms_and_dead_jobs(state: &AppState) {
    if let Ok(due) = state.store.due_auto_confirms(now_ms(), 100).await {
        for id in due {
            let outcome = Outcome {
                message: Some("confirmed automatically"),
                ..Default::default()
            };
            // Another process may win the race; the state machine refuses
            // the second confirm.
            match state
                .store
                .transition(&id, None, SessionAction::Confirm, outcome)
                .await
            {
                Ok(_) | Err(StoreError::Conflict(_)) => {}
                Err(e) => tracing::warn!(session = %id, "auto-confirm: {e}"),
            }
        }
    }
    if let Ok(dead) = state.store.reap_expired().await {
        for job in dead {
            mark_failed(
                state,
                &job,
                ErrorCode::GenerationFailed,
                "the worker stopped answering on every attempt",
            )
            .await;
        }
    }
}

/// Runs `f` on the blocking pool within the job time limit.
pub(super) async fn blocking<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, JobError> {
    let limit = Duration::from_millis(state.config.image_processing_timeout_ms);
    match tokio::time::timeout(limit, tokio::task::spawn_blocking(f)).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(_)) => Err(JobError::Retry("the pipeline stopped unexpectedly".into())),
        Err(_) => Err(JobError::Retry(format!(
            "the pipeline took longer than {} s",
            limit.as_secs()
        ))),
    }
}

async fn process_avatar(state: &AppState, id: &str) -> Result<(), JobError> {
    let avatar = match state.store.avatar_by_id(id).await {
        Ok(a) => a,
        // Deleted meanwhile: nothing to do.
        Err(StoreError::NotFound) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    if avatar.status != AvatarStatus::Processing {
        return Ok(());
    }
    let photo = state
        .objects
        .get(&ObjectKey::new(Owner::Avatar, id, "photo")?, MAX_OBJECT)
        .await?
        .to_vec();
    let engine = state.engine.clone();
    let (files, timings) = blocking(state, move || {
        // When each stage began: a stage lasts until the next one begins.
        let mut reached = Vec::new();
        let files = engine.process_avatar(&photo, &mut |stage, _, _| {
            reached.push((stage, Instant::now()));
        });
        files.map(|f| (f, reached))
    })
    .await??;
    for pair in timings.windows(2) {
        stage_done(state, pair[0].0, pair[1].1 - pair[0].1).await;
    }
    let mut names = vec!["photo".to_string()];
    for (name, bytes) in files {
        state
            .objects
            .put(&ObjectKey::new(Owner::Avatar, id, &name)?, bytes)
            .await?;
        names.push(name);
    }
    state.store.finish_avatar(id, &names).await?;
    Ok(())
}

/// Loads stored files by name into memory for the engine.
/// The avatar's and the garment's stored files the engine renders from.
pub(super) async fn render_inputs(
    state: &AppState,
    avatar: &garmax_store::avatars::Avatar,
    garment: &garmax_store::garments::Garment,
) -> Result<(Files, Files), JobError> {
    let avatar_files = load_files(
        state,
        Owner::Avatar,
        &avatar.id,
        state.engine.avatar_files(),
        &avatar.files,
    )
    .await?;
    let garment_files = load_files(
        state,
        Owner::Garment,
        &garment.id,
        state.engine.garment_files(),
        &garment.files,
    )
    .await?;
    Ok((avatar_files, garment_files))
}

/// Named files, as the engine takes and returns them.
type Files = Vec<(String, Vec<u8>)>;

async fn load_files(
    state: &AppState,
    owner: Owner,
    id: &str,
    names: &[&str],
    present: &[String],
) -> Result<Files, JobError> {
    let mut out = Vec::new();
    for name in names {
        if !present.iter().any(|p| p == name) {
            continue;
        }
        let bytes = state
            .objects
            .get(&ObjectKey::new(owner, id, name)?, MAX_OBJECT)
            .await?;
        out.push((name.to_string(), bytes.to_vec()));
    }
    Ok(out)
}

/// The stages a render reports, in order, after the avatar's (which are
/// announced at once: the avatar was processed before).
const RENDER_STAGES: [ProgressStage; 4] = [
    ProgressStage::AiQueued,
    ProgressStage::AiProcessing,
    ProgressStage::AiComplete,
    ProgressStage::Finalizing,
];

async fn render_session(state: &AppState, id: &str) -> Result<(), JobError> {
    let session = state.store.session_by_id(id).await?;
    if session.status.is_terminal() || session.status == SessionStatus::PreviewReady {
        return Ok(());
    }
    let avatar = ready_avatar(state, &session.avatar_id).await?;
    if !start_session(state, id).await? {
        return Ok(());
    }
    // The avatar's stages were done once, when it was created.
    for stage in [
        ProgressStage::SmplStart,
        ProgressStage::SmplPoseComplete,
        ProgressStage::SmplMeshComplete,
        ProgressStage::SmplGuidanceComplete,
    ] {
        report(
            state,
            id,
            stage,
            None,
            "body model reused from the avatar",
            None,
        )
        .await?;
    }
    let started = now_ms();
    let mut times = StageTimes::default();
    let loading = Instant::now();
    let garment = state.store.garment_by_id(&session.garment_id).await?;
    let (avatar_files, garment_files) = render_inputs(state, &avatar, &garment).await?;
    times.stage1 = loading.elapsed().as_millis() as i64;
    let eta = remaining_estimate(state, ProgressStage::AiQueued).await;
    report(state, id, ProgressStage::AiQueued, None, "rendering", eta).await?;

    let rendering = Instant::now();
    let rendered = match run_render(state, id, &session, avatar_files, garment_files).await {
        Ok(r) => r,
        Err(JobError::Permanent(code, message)) => {
            times.stage2 = rendering.elapsed().as_millis() as i64;
            let failed = failure_metrics(&session, &Labels::default(), code, started, times);
            record_metrics(state, &failed).await;
            return Err(JobError::Permanent(code, message));
        }
        Err(other) => return Err(other),
    };
    // The render and its validation and retries run as one engine call.
    times.stage2 = rendering.elapsed().as_millis() as i64;
    let error = rendered.warning.as_ref().map(|(code, _)| *code);
    let metrics = success_metrics(
        &session,
        &Labels::default(),
        &rendered,
        error,
        now_ms() - started,
        times,
    );
    deliver_preview(state, id, rendered).await?;
    record_metrics(state, &metrics).await;
    Ok(())
}

/// Stores a generation's metrics; the analytics miss it if this fails,
/// which does not fail the session.
async fn record_metrics(state: &AppState, m: &garmax_store::generations::GenerationMetrics) {
    if let Err(e) = state.store.record_metrics(m).await {
        tracing::warn!(session = %m.session_id, "recording metrics: {e}");
    }
}

/// Moves the session to `processing` (a retried job finds it there
/// already); `false` when it was cancelled meanwhile and there is nothing
/// to do.
pub(super) async fn start_session(state: &AppState, id: &str) -> Result<bool, JobError> {
    let outcome = Outcome {
        message: Some("processing"),
        ..Default::default()
    };
    match state
        .store
        .transition(id, None, SessionAction::Start, outcome)
        .await
    {
        Ok(_) => Ok(true),
        Err(StoreError::Conflict(_)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The session's avatar once it is ready: `NotReady` while it is still
/// processing, a permanent failure when it failed or was deleted.
pub(super) async fn ready_avatar(
    state: &AppState,
    avatar_id: &str,
) -> Result<garmax_store::avatars::Avatar, JobError> {
    let avatar = match state.store.avatar_by_id(avatar_id).await {
        Ok(a) => a,
        Err(StoreError::NotFound) => {
            return Err(JobError::Permanent(
                ErrorCode::NotFound,
                "the avatar was deleted".into(),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    match avatar.status {
        AvatarStatus::Processing => return Err(JobError::NotReady),
        AvatarStatus::Failed => {
            let (code, message) = avatar.error.clone().unwrap_or_default();
            let code = ErrorCode::parse(&code).unwrap_or(ErrorCode::NoPersonFound);
            return Err(JobError::Permanent(
                code,
                format!("the avatar could not be processed: {message}"),
            ));
        }
        AvatarStatus::Ready => {}
    }
    Ok(avatar)
}

/// Runs the engine on the blocking pool, recording its progress (and
/// each stage's duration, for ETAs) as it reports it.
async fn run_render(
    state: &AppState,
    id: &str,
    session: &garmax_store::sessions::Session,
    avatar_files: Vec<(String, Vec<u8>)>,
    garment_files: Vec<(String, Vec<u8>)>,
) -> Result<crate::engine::Rendered, JobError> {
    let (tx, mut rx) = mpsc::unbounded_channel::<(ProgressStage, Option<u32>, String)>();
    let engine = state.engine.clone();
    let options = RenderOptions {
        quality: session.quality.clone(),
        tier: session.tier.clone(),
        max_attempts: state.config.max_retry_attempts,
        user_id: Some(session.user_id.clone()),
        router: Some(state.router.clone()),
    };
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
            &mut |stage, attempt, message| {
                let _ = tx.send((stage, attempt, message.to_string()));
            },
        )
    });
    tokio::pin!(work);
    let mut current = (ProgressStage::AiQueued, Instant::now());
    let rendered = loop {
        tokio::select! {
            biased;
            Some((stage, attempt, message)) = rx.recv() => {
                if stage != current.0 {
                    stage_done(state, current.0, current.1.elapsed()).await;
                    current = (stage, Instant::now());
                }
                let eta = remaining_estimate(state, stage).await;
                report(state, id, stage, attempt, &message, eta).await?;
            }
            done = &mut work => break super::attempts::record(state, id, done?).await?,
        }
    };
    stage_done(state, current.0, current.1.elapsed()).await;
    Ok(rendered)
}

/// Records how long a stage took: in the store, where every process's ETAs
/// come from, and as this process's Prometheus histogram.
async fn stage_done(state: &AppState, stage: ProgressStage, took: std::time::Duration) {
    metrics::histogram!("garmax_stage_duration_seconds", "stage" => stage.key())
        .record(took.as_secs_f64());
    if let Err(e) = state
        .store
        .record_stage_duration(stage.key(), took.as_millis() as i64)
        .await
    {
        tracing::warn!(stage = stage.key(), "recording a stage duration: {e}");
    }
}

/// Stores the preview and moves the session to `preview_ready` (a session
/// cancelled meanwhile stays cancelled).
async fn deliver_preview(
    state: &AppState,
    id: &str,
    rendered: crate::engine::Rendered,
) -> Result<(), JobError> {
    report(
        state,
        id,
        ProgressStage::Finalizing,
        None,
        "storing the preview",
        None,
    )
    .await?;
    state
        .objects
        .put(
            &ObjectKey::new(Owner::Session, id, "preview.png")?,
            rendered.preview_png,
        )
        .await?;
    let auto_confirm_at = (state.config.auto_confirm_secs > 0)
        .then(|| now_ms() + state.config.auto_confirm_secs as i64 * 1000);
    let message = match &rendered.warning {
        Some((code, text)) => format!("preview ready ({code}: {text})"),
        None => "preview ready".to_string(),
    };
    let outcome = Outcome {
        stage: Some(ProgressStage::Complete.key()),
        progress: Some(ProgressStage::Complete.progress() as i64),
        message: Some(&message),
        validation: Some(&rendered.validation),
        attempts: Some(rendered.attempts as i64),
        has_preview: true,
        auto_confirm_at,
        ..Default::default()
    };
    match state
        .store
        .transition(id, None, SessionAction::PreviewReady, outcome)
        .await
    {
        Ok(_) | Err(StoreError::Conflict(_)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Records a progress report (dropped by the store when it does not move
/// the session forward).
async fn report(
    state: &AppState,
    id: &str,
    stage: ProgressStage,
    attempt: Option<u32>,
    message: &str,
    eta_ms: Option<i64>,
) -> Result<(), JobError> {
    state
        .store
        .record_progress(
            id,
            &Progress {
                stage: stage.key(),
                progress: stage.progress() as i64,
                message,
                eta_ms,
                attempt: attempt.map(i64::from),
            },
        )
        .await?;
    Ok(())
}

/// Time left from the start of `from`: the typical durations of it and the
/// stages after it, when each has been seen before.
async fn remaining_estimate(state: &AppState, from: ProgressStage) -> Option<i64> {
    let mut total = 0;
    for stage in RENDER_STAGES.iter().filter(|s| **s >= from) {
        total += state
            .store
            .typical_stage_duration(stage.key())
            .await
            .ok()??;
    }
    Some(total)
}
