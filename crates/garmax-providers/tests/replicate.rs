//! Replicate predictions API against a local fake (wiremock on loopback)
//! speaking the documented shapes.

mod common;

use std::time::Duration;

use common::{config, job, png_bytes};
use garmax_providers::{ErrorClass, InputMapping, Provider, ReplicateApi, ReplicateProvider};
use serde_json::json;
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn provider(server: &MockServer, model: &str) -> ReplicateProvider {
    ReplicateProvider::new(
        config("nano-banana-pro", &server.uri()),
        model,
        InputMapping::preset("tryon").unwrap(),
    )
}

fn prediction(server: &MockServer, status: &str, output: serde_json::Value) -> serde_json::Value {
    json!({
        "id": "p1", "status": status, "output": output, "error": null,
        "version": "v1", "metrics": {"predict_time": 1.5},
        "urls": {"get": format!("{}/v1/predictions/p1", server.uri()), "cancel": format!("{}/v1/predictions/p1/cancel", server.uri())}
    })
}

async fn serve_png(server: &MockServer) -> String {
    Mock::given(method("GET"))
        .and(path("/files/out.png"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(png_bytes(), "image/png"))
        .mount(server)
        .await;
    format!("{}/files/out.png", server.uri())
}

#[tokio::test]
async fn prefer_wait_returns_finished_prediction() {
    let server = MockServer::start().await;
    let out = serve_png(&server).await;
    Mock::given(method("POST"))
        .and(path("/v1/models/google/nano-banana-pro/predictions"))
        .and(header("authorization", "Bearer test-key"))
        .and(header("prefer", "wait=60"))
        .and(body_partial_json(
            json!({"input": {"num_inference_steps": 20, "guidance_scale": 7.5, "seed": 42,
            "negative_prompt": "blurry, low quality, distorted, nude, nsfw"}}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(prediction(
            &server,
            "succeeded",
            json!([out]),
        )))
        .expect(1)
        .mount(&server)
        .await;
    let r = provider(&server, "google/nano-banana-pro")
        .render(&job())
        .await
        .unwrap();
    assert_eq!(r.images.len(), 1);
    assert_eq!(r.images[0].mime, "image/png");
    assert_eq!(r.cost_usd, 0.03);
    assert_eq!(r.metadata["prediction_id"], "p1");
    assert_eq!(r.timings.predict, Some(Duration::from_secs_f64(1.5)));
    // The person and garment went as data URIs under the mapping's names.
    let req = &server.received_requests().await.unwrap()[0];
    let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
    assert!(
        body["input"]["image"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,")
    );
    assert!(
        body["input"]["garment"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,")
    );
    assert!(
        body["input"]["prompt"]
            .as_str()
            .unwrap()
            .contains("red tshirt")
    );
}

#[tokio::test]
async fn version_ref_polls_until_succeeded() {
    let server = MockServer::start().await;
    let out = serve_png(&server).await;
    Mock::given(method("POST"))
        .and(path("/v1/predictions"))
        .and(body_partial_json(json!({"version": "abc123"})))
        .respond_with(ResponseTemplate::new(201).set_body_json(prediction(
            &server,
            "starting",
            json!(null),
        )))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/predictions/p1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(prediction(
            &server,
            "processing",
            json!(null),
        )))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    // One 503 while polling is tolerated.
    Mock::given(method("GET"))
        .and(path("/v1/predictions/p1"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/predictions/p1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(prediction(
            &server,
            "succeeded",
            json!(out),
        )))
        .mount(&server)
        .await;
    let r = provider(&server, "stability-ai/sdxl:abc123")
        .render(&job())
        .await
        .unwrap();
    assert_eq!(r.images.len(), 1);
    let polls = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/v1/predictions/p1")
        .count();
    assert_eq!(polls, 4);
}

#[tokio::test]
async fn deadline_cancels_the_prediction() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/models/google/nano-banana-pro/predictions"))
        .respond_with(ResponseTemplate::new(201).set_body_json(prediction(
            &server,
            "processing",
            json!(null),
        )))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/predictions/p1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(prediction(
            &server,
            "processing",
            json!(null),
        )))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/predictions/p1/cancel"))
        .respond_with(ResponseTemplate::new(200).set_body_json(prediction(
            &server,
            "canceled",
            json!(null),
        )))
        .expect(1)
        .mount(&server)
        .await;
    let mut cfg = config("nano-banana-pro", &server.uri());
    cfg.http.deadline = Duration::from_millis(200);
    let p = ReplicateProvider::new(
        cfg,
        "google/nano-banana-pro",
        InputMapping::preset("tryon").unwrap(),
    );
    let e = p.render(&job()).await.unwrap_err();
    assert!(
        matches!(e, garmax_providers::ProviderError::Timeout { .. }),
        "{e}"
    );
    assert!(e.is_retryable());
}

#[tokio::test]
async fn http_failures_are_typed() {
    let cases: Vec<(ResponseTemplate, ErrorClass)> = vec![
        (
            ResponseTemplate::new(429).insert_header("Retry-After", "17"),
            ErrorClass::Retryable,
        ),
        (ResponseTemplate::new(502), ErrorClass::Retryable),
        (
            ResponseTemplate::new(401).set_body_json(json!({"detail": "Invalid token."})),
            ErrorClass::Auth,
        ),
        (
            ResponseTemplate::new(402)
                .set_body_json(json!({"detail": "Monthly spend limit reached"})),
            ErrorClass::Quota,
        ),
        (
            ResponseTemplate::new(422).set_body_json(json!({"detail": "input.image: invalid"})),
            ErrorClass::InvalidInput,
        ),
        (
            ResponseTemplate::new(201).set_body_string("{not json"),
            ErrorClass::Permanent,
        ),
        (
            ResponseTemplate::new(201).set_delay(Duration::from_secs(3)),
            ErrorClass::Retryable,
        ),
    ];
    for (i, (response, class)) in cases.into_iter().enumerate() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(response)
            .mount(&server)
            .await;
        let e = provider(&server, "google/nano-banana-pro")
            .render(&job())
            .await
            .unwrap_err();
        assert_eq!(e.class(), class, "case {i}: {e}");
        if i == 0 {
            assert_eq!(e.retry_after(), Some(Duration::from_secs(17)));
        }
    }
}

#[tokio::test]
async fn failed_predictions_safety_and_bad_outputs() {
    let server = MockServer::start().await;
    let p = provider(&server, "google/nano-banana-pro");
    let mut failed = prediction(&server, "failed", json!(null));
    failed["error"] =
        json!("NSFW content detected. Try running it again, or try a different prompt.");
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(failed))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    assert_eq!(
        p.render(&job()).await.unwrap_err().class(),
        ErrorClass::SafetyBlocked
    );

    // A non-image output, an oversize output, URLs into the private network.
    for (url, why) in [
        (format!("{}/files/page.html", server.uri()), "not a PNG"),
        (format!("{}/files/huge.png", server.uri()), "larger than"),
        (
            "http://169.254.169.254/latest/meta-data".to_string(),
            "not a public address",
        ),
        (
            "http://10.0.0.7/out.png".to_string(),
            "not a public address",
        ),
        ("file:///etc/passwd".to_string(), "no output image"),
    ] {
        server.reset().await;
        Mock::given(method("GET"))
            .and(path("/files/page.html"))
            .respond_with(ResponseTemplate::new(200).set_body_string("<html>"))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/files/huge.png"))
            .respond_with(ResponseTemplate::new(200).set_body_raw(vec![0x89; 1 << 20], "image/png"))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(201).set_body_json(prediction(
                &server,
                "succeeded",
                json!([url]),
            )))
            .mount(&server)
            .await;
        let e = p.render(&job()).await.unwrap_err();
        assert_eq!(e.class(), ErrorClass::Permanent, "{url}");
        assert!(e.to_string().contains(why), "{url}: {e}");
    }
}

#[tokio::test]
async fn redirect_into_private_network_is_refused() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/files/r.png"))
        .respond_with(
            ResponseTemplate::new(302).insert_header("Location", "http://192.168.1.1/x.png"),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(prediction(
            &server,
            "succeeded",
            json!(format!("{}/files/r.png", server.uri())),
        )))
        .mount(&server)
        .await;
    let e = provider(&server, "google/nano-banana-pro")
        .render(&job())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("not a public address"), "{e}");
}

/// A self-hosted Cog container: `POST /predictions`, synchronous, data URI
/// outputs, no token.
#[tokio::test]
async fn cog_container_idm_vton() {
    let server = MockServer::start().await;
    let out = common::png().data_uri();
    Mock::given(method("POST"))
        .and(path("/predictions"))
        .and(body_partial_json(
            json!({"input": {"category": "upper_body", "seed": 42}}),
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"status": "succeeded", "output": out})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let mut cfg = config("idm-vton", &server.uri());
    cfg.api_key = None;
    let p = ReplicateProvider::new(cfg, "idm-vton", InputMapping::preset("idm-vton").unwrap())
        .with_api(ReplicateApi::Cog);
    let r = p.render(&job()).await.unwrap();
    assert_eq!(r.images[0].mime, "image/png");
    let req = &server.received_requests().await.unwrap()[0];
    assert!(req.headers.get("authorization").is_none());
    let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
    assert!(
        body["input"]["human_img"]
            .as_str()
            .unwrap()
            .starts_with("data:")
    );
    assert!(
        body["input"]["garm_img"]
            .as_str()
            .unwrap()
            .starts_with("data:")
    );
}

#[tokio::test]
async fn photomaker_mapping() {
    let server = MockServer::start().await;
    let out = serve_png(&server).await;
    Mock::given(method("POST"))
        .and(path("/v1/models/tencentarc/photomaker/predictions"))
        .and(body_partial_json(json!({"input": {"style_name": "Photographic (Default)", "num_outputs": 1, "guidance_scale": 5.0, "num_steps": 20}})))
        .respond_with(ResponseTemplate::new(201).set_body_json(prediction(&server, "succeeded", json!([out]))))
        .expect(1)
        .mount(&server)
        .await;
    let p = ReplicateProvider::new(
        config("photomaker", &server.uri()),
        "tencentarc/photomaker",
        InputMapping::preset("photomaker").unwrap(),
    );
    p.render(&job()).await.unwrap();
}
