//! A server process killed (`SIGKILL`) between a session's hold and its
//! capture, then started again on the same database: the hold is captured
//! exactly once when the session is confirmed, or released by the reaper
//! when its job cannot be finished — never leaked, never charged twice.
//!
//! The server process is this test binary re-run as the ignored test
//! `crash_child_server`, which runs `garmax_server::serve` (API and worker,
//! what `garmax serve` runs) on the fast engine of `support` — the
//! pipeline's models are not needed to test the money.

mod support;

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use garmax_store::Store;
use garmax_store::users::Role;
use serde_json::Value;
use support::Client;

/// The server of the crash test, when run by `spawn_child` (the
/// environment names its data directory).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by the crash tests as their server process"]
async fn crash_child_server() {
    let dir = std::env::var("GARMAX_CRASH_DIR").expect("run by the crash tests only");
    let render_ms: u64 = std::env::var("GARMAX_CRASH_RENDER_MS")
        .unwrap()
        .parse()
        .unwrap();
    let attempts: i64 = std::env::var("GARMAX_CRASH_ATTEMPTS")
        .unwrap()
        .parse()
        .unwrap();
    let mut config = support::config(std::path::Path::new(&dir));
    config.job_max_attempts = attempts;
    let server = support::Server::start(config, render_ms).await;
    println!("listening {}", server.base);
    std::future::pending::<()>().await;
}

struct ChildServer {
    child: Child,
    base: String,
}

impl ChildServer {
    fn kill9(mut self) {
        // Child::kill sends SIGKILL on Unix.
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_child(dir: &std::path::Path, render_ms: u64, attempts: i64) -> ChildServer {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "crash_child_server",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("GARMAX_CRASH_DIR", dir)
        .env("GARMAX_CRASH_RENDER_MS", render_ms.to_string())
        .env("GARMAX_CRASH_ATTEMPTS", attempts.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let base = loop {
        line.clear();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "the child server did not start"
        );
        // libtest prints "test crash_child_server ... " without a newline
        // before the test's own output: the address is the line's tail.
        if let Some((_, b)) = line.trim().split_once("listening ") {
            break b.to_string();
        }
    };
    std::thread::spawn(move || for _ in reader.lines() {});
    ChildServer { child, base }
}

async fn entries(store: &Store, session: &str) -> (i64, i64, i64) {
    use sqlx::Row as _;
    let n = |kind: &'static str| {
        let store = store.clone();
        let session = session.to_string();
        async move {
            sqlx::query("SELECT COUNT(*) AS n FROM credit_entries WHERE subject = $1 AND kind = $2")
                .bind(session)
                .bind(kind)
                .fetch_one(store.pool())
                .await
                .unwrap()
                .try_get::<i64, _>("n")
                .unwrap()
        }
    };
    (n("hold").await, n("capture").await, n("release").await)
}

/// Starts a session on a slow render, kills the server mid-render.
async fn session_killed_mid_render(
    dir: &std::path::Path,
    attempts: i64,
) -> (Store, String, String, String) {
    let store = Store::open(&format!("sqlite://{}", dir.join("garmax.db").display()), 2)
        .await
        .unwrap();
    let u = store
        .create_user("crash", Role::User, "pro", 100)
        .await
        .unwrap();
    let server = spawn_child(dir, 600_000, attempts);
    let c = Client::new(&server.base, &u.api_key);
    let avatar = c.ready_avatar().await;
    let garment = c.garment().await;
    let r = c.session(&avatar, &garment, "hd").await;
    assert_eq!(r.status(), 202);
    let id = r.json::<Value>().await.unwrap()["sessionId"]
        .as_str()
        .unwrap()
        .to_string();
    c.wait(&format!("/api/tryon/sessions/{id}"), 30, |v| {
        v["status"] == "processing"
    })
    .await;
    server.kill9();
    assert_eq!(
        store.balance(&u.user.id).await.unwrap(),
        100 - 5 - 15,
        "held while dead"
    );
    assert_eq!(entries(&store, &id).await, (1, 0, 0));
    (store, u.user.id, u.api_key, id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_session_then_confirmed_is_captured_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let (store, user, key, id) = session_killed_mid_render(dir.path(), 3).await;
    // Restarted: the job's lease runs out, the new worker takes it over.
    let server = spawn_child(dir.path(), 0, 3);
    let c = Client::new(&server.base, &key);
    c.wait(&format!("/api/tryon/sessions/{id}"), 60, |v| {
        v["status"] == "preview_ready"
    })
    .await;
    let (st, _) = c
        .post_json(
            &format!("/api/tryon/sessions/{id}/confirm"),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(st, 200);
    // Killed again right after the confirm, restarted once more.
    server.kill9();
    let server = spawn_child(dir.path(), 0, 3);
    let c = Client::new(&server.base, &key);
    let (_, v) = c.get_json(&format!("/api/tryon/sessions/{id}")).await;
    assert_eq!(v["status"], "confirmed");
    assert_eq!(v["credits"]["captured"], 15, "{v}");
    tokio::time::sleep(Duration::from_millis(1500)).await; // a sweep or two
    assert_eq!(
        entries(&store, &id).await,
        (1, 1, 0),
        "one hold, one capture, no release"
    );
    assert_eq!(store.balance(&user).await.unwrap(), 80);
    assert!(store.ledger_violations().await.unwrap().is_empty());
    server.kill9();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_on_the_last_attempt_is_released_by_the_reaper() {
    let dir = tempfile::tempdir().unwrap();
    let (store, user, key, id) = session_killed_mid_render(dir.path(), 1).await;
    // One attempt only: after the lease, the reaper fails the job and the
    // session, which releases the hold.
    let server = spawn_child(dir.path(), 0, 1);
    let c = Client::new(&server.base, &key);
    let v = c
        .wait(&format!("/api/tryon/sessions/{id}"), 60, |v| {
            v["status"] == "failed"
        })
        .await;
    assert_eq!(v["credits"]["released"], 15, "{v}");
    assert_eq!(entries(&store, &id).await, (1, 0, 1));
    assert_eq!(store.balance(&user).await.unwrap(), 95);
    assert!(store.ledger_violations().await.unwrap().is_empty());
    server.kill9();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_whose_job_failed_without_the_session_hearing_is_released() {
    let dir = tempfile::tempdir().unwrap();
    let (store, user, key, id) = session_killed_mid_render(dir.path(), 3).await;
    // As if the process died between failing the job and failing the
    // session: the job is failed, the session still says processing.
    sqlx::query("UPDATE jobs SET status = 'failed', locked_by = NULL, lease_until = NULL WHERE id = (SELECT job_id FROM sessions WHERE id = $1)")
        .bind(&id)
        .execute(store.pool())
        .await
        .unwrap();
    assert_eq!(store.orphaned_sessions(10).await.unwrap(), vec![id.clone()]);
    let server = spawn_child(dir.path(), 0, 3);
    let c = Client::new(&server.base, &key);
    let v = c
        .wait(&format!("/api/tryon/sessions/{id}"), 30, |v| {
            v["status"] == "failed"
        })
        .await;
    assert_eq!(v["error"]["code"], "GEN_002", "{v}");
    assert_eq!(entries(&store, &id).await, (1, 0, 1));
    assert_eq!(store.balance(&user).await.unwrap(), 95);
    assert!(store.orphaned_sessions(10).await.unwrap().is_empty());
    server.kill9();
}
