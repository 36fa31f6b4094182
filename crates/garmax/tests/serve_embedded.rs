//! `garmax serve` end to end on the embedded defaults (SQLite + a local
//! directory + the in-process worker): upload, session, live progress over
//! socket.io and SSE, confirm / reject / cancel, downloads.

mod support;

use support::{Backend, Client, assert_ordered, serve, socket, worker};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_runs_live_to_preview_and_is_confirmed_rejected_or_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    let backend = Backend::embedded(dir.path());
    let key = backend.create_user("shopper", false, 100);
    let server = serve(&backend, &["--workers", "1", "--auto-confirm-secs", "600"]);
    let c = Client::new(&server.base, &key);

    let (status, me) = c.get_json("/api/me").await;
    assert_eq!(
        (status, me["name"].as_str(), me["credits"].as_i64()),
        (200, Some("shopper"), Some(100))
    );

    let avatar = c.ready_avatar().await;
    let (_, a) = c.get_json(&format!("/api/avatars/{avatar}")).await;
    for f in ["photo", "body.glb", "depth", "normal", "pose"] {
        assert!(
            a["files"].as_array().unwrap().iter().any(|x| x == f),
            "{f} in {a}"
        );
        assert_eq!(
            c.get(&format!("/api/avatars/{avatar}/files/{f}"))
                .await
                .status(),
            200,
            "{f}"
        );
    }
    let garment = c.garment().await;
    let (_, g) = c.get_json(&format!("/api/garments/{garment}")).await;
    assert_eq!(g["analysis"]["garmentType"], "tshirt", "{g}");

    // Confirm: socket.io and SSE both see the whole run in order.
    let mut live = socket(&server.base, &key).await;
    let id = c.create_session(&avatar, &garment, "sd").await;
    live.join(&id).await;
    let (socket_updates, sse_updates) = tokio::join!(
        live.until(&["preview_ready", "failed"], 300),
        c.sse(&id, None, &["preview_ready", "failed"], 300)
    );
    assert_eq!(
        sse_updates.last().unwrap()["status"],
        "preview_ready",
        "{sse_updates:?}"
    );
    assert_eq!(
        socket_updates.last().unwrap()["status"],
        "preview_ready",
        "{socket_updates:?}"
    );
    assert_ordered(&sse_updates);
    assert_ordered(&socket_updates);
    // socket.io replays the history on join too: both see the same run,
    // retry attempts included.
    let seqs = |u: &[serde_json::Value]| u.iter().map(|u| u["seq"].clone()).collect::<Vec<_>>();
    assert_eq!(seqs(&socket_updates), seqs(&sse_updates));
    // SSE replays from the start: every stage of the seed's map, in order.
    let stages: Vec<&str> = sse_updates
        .iter()
        .map(|u| u["stage"].as_str().unwrap())
        .collect();
    for s in [
        "queued",
        "smpl-start",
        "smpl-guidance-complete",
        "ai-queued",
        "ai-processing",
        "complete",
    ] {
        assert!(stages.contains(&s), "{s} missing from {stages:?}");
    }
    assert_eq!(sse_updates[0]["seq"], 1);
    // Resuming after event 3 gives exactly the rest.
    let resumed = c.sse(&id, Some(3), &["preview_ready"], 30).await;
    assert_eq!(resumed.len(), sse_updates.len() - 3);
    assert_eq!(resumed[0]["seq"], 4);

    let (_, s) = c.get_json(&format!("/api/tryon/sessions/{id}")).await;
    assert_eq!(s["status"], "preview_ready");
    assert!(
        s["validation"]["overallQuality"].as_f64().unwrap() > 0.0,
        "{s}"
    );
    assert!(s["autoConfirmAt"].is_string());
    assert_eq!(
        c.get(&format!("/api/tryon/sessions/{id}/result"))
            .await
            .status(),
        404,
        "no result before confirm"
    );
    let preview = c
        .get(&format!("/api/tryon/sessions/{id}/preview"))
        .await
        .bytes()
        .await
        .unwrap();
    let img = image::load_from_memory(&preview).expect("the preview is an image");
    assert!(img.width() >= 256 && img.height() >= 256);
    let (status, confirmed) = c
        .post_json(
            &format!("/api/tryon/sessions/{id}/confirm"),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(
        (status, confirmed["status"].as_str()),
        (200, Some("confirmed"))
    );
    let result = c.get(&format!("/api/tryon/sessions/{id}/result")).await;
    assert_eq!(result.status(), 200);
    assert_eq!(result.bytes().await.unwrap(), preview);
    let (status, again) = c
        .post_json(
            &format!("/api/tryon/sessions/{id}/confirm"),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(
        (status, again["error"]["code"].as_str()),
        (409, Some("STA_023"))
    );

    // Reject.
    let id2 = c.create_session(&avatar, &garment, "hd").await;
    c.wait_session(&id2, 300, |s| s["status"] == "preview_ready")
        .await;
    let (status, rejected) = c
        .post_json(
            &format!("/api/tryon/sessions/{id2}/reject"),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(
        (status, rejected["status"].as_str()),
        (200, Some("rejected"))
    );
    assert_eq!(
        c.get(&format!("/api/tryon/sessions/{id2}/result"))
            .await
            .status(),
        404
    );
    let after_reject = c.sse(&id2, None, &["rejected"], 30).await;
    assert_eq!(after_reject.last().unwrap()["status"], "rejected");
    assert_ordered(&after_reject);

    // Cancel before the preview.
    let id3 = c.create_session(&avatar, &garment, "sd").await;
    let (status, cancelled) = c
        .post_json(
            &format!("/api/tryon/sessions/{id3}/cancel"),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(
        (status, cancelled["status"].as_str()),
        (200, Some("cancelled"))
    );
    let after_cancel = c.sse(&id3, None, &["cancelled"], 30).await;
    assert_eq!(after_cancel.last().unwrap()["status"], "cancelled");
    // The worker sees the cancellation and never announces a preview.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let (_, s3) = c.get_json(&format!("/api/tryon/sessions/{id3}")).await;
    assert_eq!(s3["status"], "cancelled");
    assert!(s3["previewUrl"].is_null() || s3["status"] == "cancelled");

    let (_, list) = c.get_json("/api/tryon/sessions?limit=2").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    assert_eq!(list["items"][0]["sessionId"], id3.as_str(), "newest first");
    let cursor = list["nextCursor"].as_str().unwrap();
    let (_, rest) = c
        .get_json(&format!("/api/tryon/sessions?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(rest["items"][0]["sessionId"], id.as_str());
    assert!(rest["nextCursor"].is_null());

    // Health, readiness, metrics and the OpenAPI document.
    let plain = reqwest::Client::new();
    assert_eq!(
        plain.get(c.url("/health")).send().await.unwrap().status(),
        200
    );
    let ready: serde_json::Value = plain
        .get(c.url("/ready"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        ready,
        serde_json::json!({"database": true, "storage": true, "queue": true})
    );
    let metrics = plain
        .get(c.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("garmax_http_requests_total"), "{metrics}");
    assert!(metrics.contains("garmax_jobs_total"), "{metrics}");
    let doc: serde_json::Value = plain
        .get(c.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["paths"]["/api/tryon/sessions"]["post"].is_object());
    assert_eq!(
        plain
            .get(c.url("/api/docs/"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_confirms_a_preview_when_the_countdown_runs_out() {
    let dir = tempfile::tempdir().unwrap();
    let backend = Backend::embedded(dir.path());
    let key = backend.create_user("auto", false, 100);
    let server = serve(&backend, &["--workers", "1", "--auto-confirm-secs", "2"]);
    let c = Client::new(&server.base, &key);
    let avatar = c.ready_avatar().await;
    let garment = c.garment().await;
    let id = c.create_session(&avatar, &garment, "sd").await;
    let updates = c.sse(&id, None, &["confirmed", "failed"], 300).await;
    assert_ordered(&updates);
    let last = updates.last().unwrap();
    assert_eq!(last["status"], "confirmed");
    assert_eq!(last["message"], "confirmed automatically");
    assert_eq!(
        c.get(&format!("/api/tryon/sessions/{id}/result"))
            .await
            .status(),
        200
    );
}

/// The queue's job counts by status, as `/metrics` reports them.
async fn queue_jobs(c: &Client) -> std::collections::BTreeMap<String, f64> {
    let text = c.get("/metrics").await.text().await.unwrap();
    text.lines()
        .filter_map(|l| l.strip_prefix("garmax_queue_jobs{status=\""))
        .filter_map(|l| {
            let (status, value) = l.split_once("\"} ")?;
            Some((status.to_string(), value.trim().parse().ok()?))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_worker_hands_its_running_job_back_and_another_finishes_it() {
    let dir = tempfile::tempdir().unwrap();
    let backend = Backend::embedded(dir.path());
    // A short grace period, and a lease so long that only the hand-back
    // (never an expired lease) can let another worker take the job.
    let config = dir.path().join("garmax.toml");
    std::fs::write(&config, "[server]\nshutdown_grace_ms = 50\n").unwrap();
    let config = config.to_str().unwrap();
    let lease = ["--config", config, "--job-lease-ms", "600000"];
    let key = backend.create_user("brand", false, 100);
    let server = serve(&backend, &["--workers", "0", "--auto-confirm-secs", "600"]);
    let c = Client::new(&server.base, &key);
    let mut first = worker(&backend, &lease);
    let avatar = c.ready_avatar().await;
    let garment = c.garment().await;
    let id = c.create_session(&avatar, &garment, "sd").await;
    // The whole job takes about half a second on the astronaut, so the
    // signal goes as soon as the job has started (waiting for a later stage
    // at the usual 250 ms poll, then a 300 ms grace period, raced the job's
    // end and lost on a fast run). Polled, not streamed: on SQLite a
    // server hears only its own process's live events.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let (_, s) = c.get_json(&format!("/api/tryon/sessions/{id}")).await;
        if s["status"] != "queued" {
            assert_eq!(s["status"], "processing", "{s}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never started: {s}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    // SIGTERM mid-job: the worker stops within its grace period (plus the
    // one second it gives the job it let go), releasing the job.
    let status = first
        .terminate(30)
        .unwrap_or_else(|| panic!("the worker did not stop:\n{}", first.log_text()));
    assert!(status.success(), "{status:?}\n{}", first.log_text());
    assert!(
        first.log_text().contains("releasing"),
        "{}",
        first.log_text()
    );
    let jobs = queue_jobs(&c).await;
    assert_eq!(jobs.get("running"), Some(&0.0), "{jobs:?}");
    assert_eq!(jobs.get("queued"), Some(&1.0), "{jobs:?}");

    let _second = worker(&backend, &lease);
    let s = c
        .wait_session(&id, 300, |s| {
            s["status"] == "preview_ready" || s["status"] == "failed"
        })
        .await;
    assert_eq!(s["status"], "preview_ready", "{s}");
    let events = c.sse(&id, None, &["preview_ready"], 30).await;
    assert_ordered(&events);
}
