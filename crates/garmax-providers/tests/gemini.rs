//! Gemini generateContent and the Batch API against a local fake.

mod common;

use std::time::Duration;

use common::{config, job, png};
use garmax_providers::{ErrorClass, GeminiProvider, Provider};
use serde_json::json;
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const MODEL: &str = "gemini-2.5-flash-image";

fn image_response() -> serde_json::Value {
    json!({
        "candidates": [{"content": {"role": "model", "parts": [
            {"text": "Here is the image."},
            {"inlineData": {"mimeType": "image/png", "data": png().base64()}}
        ]}, "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": 1290, "candidatesTokenCount": 1290}
    })
}

#[tokio::test]
async fn generate_content_with_inline_images() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/v1beta/models/{MODEL}:generateContent")))
        .and(header("x-goog-api-key", "test-key"))
        .and(body_partial_json(
            json!({"generationConfig": {"responseModalities": ["TEXT", "IMAGE"], "seed": 42}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(image_response()))
        .expect(1)
        .mount(&server)
        .await;
    let p = GeminiProvider::new(config("gemini", &server.uri()), MODEL);
    let r = p.render(&job()).await.unwrap();
    assert_eq!(r.images.len(), 1);
    assert_eq!(r.metadata["finish_reason"], "STOP");
    let req = &server.received_requests().await.unwrap()[0];
    let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
    let parts = body["contents"][0]["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 3, "prompt, person, garment");
    assert_eq!(parts[1]["inline_data"]["mime_type"], "image/png");
}

#[tokio::test]
async fn safety_blocks_errors_and_malformed_answers() {
    let cases = vec![
        (ResponseTemplate::new(200).set_body_json(json!({"promptFeedback": {"blockReason": "SAFETY"}})), ErrorClass::SafetyBlocked),
        (ResponseTemplate::new(200).set_body_json(json!({"candidates": [{"finishReason": "IMAGE_SAFETY", "content": {"parts": []}}]})), ErrorClass::SafetyBlocked),
        (ResponseTemplate::new(200).set_body_json(json!({"candidates": [{"finishReason": "STOP", "content": {"parts": [{"text": "no"}]}}]})), ErrorClass::Permanent),
        (ResponseTemplate::new(200).set_body_json(json!({"candidates": [{"content": {"parts": [{"inlineData": {"mimeType": "image/png", "data": "PGh0bWw+"}}]}}]})), ErrorClass::Permanent),
        (ResponseTemplate::new(200).set_body_string("<html>oops</html>"), ErrorClass::Permanent),
        (ResponseTemplate::new(400).set_body_json(json!({"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "Image too large"}})), ErrorClass::InvalidInput),
        (ResponseTemplate::new(403).set_body_json(json!({"error": {"code": 403, "status": "PERMISSION_DENIED"}})), ErrorClass::Auth),
        (ResponseTemplate::new(500).set_body_json(json!({"error": {"code": 500, "status": "INTERNAL"}})), ErrorClass::Retryable),
    ];
    for (i, (response, class)) in cases.into_iter().enumerate() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(response)
            .mount(&server)
            .await;
        let e = GeminiProvider::new(config("gemini", &server.uri()), MODEL)
            .render(&job())
            .await
            .unwrap_err();
        assert_eq!(e.class(), class, "case {i}: {e}");
    }
}

#[tokio::test]
async fn resource_exhausted_carries_retry_delay() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).set_body_json(json!({"error": {"code": 429, "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "21s"}]}})))
        .mount(&server)
        .await;
    let e = GeminiProvider::new(config("gemini", &server.uri()), MODEL)
        .render(&job())
        .await
        .unwrap_err();
    assert!(e.is_retryable());
    assert_eq!(e.retry_after(), Some(Duration::from_secs(21)));
}

#[tokio::test]
async fn batch_api_inlined_requests_polling_and_per_item_results() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/v1beta/models/{MODEL}:batchGenerateContent")))
        .and(body_partial_json(
            json!({"batch": {"display_name": "garmax-3"}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"name": "batches/b1", "metadata": {"state": "BATCH_STATE_PENDING"}}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1beta/batches/b1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"name": "batches/b1", "done": false, "metadata": {"state": "BATCH_STATE_RUNNING"}})))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    // Out of order on purpose: results are matched by metadata key.
    Mock::given(method("GET"))
        .and(path("/v1beta/batches/b1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "name": "batches/b1", "done": true,
            "metadata": {"state": "BATCH_STATE_SUCCEEDED"},
            "response": {"inlinedResponses": {"inlinedResponses": [
                {"metadata": {"key": "item-2"}, "response": image_response()},
                {"metadata": {"key": "item-1"}, "error": {"code": 3, "message": "Invalid image"}},
                {"metadata": {"key": "item-0"}, "response": image_response()}
            ]}}
        })))
        .mount(&server)
        .await;
    let p = GeminiProvider::new(config("gemini-batch", &server.uri()), MODEL);
    let results = p.run_batch(&[job(), job(), job()]).await.unwrap();
    assert_eq!(results.len(), 3);
    assert!(results[0].is_ok());
    assert!(
        results[1]
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("Invalid image")
    );
    assert!(results[2].is_ok());
    let req = &server.received_requests().await.unwrap()[0];
    let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(
        body["batch"]["input_config"]["requests"]["requests"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test]
async fn failed_batch_is_an_error_for_the_whole_batch() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"name": "batches/b2", "done": true,
            "metadata": {"state": "BATCH_STATE_FAILED"}})),
        )
        .mount(&server)
        .await;
    let p = GeminiProvider::new(config("gemini-batch", &server.uri()), MODEL);
    let e = p.run_batch(&[job()]).await.unwrap_err();
    assert!(e.to_string().contains("BATCH_STATE_FAILED"), "{e}");
}

fn batched(
    server: &MockServer,
    max_size: usize,
) -> std::sync::Arc<garmax_providers::BatchedProvider> {
    let backend = std::sync::Arc::new(GeminiProvider::new(
        config("gemini-batch", &server.uri()),
        MODEL,
    ));
    let cfg = garmax_providers::BatchConfig {
        max_size,
        timeout: Duration::from_secs(30),
        queue_capacity: 16,
        max_in_flight: 2,
    };
    std::sync::Arc::new(garmax_providers::BatchedProvider::new(
        "gemini-batch",
        "gemini-batch",
        Some(0.02),
        backend,
        cfg,
    ))
}

/// Three callers, one Batch API job (the batch is full at three, so it
/// flushes without waiting for the 30 s deadline); each caller gets its own
/// item: two images and one per-item error.
#[tokio::test]
async fn batched_provider_one_batch_per_full_queue() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/v1beta/models/{MODEL}:batchGenerateContent")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "name": "batches/b3", "done": true, "metadata": {"state": "BATCH_STATE_SUCCEEDED"},
            "response": {"inlinedResponses": {"inlinedResponses": [
                {"metadata": {"key": "item-0"}, "response": image_response()},
                {"metadata": {"key": "item-1"}, "response": {"promptFeedback": {"blockReason": "SAFETY"}}},
                {"metadata": {"key": "item-2"}, "response": image_response()}
            ]}}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let p = batched(&server, 3);
    let j = common::job();
    let (a, b, c) = tokio::join!(p.render(&j), p.render(&j), p.render(&j));
    let outcomes = [a.is_ok(), b.is_ok(), c.is_ok()];
    assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 2, "{outcomes:?}");
    let blocked = [a, b, c]
        .into_iter()
        .filter_map(Result::err)
        .next()
        .unwrap();
    assert_eq!(blocked.class(), ErrorClass::SafetyBlocked);
}

/// A failed batch (the Batch API answers 500) falls back item by item
/// down the chain: every caller still gets an image, from the next
/// provider.
#[tokio::test]
async fn failed_batch_falls_back_item_by_item_through_the_router() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/v1beta/models/{MODEL}:batchGenerateContent")))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_json(json!({"error": {"code": 500, "status": "INTERNAL"}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/v1beta/models/{MODEL}:generateContent")))
        .respond_with(ResponseTemplate::new(200).set_body_json(image_response()))
        .expect(2)
        .mount(&server)
        .await;
    let router = garmax_providers::Router::builder()
        .provider(batched(&server, 2))
        .provider(std::sync::Arc::new(GeminiProvider::new(
            config("gemini", &server.uri()),
            MODEL,
        )))
        .split(true, 100, ["gemini-batch", "gemini"])
        .default_chain(["gemini"])
        .build()
        .unwrap();
    let (ja, jb) = (common::job().with_user("a"), common::job().with_user("b"));
    let (x, y) = tokio::join!(router.render(&ja), router.render(&jb));
    for r in [x.unwrap(), y.unwrap()] {
        assert_eq!(r.route, "split");
        assert_eq!(r.result.provider, "gemini");
        assert_eq!(r.attempts[0].provider, "gemini-batch");
        assert_eq!(r.attempts[0].error_class, Some(ErrorClass::Retryable));
    }
}
