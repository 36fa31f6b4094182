//! `GET /api/admin/system-stats` and the same numbers on `/metrics`: the
//! machine as the process reads it, the queue per kind, the API's recent
//! response times and errors by code — admins only.

mod support;

use garmax_store::queue::NewJob;
use garmax_store::users::Role;
use serde_json::json;
use support::Client;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn system_stats_report_the_machine_queue_and_api_to_admins_only() {
    let dir = tempfile::tempdir().unwrap();
    let server = support::Server::start(support::config(dir.path()), 0).await;
    let store = &server.state.store;
    let admin = store
        .create_user("ops", Role::Admin, "pro", 0)
        .await
        .unwrap();
    let user = store
        .create_user("ann", Role::User, "pro", 0)
        .await
        .unwrap();
    let admin = Client::new(&server.base, &admin.api_key);
    let user = Client::new(&server.base, &user.api_key);

    // Two renders waiting for later (no worker takes them yet), and some
    // requests that fail with known codes.
    let later = garmax_store::now_ms() + 3_600_000;
    for _ in 0..2 {
        store
            .enqueue(&NewJob::new("render", json!({})).run_at(later))
            .await
            .unwrap();
    }
    for _ in 0..5 {
        assert_eq!(admin.get_json("/api/avatars/no-such-avatar").await.0, 404);
    }
    assert_eq!(user.get_json("/api/admin/system-stats").await.0, 403);
    let anonymous = Client::new(&server.base, "not-a-key");
    assert_eq!(anonymous.get_json("/api/admin/system-stats").await.0, 401);

    let (status, s) = admin.get_json("/api/admin/system-stats").await;
    assert_eq!(status, 200, "{s}");
    assert!(s["timestamp"].as_str().unwrap().ends_with('Z'), "{s}");
    assert_eq!(
        s["process"]["pid"],
        std::process::id(),
        "this process serves"
    );
    assert!(
        s["process"]["memoryBytes"].as_u64().unwrap() > 1_000_000,
        "{s}"
    );
    let host = &s["host"];
    assert!(host["cpus"].as_u64().unwrap() >= 1);
    let cpu = host["cpuPercent"].as_f64().unwrap();
    assert!((0.0..=100.0).contains(&cpu), "{host}");
    let (used, total) = (
        host["memoryUsedBytes"].as_u64().unwrap(),
        host["memoryTotalBytes"].as_u64().unwrap(),
    );
    assert!(used > 0 && used < total, "{host}");
    let disk = &s["disk"];
    let canonical = std::fs::canonicalize(dir.path()).unwrap();
    assert_eq!(disk["path"], canonical.to_str().unwrap(), "{disk}");
    assert!(disk["totalBytes"].as_u64().unwrap() > disk["usedBytes"].as_u64().unwrap());

    let by_kind = s["queue"]["byKind"].as_array().unwrap();
    let render = by_kind
        .iter()
        .find(|k| k["kind"] == "render")
        .unwrap_or_else(|| panic!("render in {s}"));
    assert_eq!(render["queued"], 2, "{s}");
    assert_eq!(render["oldestReadySeconds"], 0.0, "none may run yet");
    assert!(s["queue"]["queued"].as_i64().unwrap() >= 2);
    assert!(s["workers"].is_array());

    let api = &s["api"];
    let errors = &api["errorsByCode"];
    assert_eq!(errors["NOT_022"], 5, "{api}");
    assert_eq!(errors["AUTH_021"], 1, "{api}");
    assert_eq!(errors["AUTH_020"], 1, "{api}");
    assert!(api["requests"].as_u64().unwrap() >= 7, "{api}");
    let q = |k: &str| api[k].as_f64().unwrap();
    assert!(
        q("p50Ms") <= q("p95Ms") && q("p95Ms") <= q("p99Ms"),
        "{api}"
    );
    assert_eq!(api["serverErrorRate"], 0.0);
    assert!(q("clientErrorRate") > 0.0);

    // The same numbers for Prometheus.
    let metrics = reqwest::get(format!("{}/metrics", server.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for needle in [
        "garmax_host_memory_used_percent",
        "garmax_process_cpu_percent",
        "garmax_data_disk_used_percent",
        "garmax_queue_backlog{kind=\"render\"} 2",
        "garmax_api_errors_total{code=\"NOT_022\"} 5",
        "garmax_api_response_ms{quantile=\"0.99\"}",
    ] {
        assert!(metrics.contains(needle), "{needle} in:\n{metrics}");
    }
    server.stop().await;
}
