//! Side-by-side: the seed's polling collector (re-implemented here as the
//! reference: it checks `batch.length >= maxSize || elapsed >= timeout`
//! every 1 s) vs our event-driven batcher. Measures, in real time, the
//! latency from the 50th request to the flush, and from the deadline to
//! the flush of a partial batch.
//!
//! `cargo run -p garmax-providers --example batch_flush [trials]`

use std::sync::{Arc, Mutex};
use std::time::Duration;

use garmax_providers::batcher::BatchFn;
use garmax_providers::{BatchConfig, Batcher, FlushEvent};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

/// The seed's `collectBatchRequests(maxSize, timeoutMs)`: a promise that
/// checks the batch every second.
async fn seed_collect(
    batch: Arc<Mutex<Vec<u32>>>,
    max: usize,
    timeout: Duration,
) -> (usize, Instant) {
    let start = Instant::now();
    loop {
        let len = batch.lock().unwrap().len();
        if len >= max || start.elapsed() >= timeout {
            return (len, Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(1000)).await;
    }
}

fn phase(trial: u32) -> Duration {
    // Deterministic spread of arrival phases over one polling period.
    Duration::from_millis(((trial as u64 * 618_034) % 1_000_000) / 1000)
}

fn stats(name: &str, mut ms: Vec<f64>) -> f64 {
    ms.sort_by(f64::total_cmp);
    let mean = ms.iter().sum::<f64>() / ms.len() as f64;
    println!(
        "{name:<44} mean {mean:8.3} ms  p50 {:8.3}  max {:8.3}  (n={})",
        ms[ms.len() / 2],
        ms[ms.len() - 1],
        ms.len()
    );
    mean
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let trials: u32 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let timeout = Duration::from_secs(3);
    let (mut seed_full, mut ours_full, mut seed_deadline, mut ours_deadline) =
        (vec![], vec![], vec![], vec![]);
    for t in 0..trials {
        // --- full batch: 1 request starts the batch, 49 more arrive after a phase.
        let batch = Arc::new(Mutex::new(vec![0u32]));
        let collector = tokio::spawn(seed_collect(batch.clone(), 50, Duration::from_secs(45)));
        tokio::time::sleep(phase(t)).await;
        let mut last = Instant::now();
        for i in 1..50 {
            batch.lock().unwrap().push(i);
            last = Instant::now();
        }
        let (n, at) = collector.await.unwrap();
        assert_eq!(n, 50);
        seed_full.push((at - last).as_secs_f64() * 1e3);

        let (otx, mut orx) = mpsc::unbounded_channel::<FlushEvent>();
        let run: BatchFn<u32, u32> = Arc::new(|v: Vec<u32>| Box::pin(async move { v }));
        let cfg = BatchConfig {
            max_size: 50,
            timeout: Duration::from_secs(45),
            ..BatchConfig::default()
        };
        let b = Batcher::spawn_observed(cfg, run, Some(otx));
        let mut waits = Vec::new();
        let (first_tx, first_rx) = oneshot::channel::<()>();
        {
            let b = b.clone();
            waits.push(tokio::spawn(async move {
                let _ = first_tx.send(());
                b.submit(0).await
            }));
        }
        first_rx.await.unwrap();
        tokio::time::sleep(phase(t)).await;
        let mut last = Instant::now();
        for i in 1..50 {
            let b = b.clone();
            last = Instant::now();
            waits.push(tokio::spawn(async move { b.submit(i).await }));
        }
        let ev = orx.recv().await.unwrap();
        assert_eq!(ev.size, 50);
        ours_full.push((ev.at.saturating_duration_since(last)).as_secs_f64() * 1e3);
        for w in waits {
            w.await.unwrap().unwrap();
        }

        // --- partial batch: 7 requests, flush at the (3 s) deadline.
        let batch = Arc::new(Mutex::new((0..7).collect::<Vec<u32>>()));
        let start = Instant::now();
        let (n, at) = seed_collect(batch, 50, timeout).await;
        assert_eq!(n, 7);
        seed_deadline.push((at - (start + timeout)).as_secs_f64() * 1e3);

        let (otx, mut orx) = mpsc::unbounded_channel::<FlushEvent>();
        let run: BatchFn<u32, u32> = Arc::new(|v: Vec<u32>| Box::pin(async move { v }));
        let b = Batcher::spawn_observed(
            BatchConfig {
                max_size: 50,
                timeout,
                ..BatchConfig::default()
            },
            run,
            Some(otx),
        );
        let start = Instant::now();
        let waits: Vec<_> = (0..7)
            .map(|i| {
                let b = b.clone();
                tokio::spawn(async move { b.submit(i).await })
            })
            .collect();
        let ev = orx.recv().await.unwrap();
        assert_eq!(ev.size, 7);
        ours_deadline.push((ev.at.saturating_duration_since(start + timeout)).as_secs_f64() * 1e3);
        for w in waits {
            w.await.unwrap().unwrap();
        }
    }
    println!("batch of 50, 45 s timeout; partial batch of 7, 3 s timeout; {trials} trials");
    let a = stats("seed polling collector: 50th request → flush", seed_full);
    let b = stats("event-driven batcher:   50th request → flush", ours_full);
    stats("seed polling collector: deadline → flush", seed_deadline);
    stats("event-driven batcher:   deadline → flush", ours_deadline);
    println!("ratio (seed / ours, full batch): {:.0}×", a / b.max(1e-6));
}
