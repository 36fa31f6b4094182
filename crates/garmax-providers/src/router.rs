//! The router: the seed's sticky SHA-256 split, ordered failover chains
//! ending in `local`, a circuit breaker per provider, budgets
//! (per provider, global, per user, per generation) and per-user render
//! limits, with every attempt recorded.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use garmax_core::{Coded, ErrorCode};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::breaker::{Admission, BreakerConfig, BreakerState, CircuitBreaker};
use crate::error::{BudgetScope, ErrorClass, RouterError};
use crate::job::{RenderJob, RenderResult};
use crate::local::{LOCAL, LocalProvider};
use crate::provider::Provider;
use crate::usage::{BudgetLine, MemoryUsage, ReserveRequest, Spend, UsageStore, UserLimits};

/// The seed's `shouldRouteToGemini`, exactly: SHA-256 of the user id in
/// hex, its first 8 hex digits as an integer, modulo 100, below the
/// percentage. Without a user id the seed hashes nothing and uses `'0'`,
/// so anonymous requests take the split route whenever the percentage is
/// above zero — kept as the seed has it.
pub fn should_route_to_split(enabled: bool, percent: u32, user_id: Option<&str>) -> bool {
    if !enabled || percent == 0 {
        return false;
    }
    let bucket = match user_id {
        Some(user) if !user.is_empty() => {
            let digest = Sha256::digest(user.as_bytes());
            u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
        }
        _ => 0,
    };
    bucket % 100 < percent
}

/// Time source: monotonic for breakers, UTC day for budgets.
pub trait Clock: Send + Sync {
    fn now(&self) -> Instant;
    /// Days since the Unix epoch, UTC.
    fn day(&self) -> u64;
    /// Milliseconds since the Unix epoch (breaker state shared between
    /// processes is kept in wall time).
    fn wall_ms(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64)
    }
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn day(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() / 86_400)
    }
}

/// Spending limits in USD per UTC day (None = unlimited) and the seed's
/// per-user render limits.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Limits {
    pub global_daily_usd: Option<f64>,
    pub per_user_daily_usd: Option<f64>,
    /// A provider whose estimate is above this is skipped.
    pub per_generation_usd: Option<f64>,
    pub provider_daily_usd: HashMap<String, f64>,
    /// `MAX_CONCURRENT_RENDERS_PER_USER` (3) and `MAX_RENDERS_PER_USER_DAILY` (20).
    pub user: UserLimits,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            global_daily_usd: None,
            per_user_daily_usd: None,
            per_generation_usd: None,
            provider_daily_usd: HashMap::new(),
            user: UserLimits {
                max_concurrent: 3,
                max_daily: 20,
            },
        }
    }
}

/// How one provider of the chain fared.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Failed,
    /// Not called: breaker open, budget, not configured.
    Skipped,
}

/// One entry of a render's attempt list (reports and session records).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attempt {
    pub provider: String,
    pub outcome: Outcome,
    pub error_class: Option<ErrorClass>,
    pub code: Option<ErrorCode>,
    pub message: Option<String>,
    pub latency_ms: f64,
    pub cost_usd: f64,
}

/// A successful routed render.
#[derive(Debug, Clone)]
pub struct Routed {
    pub result: RenderResult,
    /// Every provider tried or skipped, in order, the successful one last.
    pub attempts: Vec<Attempt>,
    /// `split` or `default`.
    pub route: &'static str,
}

/// One provider's state for `garmax providers status`.
#[derive(Debug, Clone, Serialize)]
pub struct ProviderStatus {
    pub name: String,
    pub kind: String,
    pub breaker: BreakerState,
    pub spend_today: Spend,
    pub daily_budget_usd: Option<f64>,
}

struct Inner {
    providers: HashMap<String, Arc<dyn Provider>>,
    split_chain: Vec<String>,
    default_chain: Vec<String>,
    split_enabled: bool,
    split_percent: u32,
    breakers: Mutex<HashMap<String, CircuitBreaker>>,
    usage: Arc<dyn UsageStore>,
    limits: Limits,
    clock: Arc<dyn Clock>,
    stop_on_safety_block: bool,
    /// How long a failed shared probe re-opens the shared breaker (the
    /// breakers' cooldown).
    probe_failure_cooldown: Duration,
}

/// How long a claimed shared probe keeps other processes off a half-open
/// provider; after it, another may probe (the claimer may have died).
const SHARED_PROBE_LEASE: Duration = Duration::from_secs(60);

/// Cheap to clone; share one per process.
#[derive(Clone)]
pub struct Router {
    inner: Arc<Inner>,
}

/// Builds a [`Router`].
pub struct RouterBuilder {
    providers: Vec<Arc<dyn Provider>>,
    split_chain: Vec<String>,
    default_chain: Vec<String>,
    split_enabled: bool,
    split_percent: u32,
    breaker: BreakerConfig,
    usage: Arc<dyn UsageStore>,
    limits: Limits,
    clock: Arc<dyn Clock>,
    append_local: bool,
    stop_on_safety_block: bool,
}

impl Default for RouterBuilder {
    fn default() -> Self {
        RouterBuilder {
            providers: Vec::new(),
            split_chain: Vec::new(),
            default_chain: Vec::new(),
            split_enabled: false,
            split_percent: 0,
            breaker: BreakerConfig::default(),
            usage: Arc::new(MemoryUsage::new()),
            limits: Limits::default(),
            clock: Arc::new(SystemClock),
            append_local: true,
            stop_on_safety_block: true,
        }
    }
}

impl RouterBuilder {
    pub fn new() -> RouterBuilder {
        RouterBuilder::default()
    }

    pub fn provider(mut self, provider: Arc<dyn Provider>) -> Self {
        self.providers.push(provider);
        self
    }

    /// The chain for users outside the split (the seed's Replicate route).
    pub fn default_chain<S: Into<String>>(mut self, chain: impl IntoIterator<Item = S>) -> Self {
        self.default_chain = chain.into_iter().map(Into::into).collect();
        self
    }

    /// The chain for users inside the split (the seed's Gemini batch
    /// route) and the split itself.
    pub fn split<S: Into<String>>(
        mut self,
        enabled: bool,
        percent: u32,
        chain: impl IntoIterator<Item = S>,
    ) -> Self {
        self.split_enabled = enabled;
        self.split_percent = percent.min(100);
        self.split_chain = chain.into_iter().map(Into::into).collect();
        self
    }

    pub fn breaker(mut self, config: BreakerConfig) -> Self {
        self.breaker = config;
        self
    }

    pub fn usage(mut self, usage: Arc<dyn UsageStore>) -> Self {
        self.usage = usage;
        self
    }

    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// `local` is appended to every chain unless this is false.
    pub fn append_local(mut self, yes: bool) -> Self {
        self.append_local = yes;
        self
    }

    /// A safety block ends the chain (default) instead of falling back.
    pub fn stop_on_safety_block(mut self, yes: bool) -> Self {
        self.stop_on_safety_block = yes;
        self
    }

    pub fn build(mut self) -> Result<Router, RouterError> {
        if self.append_local && !self.providers.iter().any(|p| p.name() == LOCAL) {
            self.providers.push(Arc::new(LocalProvider));
        }
        let mut providers: HashMap<String, Arc<dyn Provider>> = HashMap::new();
        for p in self.providers {
            if providers.insert(p.name().to_string(), p.clone()).is_some() {
                return Err(RouterError::Config(format!(
                    "provider '{}' defined twice",
                    p.name()
                )));
            }
        }
        let finish = |mut chain: Vec<String>| -> Result<Vec<String>, RouterError> {
            if self.append_local {
                chain.retain(|n| n != LOCAL);
                chain.push(LOCAL.into());
            }
            let mut seen = std::collections::HashSet::new();
            for name in &chain {
                if !providers.contains_key(name) {
                    return Err(RouterError::Config(format!(
                        "chain names unknown provider '{name}'"
                    )));
                }
                if !seen.insert(name.clone()) {
                    return Err(RouterError::Config(format!(
                        "provider '{name}' twice in one chain"
                    )));
                }
            }
            if chain.is_empty() {
                return Err(RouterError::Config("empty failover chain".into()));
            }
            Ok(chain)
        };
        let default_chain = finish(self.default_chain)?;
        let split_chain = if self.split_chain.is_empty() {
            default_chain.clone()
        } else {
            finish(self.split_chain)?
        };
        let breakers = providers
            .keys()
            .map(|n| (n.clone(), CircuitBreaker::new(self.breaker)))
            .collect();
        Ok(Router {
            inner: Arc::new(Inner {
                providers,
                split_chain,
                default_chain,
                split_enabled: self.split_enabled,
                split_percent: self.split_percent,
                breakers: Mutex::new(breakers),
                usage: self.usage,
                limits: self.limits,
                clock: self.clock,
                stop_on_safety_block: self.stop_on_safety_block,
                probe_failure_cooldown: self.breaker.cooldown,
            }),
        })
    }
}

/// The error of a chain that ended without an image: a budget refusal when
/// every provider was skipped for one, else the attempts with the code that
/// explains them best (a safety block, or the last failure's).
fn exhausted(attempts: Vec<Attempt>, budget_refusal: Option<BudgetScope>) -> RouterError {
    if let Some(scope) =
        budget_refusal.filter(|_| attempts.iter().all(|a| a.outcome == Outcome::Skipped))
    {
        return RouterError::Budget { scope };
    }
    let code = if attempts
        .iter()
        .any(|a| a.error_class == Some(ErrorClass::SafetyBlocked))
    {
        ErrorCode::ContentBlocked
    } else {
        attempts
            .iter()
            .rev()
            .find(|a| a.outcome == Outcome::Failed)
            .and_then(|a| a.code)
            .unwrap_or(ErrorCode::ProviderUnavailable)
    };
    RouterError::Exhausted { attempts, code }
}

/// Releases a user's concurrency slot even if the render future is
/// dropped.
struct RenderSlot {
    usage: Arc<dyn UsageStore>,
    user: Option<String>,
}

impl RenderSlot {
    async fn release(mut self) {
        if let Some(user) = self.user.take() {
            self.usage.end_render(&user).await;
        }
    }
}

/// Only when the render future is dropped mid-way (cancelled).
impl Drop for RenderSlot {
    fn drop(&mut self) {
        if let Some(user) = self.user.take() {
            // MemoryUsage finishes synchronously; a database store spawns.
            let usage = self.usage.clone();
            let fut = async move { usage.end_render(&user).await };
            match tokio::runtime::Handle::try_current() {
                Ok(h) => {
                    h.spawn(fut);
                }
                Err(_) => drop(fut),
            }
        }
    }
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("default_chain", &self.inner.default_chain)
            .field("split_chain", &self.inner.split_chain)
            .finish_non_exhaustive()
    }
}

impl Router {
    pub fn builder() -> RouterBuilder {
        RouterBuilder::new()
    }

    /// The chain a user is routed down, and the route's name.
    pub fn chain_for(&self, user_id: Option<&str>) -> (&'static str, &[String]) {
        let i = &self.inner;
        if should_route_to_split(i.split_enabled, i.split_percent, user_id) {
            ("split", &i.split_chain)
        } else {
            ("default", &i.default_chain)
        }
    }

    pub fn provider(&self, name: &str) -> Option<Arc<dyn Provider>> {
        self.inner.providers.get(name).cloned()
    }

    pub fn chains(&self) -> (&[String], &[String]) {
        (&self.inner.default_chain, &self.inner.split_chain)
    }

    fn breaker<R>(&self, name: &str, f: impl FnOnce(&mut CircuitBreaker) -> R) -> R {
        let mut map = self
            .inner
            .breakers
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        f(map.get_mut(name).expect("every provider has a breaker"))
    }

    /// Renders `job` down its user's chain.
    pub async fn render(&self, job: &RenderJob) -> Result<Routed, RouterError> {
        let i = &self.inner;
        let day = i.clock.day();
        let user = job.user_id.clone().filter(|u| !u.is_empty());
        let slot = match &user {
            Some(u) => {
                i.usage
                    .begin_render(u, day, i.limits.user)
                    .await
                    .map_err(|kind| RouterError::Limit {
                        kind,
                        limit: match kind {
                            crate::error::LimitKind::ConcurrentRenders => {
                                i.limits.user.max_concurrent
                            }
                            crate::error::LimitKind::DailyRenders => i.limits.user.max_daily,
                        },
                        retry_after: match kind {
                            crate::error::LimitKind::DailyRenders => Some(until_next_day()),
                            crate::error::LimitKind::ConcurrentRenders => None,
                        },
                    })?;
                RenderSlot {
                    usage: i.usage.clone(),
                    user: user.clone(),
                }
            }
            None => RenderSlot {
                usage: i.usage.clone(),
                user: None,
            },
        };
        let result = self.route(job, day, user.as_deref()).await;
        slot.release().await;
        result
    }

    async fn route(
        &self,
        job: &RenderJob,
        day: u64,
        user: Option<&str>,
    ) -> Result<Routed, RouterError> {
        let i = &self.inner;
        let (route, chain) = self.chain_for(user);
        let mut attempts = Vec::new();
        let mut budget_refusal = None;
        for name in chain {
            let provider = &i.providers[name];
            let skipped = |why: String, code: ErrorCode| Attempt {
                provider: name.clone(),
                outcome: Outcome::Skipped,
                error_class: None,
                code: Some(code),
                message: Some(why),
                latency_ms: 0.0,
                cost_usd: 0.0,
            };
            // Another process (same database) may have opened this
            // provider's breaker. Once its cooldown has passed the breaker
            // is half-open for every process until a probe's outcome is
            // shared: the one router that claims the probe sends it, the
            // others skip the provider meanwhile.
            let admission = self.breaker(name, |b| b.admit(i.clock.now()));
            if let Admission::Rejected { retry_in } = admission {
                attempts.push(skipped(
                    format!("circuit open for {:.1} s more", retry_in.as_secs_f64()),
                    ErrorCode::ProviderUnavailable,
                ));
                continue;
            }
            // The shared breaker's "open until" this router probes, if it
            // claimed the probe (released again when it sends nothing).
            let shared_probe = match self.shared_gate(name).await {
                Ok(probe) => probe,
                Err(why) => {
                    if admission == Admission::Probe {
                        self.breaker(name, CircuitBreaker::abandon_probe);
                    }
                    attempts.push(skipped(why, ErrorCode::ProviderUnavailable));
                    continue;
                }
            };
            let estimate = provider.estimate_cost(job);
            let reservation = if i
                .limits
                .per_generation_usd
                .is_some_and(|cap| estimate > cap)
            {
                Err(BudgetScope::PerGeneration)
            } else {
                i.usage
                    .reserve(self.reserve_request(day, name, user, estimate))
                    .await
            };
            let reservation = match reservation {
                Ok(r) => r,
                Err(scope) => {
                    if admission == Admission::Probe {
                        self.breaker(name, CircuitBreaker::abandon_probe);
                    }
                    if let Some(until) = shared_probe {
                        // No probe sent: another process may claim it.
                        i.usage.share_breaker(name, until).await;
                    }
                    attempts.push(skipped(
                        format!("budget {scope:?} would be exceeded"),
                        ErrorCode::BudgetExceeded,
                    ));
                    budget_refusal.get_or_insert(scope);
                    continue;
                }
            };
            let started = Instant::now();
            let outcome = provider.render(job).await;
            let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
            match outcome {
                Ok(mut result) => {
                    i.usage.settle(reservation, result.cost_usd).await;
                    self.breaker(name, CircuitBreaker::on_success);
                    if admission == Admission::Probe || shared_probe.is_some() {
                        // The probe closed it: for every process.
                        i.usage.share_breaker(name, 0).await;
                    }
                    result.provider = name.clone();
                    attempts.push(Attempt {
                        provider: name.clone(),
                        outcome: Outcome::Success,
                        error_class: None,
                        code: None,
                        message: None,
                        latency_ms,
                        cost_usd: result.cost_usd,
                    });
                    return Ok(Routed {
                        result,
                        attempts,
                        route,
                    });
                }
                Err(e) => {
                    i.usage.settle(reservation, 0.0).await;
                    let class = e.class();
                    let open_for = self
                        .breaker(name, |b| {
                            let now = i.clock.now();
                            b.on_failure(now, class, e.retry_after());
                            b.open_for(now)
                        })
                        // A shared probe that failed re-opens the shared
                        // breaker even where this process's own stays closed.
                        .or(shared_probe.map(|_| i.probe_failure_cooldown));
                    if let Some(d) = open_for {
                        i.usage
                            .share_breaker(name, i.clock.wall_ms() + d.as_millis() as i64)
                            .await;
                    }
                    tracing::info!(provider = %name, class = class.name(), "render attempt failed: {e}");
                    attempts.push(Attempt {
                        provider: name.clone(),
                        outcome: Outcome::Failed,
                        error_class: Some(class),
                        code: Some(e.code()),
                        message: Some(e.to_string()),
                        latency_ms,
                        cost_usd: 0.0,
                    });
                    if class == ErrorClass::SafetyBlocked && i.stop_on_safety_block {
                        break;
                    }
                }
            }
        }
        Err(exhausted(attempts, budget_refusal))
    }

    /// The breaker other processes share for `name`: `Err` with why to skip
    /// it (open, or half-open while another process probes); `Ok(Some)`
    /// with its "open until" when this router claimed the probe; `Ok(None)`
    /// when closed.
    async fn shared_gate(&self, name: &str) -> Result<Option<i64>, String> {
        let i = &self.inner;
        let Some(until) = i.usage.breaker_open_until(name).await else {
            return Ok(None);
        };
        let now_ms = i.clock.wall_ms();
        let left_ms = until - now_ms;
        if left_ms > 0 {
            return Err(format!(
                "circuit open for {:.1} s more (shared)",
                left_ms as f64 / 1000.0
            ));
        }
        if until == 0 {
            return Ok(None);
        }
        let lease_until = now_ms + SHARED_PROBE_LEASE.as_millis() as i64;
        if i.usage.claim_probe(name, now_ms, lease_until).await {
            Ok(Some(until))
        } else {
            Err("circuit half-open, another process is probing (shared)".into())
        }
    }

    fn reserve_request(
        &self,
        day: u64,
        provider: &str,
        user: Option<&str>,
        amount: f64,
    ) -> ReserveRequest {
        let l = &self.inner.limits;
        let mut lines = vec![
            BudgetLine {
                scope: BudgetScope::Global,
                limit_usd: l.global_daily_usd,
            },
            BudgetLine {
                scope: BudgetScope::Provider(provider.into()),
                limit_usd: l.provider_daily_usd.get(provider).copied(),
            },
        ];
        if let Some(u) = user {
            lines.push(BudgetLine {
                scope: BudgetScope::User(u.into()),
                limit_usd: l.per_user_daily_usd,
            });
        }
        ReserveRequest {
            day,
            amount_usd: amount,
            lines,
        }
    }

    /// Each provider's breaker and today's spend.
    pub async fn status(&self) -> Vec<ProviderStatus> {
        let i = &self.inner;
        let (now, day) = (i.clock.now(), i.clock.day());
        let mut names: Vec<&String> = i.providers.keys().collect();
        names.sort();
        let mut out = Vec::new();
        for name in names {
            let scope = BudgetScope::Provider(name.clone());
            out.push(ProviderStatus {
                name: name.clone(),
                kind: i.providers[name].kind().to_string(),
                breaker: self.breaker(name, |b| b.state(now)),
                spend_today: i.usage.spend(day, &scope).await,
                daily_budget_usd: i.limits.provider_daily_usd.get(name).copied(),
            });
        }
        out
    }

    /// Today's global spend.
    pub async fn global_spend(&self) -> Spend {
        self.inner
            .usage
            .spend(self.inner.clock.day(), &BudgetScope::Global)
            .await
    }
}

fn until_next_day() -> Duration {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Duration::from_secs(86_400 - secs % 86_400)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn split_matches_the_seed_formula() {
        // sha256("user-1") starts with the hex digits below; parseInt of
        // the first 8 modulo 100 is the bucket.
        let hex = hex::encode(Sha256::digest(b"user-1"));
        let bucket = u32::from_str_radix(&hex[..8], 16).unwrap() % 100;
        assert!(should_route_to_split(true, bucket + 1, Some("user-1")));
        assert!(!should_route_to_split(true, bucket, Some("user-1")));
        assert!(!should_route_to_split(false, 100, Some("user-1")));
        assert!(!should_route_to_split(true, 0, None));
        assert!(
            should_route_to_split(true, 1, None),
            "the seed's anonymous '0' hash"
        );
    }

    #[test]
    fn split_within_one_percent_over_100k_users() {
        for percent in [1u32, 10, 25, 50, 90] {
            let n = 100_000;
            let hits = (0..n)
                .filter(|i| should_route_to_split(true, percent, Some(&format!("user-{i}"))))
                .count();
            let share = hits as f64 / n as f64 * 100.0;
            assert!(
                (share - percent as f64).abs() <= 1.0,
                "{percent}%: {share:.2}%"
            );
        }
    }

    proptest! {
        #[test]
        fn split_is_sticky_and_monotone(user in ".{1,40}", p in 0u32..=100) {
            let a = should_route_to_split(true, p, Some(&user));
            prop_assert_eq!(a, should_route_to_split(true, p, Some(&user)));
            // Raising the percentage never moves a user out of the split.
            if a { prop_assert!(should_route_to_split(true, (p + 1).min(100), Some(&user))); }
        }

        #[test]
        fn split_share_close_to_percent(p in 0u32..=100, salt in any::<u32>()) {
            let n = 20_000;
            let hits = (0..n).filter(|i| should_route_to_split(true, p, Some(&format!("{salt}-{i}")))).count();
            let share = hits as f64 / n as f64 * 100.0;
            // 20k users: binomial sd ≤ 0.36 pp; allow 2 pp.
            prop_assert!((share - p as f64).abs() <= 2.0, "{}% gave {:.2}%", p, share);
        }
    }
}
