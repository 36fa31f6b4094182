//! The router's [`UsageStore`] on the database: budgets, per-user render
//! counters and breakers shared by every serve and worker process. The SQL
//! is `garmax_store::usage`; this adapter only translates between the
//! router's types and the store's (the store knows no router, the router
//! no SQL).
//!
//! A database that does not answer refuses rather than admits: a budget
//! reservation is refused (`Global`), a render start counts as the
//! concurrency limit; both are logged.

use garmax_providers::error::{BudgetScope, LimitKind};
use garmax_providers::provider::BoxFuture;
use garmax_providers::usage::{
    Reservation, ReserveRequest, Spend, UsageStore, UserLimits, micro_usd, scope_key,
};
use garmax_store::Store;
use garmax_store::usage::{BudgetLine, RenderRefusal};

/// Budgets and counters in the store's database.
#[derive(Clone)]
pub struct StoreUsage {
    store: Store,
    /// How long a render slot lives if its worker dies (the job time limit).
    slot_ttl_ms: i64,
}

impl StoreUsage {
    pub fn new(store: Store, slot_ttl_ms: i64) -> StoreUsage {
        StoreUsage { store, slot_ttl_ms }
    }
}

impl UsageStore for StoreUsage {
    fn reserve(&self, request: ReserveRequest) -> BoxFuture<'_, Result<Reservation, BudgetScope>> {
        Box::pin(async move {
            let amount = micro_usd(request.amount_usd);
            let lines: Vec<BudgetLine> = request
                .lines
                .iter()
                .map(|l| BudgetLine {
                    scope: scope_key(&l.scope),
                    limit_micro: l.limit_usd.map(micro_usd),
                })
                .collect();
            match self
                .store
                .reserve_budget(request.day as i64, amount, &lines)
                .await
            {
                Ok(Ok(())) => Ok(Reservation {
                    id: 0,
                    day: request.day,
                    amount_usd: amount as f64 / 1e6,
                    scopes: request.lines.into_iter().map(|l| l.scope).collect(),
                }),
                Ok(Err(i)) => Err(request.lines[i].scope.clone()),
                Err(e) => {
                    tracing::warn!("budget reservation refused, the database did not answer: {e}");
                    Err(BudgetScope::Global)
                }
            }
        })
    }

    fn settle(&self, reservation: Reservation, actual_usd: f64) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let scopes: Vec<String> = reservation.scopes.iter().map(scope_key).collect();
            if let Err(e) = self
                .store
                .settle_budget(
                    reservation.day as i64,
                    &scopes,
                    micro_usd(reservation.amount_usd),
                    micro_usd(actual_usd),
                )
                .await
            {
                tracing::warn!(
                    "settling ${actual_usd:.4} against budgets failed (the reservation stays until the day ends): {e}"
                );
            }
        })
    }

    fn begin_render(
        &self,
        user: &str,
        day: u64,
        limits: UserLimits,
    ) -> BoxFuture<'_, Result<(), LimitKind>> {
        let user = user.to_string();
        Box::pin(async move {
            match self
                .store
                .begin_render(
                    &user,
                    day as i64,
                    limits.max_concurrent as i64,
                    limits.max_daily as i64,
                    self.slot_ttl_ms,
                )
                .await
            {
                Ok(Ok(())) => Ok(()),
                Ok(Err(RenderRefusal::Concurrent)) => Err(LimitKind::ConcurrentRenders),
                Ok(Err(RenderRefusal::Daily)) => Err(LimitKind::DailyRenders),
                Err(e) => {
                    tracing::warn!("render start refused, the database did not answer: {e}");
                    Err(LimitKind::ConcurrentRenders)
                }
            }
        })
    }

    fn end_render(&self, user: &str) -> BoxFuture<'_, ()> {
        let user = user.to_string();
        Box::pin(async move {
            if let Err(e) = self.store.end_render(&user).await {
                tracing::warn!("freeing a render slot failed (it expires on its own): {e}");
            }
        })
    }

    fn spend(&self, day: u64, scope: &BudgetScope) -> BoxFuture<'_, Spend> {
        let scope = scope_key(scope);
        Box::pin(async move {
            match self.store.budget_spend(day as i64, &scope).await {
                Ok(s) => Spend {
                    spent_usd: s.spent_micro as f64 / 1e6,
                    reserved_usd: s.reserved_micro as f64 / 1e6,
                },
                Err(e) => {
                    tracing::warn!("reading spend of {scope}: {e}");
                    Spend::default()
                }
            }
        })
    }

    fn share_breaker(&self, provider: &str, until_ms: i64) -> BoxFuture<'_, ()> {
        let provider = provider.to_string();
        Box::pin(async move {
            if let Err(e) = self.store.set_breaker(&provider, until_ms).await {
                tracing::warn!("sharing the breaker of {provider}: {e}");
            }
        })
    }

    fn breaker_open_until(&self, provider: &str) -> BoxFuture<'_, Option<i64>> {
        let provider = provider.to_string();
        Box::pin(async move {
            self.store
                .breaker_open_until(&provider)
                .await
                .ok()
                .flatten()
        })
    }

    fn claim_probe(&self, provider: &str, now_ms: i64, until_ms: i64) -> BoxFuture<'_, bool> {
        let provider = provider.to_string();
        Box::pin(async move {
            match self
                .store
                .claim_breaker_probe(&provider, now_ms, until_ms)
                .await
            {
                Ok(claimed) => claimed,
                Err(e) => {
                    // Unknown whether another process probes: not this one.
                    tracing::warn!("claiming {provider}'s probe failed: {e}");
                    false
                }
            }
        })
    }
}
