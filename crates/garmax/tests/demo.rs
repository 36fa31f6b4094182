//! The README's first command: `garmax demo --serve` writes the demo
//! try-on, then serves the API (and the studio when built) with a demo user
//! whose one session was made through the API, and prints the URL and key.

mod support;

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{Client, garmax_bin};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_serve_prints_a_working_url_and_key_with_one_session() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let mut child = Command::new(garmax_bin())
        .args(["demo", "--serve", "--bind", "127.0.0.1:0", "--out-dir"])
        .arg(&out)
        .env("GARMAX_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let (mut url, mut key, mut session) = (None, None, None);
    let deadline = Instant::now() + Duration::from_secs(900);
    while key.is_none() {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("demo --serve printed its key in time");
        if let Some(u) = line.strip_prefix("The studio:") {
            url = Some(u.trim().trim_end_matches('/').to_string());
        } else if let Some(k) = line.strip_prefix("API key:") {
            key = Some(k.trim().to_string());
        } else if let Some(s) = line.strip_prefix("session ") {
            session = s.split(':').next().map(str::to_string);
        }
    }
    // The files of the demo try-on were written first.
    assert!(out.join("garment_analysis.json").exists());
    assert!(out.join("tryon").read_dir().unwrap().next().is_some());
    let (url, key, session) = (url.unwrap(), key.unwrap(), session.unwrap());
    let c = Client::new(&url, &key);
    let (status, me) = c.get_json("/api/me").await;
    assert_eq!(status, 200, "{me}");
    let (status, s) = c.get_json(&format!("/api/tryon/sessions/{session}")).await;
    assert_eq!(status, 200, "{s}");
    assert!(
        ["preview_ready", "confirmed"].contains(&s["status"].as_str().unwrap()),
        "the demo session reached its preview: {s}"
    );
    // Sessions only reach the preview after the charge's hold: the balance
    // shows the demo's credits less at most one render.
    let (_, balance) = c.get_json("/api/billing/balance").await;
    assert!(balance["balance"].as_i64().unwrap() < 500, "{balance}");
    let _ = child.kill();
    let _ = child.wait();
}
