//! The garmax service: the HTTP API, authentication, live progress and the
//! workers that run the try-on pipeline as durable jobs.
//!
//! - [`app`] builds the axum router: the routes of [`routes`] (documented
//!   in OpenAPI by [`openapi`], served at `/api/openapi.json` and
//!   `/api/docs`), bearer-key auth ([`auth`]), per-key rate limits, body and
//!   upload limits, CORS, request ids and Prometheus metrics, the socket.io
//!   namespace `/tryon` ([`live`]) and the studio's static files.
//! - [`worker`] claims jobs from the store's queue and runs the stages;
//!   [`engine::Engine`] is the pipeline as a worker sees it; every render
//!   goes through the state's `garmax_providers::Router`, whose budgets,
//!   counters and breakers live in the database ([`usage`]).
//! - [`alerts`] evaluates the seed's alerts in the background (one process
//!   at a time, under a lease in the database) and delivers their
//!   notifications.
//! - [`serve`] runs the server (and in-process workers) until a signal, then
//!   shuts down gracefully.
//!
//! Only this crate knows HTTP routes and the API's JSON shapes ([`views`]);
//! SQL stays in `garmax-store`, pixels in the pipeline crates.

pub mod alerts;
pub mod auth;
pub mod catalogue;
pub mod config;
pub mod demo;
pub mod engine;
pub mod error;
pub mod limits;
pub mod live;
pub mod metrics;
pub mod openapi;
pub mod pipeline;
pub mod routes;
pub mod state;
pub mod system;
pub mod upload;
pub mod usage;
pub mod views;
pub mod worker;

use std::future::IntoFuture as _;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::routing::get;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi as _;

pub use config::ServerConfig;
pub use state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole HTTP application on `state`.
pub fn app(state: AppState) -> Router {
    let (socket_layer, forwarder) = live::layer(state.clone());
    tokio::spawn(live::forward(forwarder, state.store.subscribe()));
    let public = Router::new()
        .route("/health", get(routes::health::health))
        .route("/ready", get(routes::health::ready))
        .route("/metrics", get(metrics::render))
        .route("/api/openapi.json", get(openapi_json))
        // An unknown API path is a JSON 404, never the studio's page.
        .route("/api/{*rest}", axum::routing::any(api_not_found));
    let mut router = Router::new()
        .merge(public)
        .merge(routes::api(&state))
        .merge(
            utoipa_swagger_ui::SwaggerUi::new("/api/docs")
                .url("/api/docs/openapi.json", openapi::ApiDoc::openapi()),
        );
    if let Some(dir) = state
        .config
        .web_dir
        .as_ref()
        .filter(|d| d.join("index.html").exists())
    {
        // Hashed assets can be cached for ever; index.html must revalidate.
        let assets = Router::new()
            .nest_service("/assets", ServeDir::new(dir.join("assets")))
            .layer(SetResponseHeaderLayer::overriding(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ));
        let index = ServeDir::new(dir).fallback(ServeFile::new(dir.join("index.html")));
        router = router.merge(assets).fallback_service(
            tower::ServiceBuilder::new()
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("no-cache"),
                ))
                .service(index),
        );
    }
    router
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(cors(&state.config.cors_origins))
        .layer(socket_layer)
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(120),
        ))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}

async fn api_not_found() -> error::ApiError {
    error::ApiError::not_found()
}

async fn openapi_json() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(openapi::ApiDoc::openapi())
}

fn cors(origins: &[String]) -> CorsLayer {
    let layer = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("last-event-id"),
        ]);
    if origins.iter().any(|o| o == "*") {
        layer.allow_origin(AllowOrigin::any())
    } else {
        let list: Vec<HeaderValue> = origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect();
        layer.allow_origin(AllowOrigin::list(list))
    }
}

/// Why a server or worker could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("server configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Store(#[from] garmax_store::StoreError),
    #[error(transparent)]
    Providers(#[from] garmax_providers::RouterError),
}

/// Opens the store, the object storage and the render router named by
/// `config`.
pub async fn open_state(
    config: ServerConfig,
    engine: std::sync::Arc<dyn engine::Engine>,
) -> Result<AppState, StartError> {
    config.validate().map_err(|e| StartError::Config(e.0))?;
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| StartError::Config(format!("creating {}: {e}", config.data_dir.display())))?;
    let store =
        garmax_store::Store::open(&config.database_url(), config.database_max_connections).await?;
    store.start_listener().await?;
    let objects = garmax_store::Objects::open(&config.storage_url())?;
    let usage = usage::StoreUsage::new(store.clone(), config.image_processing_timeout_ms as i64);
    let router = config
        .providers
        .build_router_with(&|k| std::env::var(k).ok(), std::sync::Arc::new(usage))?;
    let state = AppState::new(store, objects, config, engine).with_router(router);
    catalogue::seed(&state).await?;
    Ok(state)
}

/// Serves until `shutdown` resolves, then stops in-process workers
/// (`workers` slots, 0 for none; running jobs finish within the grace
/// period or go back to the queue) while open connections drain — long
/// ones (SSE, socket.io) for at most [`CONNECTION_DRAIN`].
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    workers: usize,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let worker = (workers > 0).then(|| worker::Worker::start(state.clone(), workers));
    let alerts_stop = std::sync::Arc::new(tokio::sync::Notify::new());
    let alerts = tokio::spawn(alerts::run(state.clone(), alerts_stop.clone()));
    let app = app(state.clone());
    tracing::info!(addr = %listener.local_addr()?, "garmax serve listening");
    let stopping = std::sync::Arc::new(tokio::sync::Notify::new());
    let server = axum::serve(listener, app).with_graceful_shutdown({
        let stopping = stopping.clone();
        async move { stopping.notified().await }
    });
    let server = server.into_future();
    tokio::pin!(server);
    tokio::select! {
        served = &mut server => served?,
        () = shutdown => {}
    }
    stopping.notify_one();
    alerts_stop.notify_one();
    let stop_worker = async {
        if let Some(w) = worker {
            w.shutdown().await;
        }
    };
    let (drained, ()) = tokio::join!(tokio::time::timeout(CONNECTION_DRAIN, server), stop_worker);
    if drained.is_err() {
        tracing::info!("closing the connections still open after {CONNECTION_DRAIN:?}");
    }
    // An evaluation in flight finishes (bounded by its calls' timeouts).
    let _ = tokio::time::timeout(Duration::from_secs(15), alerts).await;
    state.store.close().await;
    Ok(())
}

/// How long a stopping server waits for open connections.
pub const CONNECTION_DRAIN: Duration = Duration::from_secs(10);
