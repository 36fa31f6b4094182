//! What every handler and worker shares.

use std::num::NonZeroU32;
use std::sync::Arc;

use garmax_store::{Objects, Store};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::ServerConfig;
use crate::engine::Engine;

/// The shared state, cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub store: Store,
    pub objects: Objects,
    pub config: ServerConfig,
    pub engine: Arc<dyn Engine>,
    /// Requests per API key.
    pub limiter: DefaultKeyedRateLimiter<String>,
    pub metrics: metrics_exporter_prometheus::PrometheusHandle,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(
        store: Store,
        objects: Objects,
        config: ServerConfig,
        engine: Arc<dyn Engine>,
    ) -> AppState {
        let per_sec = NonZeroU32::new(config.rate_limit_per_sec).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(config.rate_limit_burst).unwrap_or(NonZeroU32::MIN);
        let limiter = RateLimiter::keyed(Quota::per_second(per_sec).allow_burst(burst));
        AppState(Arc::new(Inner {
            store,
            objects,
            config,
            engine,
            limiter,
            metrics: crate::metrics::handle(),
        }))
    }
}
