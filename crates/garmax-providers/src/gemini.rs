//! Google Gemini image generation: `models/{model}:generateContent` with
//! inline image parts in and image parts out, and the Batch API
//! (`models/{model}:batchGenerateContent` with inlined requests, the
//! long-running operation polled at `GET /v1beta/{batches/…}`, one
//! response or error per item).

use std::time::Instant;

use serde_json::{Map, Value, json};

use crate::client::{ClientConfig, Remote};
use crate::error::ProviderError;
use crate::http::{Backoff, image_from_base64, read_json, send};
use crate::job::{ImageData, RenderJob, RenderResult, Timings};
use crate::provider::{BoxFuture, Provider};

pub const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com";
pub const DEFAULT_MODEL: &str = "gemini-2.5-flash-image";

/// A Gemini image model (direct calls) that can also run batches.
#[derive(Debug, Clone)]
pub struct GeminiProvider {
    remote: Remote,
    model: String,
}

impl GeminiProvider {
    pub fn new(config: ClientConfig, model: impl Into<String>) -> GeminiProvider {
        GeminiProvider {
            remote: Remote::new(config),
            model: model.into(),
        }
    }

    fn name(&self) -> &str {
        self.remote.name()
    }

    fn model_url(&self, method: &str) -> String {
        self.remote
            .config
            .url(&format!("/v1beta/models/{}:{method}", self.model))
    }

    fn keyed(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request.header("x-goog-api-key", self.remote.config.key())
    }

    /// The `GenerateContentRequest` for a job: the prompt, the person, the
    /// garment and the pose map as inline parts; image output requested.
    pub fn request_body(job: &RenderJob) -> Value {
        let inline =
            |img: &ImageData| json!({"inline_data": {"mime_type": img.mime, "data": img.base64()}});
        let mut parts = vec![json!({"text": format!(
            "{}. The first image is the person, the second the garment to put on them{}. Avoid: {}.",
            job.prompt,
            if job.maps.pose.is_some() { ", the third the target pose skeleton" } else { "" },
            job.negative_prompt
        )})];
        parts.push(inline(&job.person_image));
        parts.push(inline(&job.garment_image));
        if let Some(pose) = &job.maps.pose {
            parts.push(inline(pose));
        }
        let mut generation = json!({"responseModalities": ["TEXT", "IMAGE"]});
        if let Some(seed) = job.seed {
            generation["seed"] = json!(seed as i64 & 0x7fff_ffff);
        }
        json!({"contents": [{"role": "user", "parts": parts}], "generationConfig": generation})
    }

    /// The images of a `GenerateContentResponse`, or its safety block.
    fn parse_response(
        &self,
        response: &Value,
    ) -> Result<(Vec<ImageData>, Map<String, Value>), ProviderError> {
        let name = self.name();
        let blocked = |why: &str| ProviderError::SafetyBlocked {
            provider: name.into(),
            message: why.to_string(),
        };
        if let Some(reason) = response
            .pointer("/promptFeedback/blockReason")
            .and_then(Value::as_str)
        {
            return Err(blocked(&format!("prompt blocked: {reason}")));
        }
        let candidate = response
            .pointer("/candidates/0")
            .ok_or_else(|| ProviderError::permanent(name, "response without candidates"))?;
        let finish = candidate
            .get("finishReason")
            .and_then(Value::as_str)
            .unwrap_or("");
        if matches!(
            finish,
            "SAFETY" | "IMAGE_SAFETY" | "PROHIBITED_CONTENT" | "BLOCKLIST" | "SPII"
        ) {
            return Err(blocked(&format!("finishReason {finish}")));
        }
        let cap = self.remote.config.http.max_output_bytes;
        let mut images = Vec::new();
        for part in candidate
            .pointer("/content/parts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let inline = part.get("inlineData").or_else(|| part.get("inline_data"));
            if let Some(data) = inline.and_then(|d| d.get("data")).and_then(Value::as_str) {
                images.push(image_from_base64(name, data, cap)?);
            }
        }
        if images.is_empty() {
            return Err(ProviderError::permanent(
                name,
                format!("no image in the response (finishReason {finish:?})"),
            ));
        }
        let mut metadata = Map::new();
        metadata.insert("model".into(), json!(self.model));
        metadata.insert("finish_reason".into(), json!(finish));
        if let Some(usage) = response.get("usageMetadata") {
            metadata.insert("usage".into(), usage.clone());
        }
        Ok((images, metadata))
    }

    async fn run(&self, job: &RenderJob) -> Result<RenderResult, ProviderError> {
        let started = Instant::now();
        let c = &self.remote.config;
        let request = self
            .keyed(self.remote.http.post(self.model_url("generateContent")))
            .json(&Self::request_body(job));
        let response: Value = read_json(
            self.name(),
            send(self.name(), request).await?,
            c.http.max_response_bytes,
        )
        .await?;
        let (images, metadata) = self.parse_response(&response)?;
        Ok(RenderResult {
            local_output: None,
            cost_usd: c.cost_per_image(job) * images.len() as f64,
            images,
            provider: self.name().into(),
            metadata,
            timings: Timings {
                total: started.elapsed(),
                ..Timings::default()
            },
        })
    }

    /// Runs `jobs` as one Batch API job with inlined requests. The outer
    /// error is the batch's (creation refused, batch failed, deadline);
    /// otherwise one result per job, in order, matched by metadata key.
    pub async fn run_batch(
        &self,
        jobs: &[RenderJob],
    ) -> Result<Vec<Result<RenderResult, ProviderError>>, ProviderError> {
        let started = Instant::now();
        let c = &self.remote.config;
        let requests: Vec<Value> = jobs
            .iter()
            .enumerate()
            .map(|(i, job)| json!({"request": Self::request_body(job), "metadata": {"key": format!("item-{i}")}}))
            .collect();
        let body = json!({"batch": {
            "display_name": format!("garmax-{}", jobs.len()),
            "input_config": {"requests": {"requests": requests}}
        }});
        let create = self
            .keyed(
                self.remote
                    .http
                    .post(self.model_url("batchGenerateContent")),
            )
            .json(&body);
        let mut op: Value = read_json(
            self.name(),
            send(self.name(), create).await?,
            c.http.max_response_bytes,
        )
        .await?;
        let op_name = op
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| ProviderError::permanent(self.name(), "batch operation without name"))?
            .to_string();
        let mut backoff = Backoff::new(&c.http);
        while !op.get("done").and_then(Value::as_bool).unwrap_or(false) {
            if started.elapsed() >= c.http.deadline {
                let cancel = self.keyed(
                    self.remote
                        .http
                        .post(c.url(&format!("/v1beta/{op_name}:cancel"))),
                );
                let _ = send(self.name(), cancel).await;
                return Err(ProviderError::Timeout {
                    provider: self.name().into(),
                    after: started.elapsed(),
                });
            }
            tokio::time::sleep(backoff.next_delay()).await;
            let get = self.keyed(self.remote.http.get(c.url(&format!("/v1beta/{op_name}"))));
            op = match send(self.name(), get).await {
                Ok(r) => read_json(self.name(), r, c.http.max_response_bytes).await?,
                Err(e) if e.is_retryable() => continue,
                Err(e) => return Err(e),
            };
        }
        if let Some(err) = op.get("error") {
            return Err(ProviderError::permanent(
                self.name(),
                format!("batch failed: {err}"),
            ));
        }
        let state = op
            .pointer("/metadata/state")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !state.is_empty() && state != "BATCH_STATE_SUCCEEDED" && state != "JOB_STATE_SUCCEEDED" {
            return Err(ProviderError::permanent(
                self.name(),
                format!("batch ended in {state}"),
            ));
        }
        let items = op
            .pointer("/response/inlinedResponses/inlinedResponses")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                ProviderError::permanent(self.name(), "batch output without inlinedResponses")
            })?;
        let mut results: Vec<Option<Result<RenderResult, ProviderError>>> = vec![None; jobs.len()];
        for (pos, item) in items.iter().enumerate() {
            let index = item
                .pointer("/metadata/key")
                .and_then(Value::as_str)
                .and_then(|k| k.strip_prefix("item-"))
                .and_then(|k| k.parse::<usize>().ok())
                .unwrap_or(pos);
            let Some(slot) = results.get_mut(index) else {
                continue;
            };
            let job = &jobs[index];
            *slot = Some(match (item.get("response"), item.get("error")) {
                (Some(response), _) => {
                    self.parse_response(response).map(|(images, mut metadata)| {
                        metadata.insert("batch".into(), json!(op_name));
                        RenderResult {
                            local_output: None,
                            cost_usd: c.cost_per_image(job) * images.len() as f64,
                            images,
                            provider: self.name().into(),
                            metadata,
                            timings: Timings {
                                total: started.elapsed(),
                                ..Timings::default()
                            },
                        }
                    })
                }
                (None, Some(err)) => Err(ProviderError::permanent(
                    self.name(),
                    format!("batch item failed: {err}"),
                )),
                (None, None) => Err(ProviderError::permanent(
                    self.name(),
                    "batch item without response",
                )),
            });
        }
        Ok(results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(ProviderError::permanent(
                        self.name(),
                        "batch item missing from output",
                    ))
                })
            })
            .collect())
    }
}

impl Provider for GeminiProvider {
    fn name(&self) -> &str {
        self.remote.name()
    }

    fn kind(&self) -> &'static str {
        "gemini"
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
            let url = self
                .remote
                .config
                .url(&format!("/v1beta/models/{}", self.model));
            send(self.name(), self.keyed(self.remote.http.get(url))).await?;
            Ok(format!("{} reachable, key accepted", self.model))
        })
    }
}
