//! The README's demo as a client would do it: one try-on session created
//! through the real API routes — the avatar upload, the garment upload and
//! the session — sent in process to the application (no network), so the
//! studio that `garmax demo --serve` opens shows a session the way every
//! other one is made.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, header};
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::state::AppState;

/// Why the demo session could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("{what} answered {status}: {body}")]
    Api {
        what: &'static str,
        status: u16,
        body: String,
    },
    #[error("{0}")]
    Failed(String),
}

/// The session the demo made.
#[derive(Debug, Clone)]
pub struct DemoSession {
    pub avatar_id: String,
    pub garment_id: String,
    pub session_id: String,
    /// Where it stopped waiting: `preview_ready`, `confirmed`, `failed`…
    pub status: String,
    pub progress: i64,
}

/// One call into the application as the user with `key`.
async fn call(
    app: &axum::Router,
    key: &str,
    what: &'static str,
    req: axum::http::request::Builder,
    body: Body,
) -> Result<Value, DemoError> {
    let req = req
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .body(body)
        .map_err(|e| DemoError::Failed(format!("{what}: {e}")))?;
    let resp = app
        .clone()
        .oneshot(req)
        .await
        .map_err(|e| DemoError::Failed(format!("{what}: {e}")))?;
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .map_err(|e| DemoError::Failed(format!("{what}: {e}")))?;
    if !status.is_success() {
        return Err(DemoError::Api {
            what,
            status: status.as_u16(),
            body: String::from_utf8_lossy(&bytes).into_owned(),
        });
    }
    serde_json::from_slice(&bytes).map_err(|e| DemoError::Failed(format!("{what}: {e}")))
}

/// A `multipart/form-data` body of one file field.
fn multipart(field: &str, file_name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = format!("garmax-demo-{}", uuid::Uuid::new_v4().simple());
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file_name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload(
    app: &axum::Router,
    key: &str,
    what: &'static str,
    path: &str,
    field: &str,
    bytes: &[u8],
) -> Result<Value, DemoError> {
    let (content_type, body) = multipart(field, "upload.png", bytes);
    call(
        app,
        key,
        what,
        Request::post(path).header(header::CONTENT_TYPE, content_type),
        Body::from(body),
    )
    .await
}

/// Polls `path` until `done` says so or `limit` passes; the last answer.
async fn wait(
    app: &axum::Router,
    key: &str,
    what: &'static str,
    path: &str,
    limit: Duration,
    done: impl Fn(&Value) -> bool,
) -> Result<Value, DemoError> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let v = call(app, key, what, Request::get(path), Body::empty()).await?;
        if done(&v) || tokio::time::Instant::now() >= deadline {
            return Ok(v);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Makes the avatar from `person`, the garment from `garment` and one `sd`
/// try-on session of them for the user with `key`, and waits (at most
/// `limit`) for its preview.
pub async fn seed_session(
    state: &AppState,
    key: &str,
    person: &[u8],
    garment: &[u8],
    limit: Duration,
) -> Result<DemoSession, DemoError> {
    let app = crate::app(state.clone());
    let avatar = upload(
        &app,
        key,
        "the avatar upload",
        "/api/avatars",
        "photo",
        person,
    )
    .await?;
    let avatar_id = avatar["id"].as_str().unwrap_or_default().to_string();
    let ready = wait(
        &app,
        key,
        "the avatar",
        &format!("/api/avatars/{avatar_id}"),
        limit,
        |a| a["status"] != "processing",
    )
    .await?;
    if ready["status"] != "ready" {
        return Err(DemoError::Failed(format!(
            "the avatar did not become ready: {ready}"
        )));
    }
    let g = upload(
        &app,
        key,
        "the garment upload",
        "/api/garments",
        "image",
        garment,
    )
    .await?;
    let garment_id = g["id"].as_str().unwrap_or_default().to_string();
    let created = call(
        &app,
        key,
        "the session",
        Request::post("/api/tryon/sessions").header(header::CONTENT_TYPE, "application/json"),
        Body::from(
            json!({"avatarId": avatar_id, "garmentId": garment_id, "quality": "sd"}).to_string(),
        ),
    )
    .await?;
    let session_id = created["sessionId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let s = wait(
        &app,
        key,
        "the session",
        &format!("/api/tryon/sessions/{session_id}"),
        limit,
        |s| {
            [
                "preview_ready",
                "confirmed",
                "rejected",
                "failed",
                "cancelled",
            ]
            .contains(&s["status"].as_str().unwrap_or_default())
        },
    )
    .await?;
    Ok(DemoSession {
        avatar_id,
        garment_id,
        session_id,
        status: s["status"].as_str().unwrap_or_default().to_string(),
        progress: s["progress"].as_i64().unwrap_or(0),
    })
}
