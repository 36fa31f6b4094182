//! OpenAI image edits and FASHN run/status against local fakes.

mod common;

use common::{config, job, png};
use garmax_providers::{ErrorClass, FashnProvider, OpenAiProvider, Provider};
use serde_json::json;
use wiremock::matchers::{body_partial_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn openai_multipart_edit_with_two_images() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/images/edits"))
        .and(header("authorization", "Bearer test-key"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"created": 1, "data": [{"b64_json": png().base64()}],
            "usage": {"total_tokens": 100}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let r = OpenAiProvider::new(config("openai", &server.uri()), "gpt-image-1")
        .render(&job())
        .await
        .unwrap();
    assert_eq!(r.images.len(), 1);
    let req = &server.received_requests().await.unwrap()[0];
    let ct = req.headers.get("content-type").unwrap().to_str().unwrap();
    assert!(ct.starts_with("multipart/form-data"), "{ct}");
    let body = String::from_utf8_lossy(&req.body);
    assert_eq!(
        body.matches("name=\"image[]\"").count(),
        2,
        "person and garment"
    );
    for field in [
        "name=\"model\"",
        "gpt-image-1",
        "name=\"prompt\"",
        "name=\"size\"",
        "1024x1024",
    ] {
        assert!(body.contains(field), "{field}");
    }
}

#[tokio::test]
async fn openai_errors() {
    let cases = vec![
        (ResponseTemplate::new(400).set_body_json(json!({"error": {"code": "moderation_blocked", "message": "Your request was rejected by the safety system."}})), ErrorClass::SafetyBlocked),
        (ResponseTemplate::new(429).set_body_json(json!({"error": {"code": "insufficient_quota", "type": "insufficient_quota"}})), ErrorClass::Quota),
        (ResponseTemplate::new(429).insert_header("retry-after", "2").set_body_json(json!({"error": {"code": "rate_limit_exceeded"}})), ErrorClass::Retryable),
        (ResponseTemplate::new(401).set_body_json(json!({"error": {"code": "invalid_api_key"}})), ErrorClass::Auth),
        (ResponseTemplate::new(200).set_body_json(json!({"data": [{"b64_json": "bm90IGFuIGltYWdl"}]})), ErrorClass::Permanent),
        (ResponseTemplate::new(200).set_body_json(json!({"data": []})), ErrorClass::Permanent),
    ];
    for (i, (response, class)) in cases.into_iter().enumerate() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(response)
            .mount(&server)
            .await;
        let e = OpenAiProvider::new(config("openai", &server.uri()), "gpt-image-1")
            .render(&job())
            .await
            .unwrap_err();
        assert_eq!(e.class(), class, "case {i}: {e}");
    }
}

#[tokio::test]
async fn fashn_run_poll_and_webhook() {
    let server = MockServer::start().await;
    let out = format!("{}/cdn/result.png", server.uri());
    Mock::given(method("GET"))
        .and(path("/cdn/result.png"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(common::png_bytes(), "image/png"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/run"))
        .and(query_param("webhook_url", "https://hooks.example/fashn"))
        .and(body_partial_json(json!({"model_name": "tryon-v1.6", "inputs": {"category": "tops", "mode": "performance", "seed": 42}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "f1", "error": null})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/status/f1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"id": "f1", "status": "processing", "output": null, "error": null}),
        ))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/status/f1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"id": "f1", "status": "completed", "output": [out], "error": null}),
        ))
        .mount(&server)
        .await;
    let p = FashnProvider::new(config("fashn", &server.uri()), "tryon-v1.6")
        .with_webhook(Some("https://hooks.example/fashn".into()));
    let r = p.render(&job()).await.unwrap();
    assert_eq!(r.images.len(), 1);
    assert_eq!(r.metadata["category"], "tops");
}

#[tokio::test]
async fn fashn_failures() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/run"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "f2", "error": null})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/status/f2"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": "f2", "status": "failed", "output": null,
            "error": {"name": "ContentModerationError", "message": "Prohibited content"}})),
        )
        .mount(&server)
        .await;
    let p = FashnProvider::new(config("fashn", &server.uri()), "tryon-v1.6");
    assert_eq!(
        p.render(&job()).await.unwrap_err().class(),
        ErrorClass::SafetyBlocked
    );

    for (response, class) in [
        (
            ResponseTemplate::new(401).set_body_json(json!({"error": "UnauthorizedAccess"})),
            ErrorClass::Auth,
        ),
        (
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "5")
                .set_body_json(json!({"error": "RateLimitExceeded"})),
            ErrorClass::Retryable,
        ),
        (
            ResponseTemplate::new(200).set_body_json(
                json!({"id": null, "error": {"name": "ImageLoadError", "message": "cannot load"}}),
            ),
            ErrorClass::InvalidInput,
        ),
    ] {
        let s = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(response)
            .mount(&s)
            .await;
        let e = FashnProvider::new(config("fashn", &s.uri()), "tryon-v1.6")
            .render(&job())
            .await
            .unwrap_err();
        assert_eq!(e.class(), class, "{e}");
    }
}
