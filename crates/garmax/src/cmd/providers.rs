//! `garmax providers`: the configured providers, the failover chains, each
//! breaker and today's spend against its budget; `check NAME` calls one
//! provider's cheapest authenticated endpoint.

use std::path::PathBuf;

use anyhow::Context as _;
use garmax_core::Coded as _;
use garmax_providers::ProvidersConfig;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Providers (kind, model, base URL, key present), chains, breaker state and spend vs budget.
    #[command(alias = "status")]
    List(ConfigArgs),
    /// Check that one provider is reachable and accepts its credentials.
    Check(CheckArgs),
}

#[derive(clap::Args)]
pub struct ConfigArgs {
    /// A TOML file with a `[providers]` section (defaults: the seed's chains).
    #[arg(long, env = "GARMAX_CONFIG")]
    config: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct CheckArgs {
    /// Provider name as listed by `garmax providers list`.
    name: String,
    #[command(flatten)]
    config: ConfigArgs,
}

fn load(args: &ConfigArgs) -> anyhow::Result<ProvidersConfig> {
    load_config(args.config.as_deref())
}

/// The `[providers]` section of `path` (the seed's defaults without one),
/// with the environment applied.
pub fn load_config(path: Option<&std::path::Path>) -> anyhow::Result<ProvidersConfig> {
    let mut config = match path {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            ProvidersConfig::from_toml(&text).with_context(|| format!("in {}", path.display()))?
        }
        None => ProvidersConfig::default(),
    };
    config.apply_env(&|k| std::env::var(k).ok())?;
    Ok(config)
}

pub fn run(command: Command) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .worker_threads(2)
        .build()?;
    runtime.block_on(async move {
        match command {
            Command::List(args) => list(&args).await,
            Command::Check(args) => check(&args).await,
        }
    })
}

async fn list(args: &ConfigArgs) -> anyhow::Result<()> {
    let config = load(args)?;
    let env = |k: &str| std::env::var(k).ok();
    let router = config.build_router(&env)?;
    let endpoints = config.resolve(&env);
    let status = router.status().await;
    let (default_chain, split_chain) = router.chains();
    if args.json {
        let json = serde_json::json!({
            "endpoints": endpoints,
            "default_chain": default_chain,
            "split_chain": split_chain,
            "split": {"enabled": config.enable_gemini_batch, "percent": config.gemini_traffic_percent},
            "budgets": config.budgets,
            "status": status,
            "global_spend": router.global_spend().await,
        });
        println!("{}", serde_json::to_string_pretty(&json)?);
        return Ok(());
    }
    println!(
        "{:<18} {:<10} {:<28} {:<5} {:<10} {:>10} {:>10}",
        "provider", "kind", "model", "key", "breaker", "spent $", "budget $"
    );
    for e in &endpoints {
        let s = status.iter().find(|s| s.name == e.name);
        println!(
            "{:<18} {:<10} {:<28} {:<5} {:<10} {:>10} {:>10}",
            e.name,
            e.kind.name(),
            e.model,
            if e.has_key { "yes" } else { "no" },
            s.map_or("unused".to_string(), |s| format!("{:?}", s.breaker)
                .to_lowercase()),
            s.map_or("-".to_string(), |s| format!(
                "{:.4}",
                s.spend_today.spent_usd
            )),
            e.daily_budget_usd
                .map_or("-".to_string(), |b| format!("{b:.2}")),
        );
    }
    println!(
        "{:<18} {:<10} {:<28} {:<5} {:<10} {:>10} {:>10}",
        "local", "local", "garmax-render", "-", "closed", "0.0000", "-"
    );
    println!("default chain: {}", default_chain.join(" → "));
    println!(
        "split chain:   {} ({}% of users{})",
        split_chain.join(" → "),
        config.gemini_traffic_percent,
        if config.enable_gemini_batch {
            ""
        } else {
            ", ENABLE_GEMINI_BATCH off"
        }
    );
    let b = &config.budgets;
    let fmt = |v: Option<f64>| v.map_or("unlimited".to_string(), |v| format!("${v:.2}"));
    println!(
        "budgets: global {} / day, per user {} / day, per generation {}; per user {} concurrent, {} a day",
        fmt(b.global_daily_usd),
        fmt(b.per_user_daily_usd),
        fmt(b.per_generation_usd),
        b.max_concurrent_renders_per_user,
        b.max_renders_per_user_daily
    );
    Ok(())
}

async fn check(args: &CheckArgs) -> anyhow::Result<()> {
    let config = load(&args.config)?;
    let env = |k: &str| std::env::var(k).ok();
    let router = config.build_router(&env)?;
    let Some(provider) = router.provider(&args.name) else {
        let known: Vec<String> = config
            .resolve(&env)
            .into_iter()
            .map(|e| format!("{}{}", e.name, if e.has_key { "" } else { " (no key)" }))
            .collect();
        anyhow::bail!(
            "provider '{}' is not configured or has no key; known: local, {}",
            args.name,
            known.join(", ")
        );
    };
    match provider.check().await {
        Ok(message) => {
            println!("{}: ok — {message}", args.name);
            Ok(())
        }
        Err(e) => anyhow::bail!("[{}] {e} ({})", e.code(), e.class().name()),
    }
}
