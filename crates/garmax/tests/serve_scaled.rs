//! `garmax serve` at scale: PostgreSQL, SeaweedFS S3, two API processes and
//! two worker processes; a worker killed mid-stage. Needs PostgreSQL on
//! 127.0.0.1 and SeaweedFS from scripts/test (GARMAX_TEST_S3_ENDPOINT).

mod support;

use support::{
    Backend, Client, Outage, PrivatePostgres, assert_ordered, fresh_postgres, serve, socket, worker,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_two_workers_postgres_s3_and_a_worker_killed_mid_stage() {
    let dir = tempfile::tempdir().unwrap();
    let database = fresh_postgres().await;
    let backend = Backend::scaled(dir.path(), &database);
    let key = backend.create_user("brand", false, 100);
    // API-only servers: every job runs in a separate worker process.
    let a = serve(&backend, &["--workers", "0", "--auto-confirm-secs", "600"]);
    let b = serve(&backend, &["--workers", "0", "--auto-confirm-secs", "600"]);
    let lease = [
        "--job-lease-ms",
        "4000",
        "--max-concurrent-generations",
        "1",
    ];
    let mut w1 = worker(&backend, &lease);
    let ca = Client::new(&a.base, &key);
    let cb = Client::new(&b.base, &key);

    // Uploaded through A, read through B: the state and the objects are shared.
    let avatar = ca.ready_avatar().await;
    let garment = ca.garment().await;
    assert_eq!(
        cb.get(&format!("/api/avatars/{avatar}/files/body.glb"))
            .await
            .status(),
        200
    );
    assert_eq!(
        cb.get(&format!("/api/garments/{garment}/image"))
            .await
            .status(),
        200
    );

    // A client on B sees a session created on A, run by a worker attached to neither.
    let mut live = socket(&b.base, &key).await;
    let id = ca.create_session(&avatar, &garment, "sd").await;
    live.join(&id).await;
    let updates = live.until(&["preview_ready", "failed"], 300).await;
    assert_eq!(
        updates.last().unwrap()["status"],
        "preview_ready",
        "{updates:?}"
    );
    assert_ordered(&updates);
    let (status, _) = cb
        .post_json(
            &format!("/api/tryon/sessions/{id}/confirm"),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        ca.get(&format!("/api/tryon/sessions/{id}/result"))
            .await
            .status(),
        200
    );

    // Crash: the only worker dies while rendering; a second one takes over.
    let crash = ca.create_session(&avatar, &garment, "hd").await;
    ca.wait_session(&crash, 120, |s| s["progress"].as_i64().unwrap_or(0) >= 60)
        .await;
    w1.kill9();
    let w2 = worker(&backend, &lease);
    let s = ca
        .wait_session(&crash, 300, |s| {
            s["status"] == "preview_ready" || s["status"] == "failed"
        })
        .await;
    assert_eq!(s["status"], "preview_ready", "{s}");
    let events = cb.sse(&crash, None, &["preview_ready"], 30).await;
    assert_ordered(&events);
    assert_eq!(
        events
            .iter()
            .filter(|e| e["status"] == "preview_ready")
            .count(),
        1
    );
    let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(
        seqs,
        (1..=events.len() as i64).collect::<Vec<_>>(),
        "no gaps, no repeats"
    );

    // The database drops every connection mid-run (as a restart does, for
    // this database only, so parallel tests keep theirs): jobs retry,
    // listeners reconnect, nothing is lost.
    let again = ca.create_session(&avatar, &garment, "sd").await;
    ca.wait_session(&again, 120, |s| s["progress"].as_i64().unwrap_or(0) >= 10)
        .await;
    drop_connections(&database).await;
    let s = ca
        .wait_session(&again, 300, |s| {
            s["status"] == "preview_ready" || s["status"] == "failed"
        })
        .await;
    assert_eq!(
        s["status"],
        "preview_ready",
        "{s}\nworker log:\n{}",
        w2.log_text()
    );
    drop(w2);
    drop((a, b));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_unreachable_for_a_while_jobs_retry_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let database = fresh_postgres().await;
    let mut backend = Backend::scaled(dir.path(), &database);
    // Every S3 request of the server goes through a proxy the test can cut.
    let endpoint = std::env::var("GARMAX_TEST_S3_ENDPOINT").unwrap();
    let storage = Outage::proxy(endpoint.trim_start_matches("http://")).await;
    for (k, v) in backend.env.iter_mut() {
        if k == "AWS_ENDPOINT_URL" {
            *v = storage.url();
        }
    }
    let key = backend.create_user("brand", false, 100);
    let server = serve(&backend, &["--workers", "1", "--auto-confirm-secs", "600"]);
    let c = Client::new(&server.base, &key);
    let avatar = c.ready_avatar().await;
    let garment = c.garment().await;

    storage.cut();
    // The API says so, and refuses what it cannot store with its code.
    let (status, ready) = c.get_json("/ready").await;
    assert_eq!(status, 503, "{ready}");
    let (status, body) = c
        .upload("/api/garments", "image", support::garment_photo())
        .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "OBJ_028", "{body}");
    // A session created now cannot load its avatar's files until the
    // storage is back: its job fails attempts and is retried.
    let id = c.create_session(&avatar, &garment, "sd").await;
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    let (_, during) = c.get_json(&format!("/api/tryon/sessions/{id}")).await;
    assert_ne!(during["status"], "failed", "{during}");
    storage.restore();

    let s = c
        .wait_session(&id, 300, |s| {
            s["status"] == "preview_ready" || s["status"] == "failed"
        })
        .await;
    assert_eq!(
        s["status"],
        "preview_ready",
        "{s}\nserver log:\n{}",
        server.log_text()
    );
    let events = c.sse(&id, None, &["preview_ready"], 30).await;
    assert_ordered(&events);
    assert_eq!(c.get_json("/ready").await.0, 200);
    assert_eq!(
        c.get(&format!("/api/tryon/sessions/{id}/preview"))
            .await
            .status(),
        200
    );
    // The garment refused during the outage left nothing behind.
    let (_, garments) = c.get_json("/api/garments").await;
    assert_eq!(garments["items"].as_array().unwrap().len(), 1, "{garments}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_restarted_under_load_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // A PostgreSQL server of this test's own, so restarting it leaves the
    // other tests' databases alone.
    let pg = std::sync::Arc::new(PrivatePostgres::start());
    let backend = Backend::scaled(dir.path(), &pg.url("postgres"));
    let key = backend.create_user("brand", false, 200);
    let server = serve(
        &backend,
        &[
            "--workers",
            "1",
            "--auto-confirm-secs",
            "600",
            // The load below is one client's worth of reads, not abuse.
            "--rate-limit",
            "100000",
            "--rate-burst",
            "100000",
        ],
    );
    let c = Client::new(&server.base, &key);
    let avatar = c.ready_avatar().await;
    let garment = c.garment().await;
    let mut live = socket(&server.base, &key).await;
    let mut sessions = Vec::new();
    for _ in 0..3 {
        sessions.push(c.create_session(&avatar, &garment, "sd").await);
    }
    live.join(&sessions[0]).await;

    // Load: status reads as fast as one client goes, through the restart.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = {
        let (c, id, stop) = (
            Client::new(&server.base, &key),
            sessions[2].clone(),
            stop.clone(),
        );
        tokio::spawn(async move {
            let mut statuses = std::collections::BTreeMap::<u16, u32>::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let status = c
                    .get(&format!("/api/tryon/sessions/{id}"))
                    .await
                    .status()
                    .as_u16();
                *statuses.entry(status).or_default() += 1;
            }
            statuses
        })
    };
    c.wait_session(&sessions[0], 120, |s| {
        s["progress"].as_i64().unwrap_or(0) >= 60
    })
    .await;
    let restarting = pg.clone();
    tokio::task::spawn_blocking(move || restarting.restart())
        .await
        .unwrap();

    for id in &sessions {
        let s = c
            .wait_session(id, 300, |s| {
                s["status"] == "preview_ready" || s["status"] == "failed"
            })
            .await;
        assert_eq!(
            s["status"],
            "preview_ready",
            "{s}\nserver log:\n{}",
            server.log_text()
        );
        let events = c.sse(id, None, &["preview_ready"], 30).await;
        assert_ordered(&events);
        let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
        assert_eq!(
            seqs,
            (1..=events.len() as i64).collect::<Vec<_>>(),
            "no gaps, no repeats"
        );
    }
    // The live client connected before the restart still hears the end.
    let updates = live.until(&["preview_ready", "failed"], 120).await;
    assert_eq!(
        updates.last().unwrap()["status"],
        "preview_ready",
        "{updates:?}"
    );
    assert_ordered(&updates);

    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let statuses = load.await.unwrap();
    // Reads during the restart may be refused as unavailable (503), never
    // answered with an internal error; most are served.
    let served = statuses.get(&200).copied().unwrap_or(0);
    let total: u32 = statuses.values().sum();
    assert!(
        statuses.keys().all(|s| *s == 200 || *s == 503),
        "{statuses:?}"
    );
    assert!(served * 2 > total, "{statuses:?}");
    eprintln!("status reads through the restart: {statuses:?}");
}

/// Terminates every connection to the test's database.
async fn drop_connections(database_url: &str) {
    use sqlx::Connection as _;
    let (admin_base, name) = database_url.rsplit_once('/').unwrap();
    let mut conn = sqlx::PgConnection::connect(&format!("{admin_base}/postgres"))
        .await
        .unwrap();
    let rows = sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()")
        .bind(name)
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert!(!rows.is_empty(), "the servers and workers hold connections");
}
