//! `garmax bench batcher`: the seed's polling collector (re-implemented as
//! the reference: `collectBatchRequests` checks `batch.length >= maxSize ||
//! elapsed >= timeoutMs` every 1 s) side by side with our event-driven
//! batcher, in real time, in one run: the latency from the 50th request to
//! the flush of a full batch, and from the deadline to the flush of a
//! partial one, with the ratio.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use garmax_providers::batcher::BatchFn;
use garmax_providers::{BatchConfig, Batcher, FlushEvent};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    /// Trials; the 50th request arrives at a different phase of the
    /// seed's 1 s polling period in each.
    #[arg(long, default_value_t = 10)]
    trials: u32,
    /// Deadline of the partial batch, ms (not a whole number of seconds,
    /// the seed lags by up to one polling period).
    #[arg(long, default_value_t = 2_500)]
    deadline_ms: u64,
}

/// The seed's `collectBatchRequests(maxSize, timeoutMs)`.
async fn seed_collect(
    batch: Arc<Mutex<Vec<u32>>>,
    max: usize,
    timeout: Duration,
) -> (usize, Instant) {
    let start = Instant::now();
    loop {
        let len = batch.lock().unwrap_or_else(|p| p.into_inner()).len();
        if len >= max || start.elapsed() >= timeout {
            return (len, Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(1000)).await;
    }
}

/// Deterministic spread of arrival phases over one polling period.
fn phase(trial: u32) -> Duration {
    Duration::from_millis(((trial as u64 * 618_034) % 1_000_000) / 1000)
}

/// Mean, printed with p50 and max.
fn stats(name: &str, mut ms: Vec<f64>) -> f64 {
    ms.sort_by(f64::total_cmp);
    let mean = ms.iter().sum::<f64>() / ms.len().max(1) as f64;
    println!(
        "{name:<46} mean {mean:9.3} ms  p50 {:9.3}  max {:9.3}  (n={})",
        ms[ms.len() / 2],
        ms[ms.len() - 1],
        ms.len()
    );
    mean
}

fn echo() -> BatchFn<u32, u32> {
    Arc::new(|v: Vec<u32>| Box::pin(async move { v }))
}

fn batcher(timeout: Duration) -> (Batcher<u32, u32>, mpsc::UnboundedReceiver<FlushEvent>) {
    let (tx, rx) = mpsc::unbounded_channel::<FlushEvent>();
    let config = BatchConfig {
        max_size: 50,
        timeout,
        ..BatchConfig::default()
    };
    (Batcher::spawn_observed(config, echo(), Some(tx)), rx)
}

/// ms from the 50th request to the flush: (seed, ours).
async fn full_batch(trial: u32) -> anyhow::Result<(f64, f64)> {
    let batch = Arc::new(Mutex::new(vec![0u32]));
    let collector = tokio::spawn(seed_collect(batch.clone(), 50, Duration::from_secs(45)));
    tokio::time::sleep(phase(trial)).await;
    let mut last = Instant::now();
    for i in 1..50 {
        batch.lock().unwrap_or_else(|p| p.into_inner()).push(i);
        last = Instant::now();
    }
    let (n, at) = collector.await?;
    anyhow::ensure!(n == 50, "the seed collector flushed {n}");
    let seed = (at - last).as_secs_f64() * 1e3;

    let (b, mut flushes) = batcher(Duration::from_secs(45));
    let mut waits = Vec::new();
    let (first_tx, first_rx) = oneshot::channel::<()>();
    {
        let b = b.clone();
        waits.push(tokio::spawn(async move {
            let _ = first_tx.send(());
            b.submit(0).await
        }));
    }
    first_rx.await?;
    tokio::time::sleep(phase(trial)).await;
    let mut last = Instant::now();
    for i in 1..50 {
        let b = b.clone();
        last = Instant::now();
        waits.push(tokio::spawn(async move { b.submit(i).await }));
    }
    let ev = flushes
        .recv()
        .await
        .ok_or_else(|| anyhow::anyhow!("the batcher stopped"))?;
    anyhow::ensure!(ev.size == 50, "the batcher flushed {}", ev.size);
    let ours = ev.at.saturating_duration_since(last).as_secs_f64() * 1e3;
    for w in waits {
        w.await??;
    }
    Ok((seed, ours))
}

/// ms from the deadline to the flush of 7 requests: (seed, ours).
async fn partial_batch(timeout: Duration) -> anyhow::Result<(f64, f64)> {
    let batch = Arc::new(Mutex::new((0..7).collect::<Vec<u32>>()));
    let start = Instant::now();
    let (n, at) = seed_collect(batch, 50, timeout).await;
    anyhow::ensure!(n == 7, "the seed collector flushed {n}");
    let seed = (at - (start + timeout)).as_secs_f64() * 1e3;

    let (b, mut flushes) = batcher(timeout);
    let start = Instant::now();
    let waits: Vec<_> = (0..7)
        .map(|i| {
            let b = b.clone();
            tokio::spawn(async move { b.submit(i).await })
        })
        .collect();
    let ev = flushes
        .recv()
        .await
        .ok_or_else(|| anyhow::anyhow!("the batcher stopped"))?;
    anyhow::ensure!(ev.size == 7, "the batcher flushed {}", ev.size);
    let ours = ev
        .at
        .saturating_duration_since(start + timeout)
        .as_secs_f64()
        * 1e3;
    for w in waits {
        w.await??;
    }
    Ok((seed, ours))
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .worker_threads(2)
        .build()?;
    runtime.block_on(async move {
        let deadline = Duration::from_millis(args.deadline_ms.max(1));
        let (mut seed_full, mut ours_full, mut seed_deadline, mut ours_deadline) =
            (vec![], vec![], vec![], vec![]);
        for t in 0..args.trials.max(1) {
            let (s, o) = full_batch(t).await?;
            seed_full.push(s);
            ours_full.push(o);
            let (s, o) = partial_batch(deadline).await?;
            seed_deadline.push(s);
            ours_deadline.push(o);
        }
        println!(
            "full batch: 50 requests, 45 s timeout; partial batch: 7 requests, {} ms deadline; {} trials",
            deadline.as_millis(),
            args.trials.max(1)
        );
        let a = stats("seed polling collector: 50th request → flush", seed_full);
        let b = stats("event-driven batcher:   50th request → flush", ours_full);
        let c = stats("seed polling collector: deadline → flush", seed_deadline);
        let d = stats("event-driven batcher:   deadline → flush", ours_deadline);
        println!(
            "ratio seed / ours: full batch {:.0}×, deadline {:.0}×",
            a / b.max(1e-6),
            c / d.max(1e-6)
        );
        Ok(())
    })
}
