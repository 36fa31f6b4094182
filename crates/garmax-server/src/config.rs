//! The service's configuration: defaults, then a TOML file's `[server]`
//! table, then command-line flags and environment variables (the binary
//! applies those last).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use std::collections::BTreeMap;

use garmax_core::billing::PlanLimits;
use serde::Deserialize;

/// Everything `garmax serve` and `garmax worker` are configured with.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, rename_all = "snake_case", deny_unknown_fields)]
pub struct ServerConfig {
    pub bind: SocketAddr,
    /// Holds the SQLite database and the local object store by default.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; default: `sqlite://<data_dir>/garmax.db`.
    pub database_url: Option<String>,
    /// A directory, `file:///dir` or `s3://bucket/prefix`; default:
    /// `<data_dir>/objects`.
    pub storage_url: Option<String>,
    /// In-process workers of `serve` (0: API only).
    pub workers: usize,
    /// Jobs one worker process runs at once (the seed's
    /// `MAX_CONCURRENT_GENERATIONS`).
    pub max_concurrent_generations: usize,
    /// Time limit of one avatar or render job (the seed's
    /// `IMAGE_PROCESSING_TIMEOUT`, ms).
    pub image_processing_timeout_ms: u64,
    /// Time limit of validating one render (the seed's `VALIDATION_TIMEOUT`, ms).
    pub validation_timeout_ms: u64,
    /// Tier of a session that names none (the seed's `DEFAULT_QUALITY_TIER`).
    pub default_quality_tier: String,
    /// Upper bound on render attempts per session (the seed's `MAX_RETRY_ATTEMPTS`).
    pub max_retry_attempts: u32,
    /// Whether identical validations are served from a cache
    /// (the seed's `CACHE_VALIDATION_RESULTS`).
    pub cache_validation_results: bool,
    /// Seconds after the preview when the server confirms on the user's
    /// behalf (the seed's 30 s countdown); 0 disables.
    pub auto_confirm_secs: u64,
    /// Largest JSON body (bytes).
    pub max_body_bytes: usize,
    /// Largest uploaded image (bytes); the image decoder's pixel limit
    /// applies too.
    pub max_upload_bytes: usize,
    /// Largest width × height of an uploaded image.
    pub max_upload_pixels: u64,
    /// Requests per second per API key, and the burst allowed above it.
    pub rate_limit_per_sec: u32,
    pub rate_limit_burst: u32,
    /// Origins allowed by CORS (empty: same origin only; `*`: any).
    pub cors_origins: Vec<String>,
    /// Hosts a session may name an image URL on (besides this server).
    pub allowed_image_hosts: Vec<String>,
    /// The built studio (`web/dist`), served at `/` when it exists.
    pub web_dir: Option<PathBuf>,
    /// Lease of a claimed job; a worker renews it every third of it.
    pub job_lease_ms: i64,
    /// Attempts of a job before it fails for good.
    pub job_max_attempts: i64,
    /// How long shutdown waits for running jobs before releasing them.
    pub shutdown_grace_ms: u64,
    /// Database connections of one process.
    pub database_max_connections: u32,
    /// The render router: the same file's `[providers]` section and the
    /// environment (the binary reads them; see `garmax_providers::config`).
    #[serde(skip)]
    pub providers: garmax_providers::ProvidersConfig,
    /// Credits, plans, quotas and Stripe (`[server.billing]`).
    pub billing: BillingConfig,
    /// The persona catalogue that seeds the database on first start
    /// (`config/personas.toml`); `None`: start with an empty catalogue.
    pub personas_file: Option<PathBuf>,
    /// Days generation metrics are kept (the seed's `METRICS_RETENTION_DAYS`).
    pub metrics_retention_days: u32,
    /// Longest a `Prefer: wait` request of the enhanced API waits, seconds.
    pub enhanced_wait_secs: u64,
    /// The seed's `alertConfig` and where alerts are sent (`[server.alerts]`).
    pub alerts: AlertsConfig,
}

/// Alerts: the three rules, how often they are evaluated, and the webhooks
/// and email that hear of them.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, rename_all = "snake_case", deny_unknown_fields)]
pub struct AlertsConfig {
    /// Evaluate at all (the alerts are listed even without any channel).
    pub enabled: bool,
    /// Seconds between evaluations; the lease lasts three of them.
    pub evaluate_every_secs: u64,
    pub quality_drop: garmax_core::alerts::QualityDropRule,
    pub high_cost: garmax_core::alerts::HighCostRule,
    pub system_health: garmax_core::alerts::SystemHealthRule,
    /// Every alert event is POSTed to each of these, signed with its secret.
    pub webhooks: Vec<WebhookTarget>,
    /// `smtp://host:port`, `smtps://user:pass@host`, or with `?tls=required`
    /// for STARTTLS (`GARMAX_SMTP_URL`); none: no email.
    pub smtp_url: Option<String>,
    /// The sender of alert email.
    pub email_from: String,
    /// Tries of one notification before it is given up (kept, with its error).
    pub delivery_attempts: i64,
}

/// One webhook that hears of alerts.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub struct WebhookTarget {
    pub url: String,
    /// Signs each body (`Garmax-Signature`); none: sent unsigned.
    pub secret: Option<String>,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            enabled: true,
            evaluate_every_secs: 60,
            quality_drop: Default::default(),
            high_cost: Default::default(),
            system_health: Default::default(),
            webhooks: Vec::new(),
            smtp_url: None,
            email_from: "garmax alerts <alerts@localhost>".into(),
            delivery_attempts: 8,
        }
    }
}

impl AlertsConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.evaluate_every_secs == 0 {
            return Err(ConfigError(
                "alerts.evaluate_every_secs must be at least 1".into(),
            ));
        }
        let q = &self.quality_drop;
        if !(0.0..=1.0).contains(&q.threshold) || q.time_window_ms <= 0 {
            return Err(ConfigError(
                "alerts.quality_drop needs a threshold in 0..1 and a positive time_window_ms"
                    .into(),
            ));
        }
        for w in &self.webhooks {
            match url::Url::parse(&w.url) {
                Ok(u) if matches!(u.scheme(), "http" | "https") => {}
                _ => {
                    return Err(ConfigError(format!(
                        "alerts.webhooks: '{}' is not an http(s) URL",
                        w.url
                    )));
                }
            }
        }
        if self.delivery_attempts < 1 {
            return Err(ConfigError(
                "alerts.delivery_attempts must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

/// Billing: prices in credits, plans with their monthly quotas, Stripe.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, rename_all = "snake_case", deny_unknown_fields)]
pub struct BillingConfig {
    /// Credits an avatar costs (the seed's 5).
    pub avatar_cost: i64,
    /// Credits a render costs by quality (the seed's sd 10, hd 15, 4k 25).
    pub render_costs: BTreeMap<String, i64>,
    /// Plans by name (`[server.billing.plans.studio]`): monthly avatars,
    /// try-ons and the credits a paid invoice grants. A file's plans are
    /// laid over the built-in free, studio and pro.
    #[serde(deserialize_with = "plans_over_defaults")]
    pub plans: BTreeMap<String, PlanLimits>,
    /// Stripe price id → plan name.
    pub stripe_prices: BTreeMap<String, String>,
    /// Webhook endpoint secrets (`whsec_…`); several during a rotation.
    /// `STRIPE_WEBHOOK_SECRET` (comma-separated) replaces them.
    pub stripe_webhook_secrets: Vec<String>,
    /// How far a webhook's timestamp may be from now, either way (seconds).
    pub stripe_tolerance_secs: i64,
    /// `STRIPE_SECRET_KEY`: the API key checkout uses.
    pub stripe_secret_key: Option<String>,
    /// `STRIPE_API_BASE`: Stripe's API (a fake in tests).
    pub stripe_api_base: String,
    /// Where Checkout sends the shopper after paying or giving up.
    pub checkout_success_url: String,
    pub checkout_cancel_url: String,
}

fn plans_over_defaults<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, PlanLimits>, D::Error> {
    let mut plans: BTreeMap<String, PlanLimits> =
        garmax_core::billing::default_plans().into_iter().collect();
    plans.extend(BTreeMap::<String, PlanLimits>::deserialize(d)?);
    Ok(plans)
}

impl Default for BillingConfig {
    fn default() -> Self {
        BillingConfig {
            avatar_cost: garmax_core::billing::AVATAR_COST,
            render_costs: ["sd", "hd", "4k"]
                .into_iter()
                .map(|q| {
                    (
                        q.to_string(),
                        garmax_core::billing::render_cost(q).unwrap_or(0),
                    )
                })
                .collect(),
            plans: garmax_core::billing::default_plans().into_iter().collect(),
            stripe_prices: BTreeMap::new(),
            stripe_webhook_secrets: Vec::new(),
            stripe_tolerance_secs: 300,
            stripe_secret_key: None,
            stripe_api_base: "https://api.stripe.com".into(),
            checkout_success_url: "http://localhost:8080/#/billing?checkout=success".into(),
            checkout_cancel_url: "http://localhost:8080/#/billing?checkout=cancel".into(),
        }
    }
}

impl BillingConfig {
    /// The limits of `plan`; an unknown plan gets the free plan's (or
    /// nothing at all when there is no free plan either).
    pub fn limits(&self, plan: &str) -> PlanLimits {
        self.plans
            .get(plan)
            .or_else(|| self.plans.get("free"))
            .cloned()
            .unwrap_or(PlanLimits {
                avatars_per_month: 0,
                tryons_per_month: 0,
                monthly_credits: 0,
            })
    }

    /// Credits a render of `quality` costs.
    pub fn render_cost(&self, quality: &str) -> Option<i64> {
        self.render_costs.get(quality).copied()
    }

    /// The plan a Stripe price id stands for.
    pub fn plan_of_price(&self, price: &str) -> Option<&str> {
        self.stripe_prices.get(price).map(String::as_str)
    }

    /// The price id that buys `plan`.
    pub fn price_of_plan(&self, plan: &str) -> Option<&str> {
        self.stripe_prices
            .iter()
            .find(|(_, p)| p.as_str() == plan)
            .map(|(price, _)| price.as_str())
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.avatar_cost < 0 || self.render_costs.values().any(|c| *c < 0) {
            return Err(ConfigError("billing costs cannot be negative".into()));
        }
        for (price, plan) in &self.stripe_prices {
            if !self.plans.contains_key(plan) {
                return Err(ConfigError(format!(
                    "billing.stripe_prices: price {price} names unknown plan '{plan}'"
                )));
            }
        }
        if self.stripe_tolerance_secs <= 0 {
            return Err(ConfigError(
                "billing.stripe_tolerance_secs must be positive".into(),
            ));
        }
        Ok(())
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("garmax-data"),
            database_url: None,
            storage_url: None,
            workers: 1,
            max_concurrent_generations: 3,
            image_processing_timeout_ms: 300_000,
            validation_timeout_ms: 30_000,
            default_quality_tier: "standard".into(),
            max_retry_attempts: 3,
            cache_validation_results: true,
            auto_confirm_secs: 30,
            max_body_bytes: 64 * 1024,
            max_upload_bytes: 20 * 1024 * 1024,
            max_upload_pixels: 40_000_000,
            rate_limit_per_sec: 50,
            rate_limit_burst: 200,
            cors_origins: Vec::new(),
            allowed_image_hosts: Vec::new(),
            web_dir: None,
            job_lease_ms: 30_000,
            job_max_attempts: 3,
            shutdown_grace_ms: 20_000,
            database_max_connections: 16,
            providers: garmax_providers::ProvidersConfig::default(),
            billing: BillingConfig::default(),
            personas_file: None,
            metrics_retention_days: 90,
            enhanced_wait_secs: 60,
            alerts: AlertsConfig::default(),
        }
    }
}

/// The file's shape: settings under `[server]`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct FileConfig {
    server: Option<ServerConfig>,
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("configuration {0}")]
pub struct ConfigError(pub String);

impl garmax_core::Coded for ConfigError {
    fn code(&self) -> garmax_core::ErrorCode {
        garmax_core::ErrorCode::InvalidConfig
    }
}

impl ServerConfig {
    /// Reads the `[server]` table of a TOML file over the defaults.
    pub fn from_file(path: &Path) -> Result<ServerConfig, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("{}: {e}", path.display())))?;
        ServerConfig::from_toml(&text)
            .map_err(|e| ConfigError(format!("{}: {}", path.display(), e.0)))
    }

    pub fn from_toml(text: &str) -> Result<ServerConfig, ConfigError> {
        let file: FileConfig = toml::from_str(text).map_err(|e| ConfigError(e.to_string()))?;
        Ok(file.server.unwrap_or_default())
    }

    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("garmax.db").display()))
    }

    pub fn storage_url(&self) -> String {
        self.storage_url
            .clone()
            .unwrap_or_else(|| self.data_dir.join("objects").display().to_string())
    }

    /// Checks values that would make the service misbehave.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !["standard", "premium", "ultra"].contains(&self.default_quality_tier.as_str()) {
            return Err(ConfigError(format!(
                "default_quality_tier '{}' is not standard, premium or ultra",
                self.default_quality_tier
            )));
        }
        if self.max_concurrent_generations == 0 {
            return Err(ConfigError(
                "max_concurrent_generations must be at least 1".into(),
            ));
        }
        if self.job_lease_ms < 3_000 {
            return Err(ConfigError("job_lease_ms must be at least 3000".into()));
        }
        if self.rate_limit_per_sec == 0 || self.rate_limit_burst == 0 {
            return Err(ConfigError("rate limits must be positive".into()));
        }
        self.billing.validate()?;
        self.alerts.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_rules_come_from_the_file_over_the_seeds_defaults() {
        let c = ServerConfig::from_toml(
            "[server.alerts]\nevaluate_every_secs = 5\nsmtp_url = \"smtp://127.0.0.1:2525\"\n\
             [server.alerts.quality_drop]\nthreshold = 0.5\nrecipients = [\"ops@x.io\"]\n\
             [[server.alerts.webhooks]]\nurl = \"https://hooks.x.io/a\"\nsecret = \"k\"\n",
        )
        .unwrap();
        assert_eq!(c.alerts.evaluate_every_secs, 5);
        assert_eq!(c.alerts.quality_drop.threshold, 0.5);
        assert_eq!(c.alerts.quality_drop.time_window_ms, 3_600_000);
        assert_eq!(c.alerts.high_cost.threshold, 100.0);
        assert_eq!(c.alerts.system_health.memory_threshold, 85.0);
        assert_eq!(c.alerts.webhooks[0].secret.as_deref(), Some("k"));
        let bad =
            ServerConfig::from_toml("[[server.alerts.webhooks]]\nurl = \"file:///etc/passwd\"\n")
                .unwrap();
        assert!(bad.validate().is_err());
        assert!(ServerConfig::from_toml("[server.alerts.high_cost]\nlimit = 3\n").is_err());
    }

    #[test]
    fn file_overrides_defaults_and_unknown_keys_are_refused() {
        let c = ServerConfig::from_toml("[server]\nworkers = 4\nauto_confirm_secs = 5\n").unwrap();
        assert_eq!(c.workers, 4);
        assert_eq!(c.auto_confirm_secs, 5);
        assert_eq!(c.max_concurrent_generations, 3);
        assert!(ServerConfig::from_toml("[server]\nwokers = 4\n").is_err());
        assert!(ServerConfig::from_toml("").unwrap().validate().is_ok());
        let bad = ServerConfig {
            default_quality_tier: "gold".into(),
            ..Default::default()
        };
        assert!(bad.validate().is_err());
    }

    #[test]
    fn billing_plans_and_prices_come_from_the_file() {
        let c = ServerConfig::from_toml(
            "[server.billing]\nstripe_prices = { price_pro = \"pro\" }\n\
             [server.billing.plans.pro]\navatars_per_month = 9\ntryons_per_month = 99\nmonthly_credits = 7\n",
        )
        .unwrap();
        assert_eq!(c.billing.limits("pro").tryons_per_month, 99);
        assert_eq!(c.billing.limits("studio").tryons_per_month, 25, "kept");
        assert_eq!(c.billing.plan_of_price("price_pro"), Some("pro"));
        assert_eq!(c.billing.price_of_plan("pro"), Some("price_pro"));
        assert!(c.validate().is_ok());
        let d = ServerConfig::default();
        assert_eq!(d.billing.limits("studio").tryons_per_month, 25);
        assert_eq!(d.billing.limits("nope").avatars_per_month, 1);
        assert_eq!(d.billing.render_cost("4k"), Some(25));
        let bad = ServerConfig::from_toml("[server.billing]\nstripe_prices = { p = \"gold\" }\n")
            .unwrap();
        assert!(bad.validate().is_err());
    }

    #[test]
    fn default_urls_live_in_the_data_dir() {
        let c = ServerConfig {
            data_dir: "/d".into(),
            ..Default::default()
        };
        assert_eq!(c.database_url(), "sqlite:///d/garmax.db");
        assert_eq!(c.storage_url(), "/d/objects");
    }
}
