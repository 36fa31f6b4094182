//! `garmax serve` at scale: PostgreSQL, SeaweedFS S3, two API processes and
//! two worker processes; a worker killed mid-stage. Needs PostgreSQL on
//! 127.0.0.1 and SeaweedFS from scripts/test (GARMAX_TEST_S3_ENDPOINT).

mod support;

use support::{Backend, Client, assert_ordered, serve, socket, worker};

async fn fresh_postgres() -> String {
    use sqlx::Connection as _;
    let admin = std::env::var("GARMAX_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| {
            panic!("PostgreSQL at {admin} is required (scripts/test starts it): {e}")
        });
    let name = format!("garmax_e2e_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    format!("{}/{name}", admin.rsplit_once('/').unwrap().0)
}

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
