//! Router behaviour with in-process fake providers: failover, breakers
//! moving traffic down the chain and recovering, budgets under
//! concurrency, per-user limits, and a 10,000-request chaos run.

mod common;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{job, png};
use garmax_core::Coded;
use garmax_providers::error::LimitKind;
use garmax_providers::router::Outcome;
use garmax_providers::{
    BoxFuture, BreakerConfig, Clock, ErrorClass, Limits, MemoryUsage, Provider, ProviderError,
    RenderJob, RenderResult, Router, RouterError, Timings, UsageStore,
};

/// A fake provider: `fail(call_index)` decides each call's outcome; it
/// counts calls and the cents it charged.
struct Fake {
    name: String,
    cost: f64,
    calls: AtomicUsize,
    charged_micro: AtomicU64,
    fail: Box<dyn Fn(usize) -> Option<ProviderError> + Send + Sync>,
    delay: Duration,
}

impl Fake {
    fn new(
        name: &str,
        cost: f64,
        fail: impl Fn(usize) -> Option<ProviderError> + Send + Sync + 'static,
    ) -> Arc<Fake> {
        Arc::new(Fake {
            name: name.into(),
            cost,
            calls: AtomicUsize::new(0),
            charged_micro: AtomicU64::new(0),
            fail: Box::new(fail),
            delay: Duration::ZERO,
        })
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

fn server_error(name: &str) -> ProviderError {
    ProviderError::Server {
        provider: name.into(),
        status: 503,
        message: "down".into(),
    }
}

impl Provider for Fake {
    fn name(&self) -> &str {
        &self.name
    }
    fn kind(&self) -> &'static str {
        "fake"
    }
    fn estimate_cost(&self, _job: &RenderJob) -> f64 {
        self.cost
    }
    fn render<'a>(
        &'a self,
        _job: &'a RenderJob,
    ) -> BoxFuture<'a, Result<RenderResult, ProviderError>> {
        Box::pin(async move {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            if !self.delay.is_zero() {
                tokio::time::sleep(self.delay).await;
            } else {
                tokio::task::yield_now().await;
            }
            if let Some(e) = (self.fail)(n) {
                return Err(e);
            }
            self.charged_micro
                .fetch_add((self.cost * 1e6).round() as u64, Ordering::SeqCst);
            Ok(RenderResult {
                local_output: None,
                images: vec![png()],
                provider: self.name.clone(),
                cost_usd: self.cost,
                metadata: Default::default(),
                timings: Timings::default(),
            })
        })
    }
}

/// A clock the test moves by hand.
struct ManualClock {
    start: Instant,
    offset: Mutex<Duration>,
}

impl ManualClock {
    fn new() -> Arc<ManualClock> {
        Arc::new(ManualClock {
            start: Instant::now(),
            offset: Mutex::new(Duration::ZERO),
        })
    }
    fn advance(&self, d: Duration) {
        *self.offset.lock().unwrap() += d;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + *self.offset.lock().unwrap()
    }
    fn day(&self) -> u64 {
        20_000
    }
}

fn breaker() -> BreakerConfig {
    BreakerConfig {
        failure_threshold: 5,
        window: Duration::from_secs(60),
        cooldown: Duration::from_secs(30),
        max_cooldown: Duration::from_secs(600),
    }
}

fn no_local_job() -> RenderJob {
    job().with_user("u1")
}

#[tokio::test]
async fn failover_moves_down_the_chain_and_records_attempts() {
    let a = Fake::new("a", 0.05, |_| {
        Some(ProviderError::Server {
            provider: "a".into(),
            status: 502,
            message: "bad gateway".into(),
        })
    });
    let b = Fake::new("b", 0.02, |_| None);
    let router = Router::builder()
        .provider(a.clone())
        .provider(b.clone())
        .default_chain(["a", "b"])
        .build()
        .unwrap();
    let routed = router.render(&no_local_job()).await.unwrap();
    assert_eq!(routed.result.provider, "b");
    assert_eq!(routed.attempts.len(), 2);
    assert_eq!(routed.attempts[0].outcome, Outcome::Failed);
    assert_eq!(routed.attempts[0].error_class, Some(ErrorClass::Retryable));
    assert_eq!(routed.attempts[1].outcome, Outcome::Success);
    assert_eq!(routed.attempts[1].cost_usd, 0.02);
    assert_eq!(router.chain_for(Some("u1")).1, ["a", "b", "local"]);
    let spend = router.global_spend().await;
    assert!((spend.spent_usd - 0.02).abs() < 1e-12);
}

/// A provider failing 100 % opens its breaker after `failure_threshold`
/// requests; after that it is skipped (not called) and traffic goes to the
/// next provider. After the cooldown one probe is let through; when the
/// provider has recovered the breaker closes.
#[tokio::test]
async fn breaker_opens_moves_traffic_and_recovers_half_open() {
    let healthy = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let h = healthy.clone();
    let a = Fake::new("a", 0.01, move |_| {
        (!h.load(Ordering::SeqCst)).then(|| server_error("a"))
    });
    let b = Fake::new("b", 0.01, |_| None);
    let clock = ManualClock::new();
    let router = Router::builder()
        .provider(a.clone())
        .provider(b.clone())
        .default_chain(["a", "b"])
        .breaker(breaker())
        .clock(clock.clone())
        .build()
        .unwrap();
    for _ in 0..100 {
        let r = router.render(&job()).await.unwrap();
        assert_eq!(r.result.provider, "b");
    }
    assert_eq!(
        a.calls(),
        5,
        "the breaker opened after exactly the threshold"
    );
    // Still failing at the probe: one call, re-opened with a doubled cooldown.
    clock.advance(Duration::from_secs(30));
    for _ in 0..10 {
        router.render(&job()).await.unwrap();
    }
    assert_eq!(a.calls(), 6);
    // Recovered: after the (doubled) cooldown, the probe succeeds and the
    // breaker closes; traffic returns to `a`.
    healthy.store(true, Ordering::SeqCst);
    clock.advance(Duration::from_secs(60));
    for _ in 0..10 {
        assert_eq!(router.render(&job()).await.unwrap().result.provider, "a");
    }
    assert_eq!(a.calls(), 16);
    let status = router.status().await;
    assert!(
        status
            .iter()
            .all(|s| s.breaker == garmax_providers::BreakerState::Closed)
    );
}

#[tokio::test]
async fn retry_after_skips_the_provider_until_it_passes() {
    let a = Fake::new("a", 0.01, |n| {
        (n == 0).then(|| ProviderError::RateLimited {
            provider: "a".into(),
            retry_after: Some(Duration::from_secs(10)),
        })
    });
    let clock = ManualClock::new();
    let router = Router::builder()
        .provider(a.clone())
        .provider(Fake::new("b", 0.0, |_| None))
        .default_chain(["a", "b"])
        .clock(clock.clone())
        .build()
        .unwrap();
    assert_eq!(router.render(&job()).await.unwrap().result.provider, "b");
    clock.advance(Duration::from_secs(9));
    let r = router.render(&job()).await.unwrap();
    assert_eq!(r.attempts[0].outcome, Outcome::Skipped);
    clock.advance(Duration::from_secs(1));
    assert_eq!(router.render(&job()).await.unwrap().result.provider, "a");
}

#[tokio::test]
async fn safety_block_stops_the_chain_by_default() {
    let a = Fake::new("a", 0.01, |_| {
        Some(ProviderError::SafetyBlocked {
            provider: "a".into(),
            message: "nsfw".into(),
        })
    });
    let b = Fake::new("b", 0.01, |_| None);
    let router = Router::builder()
        .provider(a.clone())
        .provider(b.clone())
        .default_chain(["a", "b"])
        .build()
        .unwrap();
    let e = router.render(&job()).await.unwrap_err();
    assert_eq!(e.code().as_str(), "SAF_015");
    assert_eq!(b.calls(), 0);
    let lenient = Router::builder()
        .provider(a)
        .provider(b.clone())
        .default_chain(["a", "b"])
        .stop_on_safety_block(false)
        .build()
        .unwrap();
    assert_eq!(lenient.render(&job()).await.unwrap().result.provider, "b");
}

#[tokio::test]
async fn per_user_limits_are_typed_429s() {
    let slow = Arc::new(Fake {
        name: "slow".into(),
        cost: 0.0,
        calls: AtomicUsize::new(0),
        charged_micro: AtomicU64::new(0),
        fail: Box::new(|_| None),
        delay: Duration::from_millis(200),
    });
    let limits = Limits {
        user: garmax_providers::usage::UserLimits {
            max_concurrent: 3,
            max_daily: 5,
        },
        ..Limits::default()
    };
    let router = Router::builder()
        .provider(slow)
        .default_chain(["slow"])
        .append_local(false)
        .limits(limits)
        .build()
        .unwrap();
    let j = job().with_user("alice");
    let (r1, r2, r3, r4) = tokio::join!(
        router.render(&j),
        router.render(&j),
        router.render(&j),
        async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            router.render(&j).await
        }
    );
    assert!(r1.is_ok() && r2.is_ok() && r3.is_ok());
    match r4 {
        Err(RouterError::Limit {
            kind: LimitKind::ConcurrentRenders,
            limit: 3,
            ..
        }) => {}
        other => panic!(
            "expected the concurrency limit, got {:?}",
            other.map(|r| r.result.provider)
        ),
    }
    // 3 done; 2 more allowed today, then the daily limit with a Retry-After.
    router.render(&j).await.unwrap();
    router.render(&j).await.unwrap();
    let e = router.render(&j).await.unwrap_err();
    assert_eq!(e.code().as_str(), "LIM_016");
    assert!(matches!(
        e,
        RouterError::Limit {
            kind: LimitKind::DailyRenders,
            retry_after: Some(_),
            ..
        }
    ));
    // Another user is unaffected.
    router.render(&job().with_user("bob")).await.unwrap();
}

/// 64 concurrent requests from two routers ("processes") sharing one
/// usage store, against a $1.00 global budget at $0.05 a render: exactly
/// 20 are charged, spend never passes the budget, the rest fall to local.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn budget_holds_under_64_concurrent_requests_from_two_routers() {
    let usage: Arc<dyn UsageStore> = Arc::new(MemoryUsage::new());
    let paid = Fake::new("paid", 0.05, |_| None);
    let free = Fake::new("free", 0.0, |_| None);
    let limits = Limits {
        global_daily_usd: Some(1.0),
        user: garmax_providers::usage::UserLimits {
            max_concurrent: 100,
            max_daily: 1000,
        },
        ..Limits::default()
    };
    let make = || {
        Router::builder()
            .provider(paid.clone())
            .provider(free.clone())
            .default_chain(["paid", "free"])
            .append_local(false)
            .usage(usage.clone())
            .limits(limits.clone())
            .build()
            .unwrap()
    };
    let (r1, r2) = (make(), make());
    let mut tasks = Vec::new();
    for i in 0..64 {
        let r = if i % 2 == 0 { r1.clone() } else { r2.clone() };
        tasks.push(tokio::spawn(async move {
            r.render(&job().with_user(format!("user-{i}"))).await
        }));
    }
    let mut by_paid = 0;
    for t in tasks {
        let routed = t.await.unwrap().unwrap();
        if routed.result.provider == "paid" {
            by_paid += 1;
        }
    }
    assert_eq!(by_paid, 20);
    let spend = r1.global_spend().await;
    assert!(spend.spent_usd <= 1.0 + 1e-9, "{spend:?}");
    assert!(
        (spend.spent_usd - paid.charged_micro.load(Ordering::SeqCst) as f64 / 1e6).abs() < 1e-9
    );
    assert_eq!(spend.reserved_usd, 0.0);
}

#[tokio::test]
async fn per_generation_and_provider_budgets_skip_providers() {
    let dear = Fake::new("dear", 0.50, |_| None);
    let cheap = Fake::new("cheap", 0.01, |_| None);
    let mut limits = Limits {
        per_generation_usd: Some(0.10),
        ..Limits::default()
    };
    limits.provider_daily_usd.insert("cheap".into(), 0.02);
    let router = Router::builder()
        .provider(dear.clone())
        .provider(cheap.clone())
        .default_chain(["dear", "cheap"])
        .append_local(false)
        .limits(limits)
        .build()
        .unwrap();
    for _ in 0..2 {
        assert_eq!(
            router.render(&job()).await.unwrap().result.provider,
            "cheap"
        );
    }
    let e = router.render(&job()).await.unwrap_err();
    assert_eq!(e.code().as_str(), "BUD_017", "{e}");
    assert_eq!(dear.calls(), 0);
}

/// Chaos: a fleet of fakes with random faults (5xx, timeouts, 429 with
/// Retry-After, malformed output) and latencies, 10,000 requests with
/// bounded concurrency. Every request ends with an image or a typed error,
/// none is lost or answered twice, and the recorded spend equals the sum
/// of the fakes' charges.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn chaos_10k_requests() {
    fn rng(seed: u64) -> u64 {
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    let fleet: Vec<Arc<Fake>> = ["f1", "f2", "f3"]
        .iter()
        .enumerate()
        .map(|(k, name)| {
            let name = name.to_string();
            let cost = 0.01 * (k + 1) as f64;
            let n2 = name.clone();
            Fake::new(&name, cost, move |n| {
                let r = rng((k as u64) << 32 | n as u64) % 100;
                let p = n2.clone();
                match r {
                    0..=14 => Some(ProviderError::Server {
                        provider: p,
                        status: 500,
                        message: "boom".into(),
                    }),
                    15..=22 => Some(ProviderError::Timeout {
                        provider: p,
                        after: Duration::from_secs(1),
                    }),
                    23..=27 => Some(ProviderError::RateLimited {
                        provider: p,
                        retry_after: Some(Duration::from_millis(1)),
                    }),
                    28..=30 => Some(ProviderError::Permanent {
                        provider: p,
                        message: "malformed JSON".into(),
                    }),
                    _ => None,
                }
            })
        })
        .collect();
    let mut builder = Router::builder()
        .default_chain(["f1", "f2", "f3"])
        .append_local(false)
        .breaker(BreakerConfig {
            failure_threshold: 1000,
            ..breaker()
        })
        .limits(Limits {
            user: garmax_providers::usage::UserLimits {
                max_concurrent: 1000,
                max_daily: 100_000,
            },
            ..Limits::default()
        });
    for f in &fleet {
        builder = builder.provider(f.clone());
    }
    let router = builder.build().unwrap();
    let sem = Arc::new(tokio::sync::Semaphore::new(64));
    let mut tasks = Vec::with_capacity(10_000);
    for i in 0..10_000u32 {
        let (router, sem) = (router.clone(), sem.clone());
        tasks.push(tokio::spawn(async move {
            let _p = sem.acquire().await.unwrap();
            (
                i,
                router
                    .render(&job().with_user(format!("u{}", i % 500)))
                    .await,
            )
        }));
    }
    let mut answered = vec![0u8; 10_000];
    let (mut images, mut errors) = (0, 0);
    let mut recorded = 0.0;
    for t in tasks {
        let (i, r) = t.await.unwrap();
        answered[i as usize] += 1;
        match r {
            Ok(routed) => {
                assert_eq!(routed.result.images.len(), 1);
                recorded += routed.attempts.iter().map(|a| a.cost_usd).sum::<f64>();
                images += 1;
            }
            Err(RouterError::Exhausted { attempts, code }) => {
                assert!(!attempts.is_empty());
                // A provider failure, or every provider cooling down after a 429.
                assert!(matches!(code.as_str(), "GEN_002" | "PRV_018"), "{code}");
                errors += 1;
            }
            Err(other) => panic!("untyped outcome {other}"),
        }
    }
    assert!(
        answered.iter().all(|&n| n == 1),
        "every request answered exactly once"
    );
    assert_eq!(images + errors, 10_000);
    let charged: f64 = fleet
        .iter()
        .map(|f| f.charged_micro.load(Ordering::SeqCst) as f64 / 1e6)
        .sum();
    let spend = router.global_spend().await;
    assert!(
        (spend.spent_usd - charged).abs() < 1e-6,
        "{} vs {}",
        spend.spent_usd,
        charged
    );
    assert!((recorded - charged).abs() < 1e-6);
    eprintln!(
        "chaos: {images} images, {errors} typed errors, spend ${:.2}",
        spend.spent_usd
    );
}

/// Budgets from [`MemoryUsage`], breakers shared through a map: what the
/// database store does for many processes.
struct SharedBreakers {
    usage: MemoryUsage,
    open_until: Mutex<std::collections::HashMap<String, i64>>,
    probe_until: Mutex<std::collections::HashMap<String, i64>>,
}

impl SharedBreakers {
    fn new() -> SharedBreakers {
        SharedBreakers {
            usage: MemoryUsage::new(),
            open_until: Mutex::new(Default::default()),
            probe_until: Mutex::new(Default::default()),
        }
    }
}

impl UsageStore for SharedBreakers {
    fn reserve(
        &self,
        r: garmax_providers::usage::ReserveRequest,
    ) -> BoxFuture<'_, Result<garmax_providers::usage::Reservation, garmax_providers::BudgetScope>>
    {
        self.usage.reserve(r)
    }
    fn settle(&self, r: garmax_providers::usage::Reservation, actual: f64) -> BoxFuture<'_, ()> {
        self.usage.settle(r, actual)
    }
    fn begin_render(
        &self,
        user: &str,
        day: u64,
        limits: garmax_providers::usage::UserLimits,
    ) -> BoxFuture<'_, Result<(), LimitKind>> {
        self.usage.begin_render(user, day, limits)
    }
    fn end_render(&self, user: &str) -> BoxFuture<'_, ()> {
        self.usage.end_render(user)
    }
    fn spend(
        &self,
        day: u64,
        scope: &garmax_providers::BudgetScope,
    ) -> BoxFuture<'_, garmax_providers::usage::Spend> {
        self.usage.spend(day, scope)
    }
    fn share_breaker(&self, provider: &str, until_ms: i64) -> BoxFuture<'_, ()> {
        self.open_until
            .lock()
            .unwrap()
            .insert(provider.to_string(), until_ms);
        self.probe_until.lock().unwrap().remove(provider);
        Box::pin(async {})
    }
    /// What the database's conditional UPDATE does.
    fn claim_probe(&self, provider: &str, now_ms: i64, until_ms: i64) -> BoxFuture<'_, bool> {
        let open = self
            .open_until
            .lock()
            .unwrap()
            .get(provider)
            .copied()
            .unwrap_or(0);
        let mut probes = self.probe_until.lock().unwrap();
        let free = probes.get(provider).copied().unwrap_or(0) <= now_ms;
        let claimed = open > 0 && open <= now_ms && free;
        if claimed {
            probes.insert(provider.to_string(), until_ms);
        }
        Box::pin(async move { claimed })
    }
    fn breaker_open_until(&self, provider: &str) -> BoxFuture<'_, Option<i64>> {
        let v = self.open_until.lock().unwrap().get(provider).copied();
        Box::pin(async move { v })
    }
}

/// Wall time the test moves by hand too.
struct WallClock(Arc<ManualClock>);

impl Clock for WallClock {
    fn now(&self) -> Instant {
        self.0.now()
    }
    fn day(&self) -> u64 {
        self.0.day()
    }
    fn wall_ms(&self) -> i64 {
        1_000_000 + (self.0.now() - self.0.start).as_millis() as i64
    }
}

/// A breaker opened by one router ("process") is honoured by another
/// sharing the store: the second never calls the failing provider while it
/// is open, and both call it again once the cooldown has passed and a
/// probe has closed it.
#[tokio::test]
async fn a_breaker_opened_in_one_process_is_honoured_by_another() {
    let healthy = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let h = healthy.clone();
    let a = Fake::new("a", 0.01, move |_| {
        (!h.load(Ordering::SeqCst)).then(|| server_error("a"))
    });
    let b = Fake::new("b", 0.01, |_| None);
    let manual = ManualClock::new();
    let usage: Arc<dyn UsageStore> = Arc::new(SharedBreakers::new());
    let make = || {
        Router::builder()
            .provider(a.clone())
            .provider(b.clone())
            .default_chain(["a", "b"])
            .append_local(false)
            .breaker(breaker())
            .usage(usage.clone())
            .clock(Arc::new(WallClock(manual.clone())))
            .build()
            .unwrap()
    };
    let (first, second) = (make(), make());
    for _ in 0..5 {
        assert_eq!(first.render(&job()).await.unwrap().result.provider, "b");
    }
    assert_eq!(a.calls(), 5, "the first router opened its breaker");
    for _ in 0..20 {
        let r = second.render(&job()).await.unwrap();
        assert_eq!(r.result.provider, "b");
        assert!(
            r.attempts[0]
                .message
                .as_deref()
                .unwrap()
                .contains("(shared)"),
            "{:?}",
            r.attempts[0]
        );
    }
    assert_eq!(
        a.calls(),
        5,
        "the second router never called the open provider"
    );
    healthy.store(true, Ordering::SeqCst);
    manual.advance(Duration::from_secs(31));
    // The first router's probe closes it for both.
    assert_eq!(first.render(&job()).await.unwrap().result.provider, "a");
    assert_eq!(second.render(&job()).await.unwrap().result.provider, "a");
    assert_eq!(a.calls(), 7);
}

/// A router over `a` then a healthy `b`, sharing its breakers through a
/// [`SharedBreakers`] store, on a clock the test moves.
fn sharing_router(
    a: &Arc<Fake>,
) -> (
    Router,
    Arc<dyn UsageStore>,
    Arc<WallClock>,
    Arc<ManualClock>,
) {
    let b = Fake::new("b", 0.01, |_| None);
    let manual = ManualClock::new();
    let clock = Arc::new(WallClock(manual.clone()));
    let usage: Arc<dyn UsageStore> = Arc::new(SharedBreakers::new());
    let router = Router::builder()
        .provider(a.clone())
        .provider(b)
        .default_chain(["a", "b"])
        .append_local(false)
        .breaker(breaker())
        .usage(usage.clone())
        .clock(clock.clone())
        .build()
        .unwrap();
    (router, usage, clock, manual)
}

/// Past the shared cooldown the breaker is half-open for every process:
/// while another process's probe claim holds, a router skips the provider
/// (although its own breaker never opened); once the claim lapses it
/// probes itself, and its success closes the breaker for all.
#[tokio::test]
async fn only_the_process_that_claims_a_shared_probe_sends_it() {
    let a = Fake::new("a", 0.01, |_| None);
    let (router, usage, clock, manual) = sharing_router(&a);
    // Another process opened `a` until now, and has claimed its probe.
    let now = clock.wall_ms();
    usage.share_breaker("a", now).await;
    assert!(usage.claim_probe("a", now, now + 60_000).await);
    for _ in 0..3 {
        let r = router.render(&job()).await.unwrap();
        assert_eq!(r.result.provider, "b");
        assert!(
            r.attempts[0]
                .message
                .as_deref()
                .unwrap()
                .contains("another process is probing"),
            "{:?}",
            r.attempts[0]
        );
    }
    assert_eq!(a.calls(), 0);
    // That process died mid-probe: after the lease this router probes.
    manual.advance(Duration::from_secs(61));
    assert_eq!(router.render(&job()).await.unwrap().result.provider, "a");
    assert_eq!(a.calls(), 1);
    assert_eq!(
        usage.breaker_open_until("a").await,
        Some(0),
        "the probe's success is shared"
    );
    assert_eq!(router.render(&job()).await.unwrap().result.provider, "a");
    assert_eq!(a.calls(), 2);
}

/// A shared probe that fails re-opens the shared breaker for the
/// cooldown, although one failure does not open this router's own.
#[tokio::test]
async fn a_failed_shared_probe_reopens_the_shared_breaker() {
    let a = Fake::new("a", 0.01, |_| Some(server_error("a")));
    let (router, usage, clock, _) = sharing_router(&a);
    usage.share_breaker("a", clock.wall_ms()).await;
    assert_eq!(router.render(&job()).await.unwrap().result.provider, "b");
    assert_eq!(a.calls(), 1, "one probe");
    let until = usage.breaker_open_until("a").await.unwrap();
    assert!(until > clock.wall_ms(), "re-opened: {until}");
    for _ in 0..5 {
        assert_eq!(router.render(&job()).await.unwrap().result.provider, "b");
    }
    assert_eq!(a.calls(), 1, "no call while re-opened");
}

/// A router that claims a shared probe but sends nothing (the provider is
/// over its budget) releases the claim, so another process may probe at
/// once instead of after the lease.
#[tokio::test]
async fn a_claimed_probe_that_is_not_sent_is_released() {
    let dear = Fake::new("a", 0.50, |_| None);
    let cheap = Fake::new("b", 0.01, |_| None);
    let manual = ManualClock::new();
    let clock = Arc::new(WallClock(manual.clone()));
    let usage: Arc<dyn UsageStore> = Arc::new(SharedBreakers::new());
    let router = Router::builder()
        .provider(dear.clone())
        .provider(cheap.clone())
        .default_chain(["a", "b"])
        .append_local(false)
        .breaker(breaker())
        .usage(usage.clone())
        .clock(clock.clone())
        .limits(Limits {
            per_generation_usd: Some(0.10),
            ..Limits::default()
        })
        .build()
        .unwrap();
    let opened = clock.wall_ms();
    usage.share_breaker("a", opened).await;
    let r = router.render(&job()).await.unwrap();
    assert_eq!(r.result.provider, "b");
    assert_eq!(dear.calls(), 0, "over budget: no probe sent");
    assert_eq!(
        usage.breaker_open_until("a").await,
        Some(opened),
        "still half-open"
    );
    let now = clock.wall_ms();
    assert!(
        usage.claim_probe("a", now, now + 60_000).await,
        "the claim was released"
    );
}
