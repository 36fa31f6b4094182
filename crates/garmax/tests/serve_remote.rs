//! The worker renders sessions through the router: `garmax serve` with a
//! `[providers]` chain whose first endpoint is a local fake speaking
//! Replicate's predictions API (as a self-hosted Cog container does). A
//! session's preview is the remote image, validated like a local one, and
//! the session lists the provider calls; when the remote provider fails,
//! the chain falls back to the local renderer and the session still
//! reaches its preview, with the failed call recorded.

mod support;

use base64::Engine as _;
use serde_json::Value;
use support::{Backend, Client, asset, garmax_bin, serve};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The local renderer's try-on of the support photos, as the fake's output
/// (a plausible try-on, so the validators pass it).
fn plausible_render(dir: &std::path::Path) -> Vec<u8> {
    let person = asset("skimage/data/astronaut.png");
    let garment = asset("saleor/static/placeholders/saleordemoproduct_cl_boot01_1.png");
    let out = std::process::Command::new(garmax_bin())
        .args(["tryon", "--quality", "sd", "--person"])
        .arg(&person)
        .arg("--garment")
        .arg(&garment)
        .arg("-o")
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(dir.join("tryon.png")).unwrap()
}

fn prediction_succeeded(png: &[u8]) -> ResponseTemplate {
    let data_uri = format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png)
    );
    ResponseTemplate::new(201).set_body_json(serde_json::json!({
        "id": "p-1",
        "status": "succeeded",
        "output": data_uri,
        "metrics": {"predict_time": 0.4}
    }))
}

fn attempts(session: &Value) -> Vec<(String, String)> {
    session["providerAttempts"]
        .as_array()
        .unwrap_or_else(|| panic!("providerAttempts in {session}"))
        .iter()
        .map(|a| {
            (
                a["provider"].as_str().unwrap().to_string(),
                a["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_renders_through_a_remote_provider_and_falls_back_to_local() {
    let work = tempfile::tempdir().unwrap();
    let rendered = plausible_render(&work.path().join("local"));
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/models/garmax/fake-vton/predictions"))
        .and(header("authorization", "Bearer test-token"))
        .respond_with(prediction_succeeded(&rendered))
        .expect(1..)
        .mount(&fake)
        .await;

    let config = work.path().join("garmax.toml");
    std::fs::write(
        &config,
        "[providers]\ndefault_chain = [\"cog\"]\nlocal_last = true\n\n\
         [providers.endpoints.cog]\nkind = \"replicate\"\nmodel = \"garmax/fake-vton\"\ninputs = \"tryon\"\n",
    )
    .unwrap();
    let data = work.path().join("data");
    let mut backend = Backend::embedded(&data);
    backend.env.push(("GARMAX_COG_BASE_URL".into(), fake.uri()));
    backend
        .env
        .push(("REPLICATE_API_TOKEN".into(), "test-token".into()));
    let key = backend.create_user("remote", false, 100);
    let server = serve(
        &backend,
        &["--workers", "1", "--config", config.to_str().unwrap()],
    );
    let c = Client::new(&server.base, &key);
    let avatar = c.ready_avatar().await;
    let garment = c.garment().await;

    // 1. The remote provider renders.
    let id = c.create_session(&avatar, &garment, "sd").await;
    let s = c
        .wait_session(&id, 240, |s| {
            s["status"] == "preview_ready" || s["status"] == "failed"
        })
        .await;
    assert_eq!(s["status"], "preview_ready", "{s}\n{}", server.log_text());
    let calls = attempts(&s);
    assert!(!calls.is_empty(), "{s}");
    for (provider, outcome) in &calls {
        assert_eq!(
            (provider.as_str(), outcome.as_str()),
            ("cog", "success"),
            "{s}"
        );
    }
    let requests = fake.received_requests().await.unwrap();
    assert_eq!(requests.len(), calls.len(), "one request per recorded call");
    let body: Value = serde_json::from_slice(&requests[0].body).unwrap();
    for key in ["image", "garment", "prompt"] {
        assert!(!body["input"][key].is_null(), "{key} in {body}");
    }
    // The preview is the provider's image.
    let preview = c
        .get(&format!("/api/tryon/sessions/{id}/preview"))
        .await
        .bytes()
        .await
        .unwrap();
    let preview = image::load_from_memory(&preview).unwrap().to_rgb8();
    let remote = image::load_from_memory(&rendered).unwrap().to_rgb8();
    assert_eq!(preview.dimensions(), remote.dimensions());
    let diff: f64 = preview
        .as_raw()
        .iter()
        .zip(remote.as_raw())
        .map(|(a, b)| (*a as f64 - *b as f64).abs())
        .sum::<f64>()
        / preview.as_raw().len() as f64;
    assert!(
        diff < 1.0,
        "the preview differs from the remote image by {diff:.2}"
    );

    // 2. The provider fails: the chain ends at the local renderer.
    fake.reset().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_string("model crashed"))
        .mount(&fake)
        .await;
    let id = c.create_session(&avatar, &garment, "sd").await;
    let s = c
        .wait_session(&id, 240, |s| {
            s["status"] == "preview_ready" || s["status"] == "failed"
        })
        .await;
    assert_eq!(s["status"], "preview_ready", "{s}\n{}", server.log_text());
    let calls = attempts(&s);
    assert!(
        calls.iter().any(|(p, o)| p == "cog" && o == "failed"),
        "the failed remote call is recorded: {calls:?}"
    );
    assert_eq!(
        calls.last().map(|(p, o)| (p.as_str(), o.as_str())),
        Some(("local", "success")),
        "{calls:?}"
    );
    assert!(
        calls.iter().all(|(p, o)| p != "cog" || o != "success"),
        "{calls:?}"
    );
}
