//! FASHN virtual try-on: `POST /v1/run` with `model_name` and `inputs`
//! (`model_image`, `garment_image`, `category`, `mode`, …), optionally
//! `?webhook_url=` for push delivery, then `GET /v1/status/{id}` until
//! `completed` or `failed`; `output` lists the image URLs (or data URIs
//! with `return_base64`).

use std::time::Instant;

use garmax_render::QualityTier;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::client::{ClientConfig, Remote};
use crate::error::ProviderError;
use crate::http::{Backoff, read_json, send};
use crate::job::{RenderJob, RenderResult, Timings};
use crate::provider::{BoxFuture, Provider};

pub const DEFAULT_BASE_URL: &str = "https://api.fashn.ai";
pub const DEFAULT_MODEL: &str = "tryon-v1.6";

#[derive(Debug, Clone)]
pub struct FashnProvider {
    remote: Remote,
    model: String,
    /// Appended as `?webhook_url=` so FASHN also pushes the result there.
    webhook_url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RunResponse {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    error: Value,
}

#[derive(Debug, Deserialize)]
struct Status {
    status: String,
    #[serde(default)]
    output: Option<Vec<String>>,
    #[serde(default)]
    error: Value,
}

/// FASHN's `category` from the garment analysis's type name.
pub fn category(garment_type: &str) -> &'static str {
    let t = garment_type.to_ascii_lowercase();
    if [
        "dress",
        "jumpsuit",
        "romper",
        "overall",
        "one-piece",
        "onepiece",
    ]
    .iter()
    .any(|k| t.contains(k))
    {
        "one-pieces"
    } else if ["pant", "trouser", "jean", "short", "skirt", "legging"]
        .iter()
        .any(|k| t.contains(k))
    {
        "bottoms"
    } else if [
        "tee", "tshirt", "t-shirt", "shirt", "polo", "hoodie", "sweater", "jacket", "top",
        "blouse", "coat",
    ]
    .iter()
    .any(|k| t.contains(k))
    {
        "tops"
    } else {
        "auto"
    }
}

/// FASHN's `mode` from our tier.
pub fn mode(tier: QualityTier) -> &'static str {
    match tier {
        QualityTier::Standard => "performance",
        QualityTier::Premium => "balanced",
        QualityTier::Ultra => "quality",
    }
}

impl FashnProvider {
    pub fn new(config: ClientConfig, model: impl Into<String>) -> FashnProvider {
        FashnProvider {
            remote: Remote::new(config),
            model: model.into(),
            webhook_url: None,
        }
    }

    pub fn with_webhook(mut self, url: Option<String>) -> FashnProvider {
        self.webhook_url = url;
        self
    }

    fn error_of(&self, error: &Value) -> ProviderError {
        let name = self.remote.name();
        let kind = error.get("name").and_then(Value::as_str).unwrap_or("");
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| error.to_string());
        match kind {
            "ContentModerationError" => ProviderError::SafetyBlocked {
                provider: name.into(),
                message,
            },
            "ImageLoadError" | "PoseError" | "InputValidationError" => {
                ProviderError::InvalidInput {
                    provider: name.into(),
                    message: format!("{kind}: {message}"),
                }
            }
            "ThirdPartyError" | "PipelineError" => ProviderError::Server {
                provider: name.into(),
                status: 500,
                message: format!("{kind}: {message}"),
            },
            _ => ProviderError::permanent(name, format!("{kind}: {message}")),
        }
    }

    async fn run(&self, job: &RenderJob) -> Result<RenderResult, ProviderError> {
        let started = Instant::now();
        let c = &self.remote.config;
        let name = self.remote.name();
        let mut inputs = json!({
            "model_image": job.person_image.data_uri(),
            "garment_image": job.garment_image.data_uri(),
            "category": category(&job.garment.garment_type),
            "mode": mode(job.tier),
            "num_samples": 1,
            "output_format": "png",
        });
        if let Some(seed) = job.seed {
            inputs["seed"] = json!(seed % (1 << 32));
        }
        let mut url =
            url::Url::parse(&c.url("/v1/run")).map_err(|e| ProviderError::InvalidInput {
                provider: name.into(),
                message: e.to_string(),
            })?;
        if let Some(hook) = &self.webhook_url {
            url.query_pairs_mut().append_pair("webhook_url", hook);
        }
        let request = self
            .remote
            .http
            .post(url)
            .bearer_auth(c.key())
            .json(&json!({"model_name": self.model, "inputs": inputs}));
        let run: RunResponse =
            read_json(name, send(name, request).await?, c.http.max_response_bytes).await?;
        if !run.error.is_null() {
            return Err(self.error_of(&run.error));
        }
        let id = run
            .id
            .ok_or_else(|| ProviderError::permanent(name, "run response without id"))?;
        let mut backoff = Backoff::new(&c.http);
        let status = loop {
            if started.elapsed() >= c.http.deadline {
                return Err(ProviderError::Timeout {
                    provider: name.into(),
                    after: started.elapsed(),
                });
            }
            tokio::time::sleep(backoff.next_delay()).await;
            let get = self
                .remote
                .http
                .get(c.url(&format!("/v1/status/{id}")))
                .bearer_auth(c.key());
            let s: Status = match send(name, get).await {
                Ok(r) => read_json(name, r, c.http.max_response_bytes).await?,
                Err(e) if e.is_retryable() => continue,
                Err(e) => return Err(e),
            };
            match s.status.as_str() {
                "completed" => break s,
                "failed" => return Err(self.error_of(&s.error)),
                _ => {}
            }
        };
        let images = self
            .remote
            .fetch_all(status.output.as_deref().unwrap_or_default())
            .await?;
        let mut metadata = Map::new();
        metadata.insert("prediction_id".into(), json!(id));
        metadata.insert("model".into(), json!(self.model));
        metadata.insert(
            "category".into(),
            json!(category(&job.garment.garment_type)),
        );
        Ok(RenderResult {
            local_output: None,
            cost_usd: c.cost_per_image(job) * images.len() as f64,
            images,
            provider: name.into(),
            metadata,
            timings: Timings {
                total: started.elapsed(),
                ..Timings::default()
            },
        })
    }
}

impl Provider for FashnProvider {
    fn name(&self) -> &str {
        self.remote.name()
    }

    fn kind(&self) -> &'static str {
        "fashn"
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_and_modes() {
        assert_eq!(category("tshirt"), "tops");
        assert_eq!(category("Hoodie"), "tops");
        assert_eq!(category("dress"), "one-pieces");
        assert_eq!(category("jeans"), "bottoms");
        assert_eq!(category("scarf"), "auto");
        assert_eq!(mode(QualityTier::Ultra), "quality");
    }
}
