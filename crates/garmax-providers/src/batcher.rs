//! The seed's hybrid batching (50 items or 45 s), event-driven: a batch
//! flushes the instant its last slot is filled and exactly at its
//! deadline (measured from its first item), with no polling loop. The
//! queue is bounded (`submit` waits for room — back-pressure;
//! `try_submit` refuses), batches run concurrently up to `max_in_flight`,
//! and every caller gets its own item's result.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::time::Instant;

use crate::error::ProviderError;
use crate::job::{RenderJob, RenderResult, Timings};
use crate::provider::{BoxFuture, Provider};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BatchConfig {
    pub max_size: usize,
    #[serde(with = "crate::breaker::secs")]
    pub timeout: Duration,
    pub queue_capacity: usize,
    pub max_in_flight: usize,
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            max_size: 50,
            timeout: Duration::from_secs(45),
            queue_capacity: 1000,
            max_in_flight: 4,
        }
    }
}

/// Why a batch was flushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FlushReason {
    Full,
    Deadline,
    /// The batcher was dropped with items waiting.
    Shutdown,
}

/// Reported for every flush (benchmarks, metrics).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlushEvent {
    pub size: usize,
    pub reason: FlushReason,
    pub at: Instant,
}

/// Runs a whole batch: one result per item, in order.
pub type BatchFn<T, R> = Arc<dyn Fn(Vec<T>) -> BoxFuture<'static, Vec<R>> + Send + Sync>;

struct Item<T, R> {
    value: T,
    reply: oneshot::Sender<R>,
}

/// A size-or-timeout batcher of `T` into `R`.
pub struct Batcher<T, R> {
    tx: mpsc::Sender<Item<T, R>>,
}

impl<T, R> Clone for Batcher<T, R> {
    fn clone(&self) -> Self {
        Batcher {
            tx: self.tx.clone(),
        }
    }
}

/// Why a submission got no result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    #[error("batch queue full")]
    Full,
    #[error("batcher stopped")]
    Closed,
    #[error("the batch returned no result for this item")]
    Lost,
}

impl<T: Send + 'static, R: Send + 'static> Batcher<T, R> {
    /// Starts the collector task on the current Tokio runtime.
    pub fn spawn(config: BatchConfig, run: BatchFn<T, R>) -> Batcher<T, R> {
        Batcher::spawn_observed(config, run, None)
    }

    /// As [`Batcher::spawn`], reporting every flush to `observer`.
    pub fn spawn_observed(
        config: BatchConfig,
        run: BatchFn<T, R>,
        observer: Option<mpsc::UnboundedSender<FlushEvent>>,
    ) -> Batcher<T, R> {
        let (tx, rx) = mpsc::channel(config.queue_capacity.max(1));
        tokio::spawn(collect(config, rx, run, observer));
        Batcher { tx }
    }

    /// Queues `value` (waiting for room) and waits for its result.
    pub async fn submit(&self, value: T) -> Result<R, SubmitError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Item { value, reply })
            .await
            .map_err(|_| SubmitError::Closed)?;
        rx.await.map_err(|_| SubmitError::Lost)
    }

    /// Queues `value` only if there is room now.
    pub async fn try_submit(&self, value: T) -> Result<R, SubmitError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .try_send(Item { value, reply })
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => SubmitError::Full,
                mpsc::error::TrySendError::Closed(_) => SubmitError::Closed,
            })?;
        rx.await.map_err(|_| SubmitError::Lost)
    }
}

async fn collect<T: Send + 'static, R: Send + 'static>(
    config: BatchConfig,
    mut rx: mpsc::Receiver<Item<T, R>>,
    run: BatchFn<T, R>,
    observer: Option<mpsc::UnboundedSender<FlushEvent>>,
) {
    let max = config.max_size.max(1);
    let permits = Arc::new(Semaphore::new(config.max_in_flight.max(1)));
    // Wait (without a timer) for the first item of the next batch.
    while let Some(first) = rx.recv().await {
        let deadline = Instant::now() + config.timeout;
        let mut batch = Vec::with_capacity(max);
        batch.push(first);
        let mut reason = FlushReason::Full;
        while batch.len() < max {
            tokio::select! {
                biased;
                item = rx.recv() => match item {
                    Some(item) => batch.push(item),
                    None => { reason = FlushReason::Shutdown; break; }
                },
                _ = tokio::time::sleep_until(deadline) => { reason = FlushReason::Deadline; break; }
            }
        }
        if let Some(o) = &observer {
            let _ = o.send(FlushEvent {
                size: batch.len(),
                reason,
                at: Instant::now(),
            });
        }
        let permit = permits
            .clone()
            .acquire_owned()
            .await
            .expect("semaphore never closed");
        let run = run.clone();
        tokio::spawn(async move {
            let (values, replies): (Vec<T>, Vec<oneshot::Sender<R>>) =
                batch.into_iter().map(|i| (i.value, i.reply)).unzip();
            let results = run(values).await;
            // A short result list leaves the rest `Lost`, never answered twice.
            for (reply, result) in replies.into_iter().zip(results) {
                let _ = reply.send(result);
            }
            drop(permit);
        });
    }
}

/// Runs a batch of render jobs (the Gemini Batch API): the outer error
/// fails the whole batch.
pub trait BatchBackend: Send + Sync + 'static {
    fn run_batch(
        &self,
        jobs: Vec<RenderJob>,
    ) -> BoxFuture<'static, Result<Vec<Result<RenderResult, ProviderError>>, ProviderError>>;
}

impl BatchBackend for crate::gemini::GeminiProvider {
    fn run_batch(
        &self,
        jobs: Vec<RenderJob>,
    ) -> BoxFuture<'static, Result<Vec<Result<RenderResult, ProviderError>>, ProviderError>> {
        let me = self.clone();
        Box::pin(async move { me.run_batch(&jobs).await })
    }
}

/// A provider that queues each job into a batch. A failed batch gives
/// every item the batch's error, so the router falls back item by item
/// down the chain.
pub struct BatchedProvider {
    name: String,
    kind: &'static str,
    cost_per_image: Option<f64>,
    batcher: Batcher<RenderJob, Result<RenderResult, ProviderError>>,
}

impl BatchedProvider {
    pub fn new<B: BatchBackend>(
        name: impl Into<String>,
        kind: &'static str,
        cost_per_image: Option<f64>,
        backend: Arc<B>,
        config: BatchConfig,
    ) -> BatchedProvider {
        let name = name.into();
        let batch_name = name.clone();
        let run: BatchFn<RenderJob, Result<RenderResult, ProviderError>> =
            Arc::new(move |jobs: Vec<RenderJob>| {
                let backend = backend.clone();
                let name = batch_name.clone();
                Box::pin(async move {
                    let n = jobs.len();
                    match backend.run_batch(jobs).await {
                        Ok(results) if results.len() == n => results,
                        Ok(results) => {
                            let mut results = results;
                            results.resize_with(n, || {
                                Err(ProviderError::permanent(&name, "batch item missing"))
                            });
                            results.truncate(n);
                            results
                        }
                        Err(e) => vec![Err(e); n],
                    }
                })
            });
        BatchedProvider {
            name,
            kind,
            cost_per_image,
            batcher: Batcher::spawn(config, run),
        }
    }
}

impl Provider for BatchedProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> &'static str {
        self.kind
    }

    fn estimate_cost(&self, job: &RenderJob) -> f64 {
        self.cost_per_image
            .unwrap_or_else(|| job.quality.settings().cost_estimate)
    }

    fn render<'a>(
        &'a self,
        job: &'a RenderJob,
    ) -> BoxFuture<'a, Result<RenderResult, ProviderError>> {
        Box::pin(async move {
            let queued = Instant::now();
            let result =
                self.batcher
                    .submit(job.clone())
                    .await
                    .map_err(|e| ProviderError::Connection {
                        provider: self.name.clone(),
                        message: e.to_string(),
                    })?;
            result.map(|mut r| {
                let total = queued.elapsed();
                r.timings = Timings {
                    queued: total.saturating_sub(r.timings.total),
                    total,
                    predict: r.timings.predict,
                };
                r
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn echo() -> BatchFn<u32, (u32, usize)> {
        Arc::new(|items: Vec<u32>| {
            let n = items.len();
            Box::pin(async move { items.into_iter().map(|i| (i, n)).collect() })
        })
    }

    /// Paused time: 50 submissions flush as one full batch without the
    /// clock advancing at all; each caller gets its own item back.
    #[tokio::test(start_paused = true)]
    async fn full_batch_flushes_immediately() {
        let (otx, mut orx) = mpsc::unbounded_channel();
        let b = Batcher::spawn_observed(BatchConfig::default(), echo(), Some(otx));
        let start = Instant::now();
        let handles: Vec<_> = (0..50u32)
            .map(|i| {
                let b = b.clone();
                tokio::spawn(async move { b.submit(i).await })
            })
            .collect();
        for (i, h) in handles.into_iter().enumerate() {
            assert_eq!(h.await.unwrap().unwrap(), (i as u32, 50));
        }
        let ev = orx.recv().await.unwrap();
        assert_eq!((ev.size, ev.reason), (50, FlushReason::Full));
        // With paused time the clock only moves when every task sleeps:
        // a full batch never waited on its timer.
        assert_eq!(ev.at, start);
        assert_eq!(Instant::now(), start);
    }

    /// A partial batch flushes exactly at its deadline.
    #[tokio::test(start_paused = true)]
    async fn partial_batch_flushes_at_deadline() {
        let (otx, mut orx) = mpsc::unbounded_channel();
        let b = Batcher::spawn_observed(BatchConfig::default(), echo(), Some(otx));
        let start = Instant::now();
        let handles: Vec<_> = (0..7u32)
            .map(|i| {
                let b = b.clone();
                tokio::spawn(async move { b.submit(i).await })
            })
            .collect();
        for h in handles {
            assert_eq!(h.await.unwrap().unwrap().1, 7);
        }
        let ev = orx.recv().await.unwrap();
        assert_eq!((ev.size, ev.reason), (7, FlushReason::Deadline));
        assert_eq!(ev.at - start, Duration::from_secs(45));
    }

    /// 120 items: two full batches at once, the remaining 20 at the
    /// deadline; nobody answered twice or lost.
    #[tokio::test(start_paused = true)]
    async fn overflow_splits_into_full_batches_then_deadline() {
        let (otx, mut orx) = mpsc::unbounded_channel();
        let b = Batcher::spawn_observed(BatchConfig::default(), echo(), Some(otx));
        let handles: Vec<_> = (0..120u32)
            .map(|i| {
                let b = b.clone();
                tokio::spawn(async move { b.submit(i).await })
            })
            .collect();
        let mut seen = std::collections::HashSet::new();
        for (i, h) in handles.into_iter().enumerate() {
            let (v, _) = h.await.unwrap().unwrap();
            assert_eq!(v, i as u32);
            assert!(seen.insert(v));
        }
        let sizes: Vec<_> = (0..3)
            .map(|_| orx.try_recv().unwrap())
            .map(|e| (e.size, e.reason))
            .collect();
        assert_eq!(
            sizes,
            vec![
                (50, FlushReason::Full),
                (50, FlushReason::Full),
                (20, FlushReason::Deadline)
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn bounded_queue_refuses_when_full() {
        let slow: BatchFn<u32, u32> = Arc::new(|items: Vec<u32>| {
            Box::pin(async move {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                items
            })
        });
        let cfg = BatchConfig {
            max_size: 1,
            timeout: Duration::from_secs(1),
            queue_capacity: 1,
            max_in_flight: 1,
        };
        let b = Batcher::spawn(cfg, slow);
        // Fill: one running, one held by the collector waiting for a permit, one queued.
        let mut held = Vec::new();
        for i in 0..3 {
            let b = b.clone();
            held.push(tokio::spawn(async move { b.submit(i).await }));
            tokio::task::yield_now().await;
            tokio::task::yield_now().await;
        }
        assert_eq!(b.try_submit(9).await, Err(SubmitError::Full));
    }
}
