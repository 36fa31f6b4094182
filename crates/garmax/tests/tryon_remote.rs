//! `garmax tryon --provider NAME` through the router to a remote provider:
//! a local fake speaking Replicate's predictions API (as a self-hosted Cog
//! container does) renders, the try-on's retry loop validates its image,
//! and `report.json` lists the remote calls.

use std::path::PathBuf;
use std::process::Output;

use base64::Engine as _;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn garmax(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_garmax"));
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run garmax")
}

fn asset(name: &str) -> PathBuf {
    let out = garmax(&["models", "path", name], &[]);
    let path = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    assert!(path.is_file(), "{name} missing: run `garmax models fetch`");
    path
}

fn tryon(dir: &std::path::Path, extra: &[&str], env: &[(&str, &str)]) -> serde_json::Value {
    let person = asset("skimage/data/astronaut.png");
    let garment = asset("saleor/static/placeholders/saleordemoproduct_cl_boot01_1.png");
    let mut args = vec![
        "tryon",
        "--person",
        person.to_str().unwrap(),
        "--garment",
        garment.to_str().unwrap(),
        "-o",
        dir.to_str().unwrap(),
        "--quality",
        "sd",
    ];
    args.extend_from_slice(extra);
    let out = garmax(&args, env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tryon_renders_through_a_remote_replicate_provider() {
    let work = tempfile::tempdir().unwrap();
    // What the fake renders: the local renderer's try-on of the same inputs
    // (so its image is a plausible try-on for the validators to score).
    let local = work.path().join("local");
    tryon(&local, &[], &[]);
    let rendered = std::fs::read(local.join("tryon.png")).unwrap();
    let data_uri = format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(&rendered)
    );

    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/models/garmax/fake-vton/predictions"))
        .and(header("authorization", "Bearer test-token"))
        .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({
            "id": "p-1",
            "status": "succeeded",
            "output": data_uri,
            "metrics": {"predict_time": 0.4}
        })))
        .expect(1..)
        .mount(&fake)
        .await;
    let config = work.path().join("providers.toml");
    std::fs::write(
        &config,
        "[providers.endpoints.cog]\nkind = \"replicate\"\nmodel = \"garmax/fake-vton\"\ninputs = \"tryon\"\n",
    )
    .unwrap();

    let remote = work.path().join("remote");
    let uri = fake.uri();
    let report = tryon(
        &remote,
        &[
            "--provider",
            "cog",
            "--providers-config",
            config.to_str().unwrap(),
        ],
        &[
            ("GARMAX_COG_BASE_URL", &uri),
            ("REPLICATE_API_TOKEN", "test-token"),
        ],
    );
    let calls = report["providerAttempts"].as_array().unwrap();
    assert!(!calls.is_empty(), "{report}");
    for c in calls {
        assert_eq!(c["provider"], "cog", "{report}");
        assert_eq!(c["outcome"], "success", "{report}");
    }
    // The request carried the try-on's inputs under the preset's names.
    let requests = fake.received_requests().await.unwrap();
    assert_eq!(requests.len(), calls.len());
    let body: serde_json::Value = serde_json::from_slice(&requests[0].body).unwrap();
    for key in ["image", "garment", "prompt"] {
        assert!(!body["input"][key].is_null(), "{key} in {body}");
    }
    // The delivered image is the provider's, validated like a local one.
    let out = image::open(remote.join("tryon.png")).unwrap();
    assert_eq!((out.width(), out.height()), (512, 512));
    let v = &report["validation"];
    assert!(v["overallQuality"].as_f64().unwrap() > 0.0, "{v}");
}
