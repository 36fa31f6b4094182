//! The router's shared state on both engines: budgets under concurrency
//! from two store instances (two processes' pools), per-user render
//! counters, shared breakers, provider attempts of a session.

mod common;

use std::sync::Arc;

use garmax_store::Store;
use garmax_store::queue::NewJob;
use garmax_store::sessions::NewSession;
use garmax_store::usage::{AttemptRecord, BudgetLine, RenderRefusal};
use garmax_store::users::Role;
use serde_json::json;

/// 64 concurrent reservations of $0.05 from two store instances against
/// a $1.00 global budget: exactly 20 are granted, spend + reservations
/// never pass the budget, and after settling (each charging its estimate)
/// spend is exactly $1.00.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn budget_holds_under_64_concurrent_requests_from_two_stores() {
    let (_dir, stores) = common::stores().await;
    for (engine, first) in stores {
        let second = Store::open(first.url(), 8).await.unwrap();
        let pair = [Arc::new(first), Arc::new(second)];
        let lines = |i: usize| {
            vec![
                BudgetLine {
                    scope: "global".into(),
                    limit_micro: Some(1_000_000),
                },
                BudgetLine {
                    scope: "provider:paid".into(),
                    limit_micro: None,
                },
                BudgetLine {
                    scope: format!("user:u{}", i % 7),
                    limit_micro: None,
                },
            ]
        };
        let mut tasks = Vec::new();
        for i in 0..64 {
            let store = pair[i % 2].clone();
            let lines = lines(i);
            tasks.push(tokio::spawn(async move {
                let granted = store
                    .reserve_budget(1, 50_000, &lines)
                    .await
                    .unwrap()
                    .is_ok();
                let s = store.budget_spend(1, "global").await.unwrap();
                assert!(s.spent_micro + s.reserved_micro <= 1_000_000, "{s:?}");
                if granted {
                    let scopes: Vec<String> = lines.iter().map(|l| l.scope.clone()).collect();
                    store
                        .settle_budget(1, &scopes, 50_000, 50_000)
                        .await
                        .unwrap();
                }
                granted
            }));
        }
        let mut granted = 0;
        for t in tasks {
            granted += t.await.unwrap() as u32;
        }
        assert_eq!(granted, 20, "{engine}");
        let s = pair[0].budget_spend(1, "global").await.unwrap();
        assert_eq!(
            (s.spent_micro, s.reserved_micro),
            (1_000_000, 0),
            "{engine}"
        );
        let p = pair[1].budget_spend(1, "provider:paid").await.unwrap();
        assert_eq!(
            p.spent_micro, 1_000_000,
            "{engine}: unlimited lines are tracked"
        );
        // A refused reservation names the line and reserves nothing.
        let refused = pair[1].reserve_budget(1, 1, &lines(0)).await.unwrap();
        assert_eq!(refused, Err(0), "{engine}");
        assert_eq!(
            pair[1]
                .budget_spend(1, "provider:paid")
                .await
                .unwrap()
                .reserved_micro,
            0,
            "{engine}"
        );
        // Another day has its own budget.
        assert_eq!(
            pair[0].reserve_budget(2, 50_000, &lines(0)).await.unwrap(),
            Ok(())
        );
    }
}

/// Settling a failed call releases its reservation without spending.
#[tokio::test]
async fn a_failed_call_releases_its_reservation() {
    let (_dir, stores) = common::stores().await;
    for (engine, s) in &stores {
        let line = vec![BudgetLine {
            scope: "global".into(),
            limit_micro: Some(100),
        }];
        assert_eq!(s.reserve_budget(5, 100, &line).await.unwrap(), Ok(()));
        assert_eq!(
            s.reserve_budget(5, 1, &line).await.unwrap(),
            Err(0),
            "{engine}"
        );
        s.settle_budget(5, &["global".into()], 100, 0)
            .await
            .unwrap();
        let spend = s.budget_spend(5, "global").await.unwrap();
        assert_eq!(
            (spend.spent_micro, spend.reserved_micro),
            (0, 0),
            "{engine}"
        );
        assert_eq!(
            s.reserve_budget(5, 100, &line).await.unwrap(),
            Ok(()),
            "{engine}"
        );
    }
}

/// At most `max_concurrent` renders in flight per user, at most
/// `max_daily` a day, both across two store instances under concurrency;
/// an expired slot (a dead worker's) frees itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn per_user_render_limits_across_two_stores() {
    let (_dir, stores) = common::stores().await;
    for (engine, first) in stores {
        let second = Store::open(first.url(), 8).await.unwrap();
        let pair = [Arc::new(first), Arc::new(second)];
        let mut tasks = Vec::new();
        for i in 0..16 {
            let store = pair[i % 2].clone();
            tasks.push(tokio::spawn(async move {
                store.begin_render("alice", 1, 3, 20, 60_000).await.unwrap()
            }));
        }
        let mut started = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(()) => started += 1,
                Err(r) => assert_eq!(r, RenderRefusal::Concurrent, "{engine}"),
            }
        }
        assert_eq!(started, 3, "{engine}");
        assert_eq!(
            pair[0].user_render_counts("alice", 1).await.unwrap(),
            (3, 3)
        );
        for _ in 0..3 {
            pair[1].end_render("alice").await.unwrap();
        }
        // The daily limit: 20 a day, counted across both stores.
        for i in 0..17 {
            pair[i % 2]
                .begin_render("alice", 1, 3, 20, 60_000)
                .await
                .unwrap()
                .unwrap();
            pair[(i + 1) % 2].end_render("alice").await.unwrap();
        }
        assert_eq!(
            pair[0]
                .begin_render("alice", 1, 3, 20, 60_000)
                .await
                .unwrap(),
            Err(RenderRefusal::Daily),
            "{engine}"
        );
        assert!(
            pair[0]
                .begin_render("alice", 2, 3, 20, 60_000)
                .await
                .unwrap()
                .is_ok()
        );
        // A slot that expires (its worker died) no longer counts.
        for _ in 0..2 {
            pair[0]
                .begin_render("bob", 1, 2, 20, 1)
                .await
                .unwrap()
                .unwrap();
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert!(
            pair[1]
                .begin_render("bob", 1, 2, 20, 60_000)
                .await
                .unwrap()
                .is_ok(),
            "{engine}: expired slots are freed"
        );
    }
}

/// A shared breaker past its cooldown is probed by one process at a time:
/// of 16 racing claims from two store instances exactly one wins; none
/// wins while the breaker is open or closed; the claim lapses at its lease
/// and is cleared when the breaker is shared again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_process_claims_a_half_open_breakers_probe() {
    let (_dir, stores) = common::stores().await;
    for (engine, first) in stores {
        let second = Store::open(first.url(), 8).await.unwrap();
        let pair = [Arc::new(first), Arc::new(second)];
        assert!(
            !pair[0]
                .claim_breaker_probe("sdxl", 5_000, 65_000)
                .await
                .unwrap(),
            "{engine}: no breaker row"
        );
        pair[0].set_breaker("sdxl", 10_000).await.unwrap();
        assert!(
            !pair[1]
                .claim_breaker_probe("sdxl", 5_000, 65_000)
                .await
                .unwrap(),
            "{engine}: still open"
        );
        let claims = futures::future::join_all((0..16).map(|i| {
            let s = pair[i % 2].clone();
            async move { s.claim_breaker_probe("sdxl", 10_000, 70_000).await.unwrap() }
        }))
        .await;
        assert_eq!(
            claims.iter().filter(|c| **c).count(),
            1,
            "{engine}: {claims:?}"
        );
        assert!(
            !pair[0]
                .claim_breaker_probe("sdxl", 69_999, 129_999)
                .await
                .unwrap(),
            "{engine}: the claim holds"
        );
        assert!(
            pair[1]
                .claim_breaker_probe("sdxl", 70_000, 130_000)
                .await
                .unwrap(),
            "{engine}: lapsed at its lease"
        );
        // The probe failed and the breaker re-opened: a new claim waits for
        // the new cooldown, not for the old lease.
        pair[1].set_breaker("sdxl", 80_000).await.unwrap();
        assert!(
            !pair[0]
                .claim_breaker_probe("sdxl", 75_000, 135_000)
                .await
                .unwrap(),
            "{engine}"
        );
        assert!(
            pair[0]
                .claim_breaker_probe("sdxl", 80_000, 140_000)
                .await
                .unwrap(),
            "{engine}"
        );
        // Closed: nothing to probe.
        pair[0].set_breaker("sdxl", 0).await.unwrap();
        assert!(
            !pair[1]
                .claim_breaker_probe("sdxl", 90_000, 150_000)
                .await
                .unwrap(),
            "{engine}: closed"
        );
    }
}

#[tokio::test]
async fn breakers_are_shared_and_attempts_recorded_in_order() {
    let (_dir, stores) = common::stores().await;
    for (engine, s) in &stores {
        assert_eq!(s.breaker_open_until("gemini").await.unwrap(), None);
        s.set_breaker("gemini", 1_000).await.unwrap();
        s.set_breaker("gemini", 2_000).await.unwrap();
        assert_eq!(s.breaker_open_until("gemini").await.unwrap(), Some(2_000));
        s.set_breaker("gemini", 0).await.unwrap();
        assert_eq!(
            s.breaker_open_until("gemini").await.unwrap(),
            Some(0),
            "{engine}"
        );

        let user = s
            .create_user("carol", Role::User, "studio", 100)
            .await
            .unwrap()
            .user
            .id;
        let avatar = garmax_store::new_id();
        s.create_avatar(&avatar, &user, &NewJob::new("avatar", json!({})))
            .await
            .unwrap();
        let garment = garmax_store::new_id();
        s.insert_garment(&garment, &user, &json!({}), &["image".into()])
            .await
            .unwrap();
        let session = garmax_store::new_id();
        s.create_session(
            &NewSession {
                id: &session,
                user_id: &user,
                avatar_id: &avatar,
                garment_id: &garment,
                quality: "hd",
                tier: "standard",
                credits: 0,
            },
            &NewJob::new("render", json!({ "sessionId": session })),
        )
        .await
        .unwrap();
        let attempt = |provider: &str, outcome: &str, cost: f64| AttemptRecord {
            render: 1,
            provider: provider.into(),
            outcome: outcome.into(),
            error_class: (outcome == "failed").then(|| "retryable".into()),
            code: (outcome == "failed").then(|| "GEN_002".into()),
            message: None,
            latency_ms: 12.5,
            cost_usd: cost,
        };
        s.record_provider_attempts(
            &session,
            &[
                attempt("nano-banana-pro", "failed", 0.0),
                attempt("local", "success", 0.0),
            ],
        )
        .await
        .unwrap();
        let mut second = attempt("photomaker", "success", 0.015);
        second.render = 2;
        s.record_provider_attempts(&session, &[second.clone()])
            .await
            .unwrap();
        let got = s.provider_attempts(&session).await.unwrap();
        let names: Vec<&str> = got.iter().map(|a| a.provider.as_str()).collect();
        assert_eq!(
            names,
            ["nano-banana-pro", "local", "photomaker"],
            "{engine}"
        );
        assert_eq!(got[0].code.as_deref(), Some("GEN_002"));
        assert_eq!(got[2], second);
    }
}
