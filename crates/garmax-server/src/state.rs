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
    /// The render router every render goes through (workers) and whose
    /// status `GET /api/admin/providers` shows.
    pub router: garmax_providers::Router,
    /// CPU, memory, disk and this process's recent requests.
    pub monitor: crate::system::SystemMonitor,
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
            router: local_router(),
            monitor: crate::system::SystemMonitor::new(),
        }))
    }

    /// Replaces the router (before the state is shared).
    pub fn with_router(mut self, router: garmax_providers::Router) -> AppState {
        match Arc::get_mut(&mut self.0) {
            Some(inner) => inner.router = router,
            None => tracing::warn!("the router can only be set before the state is shared"),
        }
        self
    }
}

/// `local` alone, budgets in memory: the state before `with_router`.
fn local_router() -> garmax_providers::Router {
    garmax_providers::Router::builder()
        .build()
        .expect("a chain of `local` alone is valid")
}
