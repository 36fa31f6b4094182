//! OpenAI image edits: multipart `POST /v1/images/edits` with several
//! input images (`image[]`: the person, then the garment), `prompt`,
//! `size`, `quality`; the answer's `data[].b64_json` are the images.

use std::time::Instant;

use reqwest::multipart::{Form, Part};
use serde_json::{Map, Value, json};

use crate::client::{ClientConfig, Remote};
use crate::error::ProviderError;
use crate::http::{image_from_base64, read_json, send};
use crate::job::{ImageData, RenderJob, RenderResult, Timings};
use crate::provider::{BoxFuture, Provider};

pub const DEFAULT_BASE_URL: &str = "https://api.openai.com";
pub const DEFAULT_MODEL: &str = "gpt-image-1";

#[derive(Debug, Clone)]
pub struct OpenAiProvider {
    remote: Remote,
    model: String,
}

impl OpenAiProvider {
    pub fn new(config: ClientConfig, model: impl Into<String>) -> OpenAiProvider {
        OpenAiProvider {
            remote: Remote::new(config),
            model: model.into(),
        }
    }

    fn form(&self, job: &RenderJob) -> Result<Form, ProviderError> {
        let part = |img: &ImageData, file: &str| {
            Part::bytes(img.bytes.as_ref().clone())
                .file_name(file.to_string())
                .mime_str(&img.mime)
                .map_err(|e| ProviderError::InvalidInput {
                    provider: self.remote.name().into(),
                    message: e.to_string(),
                })
        };
        let q = job.quality.settings();
        let quality = match job.quality {
            garmax_render::RenderQuality::Sd => "medium",
            _ => "high",
        };
        Ok(Form::new()
            .text("model", self.model.clone())
            .part("image[]", part(&job.person_image, "person.png")?)
            .part("image[]", part(&job.garment_image, "garment.png")?)
            .text(
                "prompt",
                format!(
                    "{}. Dress the person of the first image in the garment of the second image. Avoid: {}.",
                    job.prompt, job.negative_prompt
                ),
            )
            .text("n", "1")
            .text("size", format!("{}x{}", q.width, q.height))
            .text("quality", quality))
    }

    async fn run(&self, job: &RenderJob) -> Result<RenderResult, ProviderError> {
        let started = Instant::now();
        let c = &self.remote.config;
        let name = self.remote.name();
        let request = self
            .remote
            .http
            .post(c.url("/v1/images/edits"))
            .bearer_auth(c.key())
            .multipart(self.form(job)?);
        let body: Value =
            read_json(name, send(name, request).await?, c.http.max_response_bytes).await?;
        let data = body
            .get("data")
            .and_then(Value::as_array)
            .ok_or_else(|| ProviderError::permanent(name, "response without data"))?;
        let mut images = Vec::new();
        for item in data {
            match item.get("b64_json").and_then(Value::as_str) {
                Some(b64) => images.push(image_from_base64(name, b64, c.http.max_output_bytes)?),
                None => match item.get("url").and_then(Value::as_str) {
                    Some(url) => images.push(self.remote.fetcher.fetch(name, url).await?),
                    None => {
                        return Err(ProviderError::permanent(
                            name,
                            "data item without b64_json or url",
                        ));
                    }
                },
            }
        }
        if images.is_empty() {
            return Err(ProviderError::permanent(
                name,
                "the provider returned no output image",
            ));
        }
        let mut metadata = Map::new();
        metadata.insert("model".into(), json!(self.model));
        if let Some(usage) = body.get("usage") {
            metadata.insert("usage".into(), usage.clone());
        }
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

impl Provider for OpenAiProvider {
    fn name(&self) -> &str {
        self.remote.name()
    }

    fn kind(&self) -> &'static str {
        "openai"
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
            let url = c.url(&format!("/v1/models/{}", self.model));
            send(
                self.remote.name(),
                self.remote.http.get(url).bearer_auth(c.key()),
            )
            .await?;
            Ok(format!("{} reachable, key accepted", self.model))
        })
    }
}
