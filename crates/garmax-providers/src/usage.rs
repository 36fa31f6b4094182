//! Spend against daily budgets and per-user render counters, behind the
//! [`UsageStore`] trait so the store crate can keep them in the database
//! (atomic increments shared by every worker). [`MemoryUsage`] is the
//! embedded, in-process implementation.
//!
//! Spending is reserve-then-settle: the router reserves a provider's cost
//! estimate against every budget that applies before the call, and
//! settles the actual charge after it. A reservation that would exceed
//! any budget is refused, so concurrent requests cannot overshoot; spend
//! exceeds a budget only when a provider charges more than its estimate,
//! by at most that one request's difference.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use crate::error::{BudgetScope, LimitKind};
use crate::provider::BoxFuture;

/// One budget to check: a scope, its daily limit (None = unlimited, still
/// tracked).
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetLine {
    pub scope: BudgetScope,
    pub limit_usd: Option<f64>,
}

/// A request to reserve `amount_usd` on `day` against `lines`.
#[derive(Debug, Clone)]
pub struct ReserveRequest {
    /// Days since the Unix epoch (UTC).
    pub day: u64,
    pub amount_usd: f64,
    pub lines: Vec<BudgetLine>,
}

/// A granted reservation; settle it exactly once.
#[derive(Debug, Clone, PartialEq)]
pub struct Reservation {
    pub id: u64,
    pub day: u64,
    pub amount_usd: f64,
    pub scopes: Vec<BudgetScope>,
}

/// Spend of one scope on one day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Spend {
    pub spent_usd: f64,
    pub reserved_usd: f64,
}

/// Per-user render limits.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct UserLimits {
    pub max_concurrent: u32,
    pub max_daily: u32,
}

/// Where budgets and counters live.
pub trait UsageStore: Send + Sync {
    /// Atomically checks every limited line and reserves the amount on all
    /// lines, or refuses with the first scope that would be exceeded.
    fn reserve(&self, request: ReserveRequest) -> BoxFuture<'_, Result<Reservation, BudgetScope>>;
    /// Replaces the reservation by the actual charge.
    fn settle(&self, reservation: Reservation, actual_usd: f64) -> BoxFuture<'_, ()>;
    /// Starts a render for `user`: refuses past the concurrent or daily
    /// limit, otherwise counts it (daily) and holds a concurrency slot.
    fn begin_render(
        &self,
        user: &str,
        day: u64,
        limits: UserLimits,
    ) -> BoxFuture<'_, Result<(), LimitKind>>;
    /// Releases the concurrency slot of a finished render.
    fn end_render(&self, user: &str) -> BoxFuture<'_, ()>;
    /// The spend of a scope on a day (for status pages).
    fn spend(&self, day: u64, scope: &BudgetScope) -> BoxFuture<'_, Spend>;
    /// Publishes that `provider`'s breaker is open until `until_ms` (Unix
    /// ms; 0 = closed) to every router sharing this store. A store for one
    /// process has nothing to share: each router keeps its own breakers.
    fn share_breaker(&self, _provider: &str, _until_ms: i64) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
    /// Until when another router opened `provider`'s breaker, if it did.
    fn breaker_open_until(&self, _provider: &str) -> BoxFuture<'_, Option<i64>> {
        Box::pin(async { None })
    }
    /// Claims the probe of `provider`'s shared breaker, half-open since its
    /// cooldown passed: `true` for the one router that may send it until
    /// `until_ms` (or until the breaker is shared again, open or closed),
    /// `false` while another's claim holds. One process claims alone.
    fn claim_probe(&self, _provider: &str, _now_ms: i64, _until_ms: i64) -> BoxFuture<'_, bool> {
        Box::pin(async { true })
    }
}

/// In-memory [`UsageStore`] (one process).
#[derive(Debug, Default)]
pub struct MemoryUsage {
    inner: Mutex<State>,
    next_id: AtomicU64,
}

#[derive(Debug, Default)]
struct State {
    /// (spent, reserved) in micro-USD: integer sums do not drift.
    spend: HashMap<(u64, ScopeKey), (i64, i64)>,
    renders_today: HashMap<(u64, String), u32>,
    in_flight: HashMap<String, u32>,
}

type ScopeKey = String;

fn micro(usd: f64) -> i64 {
    (usd.max(0.0) * 1e6).round() as i64
}

fn key(scope: &BudgetScope) -> ScopeKey {
    match scope {
        BudgetScope::Global => "global".into(),
        BudgetScope::PerGeneration => "generation".into(),
        BudgetScope::Provider(p) => format!("provider:{p}"),
        BudgetScope::User(u) => format!("user:{u}"),
    }
}

/// The stable text of a scope (`global`, `provider:NAME`, `user:ID`), as a
/// database keys its rows.
pub fn scope_key(scope: &BudgetScope) -> String {
    key(scope)
}

/// Integer micro-dollars of an amount (negative → 0): sums do not drift.
pub fn micro_usd(usd: f64) -> i64 {
    micro(usd)
}

impl MemoryUsage {
    pub fn new() -> MemoryUsage {
        MemoryUsage::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl UsageStore for MemoryUsage {
    fn reserve(&self, request: ReserveRequest) -> BoxFuture<'_, Result<Reservation, BudgetScope>> {
        let result = (|| {
            let mut state = self.state();
            let amount = micro(request.amount_usd);
            for line in &request.lines {
                if let Some(limit) = line.limit_usd {
                    let (spent, reserved) = state
                        .spend
                        .get(&(request.day, key(&line.scope)))
                        .copied()
                        .unwrap_or_default();
                    if spent + reserved + amount > micro(limit) {
                        return Err(line.scope.clone());
                    }
                }
            }
            for line in &request.lines {
                state
                    .spend
                    .entry((request.day, key(&line.scope)))
                    .or_default()
                    .1 += amount;
            }
            Ok(Reservation {
                id: self.next_id.fetch_add(1, Ordering::Relaxed),
                day: request.day,
                amount_usd: amount as f64 / 1e6,
                scopes: request.lines.into_iter().map(|l| l.scope).collect(),
            })
        })();
        Box::pin(async move { result })
    }

    fn settle(&self, reservation: Reservation, actual_usd: f64) -> BoxFuture<'_, ()> {
        {
            let mut state = self.state();
            for scope in &reservation.scopes {
                let s = state
                    .spend
                    .entry((reservation.day, key(scope)))
                    .or_default();
                s.1 = (s.1 - micro(reservation.amount_usd)).max(0);
                s.0 += micro(actual_usd);
            }
        }
        Box::pin(async {})
    }

    fn begin_render(
        &self,
        user: &str,
        day: u64,
        limits: UserLimits,
    ) -> BoxFuture<'_, Result<(), LimitKind>> {
        let result = (|| {
            let mut state = self.state();
            let in_flight = state.in_flight.get(user).copied().unwrap_or(0);
            if in_flight >= limits.max_concurrent {
                return Err(LimitKind::ConcurrentRenders);
            }
            let today = state
                .renders_today
                .get(&(day, user.to_string()))
                .copied()
                .unwrap_or(0);
            if today >= limits.max_daily {
                return Err(LimitKind::DailyRenders);
            }
            state
                .renders_today
                .insert((day, user.to_string()), today + 1);
            state.in_flight.insert(user.to_string(), in_flight + 1);
            Ok(())
        })();
        Box::pin(async move { result })
    }

    fn end_render(&self, user: &str) -> BoxFuture<'_, ()> {
        {
            let mut state = self.state();
            if let Some(n) = state.in_flight.get_mut(user) {
                *n = n.saturating_sub(1);
            }
        }
        Box::pin(async {})
    }

    fn spend(&self, day: u64, scope: &BudgetScope) -> BoxFuture<'_, Spend> {
        let (spent, reserved) = self
            .state()
            .spend
            .get(&(day, key(scope)))
            .copied()
            .unwrap_or_default();
        let s = Spend {
            spent_usd: spent as f64 / 1e6,
            reserved_usd: reserved as f64 / 1e6,
        };
        Box::pin(async move { s })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn lines(limit: f64) -> Vec<BudgetLine> {
        vec![
            BudgetLine {
                scope: BudgetScope::Global,
                limit_usd: Some(limit),
            },
            BudgetLine {
                scope: BudgetScope::Provider("p".into()),
                limit_usd: None,
            },
        ]
    }

    fn block<T>(f: BoxFuture<'_, T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    proptest! {
        /// Any interleaving of reservations and settlements (actual ≤
        /// estimate) keeps spent + reserved ≤ the budget, and the final
        /// spend is exactly the sum of the settled charges.
        #[test]
        fn budget_never_exceeded(ops in proptest::collection::vec((1u32..200, 0u32..=100, any::<bool>()), 1..120), limit in 1u32..5000) {
            let store = MemoryUsage::new();
            let limit = limit as f64 / 100.0;
            let mut open: Vec<(Reservation, f64)> = Vec::new();
            let mut charged = 0.0;
            for (cents, pct, settle_now) in ops {
                let amount = cents as f64 / 100.0;
                if let Ok(r) = block(store.reserve(ReserveRequest { day: 1, amount_usd: amount, lines: lines(limit) })) {
                    open.push((r, amount * pct as f64 / 100.0));
                }
                let s = block(store.spend(1, &BudgetScope::Global));
                prop_assert!(s.spent_usd + s.reserved_usd <= limit + 1e-9);
                if settle_now && !open.is_empty() {
                    let (r, actual) = open.remove(0);
                    charged += actual;
                    block(store.settle(r, actual));
                }
            }
            for (r, actual) in open.drain(..) {
                charged += actual;
                block(store.settle(r, actual));
            }
            let s = block(store.spend(1, &BudgetScope::Global));
            prop_assert!(s.reserved_usd.abs() < 1e-9);
            prop_assert!((s.spent_usd - charged).abs() < 1e-9);
            prop_assert!(s.spent_usd <= limit + 1e-9);
            let p = block(store.spend(1, &BudgetScope::Provider("p".into())));
            prop_assert!((p.spent_usd - charged).abs() < 1e-9);
        }
    }

    #[test]
    fn user_limits() {
        let store = MemoryUsage::new();
        let l = UserLimits {
            max_concurrent: 2,
            max_daily: 3,
        };
        assert!(block(store.begin_render("u", 1, l)).is_ok());
        assert!(block(store.begin_render("u", 1, l)).is_ok());
        assert_eq!(
            block(store.begin_render("u", 1, l)),
            Err(LimitKind::ConcurrentRenders)
        );
        block(store.end_render("u"));
        assert!(block(store.begin_render("u", 1, l)).is_ok());
        block(store.end_render("u"));
        assert_eq!(
            block(store.begin_render("u", 1, l)),
            Err(LimitKind::DailyRenders)
        );
        assert!(
            block(store.begin_render("u", 2, l)).is_ok(),
            "a new day resets the count"
        );
    }
}
