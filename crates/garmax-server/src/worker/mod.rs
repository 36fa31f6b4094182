//! Workers: claim jobs from the store's queue and run the pipeline's stages.
//!
//! A worker process (in `serve`, or alone as `garmax worker`) runs up to
//! `slots` jobs at once. Each running job's lease is renewed every third of
//! its length; a worker that dies stops renewing, its lease expires and
//! another worker takes the job over. Stage handlers are idempotent: files
//! are written under fixed keys, state changes are conditional, progress
//! that does not move forward is dropped (see `garmax_store::sessions`).
//! The same loop confirms previews whose auto-confirm time has passed and
//! fails jobs whose every attempt died.

pub mod attempts;
pub mod enhanced;
pub mod generation_metrics;
pub mod jobs;

use std::sync::Arc;
use std::time::Duration;

use garmax_store::queue::Job;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use crate::state::AppState;

/// How often an idle worker looks for work.
const IDLE_POLL: Duration = Duration::from_millis(200);
/// How often the auto-confirm and dead-job sweeps run.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// A running worker; [`Worker::shutdown`] stops it gracefully.
pub struct Worker {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Worker {
    /// Starts a worker with `slots` concurrent jobs.
    pub fn start(state: AppState, slots: usize) -> Worker {
        let (stop, stopped) = watch::channel(false);
        let id = format!("{}-{}", hostname(), &garmax_store::new_id()[..8]);
        tracing::info!(worker = %id, slots, "worker started");
        let task = tokio::spawn(run(state, id, slots.max(1), stopped));
        Worker { stop, task }
    }

    /// Stops claiming, waits up to the grace period for running jobs, then
    /// releases the rest back to the queue.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

fn hostname() -> String {
    std::env::var("HOSTNAME").unwrap_or_else(|_| "worker".into())
}

async fn run(state: AppState, id: String, slots: usize, mut stopped: watch::Receiver<bool>) {
    let permits = Arc::new(Semaphore::new(slots));
    let mut running: JoinSet<()> = JoinSet::new();
    let (release_tx, _) = watch::channel(false);
    let mut last_sweep = tokio::time::Instant::now() - SWEEP_EVERY;
    loop {
        if *stopped.borrow() {
            break;
        }
        while running.try_join_next().is_some() {}
        if last_sweep.elapsed() >= SWEEP_EVERY {
            jobs::sweep(&state).await;
            last_sweep = tokio::time::Instant::now();
        }
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tokio::select! {
                _ = running.join_next() => {}
                _ = stopped.changed() => {}
            }
            continue;
        };
        match state.store.claim(&id, state.config.job_lease_ms).await {
            Ok(Some(job)) => {
                let state = state.clone();
                let release = release_tx.subscribe();
                running.spawn(async move {
                    run_one(state, job, release).await;
                    drop(permit);
                });
            }
            Ok(None) => {
                drop(permit);
                tokio::select! {
                    _ = tokio::time::sleep(IDLE_POLL) => {}
                    _ = stopped.changed() => {}
                }
            }
            Err(e) => {
                drop(permit);
                tracing::warn!("claiming a job: {e}; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
    let grace = Duration::from_millis(state.config.shutdown_grace_ms);
    let drained = tokio::time::timeout(grace, async {
        while running.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            "{} jobs still running after the grace period; releasing them",
            running.len()
        );
        let _ = release_tx.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            while running.join_next().await.is_some() {}
        })
        .await;
    }
    tracing::info!(worker = %id, "worker stopped");
}

/// Runs one claimed job with heartbeats; a shutdown request releases it.
async fn run_one(state: AppState, job: Job, mut release: watch::Receiver<bool>) {
    let lease = state.config.job_lease_ms;
    let beat_every = Duration::from_millis((lease / 3).max(500) as u64);
    let heartbeat = {
        let state = state.clone();
        let job = job.clone();
        async move {
            loop {
                tokio::time::sleep(beat_every).await;
                match state.store.heartbeat(&job, lease).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(job = %job.id, "lease lost to another worker");
                        return;
                    }
                    Err(e) => tracing::warn!(job = %job.id, "heartbeat failed: {e}"),
                }
            }
        }
    };
    let started = std::time::Instant::now();
    let outcome = tokio::select! {
        o = jobs::handle(&state, &job) => Some(o),
        _ = heartbeat => None,
        _ = async { release.wait_for(|r| *r).await.map(|_| ()) } => {
            let _ = state.store.release(&job, garmax_store::now_ms()).await;
            return;
        }
    };
    let label = match &outcome {
        Some(Ok(())) => "done",
        Some(Err(jobs::JobError::NotReady)) => "deferred",
        Some(Err(jobs::JobError::Retry(_))) => "retried",
        Some(Err(jobs::JobError::Permanent(..))) => "failed",
        None => "lost",
    };
    metrics::counter!("garmax_jobs_total", "kind" => job.kind.clone(), "outcome" => label)
        .increment(1);
    metrics::histogram!("garmax_job_duration_seconds", "kind" => job.kind.clone())
        .record(started.elapsed().as_secs_f64());
    if let Some(outcome) = outcome {
        jobs::settle(&state, &job, outcome).await;
    }
}
