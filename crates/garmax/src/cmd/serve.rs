//! `garmax serve` and `garmax worker`: the service, configured from a file,
//! flags and the environment (flags and variables win over the file).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use garmax_server::ServerConfig;

/// Settings shared by `serve`, `worker` and `users`.
#[derive(clap::Args, Clone)]
pub struct ServiceArgs {
    /// TOML file with a [server] table (see config/garmax.toml).
    #[arg(long, env = "GARMAX_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory: the SQLite database and local objects by default.
    #[arg(long, env = "GARMAX_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Database: sqlite://FILE (default: DATA_DIR/garmax.db) or postgres://…
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// Object storage: a directory (default: DATA_DIR/objects) or s3://bucket/prefix
    /// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL).
    #[arg(long, env = "GARMAX_STORAGE_URL")]
    storage_url: Option<String>,
    /// Jobs one worker process runs at once.
    #[arg(long, env = "MAX_CONCURRENT_GENERATIONS")]
    max_concurrent_generations: Option<usize>,
    /// Time limit of one avatar or render job, in ms.
    #[arg(long, env = "IMAGE_PROCESSING_TIMEOUT")]
    image_processing_timeout: Option<u64>,
    /// Time limit of validating one render, in ms.
    #[arg(long, env = "VALIDATION_TIMEOUT")]
    validation_timeout: Option<u64>,
    /// Tier of sessions that name none: standard, premium or ultra.
    #[arg(long, env = "DEFAULT_QUALITY_TIER")]
    default_quality_tier: Option<String>,
    /// Most render attempts per session.
    #[arg(long, env = "MAX_RETRY_ATTEMPTS")]
    max_retry_attempts: Option<u32>,
    /// Cache identical validations (true/false).
    #[arg(long, env = "CACHE_VALIDATION_RESULTS")]
    cache_validation_results: Option<bool>,
    /// Seconds from preview to the server's auto-confirm (0: never).
    #[arg(long, env = "GARMAX_AUTO_CONFIRM_SECS")]
    auto_confirm_secs: Option<u64>,
    /// Lease of a claimed job in ms (a dead worker's job is taken over after it).
    #[arg(long, env = "GARMAX_JOB_LEASE_MS")]
    job_lease_ms: Option<i64>,
    /// Requests per second per API key.
    #[arg(long, env = "GARMAX_RATE_LIMIT")]
    rate_limit: Option<u32>,
    /// Burst of requests above the rate.
    #[arg(long, env = "GARMAX_RATE_BURST")]
    rate_burst: Option<u32>,
    /// Origins allowed by CORS, comma-separated (`*` for any).
    #[arg(long, env = "GARMAX_CORS_ORIGINS", value_delimiter = ',')]
    cors_origins: Vec<String>,
    /// Hosts a session may name a garment image URL on, comma-separated.
    #[arg(long, env = "GARMAX_ALLOWED_IMAGE_HOSTS", value_delimiter = ',')]
    allowed_image_hosts: Vec<String>,
    /// Persona catalogue seeding the database on first start (default:
    /// config/personas.toml when it exists; `none` for an empty catalogue).
    #[arg(long, env = "GARMAX_PERSONAS")]
    personas: Option<PathBuf>,
    /// Days generation metrics are kept.
    #[arg(long, env = "METRICS_RETENTION_DAYS")]
    metrics_retention_days: Option<u32>,
    /// The built studio (default: web/dist when it exists).
    #[arg(long, env = "GARMAX_WEB_DIR")]
    web_dir: Option<PathBuf>,
}

impl ServiceArgs {
    /// Defaults, then the file, then flags and environment.
    pub fn config(&self) -> anyhow::Result<ServerConfig> {
        let mut c = match &self.config {
            Some(path) => ServerConfig::from_file(path)?,
            None => ServerConfig::default(),
        };
        macro_rules! set {
            ($($field:ident = $value:expr),* $(,)?) => {
                $(if let Some(v) = $value.clone() { c.$field = v; })*
            };
        }
        set!(
            data_dir = self.data_dir,
            max_concurrent_generations = self.max_concurrent_generations,
            image_processing_timeout_ms = self.image_processing_timeout,
            validation_timeout_ms = self.validation_timeout,
            default_quality_tier = self.default_quality_tier,
            max_retry_attempts = self.max_retry_attempts,
            cache_validation_results = self.cache_validation_results,
            auto_confirm_secs = self.auto_confirm_secs,
            job_lease_ms = self.job_lease_ms,
            rate_limit_per_sec = self.rate_limit,
            rate_limit_burst = self.rate_burst,
            metrics_retention_days = self.metrics_retention_days,
        );
        c.personas_file = match &self.personas {
            Some(p) if p.as_os_str() == "none" => None,
            Some(p) => Some(p.clone()),
            None => c.personas_file.clone().or_else(|| {
                let default = PathBuf::from("config/personas.toml");
                default.exists().then_some(default)
            }),
        };
        if self.database_url.is_some() {
            c.database_url = self.database_url.clone();
        }
        if self.storage_url.is_some() {
            c.storage_url = self.storage_url.clone();
        }
        if !self.cors_origins.is_empty() {
            c.cors_origins = self.cors_origins.clone();
        }
        if !self.allowed_image_hosts.is_empty() {
            c.allowed_image_hosts = self.allowed_image_hosts.clone();
        }
        apply_stripe_env(&mut c.billing);
        if let Ok(v) = std::env::var("GARMAX_SMTP_URL") {
            c.alerts.smtp_url = Some(v).filter(|v| !v.is_empty());
        }
        c.web_dir = self.web_dir.clone().or(c.web_dir).or_else(|| {
            let dist = PathBuf::from("web/dist");
            dist.join("index.html").exists().then_some(dist)
        });
        c.providers = super::providers::load_config(self.config.as_deref())?;
        c.validate()?;
        Ok(c)
    }
}

/// Stripe's settings from the environment, over the file's:
/// `STRIPE_WEBHOOK_SECRET` (comma-separated during a rotation),
/// `STRIPE_SECRET_KEY`, `STRIPE_API_BASE`.
fn apply_stripe_env(b: &mut garmax_server::config::BillingConfig) {
    if let Ok(v) = std::env::var("STRIPE_WEBHOOK_SECRET") {
        b.stripe_webhook_secrets = v
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
    }
    if let Ok(v) = std::env::var("STRIPE_SECRET_KEY") {
        b.stripe_secret_key = Some(v);
    }
    if let Ok(v) = std::env::var("STRIPE_API_BASE") {
        b.stripe_api_base = v;
    }
}

#[derive(clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    service: ServiceArgs,
    /// Address to listen on.
    #[arg(long, env = "GARMAX_BIND")]
    bind: Option<SocketAddr>,
    /// Job slots of the in-process worker (0: API only, jobs run by `garmax worker`).
    #[arg(long, env = "GARMAX_WORKERS")]
    workers: Option<usize>,
}

#[derive(clap::Args)]
pub struct WorkerArgs {
    #[command(flatten)]
    service: ServiceArgs,
}

/// A multi-threaded runtime for the service commands.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

pub fn engine(config: &ServerConfig) -> anyhow::Result<Arc<dyn garmax_server::engine::Engine>> {
    let engine = garmax_server::pipeline::PipelineEngine::load()
        .context("loading the models (run `garmax models fetch`)")?
        .with_service_limits(
            config.validation_timeout_ms,
            config.cache_validation_results,
        );
    Ok(Arc::new(engine))
}

pub fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let mut config = args.service.config()?;
    if let Some(bind) = args.bind {
        config.bind = bind;
    }
    if let Some(w) = args.workers {
        config.workers = w;
    }
    let engine = engine(&config)?;
    let runtime = runtime()?;
    let result = runtime.block_on(async move {
        let bind = config.bind;
        let workers = config.workers;
        let state = garmax_server::open_state(config, engine).await?;
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .with_context(|| format!("listening on {bind}"))?;
        let addr = listener.local_addr()?;
        // Scripts wait for this line.
        println!("garmax serve listening on http://{addr}");
        garmax_server::serve(state, listener, workers, shutdown_signal()).await?;
        Ok(())
    });
    runtime.shutdown_timeout(SHUTDOWN_LEFTOVERS);
    result
}

pub fn worker(args: WorkerArgs) -> anyhow::Result<()> {
    let config = args.service.config()?;
    let engine = engine(&config)?;
    let runtime = runtime()?;
    let result = runtime.block_on(async move {
        let slots = config.max_concurrent_generations;
        let state = garmax_server::open_state(config, engine).await?;
        let worker = garmax_server::worker::Worker::start(state.clone(), slots);
        println!("garmax worker running {slots} job slots");
        shutdown_signal().await;
        worker.shutdown().await;
        state.store.close().await;
        Ok(())
    });
    // A render released at shutdown may still be computing on the
    // blocking pool: its job is back in the queue, so don't wait for it.
    runtime.shutdown_timeout(SHUTDOWN_LEFTOVERS);
    result
}

/// How long the runtime waits, at exit, for blocking work whose jobs were
/// already released.
const SHUTDOWN_LEFTOVERS: std::time::Duration = std::time::Duration::from_secs(1);
