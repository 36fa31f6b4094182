//! The local renderer (`garmax_render::LocalRenderer`, pure and
//! synchronous) adapted onto the async [`Provider`] trait through Tokio's
//! blocking pool.

use std::time::Instant;

use garmax_render::{LocalRenderer, RenderProvider, RenderRequest};

use crate::error::ProviderError;
use crate::job::{ImageData, LocalOutput, RenderJob, RenderResult, Timings};
use crate::provider::{BoxFuture, Provider};

/// `local`: always available, free, last in every chain.
#[derive(Debug, Default, Clone, Copy)]
pub struct LocalProvider;

pub const LOCAL: &str = "local";

impl Provider for LocalProvider {
    fn name(&self) -> &str {
        LOCAL
    }

    fn kind(&self) -> &'static str {
        LOCAL
    }

    fn estimate_cost(&self, _job: &RenderJob) -> f64 {
        0.0
    }

    fn render<'a>(
        &'a self,
        job: &'a RenderJob,
    ) -> BoxFuture<'a, Result<RenderResult, ProviderError>> {
        Box::pin(async move {
            let Some(inputs) = job.local.clone() else {
                return Err(ProviderError::InvalidInput {
                    provider: LOCAL.into(),
                    message: "the local renderer needs the decoded person and garment analysis"
                        .into(),
                });
            };
            let (params, quality) = (job.params, job.quality);
            let start = Instant::now();
            let out = tokio::task::spawn_blocking(move || {
                let request = RenderRequest {
                    person: &inputs.person,
                    garment: &inputs.garment,
                    params,
                    quality,
                };
                LocalRenderer
                    .render(&request)
                    .map(|o| (ImageData::png(&o.image), o))
            })
            .await
            .map_err(|e| ProviderError::permanent(LOCAL, format!("renderer panicked: {e}")))?;
            let (image, output) = out.map_err(|e| {
                use garmax_core::Coded as _;
                ProviderError::Renderer {
                    provider: LOCAL.into(),
                    code: e.code(),
                    message: e.to_string(),
                }
            })?;
            Ok(RenderResult {
                images: vec![image],
                provider: LOCAL.into(),
                cost_usd: 0.0,
                metadata: serde_json::Map::new(),
                timings: Timings {
                    total: start.elapsed(),
                    ..Timings::default()
                },
                local_output: Some(LocalOutput::new(output)),
            })
        })
    }

    fn check(&self) -> BoxFuture<'_, Result<String, ProviderError>> {
        Box::pin(async { Ok("built in, always available".into()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorClass;
    use crate::job::GarmentBrief;

    /// A job without decoded inputs is invalid input for the local
    /// renderer (the next provider, if any, may still take it).
    #[tokio::test]
    async fn local_adapter_maps_errors() {
        let img = ImageData::new(vec![0], "image/png");
        let job = RenderJob::new(img.clone(), img, GarmentBrief::default());
        let e = LocalProvider.render(&job).await.unwrap_err();
        assert_eq!(e.class(), ErrorClass::InvalidInput);
        assert_eq!(LocalProvider.estimate_cost(&job), 0.0);
        assert!(LocalProvider.check().await.is_ok());
    }
}
