//! The seed's alerts against real `garmax serve` processes: two servers on
//! one PostgreSQL database evaluate every second, a quality drop fires
//! once (one signed webhook, one email through a local SMTP sink), resolves
//! once, fires again only after resolving; the evaluator's lease moves to
//! the other server when its holder is killed. A system-health alert on
//! SQLite names the host.

mod support;

use std::time::{Duration, Instant};

use serde_json::Value;
use support::{Backend, Client, Proc, SmtpSink, fresh_postgres, serve};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "whsec_alerts_test";

fn config(dir: &std::path::Path, hook: &str, smtp: &str, health: (f64, f64)) -> std::path::PathBuf {
    let file = dir.join(format!("alerts-{}.toml", health.0));
    std::fs::write(
        &file,
        format!(
            r#"[server.alerts]
evaluate_every_secs = 1
smtp_url = "{smtp}"
email_from = "garmax <alerts@example.com>"

[server.alerts.quality_drop]
threshold = 0.6
time_window_ms = 3600000
min_samples = 3
recipients = ["quality@example.com"]

[server.alerts.high_cost]
threshold = 1000000.0

[server.alerts.system_health]
cpu_threshold = {}
memory_threshold = {}
recipients = ["devops@example.com"]

[[server.alerts.webhooks]]
url = "{hook}"
secret = "{SECRET}"
"#,
            health.0, health.1
        ),
    )
    .unwrap();
    file
}

/// A webhook receiver answering `status` and an SMTP sink.
async fn receivers(status: u16) -> (MockServer, SmtpSink) {
    let hook = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(ResponseTemplate::new(status))
        .mount(&hook)
        .await;
    (hook, SmtpSink::start().await)
}

/// `n` generations of overall quality `overall`, finished now.
async fn generations(database: &str, n: usize, overall: f64) {
    use sqlx::Connection as _;
    let mut conn = sqlx::PgConnection::connect(database).await.unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    for _ in 0..n {
        sqlx::query(
            "INSERT INTO generation_metrics (session_id, user_id, tier, provider, attempts, overall, passes, \
             analysis_ms, stage1_ms, stage2_ms, validation_ms, total_ms, cost, created_at) \
             VALUES ($1, 'u', 'standard', 'local', 1, $2, $3, 1, 1, 1, 1, 4, 0, $4)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(overall)
        .bind(i64::from(overall >= 0.65))
        .bind(now)
        .execute(&mut conn)
        .await
        .unwrap();
    }
}

/// The webhook bodies received so far, each checked against its signature.
async fn hooks(server: &MockServer) -> Vec<Value> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| {
            let sig = r
                .headers
                .get(garmax_providers::notify::SIGNATURE_HEADER)
                .expect("every webhook is signed")
                .to_str()
                .unwrap();
            garmax_providers::notify::verify_webhook(&r.body, sig, SECRET, 300, now)
                .expect("the signature verifies on the raw body");
            assert!(
                garmax_providers::notify::verify_webhook(&r.body, sig, "another secret", 300, now)
                    .is_err()
            );
            serde_json::from_slice(&r.body).unwrap()
        })
        .collect()
}

async fn wait_for<F: std::future::Future<Output = bool>>(
    secs: u64,
    what: &str,
    mut f: impl FnMut() -> F,
) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn alerts(c: &Client, query: &str) -> Value {
    let (status, body) = c.get_json(&format!("/api/admin/alerts{query}")).await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quality_drop_fires_once_resolves_and_fires_again_across_two_servers() {
    let dir = tempfile::tempdir().unwrap();
    let database = fresh_postgres().await;
    let (hook, smtp) = receivers(204).await;
    let file = config(
        dir.path(),
        &format!("{}/hook", hook.uri()),
        &smtp.url(),
        (1000.0, 1000.0),
    );
    let mut backend = Backend::embedded(dir.path());
    backend.env.push(("DATABASE_URL".into(), database.clone()));
    let cfg = file.to_str().unwrap();
    let mut a: Proc = serve(&backend, &["--workers", "0", "--config", cfg]);
    let b: Proc = serve(&backend, &["--workers", "0", "--config", cfg]);
    let admin_key = backend.create_user("ops", true, 0);
    let user_key = backend.create_user("shopper", false, 0);
    let (ca, cb) = (
        Client::new(&a.base, &admin_key),
        Client::new(&b.base, &admin_key),
    );

    // Admin only; nothing firing yet, and the rules are the file's.
    assert_eq!(
        Client::new(&a.base, &user_key)
            .get("/api/admin/alerts")
            .await
            .status(),
        403
    );
    let first = alerts(&ca, "").await;
    assert_eq!(first["alerts"], serde_json::json!([]));
    assert_eq!(first["config"]["qualityDrop"]["minSamples"], 3);
    assert_eq!(first["config"]["webhooks"], 1);
    assert_eq!(first["config"]["email"], true);
    assert_eq!(ca.get("/api/admin/alerts?state=bogus").await.status(), 400);

    // Quality falls: one alert, one webhook, one email, from two servers.
    generations(&database, 3, 0.30).await;
    wait_for(20, "the firing webhook", || async {
        !hooks(&hook).await.is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let got = hooks(&hook).await;
    assert_eq!(
        got.len(),
        1,
        "two servers, three more periods: still one notification: {got:?}"
    );
    assert_eq!(
        (got[0]["event"].as_str(), got[0]["type"].as_str()),
        (Some("firing"), Some("qualityDrop"))
    );
    assert!((got[0]["value"].as_f64().unwrap() - 0.30).abs() < 1e-9);
    let mail = smtp.messages();
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert!(mail[0].to[0].contains("quality@example.com"));
    assert!(mail[0].data.contains("FIRING"), "{}", mail[0].data);
    let listed = alerts(&cb, "?state=firing").await;
    let firing = &listed["alerts"][0];
    assert_eq!(firing["id"], got[0]["id"]);
    assert_eq!(firing["state"], "firing");
    assert!(listed["lastEvaluatedAt"].is_string());
    let deliveries = firing["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 2, "{deliveries:?}");
    assert!(
        deliveries
            .iter()
            .all(|d| d["deliveredAt"].is_string() && d["attempts"] == 1)
    );
    let metrics = ca.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("garmax_alerts_firing{type=\"qualityDrop\"} 1"),
        "{metrics}"
    );

    // Quality recovers: resolved once.
    generations(&database, 20, 0.90).await;
    wait_for(20, "the resolved webhook", || async {
        hooks(&hook).await.len() >= 2
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let got = hooks(&hook).await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(
        (got[1]["event"].as_str(), &got[1]["id"]),
        (Some("resolved"), &got[0]["id"])
    );
    assert!(got[1]["resolvedAt"].is_string());
    assert_eq!(smtp.messages().len(), 2);
    assert!(smtp.messages()[1].data.contains("RESOLVED"));

    // The evaluator dies without releasing its lease: the other server
    // takes over once the lease (three periods) runs out.
    let holder_was_a = a.log_text().contains("alerts evaluated");
    let survivor = if holder_was_a {
        a.kill9();
        &cb
    } else {
        drop(b);
        &ca
    };
    // Quality falls again: a new alert, announced once.
    generations(&database, 60, 0.10).await;
    wait_for(30, "the second firing webhook", || async {
        hooks(&hook).await.len() >= 3
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let got = hooks(&hook).await;
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[2]["event"], "firing");
    assert_ne!(got[2]["id"], got[0]["id"], "a new episode is a new alert");
    let all = alerts(survivor, "").await;
    let states: Vec<&str> = all["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["firing", "resolved"]);
    assert_eq!(smtp.messages().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn system_health_names_the_host_over_its_threshold() {
    let dir = tempfile::tempdir().unwrap();
    let (hook, smtp) = receivers(200).await;
    // Memory use is above 0.5 % on any machine running this test.
    let file = config(
        dir.path(),
        &format!("{}/hook", hook.uri()),
        &smtp.url(),
        (1000.0, 0.5),
    );
    let backend = Backend::embedded(dir.path());
    let server = serve(
        &backend,
        &["--workers", "0", "--config", file.to_str().unwrap()],
    );
    let admin = Client::new(&server.base, &backend.create_user("ops", true, 0));
    wait_for(20, "the system-health alert", || async {
        !hooks(&hook).await.is_empty()
    })
    .await;
    let got = hooks(&hook).await;
    assert_eq!(got[0]["type"], "systemHealth");
    assert_eq!(got[0]["severity"], "critical");
    assert!(
        got[0]["message"].as_str().unwrap().contains("memory"),
        "{}",
        got[0]
    );
    let listed = alerts(&admin, "?state=firing").await;
    let subject = listed["alerts"][0]["subject"].as_str().unwrap().to_string();
    assert!(!subject.is_empty() && subject != "all", "{subject}");
    wait_for(10, "the email", || async { !smtp.messages().is_empty() }).await;
    assert!(smtp.messages()[0].to[0].contains("devops@example.com"));
}
