//! The `[providers]` section of the configuration file and the
//! environment variables that override it, and building a [`Router`] from
//! them.
//!
//! ```toml
//! [providers]
//! enable_gemini_batch = false          # ENABLE_GEMINI_BATCH
//! gemini_traffic_percent = 0           # GEMINI_TRAFFIC_PERCENT
//! split_chain = ["gemini-batch", "photomaker", "sdxl"]
//! default_chain = ["nano-banana-pro", "photomaker", "sdxl"]
//! local_last = true                    # append `local` to every chain
//!
//! [providers.budgets]
//! global_daily_usd = 100.0             # GARMAX_DAILY_BUDGET_USD
//! per_user_daily_usd = 5.0             # GARMAX_USER_DAILY_BUDGET_USD
//! per_generation_usd = 0.5             # GARMAX_GENERATION_BUDGET_USD
//! max_renders_per_user_daily = 20      # MAX_RENDERS_PER_USER_DAILY
//! max_concurrent_renders_per_user = 3  # MAX_CONCURRENT_RENDERS_PER_USER
//!
//! [providers.endpoints.nano-banana-pro]
//! kind = "replicate"                   # replicate | gemini | openai | fashn
//! model = "google/nano-banana-pro"
//! inputs = "tryon"                     # tryon | photomaker | sdxl | idm-vton
//! daily_budget_usd = 50.0              # GARMAX_NANO_BANANA_PRO_DAILY_BUDGET_USD
//! # base_url: GARMAX_NANO_BANANA_PRO_BASE_URL, else GARMAX_REPLICATE_BASE_URL
//! # key: api_key_env (default REPLICATE_API_TOKEN)
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::batcher::{BatchConfig, BatchedProvider};
use crate::breaker::BreakerConfig;
use crate::client::ClientConfig;
use crate::error::RouterError;
use crate::fashn::FashnProvider;
use crate::gemini::GeminiProvider;
use crate::http::HttpSettings;
use crate::openai::OpenAiProvider;
use crate::provider::Provider;
use crate::replicate::{InputMapping, ReplicateApi, ReplicateProvider};
use crate::router::{Limits, Router, RouterBuilder};
use crate::usage::UserLimits;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Replicate,
    Gemini,
    Openai,
    Fashn,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Replicate => "replicate",
            Kind::Gemini => "gemini",
            Kind::Openai => "openai",
            Kind::Fashn => "fashn",
        }
    }

    /// The provider's conventional key variable.
    pub fn key_env(self) -> &'static str {
        match self {
            Kind::Replicate => "REPLICATE_API_TOKEN",
            Kind::Gemini => "GEMINI_API_KEY",
            Kind::Openai => "OPENAI_API_KEY",
            Kind::Fashn => "FASHN_API_KEY",
        }
    }

    pub fn default_base_url(self) -> &'static str {
        match self {
            Kind::Replicate => "https://api.replicate.com",
            Kind::Gemini => crate::gemini::DEFAULT_BASE_URL,
            Kind::Openai => crate::openai::DEFAULT_BASE_URL,
            Kind::Fashn => crate::fashn::DEFAULT_BASE_URL,
        }
    }
}

/// One remote endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointConfig {
    pub kind: Kind,
    /// Replicate model ref, Gemini / OpenAI / FASHN model name.
    #[serde(default)]
    pub model: Option<String>,
    /// Replicate input mapping preset.
    #[serde(default)]
    pub inputs: Option<String>,
    /// `hosted` or `cog` (Replicate only).
    #[serde(default)]
    pub api: Option<ReplicateApi>,
    #[serde(default)]
    pub base_url: Option<String>,
    /// Environment variable holding the key (default: the kind's).
    #[serde(default)]
    pub api_key_env: Option<String>,
    #[serde(default)]
    pub cost_per_image: Option<f64>,
    #[serde(default)]
    pub daily_budget_usd: Option<f64>,
    /// Whole-render deadline in seconds.
    #[serde(default)]
    pub timeout_s: Option<f64>,
    /// Gemini: run through the Batch API behind the batcher.
    #[serde(default)]
    pub batch: bool,
    /// FASHN: `?webhook_url=` for push delivery.
    #[serde(default)]
    pub webhook_url: Option<String>,
    /// A paid fallback of last resort (the seed's Bedrock failover): kept
    /// out of every chain unless `allow_bedrock_failover` is on, and
    /// budgeted by `BEDROCK_DAILY_BUDGET_USD` when it names no budget.
    #[serde(default)]
    pub costly_failover: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BudgetConfig {
    pub global_daily_usd: Option<f64>,
    pub per_user_daily_usd: Option<f64>,
    pub per_generation_usd: Option<f64>,
    pub max_renders_per_user_daily: u32,
    pub max_concurrent_renders_per_user: u32,
}

impl Default for BudgetConfig {
    fn default() -> Self {
        BudgetConfig {
            global_daily_usd: None,
            per_user_daily_usd: None,
            per_generation_usd: None,
            max_renders_per_user_daily: 20,
            max_concurrent_renders_per_user: 3,
        }
    }
}

/// The `[providers]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProvidersConfig {
    pub enable_gemini_batch: bool,
    pub gemini_traffic_percent: u32,
    /// The seed's `ALLOW_BEDROCK_FAILOVER`, off by default: whether
    /// endpoints marked `costly_failover` may serve at all.
    pub allow_bedrock_failover: bool,
    pub split_chain: Vec<String>,
    pub default_chain: Vec<String>,
    pub local_last: bool,
    pub stop_on_safety_block: bool,
    pub budgets: BudgetConfig,
    pub breaker: BreakerConfig,
    pub batch: BatchConfig,
    pub endpoints: BTreeMap<String, EndpointConfig>,
}

impl Default for ProvidersConfig {
    /// The seed's setup: the Gemini batch route and the Replicate route,
    /// both falling back to PhotoMaker then SDXL, then `local`.
    fn default() -> Self {
        let ep = |kind, model: &str, inputs: Option<&str>| EndpointConfig {
            kind,
            model: Some(model.into()),
            inputs: inputs.map(Into::into),
            api: None,
            base_url: None,
            api_key_env: None,
            cost_per_image: None,
            daily_budget_usd: None,
            timeout_s: None,
            batch: false,
            webhook_url: None,
            costly_failover: false,
        };
        let mut endpoints = BTreeMap::new();
        endpoints.insert(
            "nano-banana-pro".into(),
            ep(Kind::Replicate, "google/nano-banana-pro", Some("tryon")),
        );
        endpoints.insert(
            "photomaker".into(),
            ep(Kind::Replicate, "tencentarc/photomaker", Some("photomaker")),
        );
        endpoints.insert(
            "sdxl".into(),
            ep(Kind::Replicate, "stability-ai/sdxl", Some("sdxl")),
        );
        let mut batch = ep(Kind::Gemini, crate::gemini::DEFAULT_MODEL, None);
        batch.batch = true;
        batch.cost_per_image = Some(0.02);
        endpoints.insert("gemini-batch".into(), batch);
        let mut gemini = ep(Kind::Gemini, crate::gemini::DEFAULT_MODEL, None);
        gemini.cost_per_image = Some(0.05);
        endpoints.insert("gemini".into(), gemini);
        endpoints.insert(
            "openai".into(),
            ep(Kind::Openai, crate::openai::DEFAULT_MODEL, None),
        );
        endpoints.insert(
            "fashn".into(),
            ep(Kind::Fashn, crate::fashn::DEFAULT_MODEL, None),
        );
        ProvidersConfig {
            enable_gemini_batch: false,
            gemini_traffic_percent: 0,
            allow_bedrock_failover: false,
            split_chain: vec!["gemini-batch".into(), "photomaker".into(), "sdxl".into()],
            default_chain: vec!["nano-banana-pro".into(), "photomaker".into(), "sdxl".into()],
            local_last: true,
            stop_on_safety_block: true,
            budgets: BudgetConfig::default(),
            breaker: BreakerConfig::default(),
            batch: BatchConfig::default(),
            endpoints,
        }
    }
}

/// `GARMAX_NANO_BANANA_PRO` for `nano-banana-pro`.
pub fn env_prefix(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("GARMAX_{s}")
}

/// An endpoint as it will be built: resolved URL, whether it has a key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResolvedEndpoint {
    pub name: String,
    pub kind: Kind,
    pub model: String,
    pub base_url: String,
    pub key_env: String,
    pub has_key: bool,
    pub daily_budget_usd: Option<f64>,
}

impl ProvidersConfig {
    /// Parses the `[providers]` table of a TOML document (absent → defaults).
    pub fn from_toml(text: &str) -> Result<ProvidersConfig, RouterError> {
        #[derive(Deserialize)]
        struct File {
            #[serde(default)]
            providers: Option<ProvidersConfig>,
        }
        let file: toml::Table =
            toml::from_str(text).map_err(|e| RouterError::Config(e.to_string()))?;
        let File { providers } = file
            .try_into()
            .map_err(|e: toml::de::Error| RouterError::Config(e.to_string()))?;
        let mut config = providers.unwrap_or_default();
        // The file's endpoints come in addition to the seed's built-in ones
        // (one of the same name replaces it), so the default chains keep
        // naming endpoints that exist — unkeyed ones drop out at build.
        for (name, endpoint) in ProvidersConfig::default().endpoints {
            config.endpoints.entry(name).or_insert(endpoint);
        }
        Ok(config)
    }

    /// Applies the environment (`env` looks a variable up; pass
    /// `|k| std::env::var(k).ok()`).
    pub fn apply_env(&mut self, env: &dyn Fn(&str) -> Option<String>) -> Result<(), RouterError> {
        fn num<T: std::str::FromStr>(
            env: &dyn Fn(&str) -> Option<String>,
            key: &str,
        ) -> Result<Option<T>, RouterError> {
            env(key)
                .map(|v| {
                    v.trim()
                        .parse::<T>()
                        .map_err(|_| RouterError::Config(format!("{key}={v} is not a number")))
                })
                .transpose()
        }
        if let Some(v) = env("ENABLE_GEMINI_BATCH") {
            self.enable_gemini_batch = v.trim() == "true";
        }
        if let Some(p) = num::<u32>(env, "GEMINI_TRAFFIC_PERCENT")? {
            self.gemini_traffic_percent = p;
        }
        // The seed reads `=== 'false'`, which turns the flag on when it is
        // set to "false"; here "true" turns it on and anything else off.
        if let Some(v) = env("ALLOW_BEDROCK_FAILOVER") {
            self.allow_bedrock_failover = v.trim() == "true";
        }
        let bedrock_budget = num::<f64>(env, "BEDROCK_DAILY_BUDGET_USD")?;
        let b = &mut self.budgets;
        if let Some(v) = num(env, "GARMAX_DAILY_BUDGET_USD")? {
            b.global_daily_usd = Some(v);
        }
        if let Some(v) = num(env, "GARMAX_USER_DAILY_BUDGET_USD")? {
            b.per_user_daily_usd = Some(v);
        }
        if let Some(v) = num(env, "GARMAX_GENERATION_BUDGET_USD")? {
            b.per_generation_usd = Some(v);
        }
        if let Some(v) = num(env, "MAX_RENDERS_PER_USER_DAILY")? {
            b.max_renders_per_user_daily = v;
        }
        if let Some(v) = num(env, "MAX_CONCURRENT_RENDERS_PER_USER")? {
            b.max_concurrent_renders_per_user = v;
        }
        for (name, ep) in self.endpoints.iter_mut() {
            let prefix = env_prefix(name);
            if let Some(url) = env(&format!("{prefix}_BASE_URL")).or_else(|| {
                env(&format!(
                    "GARMAX_{}_BASE_URL",
                    ep.kind.name().to_uppercase()
                ))
            }) {
                ep.base_url = Some(url);
            }
            if let Some(v) = num(env, &format!("{prefix}_DAILY_BUDGET_USD"))? {
                ep.daily_budget_usd = Some(v);
            } else if ep.costly_failover && ep.daily_budget_usd.is_none() {
                ep.daily_budget_usd = bedrock_budget;
            }
        }
        self.validate()
    }

    pub fn validate(&self) -> Result<(), RouterError> {
        if self.gemini_traffic_percent > 100 {
            return Err(RouterError::Config(format!(
                "gemini_traffic_percent {} > 100",
                self.gemini_traffic_percent
            )));
        }
        for (name, ep) in &self.endpoints {
            if ep.kind == Kind::Replicate {
                let preset = ep.inputs.as_deref().unwrap_or("tryon");
                if InputMapping::preset(preset).is_none() {
                    return Err(RouterError::Config(format!(
                        "{name}: unknown inputs preset '{preset}'"
                    )));
                }
            }
            for v in [ep.cost_per_image, ep.daily_budget_usd, ep.timeout_s]
                .into_iter()
                .flatten()
            {
                if !v.is_finite() || v < 0.0 {
                    return Err(RouterError::Config(format!(
                        "{name}: negative or non-finite number"
                    )));
                }
            }
        }
        Ok(())
    }

    pub fn resolve(&self, env: &dyn Fn(&str) -> Option<String>) -> Vec<ResolvedEndpoint> {
        self.endpoints
            .iter()
            .map(|(name, ep)| {
                let key_env = ep
                    .api_key_env
                    .clone()
                    .unwrap_or_else(|| ep.kind.key_env().into());
                ResolvedEndpoint {
                    name: name.clone(),
                    kind: ep.kind,
                    model: ep.model.clone().unwrap_or_default(),
                    base_url: ep
                        .base_url
                        .clone()
                        .unwrap_or_else(|| ep.kind.default_base_url().into()),
                    has_key: env(&key_env).is_some_and(|k| !k.is_empty())
                        || ep.api == Some(ReplicateApi::Cog),
                    key_env,
                    daily_budget_usd: ep.daily_budget_usd,
                }
            })
            .collect()
    }

    /// Builds the clients and the router. Endpoints without a key (a Cog
    /// container needs none) are left out of the chains, so an unconfigured
    /// machine routes straight to `local`. Must run inside a Tokio runtime
    /// (the batcher spawns its collector).
    pub fn build_router(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Router, RouterError> {
        self.build_router_with(env, Arc::new(crate::usage::MemoryUsage::new()))
    }

    /// [`ProvidersConfig::build_router`] with budgets, counters and breakers
    /// in `usage` (the database when the platform's store is configured).
    pub fn build_router_with(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
        usage: Arc<dyn crate::usage::UsageStore>,
    ) -> Result<Router, RouterError> {
        self.validate()?;
        let mut builder = RouterBuilder::new()
            .usage(usage)
            .breaker(self.breaker)
            .append_local(self.local_last)
            .stop_on_safety_block(self.stop_on_safety_block);
        let mut limits = Limits {
            global_daily_usd: self.budgets.global_daily_usd,
            per_user_daily_usd: self.budgets.per_user_daily_usd,
            per_generation_usd: self.budgets.per_generation_usd,
            provider_daily_usd: Default::default(),
            user: UserLimits {
                max_concurrent: self.budgets.max_concurrent_renders_per_user,
                max_daily: self.budgets.max_renders_per_user_daily,
            },
        };
        let mut usable = std::collections::HashSet::new();
        for r in self.resolve(env) {
            let gated = self.endpoints[&r.name].costly_failover && !self.allow_bedrock_failover;
            if !r.has_key || gated {
                continue;
            }
            let ep = &self.endpoints[&r.name];
            let mut client = ClientConfig::new(&r.name, &r.base_url);
            client.api_key = env(&r.key_env);
            client.cost_per_image = ep.cost_per_image;
            client.http = HttpSettings {
                deadline: ep
                    .timeout_s
                    .map_or(HttpSettings::default().deadline, Duration::from_secs_f64),
                ..HttpSettings::default()
            };
            if let Some(b) = ep.daily_budget_usd {
                limits.provider_daily_usd.insert(r.name.clone(), b);
            }
            let provider: Arc<dyn Provider> = match ep.kind {
                Kind::Replicate => {
                    let mapping = InputMapping::preset(ep.inputs.as_deref().unwrap_or("tryon"))
                        .expect("validated");
                    Arc::new(
                        ReplicateProvider::new(client, &r.model, mapping)
                            .with_api(ep.api.unwrap_or_default()),
                    )
                }
                Kind::Gemini if ep.batch => {
                    let cost = client.cost_per_image;
                    let backend = Arc::new(GeminiProvider::new(client, &r.model));
                    Arc::new(BatchedProvider::new(
                        &r.name,
                        "gemini-batch",
                        cost,
                        backend,
                        self.batch,
                    ))
                }
                Kind::Gemini => Arc::new(GeminiProvider::new(client, &r.model)),
                Kind::Openai => Arc::new(OpenAiProvider::new(client, &r.model)),
                Kind::Fashn => Arc::new(
                    FashnProvider::new(client, &r.model).with_webhook(ep.webhook_url.clone()),
                ),
            };
            usable.insert(r.name.clone());
            builder = builder.provider(provider);
        }
        for name in self.split_chain.iter().chain(&self.default_chain) {
            if name != crate::local::LOCAL && !self.endpoints.contains_key(name) {
                return Err(RouterError::Config(format!(
                    "chain names unknown provider '{name}'"
                )));
            }
        }
        let keep = |chain: &[String]| -> Vec<String> {
            chain
                .iter()
                .filter(|n| usable.contains(*n) || *n == crate::local::LOCAL)
                .cloned()
                .collect()
        };
        builder
            .default_chain(keep(&self.default_chain))
            .split(
                self.enable_gemini_batch,
                self.gemini_traffic_percent,
                keep(&self.split_chain),
            )
            .limits(limits)
            .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_files_endpoints_come_beside_the_built_in_ones() {
        let c = ProvidersConfig::from_toml(
            "[providers]\ndefault_chain = [\"cog\"]\n\n[providers.endpoints.cog]\n\
             kind = \"replicate\"\nmodel = \"me/vton\"\n\n[providers.endpoints.sdxl]\n\
             kind = \"replicate\"\nmodel = \"me/my-sdxl\"\ninputs = \"sdxl\"\n",
        )
        .unwrap();
        assert_eq!(c.endpoints["cog"].model.as_deref(), Some("me/vton"));
        assert_eq!(
            c.endpoints["sdxl"].model.as_deref(),
            Some("me/my-sdxl"),
            "replaced by name"
        );
        assert!(
            c.endpoints.contains_key("gemini-batch"),
            "the split chain's endpoint is still there"
        );
        c.validate().unwrap();
    }

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults_are_the_seeds_chains() {
        let c = ProvidersConfig::from_toml("").unwrap();
        assert_eq!(c.default_chain, ["nano-banana-pro", "photomaker", "sdxl"]);
        assert_eq!(c.split_chain, ["gemini-batch", "photomaker", "sdxl"]);
        assert_eq!(c.budgets.max_concurrent_renders_per_user, 3);
        assert_eq!(c.budgets.max_renders_per_user_daily, 20);
        assert_eq!(
            (c.batch.max_size, c.batch.timeout),
            (50, Duration::from_secs(45))
        );
    }

    #[test]
    fn toml_and_env_overrides() {
        let text = r#"
            [providers]
            default_chain = ["idm"]
            split_chain = []
            [providers.budgets]
            global_daily_usd = 10.0
            [providers.endpoints.idm]
            kind = "replicate"
            model = "cuuupid/idm-vton:abc"
            inputs = "idm-vton"
            api = "cog"
            base_url = "http://gpu-box:5000"
        "#;
        let mut c = ProvidersConfig::from_toml(text).unwrap();
        let e = env(&[
            ("ENABLE_GEMINI_BATCH", "true"),
            ("GEMINI_TRAFFIC_PERCENT", "30"),
            ("GARMAX_IDM_DAILY_BUDGET_USD", "2.5"),
            ("MAX_RENDERS_PER_USER_DAILY", "5"),
        ]);
        c.apply_env(&e).unwrap();
        assert!(c.enable_gemini_batch);
        assert_eq!(c.gemini_traffic_percent, 30);
        assert_eq!(c.budgets.max_renders_per_user_daily, 5);
        assert_eq!(c.endpoints["idm"].daily_budget_usd, Some(2.5));
        let r = c.resolve(&e);
        let idm = r.iter().find(|r| r.name == "idm").unwrap();
        assert!(idm.has_key, "a Cog container needs no key");
        assert!(ProvidersConfig::from_toml("[providers]\nbogus = 1").is_err());
        let mut bad = ProvidersConfig::default();
        assert!(
            bad.apply_env(&env(&[("GEMINI_TRAFFIC_PERCENT", "x")]))
                .is_err()
        );
        assert!(
            bad.apply_env(&env(&[("GEMINI_TRAFFIC_PERCENT", "101")]))
                .is_err()
        );
    }

    #[tokio::test]
    async fn unconfigured_machine_routes_to_local_only() {
        let router = ProvidersConfig::default().build_router(&env(&[])).unwrap();
        assert_eq!(router.chain_for(Some("u")).1, ["local"]);
        let keyed = ProvidersConfig::default()
            .build_router(&env(&[("REPLICATE_API_TOKEN", "r8_x")]))
            .unwrap();
        assert_eq!(
            keyed.chain_for(Some("u")).1,
            ["nano-banana-pro", "photomaker", "sdxl", "local"]
        );
        assert_eq!(env_prefix("nano-banana-pro"), "GARMAX_NANO_BANANA_PRO");
    }

    #[tokio::test]
    async fn bedrock_style_failover_is_off_by_default() {
        let text = r#"
            [providers]
            default_chain = ["cheap", "costly"]
            split_chain = []
            [providers.endpoints.cheap]
            kind = "fashn"
            [providers.endpoints.costly]
            kind = "openai"
            costly_failover = true
        "#;
        let keys = [("FASHN_API_KEY", "fa-x"), ("OPENAI_API_KEY", "sk-x")];
        let mut off = ProvidersConfig::from_toml(text).unwrap();
        off.apply_env(&env(&keys)).unwrap();
        assert!(!off.allow_bedrock_failover);
        let router = off.build_router(&env(&keys)).unwrap();
        assert_eq!(router.chain_for(Some("u")).1, ["cheap", "local"]);
        let mut on = ProvidersConfig::from_toml(text).unwrap();
        let mut with_flag = keys.to_vec();
        with_flag.push(("ALLOW_BEDROCK_FAILOVER", "true"));
        with_flag.push(("BEDROCK_DAILY_BUDGET_USD", "50"));
        on.apply_env(&env(&with_flag)).unwrap();
        assert_eq!(on.endpoints["costly"].daily_budget_usd, Some(50.0));
        assert_eq!(on.endpoints["cheap"].daily_budget_usd, None);
        let router = on.build_router(&env(&with_flag)).unwrap();
        assert_eq!(router.chain_for(Some("u")).1, ["cheap", "costly", "local"]);
    }
}
