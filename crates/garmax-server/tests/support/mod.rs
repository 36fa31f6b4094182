//! A real `garmax_server::serve` (API and worker, SQLite in a temp dir) on
//! a fast deterministic engine, and an HTTP client for it — for the
//! billing tests, which need avatars and sessions to move but not the
//! pipeline's models.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use garmax_core::session::ProgressStage;
use garmax_server::ServerConfig;
use garmax_server::engine::{
    Engine, EngineError, Files, GarmentFiles, ProgressFn, RenderOptions, Rendered,
};
use serde_json::{Value, json};

/// A small valid PNG.
pub fn png(seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(48, 64, |x, y| {
        image::Rgb([seed.wrapping_add(x as u8), y as u8 * 3, 128])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

/// An engine that answers at once (or, for the crash test, renders for
/// `render_ms`).
pub struct FastEngine {
    pub render_ms: u64,
}

impl Engine for FastEngine {
    fn process_avatar(&self, _photo: &[u8], _p: ProgressFn<'_>) -> Result<Files, EngineError> {
        Ok(vec![
            ("depth".into(), png(1)),
            ("smpl.json".into(), b"{}".to_vec()),
        ])
    }
    fn process_garment(&self, _image: &[u8]) -> Result<GarmentFiles, EngineError> {
        Ok(GarmentFiles {
            analysis: json!({ "garmentType": "tshirt" }),
            files: vec![("mask".into(), png(2))],
        })
    }
    fn render(
        &self,
        _avatar: &dyn Fn(&str) -> Option<Vec<u8>>,
        _garment: &dyn Fn(&str) -> Option<Vec<u8>>,
        _options: &RenderOptions,
        progress: ProgressFn<'_>,
    ) -> Result<Rendered, EngineError> {
        progress(ProgressStage::AiProcessing, Some(1), "rendering");
        std::thread::sleep(Duration::from_millis(self.render_ms));
        Ok(Rendered {
            preview_png: png(3),
            validation: json!({ "passes": true }),
            attempts: 1,
            warning: None,
            provider_attempts: Vec::new(),
        })
    }
    fn avatar_files(&self) -> &'static [&'static str] {
        &["depth", "smpl.json"]
    }
    fn garment_files(&self) -> &'static [&'static str] {
        &["mask"]
    }
}

/// A running server.
pub struct Server {
    pub base: String,
    pub state: garmax_server::AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Server {
    pub async fn start(config: ServerConfig, render_ms: u64) -> Server {
        let state = garmax_server::open_state(config, Arc::new(FastEngine { render_ms }))
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn({
            let state = state.clone();
            async move {
                garmax_server::serve(state, listener, 1, async move {
                    let _ = rx.await;
                })
                .await
                .unwrap();
            }
        });
        Server {
            base,
            state,
            stop: Some(tx),
            task: Some(task),
        }
    }

    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

/// A configuration on `dir` for tests (no rate limit in the way, a long
/// auto-confirm).
pub fn config(dir: &std::path::Path) -> ServerConfig {
    ServerConfig {
        data_dir: dir.to_path_buf(),
        auto_confirm_secs: 600,
        rate_limit_per_sec: 10_000,
        rate_limit_burst: 10_000,
        job_lease_ms: 3_000,
        ..Default::default()
    }
}

/// A client with one key.
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub key: String,
}

impl Client {
    pub fn new(base: &str, key: &str) -> Client {
        Client {
            http: reqwest::Client::new(),
            base: base.to_string(),
            key: key.to_string(),
        }
    }

    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = self.post(path, body).await;
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    pub async fn upload(&self, path: &str, field: &str, bytes: Vec<u8>) -> reqwest::Response {
        let part = reqwest::multipart::Part::bytes(bytes).file_name("x.png");
        let form = reqwest::multipart::Form::new().part(field.to_string(), part);
        self.http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    /// Uploads an avatar; the response.
    pub async fn avatar(&self) -> reqwest::Response {
        self.upload("/api/avatars", "photo", png(7)).await
    }

    /// Uploads an avatar and waits until it is ready.
    pub async fn ready_avatar(&self) -> String {
        let r = self.avatar().await;
        assert_eq!(r.status(), 202);
        let id = r.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        self.wait(&format!("/api/avatars/{id}"), 30, |a| {
            a["status"] == "ready"
        })
        .await;
        id
    }

    pub async fn garment(&self) -> String {
        let r = self.upload("/api/garments", "image", png(9)).await;
        assert_eq!(r.status(), 201);
        r.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn session(&self, avatar: &str, garment: &str, quality: &str) -> reqwest::Response {
        self.post(
            "/api/tryon/sessions",
            &json!({ "avatarId": avatar, "garmentId": garment, "quality": quality }),
        )
        .await
    }

    /// Polls `path` until `done` holds.
    pub async fn wait(&self, path: &str, secs: u64, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let (_, v) = self.get_json(path).await;
            if done(&v) {
                return v;
            }
            assert!(Instant::now() < deadline, "{path} never got there: {v}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
