//! Users, avatars, garments, sessions and their events on both engines.

mod common;

use garmax_core::session::{SessionAction, SessionStatus};
use garmax_store::queue::NewJob;
use garmax_store::sessions::{NewSession, Outcome, Progress};
use garmax_store::users::Role;
use garmax_store::{Store, StoreError};
use serde_json::json;

async fn session_for(s: &Store, user: &str) -> String {
    let avatar = garmax_store::new_id();
    s.create_avatar(&avatar, user, &NewJob::new("avatar", json!({})))
        .await
        .unwrap();
    let garment = garmax_store::new_id();
    s.insert_garment(
        &garment,
        user,
        &json!({"garmentType": "tshirt"}),
        &["image".into()],
    )
    .await
    .unwrap();
    let id = garmax_store::new_id();
    s.create_session(
        &NewSession {
            id: &id,
            user_id: user,
            avatar_id: &avatar,
            garment_id: &garment,
            quality: "hd",
            tier: "standard",
            credits: 0,
        },
        &NewJob::new("render", json!({ "sessionId": id })),
    )
    .await
    .unwrap();
    id
}

#[tokio::test]
async fn keys_authenticate_until_revoked_and_credits_are_granted_once() {
    let (_dir, stores) = common::stores().await;
    for (engine, s) in &stores {
        let a = s
            .create_user("alice", Role::User, "studio", 40)
            .await
            .unwrap();
        assert_eq!(
            s.authenticate(&a.api_key).await.unwrap().unwrap().id,
            a.user.id,
            "{engine}"
        );
        assert!(s.authenticate("gmx_0000").await.unwrap().is_none());
        assert!(matches!(
            s.create_user("alice", Role::User, "free", 0).await,
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(s.balance(&a.user.id).await.unwrap(), 40);
        assert!(
            s.grant_credits(&a.user.id, 10, "promo-1", "promo")
                .await
                .unwrap()
        );
        assert!(
            !s.grant_credits(&a.user.id, 10, "promo-1", "promo")
                .await
                .unwrap(),
            "{engine}: idempotent"
        );
        assert_eq!(s.balance(&a.user.id).await.unwrap(), 50);
        let second = s.create_api_key(&a.user.id).await.unwrap();
        assert_eq!(s.revoke_keys(&a.user.id).await.unwrap(), 2);
        assert!(s.authenticate(&a.api_key).await.unwrap().is_none());
        assert!(s.authenticate(&second).await.unwrap().is_none());
        let list = s.list_users().await.unwrap();
        assert_eq!((list[0].credits, list[0].active_keys), (50, 0), "{engine}");
    }
}

#[tokio::test]
async fn objects_of_other_users_are_not_found() {
    let (_dir, stores) = common::stores().await;
    for (engine, s) in &stores {
        let a = s
            .create_user("a", Role::User, "free", 0)
            .await
            .unwrap()
            .user;
        let b = s
            .create_user("b", Role::User, "free", 0)
            .await
            .unwrap()
            .user;
        let id = session_for(s, &a.id).await;
        let sess = s.session(&a.id, &id).await.unwrap();
        assert!(
            matches!(s.session(&b.id, &id).await, Err(StoreError::NotFound)),
            "{engine}"
        );
        assert!(matches!(
            s.avatar(&b.id, &sess.avatar_id).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            s.garment(&b.id, &sess.garment_id).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            s.transition(&id, Some(&b.id), SessionAction::Cancel, Outcome::default())
                .await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            s.delete_avatar(&b.id, &sess.avatar_id).await,
            Err(StoreError::NotFound)
        ));
        assert!(
            s.list_sessions(&b.id, None, None)
                .await
                .unwrap()
                .items
                .is_empty()
        );
    }
}

#[tokio::test]
async fn progress_never_goes_backwards_and_the_preview_is_announced_once() {
    let (_dir, stores) = common::stores().await;
    for (engine, s) in &stores {
        let u = s
            .create_user("u", Role::User, "free", 0)
            .await
            .unwrap()
            .user;
        let id = session_for(s, &u.id).await;
        let mut live = s.subscribe();
        s.transition(&id, None, SessionAction::Start, Outcome::default())
            .await
            .unwrap();
        let p = |stage, progress| Progress {
            stage,
            progress,
            message: "m",
            eta_ms: None,
            attempt: None,
        };
        assert!(
            s.record_progress(&id, &p("smpl-start", 10))
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            s.record_progress(&id, &p("ai-processing", 75))
                .await
                .unwrap()
                .is_some()
        );
        // A retried job starts over: its early reports are dropped.
        assert!(
            s.transition(&id, None, SessionAction::Start, Outcome::default())
                .await
                .unwrap()
                .event
                .is_none()
        );
        assert!(
            s.record_progress(&id, &p("smpl-start", 10))
                .await
                .unwrap()
                .is_none(),
            "{engine}"
        );
        assert!(
            s.record_progress(&id, &p("ai-processing", 75))
                .await
                .unwrap()
                .is_none()
        );
        let preview = Outcome {
            progress: Some(100),
            has_preview: true,
            auto_confirm_at: Some(1),
            ..Default::default()
        };
        assert!(
            s.transition(&id, None, SessionAction::PreviewReady, preview.clone())
                .await
                .unwrap()
                .event
                .is_some()
        );
        assert!(matches!(
            s.transition(&id, None, SessionAction::PreviewReady, preview)
                .await,
            Err(StoreError::Conflict(_))
        ));
        let events = s.events_after(&id, 0).await.unwrap();
        let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
        assert_eq!(
            seqs,
            (1..=events.len() as i64).collect::<Vec<_>>(),
            "{engine}"
        );
        let progress: Vec<i64> = events.iter().map(|e| e.progress).collect();
        assert!(
            progress.windows(2).all(|w| w[0] <= w[1]),
            "{engine}: {progress:?}"
        );
        assert_eq!(
            events
                .iter()
                .filter(|e| e.status == "preview_ready")
                .count(),
            1
        );
        assert_eq!(
            s.events_after(&id, 3).await.unwrap().len(),
            events.len() - 3
        );
        assert_eq!(s.due_auto_confirms(2, 10).await.unwrap(), vec![id.clone()]);
        // Both the user and the timer confirm: one wins.
        let a = s
            .transition(&id, Some(&u.id), SessionAction::Confirm, Outcome::default())
            .await;
        let b = s
            .transition(&id, None, SessionAction::Confirm, Outcome::default())
            .await;
        assert!(
            a.is_ok() && matches!(b, Err(StoreError::Conflict(_))),
            "{engine}"
        );
        assert_eq!(
            s.session(&u.id, &id).await.unwrap().status,
            SessionStatus::Confirmed
        );
        assert!(s.due_auto_confirms(i64::MAX, 10).await.unwrap().is_empty());
        // Every event reached the local channel (SQLite) or the listener
        // (PostgreSQL starts one only when asked; see the server tests).
        if *engine == "sqlite" {
            let mut n = 0;
            while live.try_recv().is_ok() {
                n += 1;
            }
            // The queued event was published before subscribing; the confirm
            // came after `events` was read.
            assert_eq!(n, events.len() - 1 + 1);
        }
    }
}

#[tokio::test]
async fn pages_walk_every_session_once() {
    let (_dir, stores) = common::stores().await;
    for (engine, s) in &stores {
        let u = s
            .create_user("p", Role::User, "free", 0)
            .await
            .unwrap()
            .user;
        let mut made = Vec::new();
        for _ in 0..7 {
            made.push(session_for(s, &u.id).await);
        }
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let page = s
                .list_sessions(&u.id, Some(3), cursor.as_deref())
                .await
                .unwrap();
            seen.extend(page.items.iter().map(|x| x.id.clone()));
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        made.sort();
        seen.sort();
        assert_eq!(made, seen, "{engine}");
        assert!(s.list_sessions(&u.id, None, Some("garbage")).await.is_err());
    }
}

#[tokio::test]
async fn a_half_migrated_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("m.db").display());
    let s = Store::open(&url, 1).await.unwrap();
    sqlx::query("UPDATE _sqlx_migrations SET success = FALSE")
        .execute(s.pool())
        .await
        .unwrap();
    s.close().await;
    let err = Store::open(&url, 1).await.err().expect("refused");
    assert!(err.to_string().contains("partly applied"), "{err}");
}

/// Holds, captures and releases: the balance is never negative and a
/// session is charged at most once, whatever races.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn credits_are_held_captured_once_and_released_and_never_overspent() {
    let (_dir, stores) = common::stores().await;
    for (engine, s) in &stores {
        let u = s
            .create_user("payer", Role::User, "pro", 35)
            .await
            .unwrap()
            .user;
        let avatar = garmax_store::new_id();
        s.create_avatar(&avatar, &u.id, &NewJob::new("avatar", json!({})))
            .await
            .unwrap();
        let garment = garmax_store::new_id();
        s.insert_garment(&garment, &u.id, &json!({}), &[])
            .await
            .unwrap();
        // Ten sessions at 10 credits race for 35: exactly three are held.
        let mut tasks = Vec::new();
        for _ in 0..10 {
            let (s, u, avatar, garment) =
                (s.clone(), u.id.clone(), avatar.clone(), garment.clone());
            tasks.push(tokio::spawn(async move {
                let id = garmax_store::new_id();
                let r = s
                    .create_session(
                        &NewSession {
                            id: &id,
                            user_id: &u,
                            avatar_id: &avatar,
                            garment_id: &garment,
                            quality: "sd",
                            tier: "standard",
                            credits: 10,
                        },
                        &NewJob::new("render", json!({ "sessionId": id })),
                    )
                    .await;
                (id, r)
            }));
        }
        let mut held = Vec::new();
        for t in tasks {
            let (id, r) = t.await.unwrap();
            match r {
                Ok(_) => held.push(id),
                Err(StoreError::InsufficientCredits { needed, available }) => {
                    assert_eq!(needed, 10);
                    assert!(
                        available < 10,
                        "{engine}: refused with {available} available"
                    );
                }
                Err(e) => panic!("{engine}: {e}"),
            }
        }
        assert_eq!(held.len(), 3, "{engine}");
        assert_eq!(s.balance(&u.id).await.unwrap(), 5, "{engine}");
        // A refused session left nothing behind.
        assert_eq!(
            s.list_sessions(&u.id, Some(100), None)
                .await
                .unwrap()
                .items
                .len(),
            3
        );
        let (a, b, c) = (&held[0], &held[1], &held[2]);
        // a: preview, then the user and the timer both confirm.
        s.transition(a, None, SessionAction::Start, Outcome::default())
            .await
            .unwrap();
        s.transition(a, None, SessionAction::PreviewReady, Outcome::default())
            .await
            .unwrap();
        let (x, y) = tokio::join!(
            s.transition(a, Some(&u.id), SessionAction::Confirm, Outcome::default()),
            s.transition(a, None, SessionAction::Confirm, Outcome::default())
        );
        assert!(x.is_ok() != y.is_ok(), "{engine}: exactly one confirm wins");
        // b: cancelled, c: failed; both give their hold back, once.
        s.transition(b, Some(&u.id), SessionAction::Cancel, Outcome::default())
            .await
            .unwrap();
        assert!(
            s.transition(b, Some(&u.id), SessionAction::Cancel, Outcome::default())
                .await
                .is_err()
        );
        s.transition(c, None, SessionAction::Fail, Outcome::default())
            .await
            .unwrap();
        assert_eq!(
            s.balance(&u.id).await.unwrap(),
            25,
            "{engine}: 35 - 10 charged"
        );
    }
}

#[tokio::test]
async fn a_retry_attempt_revisits_rendering_without_the_progress_going_back() {
    let (_dir, stores) = common::stores().await;
    for (engine, s) in &stores {
        let u = s
            .create_user("u", Role::User, "free", 0)
            .await
            .unwrap()
            .user;
        let id = session_for(s, &u.id).await;
        s.transition(&id, None, SessionAction::Start, Outcome::default())
            .await
            .unwrap();
        let report = |stage: &'static str, progress, attempt| {
            let s = s.clone();
            let id = id.clone();
            async move {
                s.record_progress(
                    &id,
                    &Progress {
                        stage,
                        progress,
                        message: "m",
                        eta_ms: None,
                        attempt,
                    },
                )
                .await
                .unwrap()
                .map(|e| (e.stage, e.progress, e.attempt))
            }
        };
        assert_eq!(
            report("ai-processing", 75, Some(1)).await,
            Some(("ai-processing".into(), 75, 1))
        );
        assert_eq!(
            report("ai-complete", 90, Some(1)).await,
            Some(("ai-complete".into(), 90, 1))
        );
        // Attempt 2 renders again: the stage is shown, the bar stays at 90.
        assert_eq!(
            report("ai-processing", 75, Some(2)).await,
            Some(("ai-processing".into(), 90, 2)),
            "{engine}"
        );
        assert_eq!(
            report("ai-complete", 90, Some(2)).await,
            Some(("ai-complete".into(), 90, 2)),
            "{engine}"
        );
        // A stage outside the loop belongs to the current attempt.
        assert_eq!(
            report("finalizing", 95, None).await,
            Some(("finalizing".into(), 95, 2))
        );
        // A re-run job's old attempts and stages are dropped.
        assert_eq!(report("ai-processing", 75, Some(1)).await, None);
        assert_eq!(report("ai-complete", 90, Some(2)).await, None);
        assert_eq!(report("finalizing", 95, None).await, None);
        let session = s.session_by_id(&id).await.unwrap();
        assert_eq!((session.attempts, session.progress), (2, 95), "{engine}");
    }
}

#[tokio::test]
async fn on_sqlite_a_serving_process_hears_events_another_process_wrote_once_each() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("shared.db").display());
    // Two processes on one file: a worker that writes, a server that listens.
    let worker = Store::open(&url, 2).await.unwrap();
    let server = Store::open(&url, 2).await.unwrap();
    server.start_listener().await.unwrap();
    let mut live = server.subscribe();
    let u = server
        .create_user("u", Role::User, "free", 0)
        .await
        .unwrap()
        .user;
    let id = session_for(&server, &u.id).await;
    worker
        .transition(&id, None, SessionAction::Start, Outcome::default())
        .await
        .unwrap();
    let progress = Progress {
        stage: "smpl-start",
        progress: 10,
        message: "m",
        eta_ms: None,
        attempt: None,
    };
    worker.record_progress(&id, &progress).await.unwrap();
    // The server's own write goes out at once and is not repeated by the tail.
    server
        .transition(&id, None, SessionAction::Cancel, Outcome::default())
        .await
        .unwrap();
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(3);
    while let Ok(Ok(e)) = tokio::time::timeout_at(deadline, live.recv()).await {
        if e.session_id == id {
            seen.push((e.seq, e.status));
        }
    }
    let seqs: Vec<i64> = seen.iter().map(|(s, _)| *s).collect();
    let mut unique = seqs.clone();
    unique.dedup();
    assert_eq!(seqs, unique, "each event once: {seen:?}");
    assert!(
        seen.iter().any(|(_, s)| s == "processing"),
        "the worker's start reached the server: {seen:?}"
    );
    assert!(seen.iter().any(|(_, s)| s == "cancelled"), "{seen:?}");
}
