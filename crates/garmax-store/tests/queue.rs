//! The job queue on both engines: claims, leases, fencing, retries,
//! priorities and concurrent workers.

mod common;

use std::collections::HashSet;

use garmax_store::Store;
use garmax_store::queue::NewJob;
use serde_json::json;

async fn each(f: impl AsyncFn(&str, &Store)) {
    let (_dir, stores) = common::stores().await;
    for (name, store) in &stores {
        f(name, store).await;
    }
}

#[tokio::test]
async fn claim_complete_and_priorities() {
    each(async |engine, s| {
        let low = s
            .enqueue(&NewJob::new("render", json!({"n": 1})).priority(1))
            .await
            .unwrap();
        let high = s
            .enqueue(&NewJob::new("render", json!({"n": 2})).priority(3))
            .await
            .unwrap();
        let a = s.claim("w1", 10_000).await.unwrap().unwrap();
        assert_eq!(a.id, high, "{engine}: the higher priority runs first");
        assert_eq!(a.attempt, 1);
        let b = s.claim("w2", 10_000).await.unwrap().unwrap();
        assert_eq!(b.id, low);
        assert!(
            s.claim("w3", 10_000).await.unwrap().is_none(),
            "{engine}: nothing left"
        );
        assert!(s.complete(&a).await.unwrap());
        assert!(
            !s.complete(&a).await.unwrap(),
            "{engine}: completing twice does nothing"
        );
        assert_eq!(s.job_state(&high).await.unwrap().status, "done");
        let stats = s.queue_stats().await.unwrap();
        assert_eq!((stats.running, stats.done), (1, 1), "{engine}");
    })
    .await;
}

#[tokio::test]
async fn an_expired_lease_is_taken_over_and_the_old_claim_is_fenced() {
    each(async |engine, s| {
        let id = s.enqueue(&NewJob::new("render", json!({}))).await.unwrap();
        let dead = s.claim("dead", 1).await.unwrap().unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let alive = s.claim("alive", 10_000).await.unwrap().unwrap();
        assert_eq!(alive.id, id, "{engine}: the expired job is claimed again");
        assert_eq!(alive.attempt, 2);
        // The dead worker wakes up: none of its calls may touch the job.
        assert!(!s.heartbeat(&dead, 10_000).await.unwrap(), "{engine}");
        assert!(!s.complete(&dead).await.unwrap(), "{engine}");
        assert_eq!(
            s.fail_attempt(&dead, "late").await.unwrap(),
            None,
            "{engine}"
        );
        assert!(s.heartbeat(&alive, 10_000).await.unwrap());
        assert!(s.complete(&alive).await.unwrap());
        assert_eq!(s.job_state(&id).await.unwrap().status, "done");
    })
    .await;
}

#[tokio::test]
async fn failures_back_off_then_fail_for_good() {
    each(async |engine, s| {
        let id = s
            .enqueue(&NewJob::new("render", json!({})).max_attempts(2))
            .await
            .unwrap();
        let first = s.claim("w", 10_000).await.unwrap().unwrap();
        assert_eq!(
            s.fail_attempt(&first, "boom").await.unwrap(),
            Some("queued")
        );
        assert!(
            s.claim("w", 10_000).await.unwrap().is_none(),
            "{engine}: backing off"
        );
        let state = s.job_state(&id).await.unwrap();
        assert_eq!(
            (state.status.as_str(), state.last_error.as_deref()),
            ("queued", Some("boom"))
        );
        // Skip the backoff.
        sqlx::query("UPDATE jobs SET run_at = 0")
            .execute(s.pool())
            .await
            .unwrap();
        let second = s.claim("w", 10_000).await.unwrap().unwrap();
        assert_eq!(second.attempt, 2);
        assert_eq!(
            s.fail_attempt(&second, "boom again").await.unwrap(),
            Some("failed")
        );
        assert_eq!(s.job_state(&id).await.unwrap().status, "failed", "{engine}");
        assert!(s.claim("w", 10_000).await.unwrap().is_none());
    })
    .await;
}

#[tokio::test]
async fn a_job_whose_every_worker_died_is_reaped() {
    each(async |engine, s| {
        let id = s
            .enqueue(&NewJob::new("render", json!({"sessionId": "x"})).max_attempts(1))
            .await
            .unwrap();
        s.claim("dead", 1).await.unwrap().unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert!(
            s.claim("w", 10_000).await.unwrap().is_none(),
            "{engine}: no attempts left"
        );
        let reaped = s.reap_expired().await.unwrap();
        assert_eq!(reaped.len(), 1);
        assert_eq!(reaped[0].payload["sessionId"], "x");
        assert_eq!(s.job_state(&id).await.unwrap().status, "failed");
        assert!(
            s.reap_expired().await.unwrap().is_empty(),
            "{engine}: reaped once"
        );
    })
    .await;
}

#[tokio::test]
async fn release_does_not_count_an_attempt() {
    each(async |engine, s| {
        s.enqueue(&NewJob::new("render", json!({}))).await.unwrap();
        let j = s.claim("w", 10_000).await.unwrap().unwrap();
        assert!(s.release(&j, 0).await.unwrap());
        let again = s.claim("w", 10_000).await.unwrap().unwrap();
        assert_eq!(again.attempt, 1, "{engine}");
    })
    .await;
}

/// Many workers claiming at once: every job is claimed exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_workers_never_share_a_job() {
    let (_dir, stores) = common::stores().await;
    for (engine, s) in stores {
        let mut ids = HashSet::new();
        for n in 0..60 {
            ids.insert(
                s.enqueue(&NewJob::new("render", json!({ "n": n })))
                    .await
                    .unwrap(),
            );
        }
        let mut tasks = Vec::new();
        for w in 0..6 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                while let Some(job) = s.claim(&format!("w{w}"), 60_000).await.unwrap() {
                    assert!(s.complete(&job).await.unwrap());
                    mine.push(job.id);
                }
                mine
            }));
        }
        let mut claimed = Vec::new();
        for t in tasks {
            claimed.extend(t.await.unwrap());
        }
        let unique: HashSet<_> = claimed.iter().cloned().collect();
        assert_eq!(claimed.len(), 60, "{engine}: {} claims", claimed.len());
        assert_eq!(unique, ids, "{engine}");
    }
}

/// The operator's view of the queue: queued jobs per kind with the age of
/// the oldest ready one (a job scheduled later is counted, not aged), and
/// running jobs per worker.
#[tokio::test]
async fn backlog_per_kind_and_running_jobs_per_worker() {
    each(async |engine, s| {
        for _ in 0..3 {
            s.enqueue(&NewJob::new("render", json!({}))).await.unwrap();
        }
        s.enqueue(&NewJob::new("avatar", json!({}))).await.unwrap();
        let later = garmax_store::now_ms() + 3_600_000;
        s.enqueue(&NewJob::new("avatar", json!({})).run_at(later))
            .await
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        let backlog = s.queue_backlog().await.unwrap();
        let kinds: Vec<(&str, i64)> = backlog
            .iter()
            .map(|b| (b.kind.as_str(), b.queued))
            .collect();
        assert_eq!(kinds, [("avatar", 2), ("render", 3)], "{engine}");
        for b in &backlog {
            assert!(
                (25..60_000).contains(&b.oldest_ready_ms),
                "{engine}: {b:?} aged from the ready job only"
            );
        }
        assert!(s.running_by_worker().await.unwrap().is_empty());
        s.claim("w1", 10_000).await.unwrap().unwrap();
        s.claim("w1", 10_000).await.unwrap().unwrap();
        s.claim("w2", 10_000).await.unwrap().unwrap();
        assert_eq!(
            s.running_by_worker().await.unwrap(),
            [("w1".to_string(), 2), ("w2".to_string(), 1)],
            "{engine}"
        );
    })
    .await;
}
