//! Settings every remote client shares.

use crate::http::{HttpSettings, OutputFetcher};
use crate::job::RenderJob;

/// One configured remote endpoint.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Name in chains and reports (`nano-banana-pro`).
    pub name: String,
    /// `https://api.replicate.com`, a Cog container's URL, a fake server.
    pub base_url: String,
    pub api_key: Option<String>,
    /// USD per output image; `None` uses the seed's `qualitySettings`
    /// estimate of the job's render quality.
    pub cost_per_image: Option<f64>,
    pub http: HttpSettings,
}

impl ClientConfig {
    pub fn new(name: impl Into<String>, base_url: impl Into<String>) -> ClientConfig {
        ClientConfig {
            name: name.into(),
            base_url: base_url.into(),
            api_key: None,
            cost_per_image: None,
            http: HttpSettings::default(),
        }
    }

    pub fn with_key(mut self, key: impl Into<String>) -> ClientConfig {
        self.api_key = Some(key.into());
        self
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url.trim_end_matches('/'), path)
    }

    pub(crate) fn cost_per_image(&self, job: &RenderJob) -> f64 {
        self.cost_per_image
            .unwrap_or_else(|| job.quality.settings().cost_estimate)
    }

    pub(crate) fn key(&self) -> &str {
        self.api_key.as_deref().unwrap_or_default()
    }
}

/// What a remote client holds: its configuration, an HTTP client, an
/// output fetcher trusting only the base URL's host.
#[derive(Debug, Clone)]
pub(crate) struct Remote {
    pub config: ClientConfig,
    pub http: reqwest::Client,
    pub fetcher: OutputFetcher,
}

impl Remote {
    pub fn new(config: ClientConfig) -> Remote {
        let http = crate::http::client(&config.http);
        let fetcher =
            OutputFetcher::new(http.clone(), &config.base_url, config.http.max_output_bytes);
        Remote {
            config,
            http,
            fetcher,
        }
    }

    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// Downloads every output location in order.
    pub async fn fetch_all(
        &self,
        locations: &[String],
    ) -> Result<Vec<crate::job::ImageData>, crate::error::ProviderError> {
        if locations.is_empty() {
            return Err(crate::error::ProviderError::permanent(
                self.name(),
                "the provider returned no output image",
            ));
        }
        let mut images = Vec::with_capacity(locations.len());
        for l in locations {
            images.push(self.fetcher.fetch(self.name(), l).await?);
        }
        Ok(images)
    }
}
