//! Replicate's predictions API (and self-hosted Cog containers, which serve
//! the same prediction shape).
//!
//! - create: `POST /v1/models/{owner}/{name}/predictions` for an official
//!   model ref, `POST /v1/predictions` with `version` for `owner/name:ver`
//!   or a bare version id; `Prefer: wait=N` asks Replicate to hold the
//!   connection until the prediction finishes (at most 60 s);
//! - poll: `GET /v1/predictions/{id}` (or the returned `urls.get`) with
//!   exponential backoff until `succeeded` / `failed` / `canceled`;
//! - cancel: `POST /v1/predictions/{id}/cancel` when our deadline passes;
//! - output: a URL or a list of URLs (or `data:` URIs) downloaded with a
//!   byte cap.
//!
//! A Cog container (`api = Cog`) answers `POST /predictions` synchronously
//! with the same prediction object and `data:` URI outputs.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::client::{ClientConfig, Remote};
use crate::error::ProviderError;
use crate::http::{Backoff, is_safety_message, read_json, send};
use crate::job::{ImageData, RenderJob, RenderResult, Timings};
use crate::provider::{BoxFuture, Provider};

/// Which server speaks the predictions API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ReplicateApi {
    /// api.replicate.com (`/v1/...`, token, async predictions).
    #[default]
    Hosted,
    /// A self-hosted Cog container (`POST /predictions`, synchronous).
    Cog,
}

/// Our canonical inputs, renamed per model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Canon {
    Person,
    Garment,
    Pose,
    Depth,
    Prompt,
    NegativePrompt,
    Steps,
    GuidanceScale,
    Seed,
    Width,
    Height,
    GarmentDescription,
}

/// How a model names its inputs, plus constant inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct InputMapping {
    pub names: Vec<(Canon, String)>,
    pub constants: Map<String, Value>,
}

impl InputMapping {
    /// A preset by name: `tryon` (the seed's nano-banana-pro call),
    /// `photomaker` (tencentarc/photomaker), `sdxl` (stability-ai/sdxl
    /// img2img), `idm-vton` (the IDM-VTON Cog model).
    pub fn preset(name: &str) -> Option<InputMapping> {
        use Canon::*;
        let n = |pairs: &[(Canon, &str)]| pairs.iter().map(|(c, s)| (*c, s.to_string())).collect();
        Some(match name {
            "tryon" => InputMapping {
                names: n(&[
                    (Person, "image"),
                    (Garment, "garment"),
                    (Pose, "pose_image"),
                    (Depth, "depth_map"),
                    (Prompt, "prompt"),
                    (NegativePrompt, "negative_prompt"),
                    (Steps, "num_inference_steps"),
                    (GuidanceScale, "guidance_scale"),
                    (Seed, "seed"),
                ]),
                constants: Map::new(),
            },
            "photomaker" => InputMapping {
                names: n(&[
                    (Person, "input_image"),
                    (Garment, "input_image2"),
                    (Prompt, "prompt"),
                    (NegativePrompt, "negative_prompt"),
                    (Steps, "num_steps"),
                    (Seed, "seed"),
                ]),
                constants: json!({"style_name": "Photographic (Default)", "guidance_scale": 5.0, "num_outputs": 1})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            },
            "sdxl" => InputMapping {
                names: n(&[
                    (Person, "image"),
                    (Prompt, "prompt"),
                    (NegativePrompt, "negative_prompt"),
                    (Steps, "num_inference_steps"),
                    (GuidanceScale, "guidance_scale"),
                    (Seed, "seed"),
                    (Width, "width"),
                    (Height, "height"),
                ]),
                constants: Map::new(),
            },
            "idm-vton" => InputMapping {
                names: n(&[
                    (Person, "human_img"),
                    (Garment, "garm_img"),
                    (GarmentDescription, "garment_des"),
                    (Steps, "steps"),
                    (Seed, "seed"),
                ]),
                constants: json!({"category": "upper_body", "crop": false}).as_object().cloned().unwrap_or_default(),
            },
            _ => return None,
        })
    }

    /// The prediction's `input` object for a job.
    pub fn input(&self, job: &RenderJob) -> Map<String, Value> {
        let q = job.quality.settings();
        let mut input = self.constants.clone();
        for (canon, field) in &self.names {
            let v = match canon {
                Canon::Person => Some(json!(job.person_image.data_uri())),
                Canon::Garment => Some(json!(job.garment_image.data_uri())),
                Canon::Pose => job.maps.pose.as_ref().map(|m| json!(m.data_uri())),
                Canon::Depth => job.maps.depth.as_ref().map(|m| json!(m.data_uri())),
                Canon::Prompt => Some(json!(job.prompt)),
                Canon::NegativePrompt => Some(json!(job.negative_prompt)),
                Canon::Steps => Some(json!(q.steps)),
                Canon::GuidanceScale => Some(json!(q.guidance_scale)),
                Canon::Seed => job.seed.map(|s| json!(s)),
                Canon::Width => Some(json!(q.width)),
                Canon::Height => Some(json!(q.height)),
                Canon::GarmentDescription => Some(json!(crate::prompt::build_prompt(job))),
            };
            if let Some(v) = v {
                input.insert(field.clone(), v);
            }
        }
        input
    }
}

/// The prediction object (the fields we read).
#[derive(Debug, Deserialize)]
struct Prediction {
    #[serde(default)]
    id: Option<String>,
    status: String,
    #[serde(default)]
    output: Value,
    #[serde(default)]
    error: Value,
    #[serde(default)]
    metrics: Option<Metrics>,
    #[serde(default)]
    urls: Option<Urls>,
    #[serde(default)]
    version: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Metrics {
    #[serde(default)]
    predict_time: Option<f64>,
}

#[derive(Debug, Deserialize)]
struct Urls {
    #[serde(default)]
    get: Option<String>,
    #[serde(default)]
    cancel: Option<String>,
}

/// A Replicate (or Cog) model endpoint.
#[derive(Debug, Clone)]
pub struct ReplicateProvider {
    remote: Remote,
    /// `owner/name`, `owner/name:version`, or a bare version id.
    model: String,
    mapping: InputMapping,
    api: ReplicateApi,
    /// Seconds of `Prefer: wait` (1–60); 0 sends no header.
    wait_s: u32,
}

impl ReplicateProvider {
    pub fn new(config: ClientConfig, model: impl Into<String>, mapping: InputMapping) -> Self {
        ReplicateProvider {
            remote: Remote::new(config),
            model: model.into(),
            mapping,
            api: ReplicateApi::Hosted,
            wait_s: 60,
        }
    }

    pub fn with_api(mut self, api: ReplicateApi) -> Self {
        self.api = api;
        self
    }

    pub fn with_wait(mut self, seconds: u32) -> Self {
        self.wait_s = seconds.min(60);
        self
    }

    fn name(&self) -> &str {
        self.remote.name()
    }

    fn authorized(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.remote.config.api_key {
            Some(key) => request.bearer_auth(key),
            None => request,
        }
    }

    /// Create URL and body for the model ref.
    fn create(&self, input: Map<String, Value>) -> (String, Value) {
        let c = &self.remote.config;
        if self.api == ReplicateApi::Cog {
            return (c.url("/predictions"), json!({ "input": input }));
        }
        match self.model.split_once(':') {
            Some((_, version)) => (
                c.url("/v1/predictions"),
                json!({"version": version, "input": input}),
            ),
            None if self.model.contains('/') => (
                c.url(&format!("/v1/models/{}/predictions", self.model)),
                json!({ "input": input }),
            ),
            None => (
                c.url("/v1/predictions"),
                json!({"version": self.model, "input": input}),
            ),
        }
    }

    async fn poll(
        &self,
        prediction: &Prediction,
        started: Instant,
    ) -> Result<Prediction, ProviderError> {
        let id = prediction.id.clone().ok_or_else(|| {
            ProviderError::permanent(self.name(), "prediction without id cannot be polled")
        })?;
        let c = &self.remote.config;
        let get = prediction
            .urls
            .as_ref()
            .and_then(|u| u.get.clone())
            .filter(|u| u.starts_with(c.base_url.trim_end_matches('/')))
            .unwrap_or_else(|| c.url(&format!("/v1/predictions/{id}")));
        let mut backoff = Backoff::new(&c.http);
        loop {
            if started.elapsed() >= c.http.deadline {
                self.cancel(&id, prediction).await;
                return Err(ProviderError::Timeout {
                    provider: self.name().into(),
                    after: started.elapsed(),
                });
            }
            tokio::time::sleep(backoff.next_delay()).await;
            let polled = send(self.name(), self.authorized(self.remote.http.get(&get))).await;
            let p: Prediction = match polled {
                Ok(response) => read_json(self.name(), response, c.http.max_response_bytes).await?,
                // A 5xx or 429 while polling: the prediction is still
                // running remotely; keep polling until the deadline.
                Err(e) if e.is_retryable() => continue,
                Err(e) => return Err(e),
            };
            if is_terminal(&p.status) {
                return Ok(p);
            }
        }
    }

    /// Best effort: a failure to cancel does not change the outcome.
    async fn cancel(&self, id: &str, prediction: &Prediction) {
        let c = &self.remote.config;
        let url = prediction
            .urls
            .as_ref()
            .and_then(|u| u.cancel.clone())
            .filter(|u| u.starts_with(c.base_url.trim_end_matches('/')))
            .unwrap_or_else(|| c.url(&format!("/v1/predictions/{id}/cancel")));
        if let Err(e) = send(self.name(), self.authorized(self.remote.http.post(url))).await {
            tracing::warn!(provider = self.name(), "cancel failed: {e}");
        }
    }

    async fn run(&self, job: &RenderJob) -> Result<RenderResult, ProviderError> {
        let started = Instant::now();
        let (url, body) = self.create(self.mapping.input(job));
        let mut request = self.authorized(self.remote.http.post(url).json(&body));
        if self.wait_s > 0 && self.api == ReplicateApi::Hosted {
            request = request.header("Prefer", format!("wait={}", self.wait_s));
        }
        let response = send(self.name(), request).await?;
        let c = &self.remote.config;
        let mut p: Prediction = read_json(self.name(), response, c.http.max_response_bytes).await?;
        if !is_terminal(&p.status) {
            if self.api == ReplicateApi::Cog {
                return Err(ProviderError::permanent(
                    self.name(),
                    format!("Cog answered status '{}'", p.status),
                ));
            }
            p = self.poll(&p, started).await?;
        }
        match p.status.as_str() {
            "succeeded" => {}
            "failed" => {
                let message = match &p.error {
                    Value::String(s) => s.clone(),
                    Value::Null => "prediction failed".into(),
                    other => other.to_string(),
                };
                return Err(if is_safety_message(&message.to_ascii_lowercase()) {
                    ProviderError::SafetyBlocked {
                        provider: self.name().into(),
                        message,
                    }
                } else {
                    ProviderError::permanent(self.name(), format!("prediction failed: {message}"))
                });
            }
            other => {
                return Err(ProviderError::permanent(
                    self.name(),
                    format!("prediction {other}"),
                ));
            }
        }
        let images: Vec<ImageData> = self.remote.fetch_all(&output_locations(&p.output)).await?;
        let mut metadata = Map::new();
        if let Some(id) = &p.id {
            metadata.insert("prediction_id".into(), json!(id));
        }
        metadata.insert("model".into(), json!(self.model));
        if let Some(v) = &p.version {
            metadata.insert("version".into(), json!(v));
        }
        let predict = p
            .metrics
            .as_ref()
            .and_then(|m| m.predict_time)
            .filter(|t| t.is_finite() && *t >= 0.0);
        Ok(RenderResult {
            local_output: None,
            cost_usd: c.cost_per_image(job) * images.len() as f64,
            images,
            provider: self.name().into(),
            metadata,
            timings: Timings {
                total: started.elapsed(),
                queued: Duration::ZERO,
                predict: predict.map(Duration::from_secs_f64),
            },
        })
    }
}

fn is_terminal(status: &str) -> bool {
    matches!(status, "succeeded" | "failed" | "canceled")
}

/// Output URLs: a string, a list of strings, or an object whose string
/// values are files (Cog models return all three).
fn output_locations(output: &Value) -> Vec<String> {
    match output {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items.iter().flat_map(output_locations).collect(),
        Value::Object(map) => map.values().flat_map(output_locations).collect(),
        _ => Vec::new(),
    }
    .into_iter()
    .filter(|s| s.starts_with("http://") || s.starts_with("https://") || s.starts_with("data:"))
    .collect()
}

impl Provider for ReplicateProvider {
    fn name(&self) -> &str {
        self.remote.name()
    }

    fn kind(&self) -> &'static str {
        "replicate"
    }

    fn estimate_cost(&self, job: &RenderJob) -> f64 {
        self.remote.config.cost_per_image(job)
    }

    fn render<'a>(
        &'a self,
        job: &'a RenderJob,
    ) -> BoxFuture<'a, Result<RenderResult, ProviderError>> {
        Box::pin(self.run(job))
    }

    fn check(&self) -> BoxFuture<'_, Result<String, ProviderError>> {
        Box::pin(async move {
            let c = &self.remote.config;
            let url = if self.api == ReplicateApi::Cog {
                c.url("/health-check")
            } else if self.model.contains('/') {
                c.url(&format!("/v1/models/{}", model_of(&self.model)))
            } else {
                c.url("/v1/account")
            };
            send(self.name(), self.authorized(self.remote.http.get(url))).await?;
            Ok(format!("{} reachable, credentials accepted", self.model))
        })
    }
}

fn model_of(model: &str) -> &str {
    model.split_once(':').map_or(model, |(m, _)| m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_urls_per_model_ref() {
        let cfg = ClientConfig::new("x", "http://h/");
        let m = InputMapping::preset("sdxl").unwrap();
        let p = ReplicateProvider::new(cfg.clone(), "google/nano-banana-pro", m.clone());
        assert_eq!(
            p.create(Map::new()).0,
            "http://h/v1/models/google/nano-banana-pro/predictions"
        );
        let p = ReplicateProvider::new(cfg.clone(), "stability-ai/sdxl:abc123", m.clone());
        let (u, b) = p.create(Map::new());
        assert_eq!(
            (u.as_str(), b["version"].as_str()),
            ("http://h/v1/predictions", Some("abc123"))
        );
        let p = ReplicateProvider::new(cfg, "abc", m).with_api(ReplicateApi::Cog);
        assert_eq!(p.create(Map::new()).0, "http://h/predictions");
    }

    #[test]
    fn outputs_from_strings_lists_and_objects() {
        let v = json!(["https://a/1.png", {"image": "data:image/png;base64,AA"}, 3]);
        assert_eq!(output_locations(&v).len(), 2);
        assert_eq!(
            output_locations(&json!("https://a/x.png")),
            vec!["https://a/x.png"]
        );
        assert!(output_locations(&Value::Null).is_empty());
    }
}
