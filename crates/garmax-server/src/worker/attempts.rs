//! A render's provider attempts: stored with the session (success or
//! failure alike) and counted in the per-provider Prometheus metrics.

use garmax_store::usage::AttemptRecord;

use crate::engine::{EngineError, ProviderAttempt, Rendered};
use crate::state::AppState;

/// Records the attempts of `result` for session `id`, then hands `result`
/// back. A failure to store them is logged, not the render's failure.
pub async fn record(
    state: &AppState,
    id: &str,
    result: Result<Rendered, EngineError>,
) -> Result<Rendered, EngineError> {
    let attempts = match &result {
        Ok(r) => &r.provider_attempts,
        Err(e) => &e.provider_attempts,
    };
    crate::metrics::provider_attempts(attempts);
    let rows: Vec<AttemptRecord> = attempts.iter().map(row).collect();
    if let Err(e) = state.store.record_provider_attempts(id, &rows).await {
        tracing::warn!(session = %id, "storing provider attempts: {e}");
    }
    result
}

fn row(a: &ProviderAttempt) -> AttemptRecord {
    AttemptRecord {
        render: a.render as i64,
        provider: a.provider.clone(),
        outcome: a.outcome.clone(),
        error_class: a.error_class.clone(),
        code: a.code.clone(),
        message: a.message.clone(),
        latency_ms: a.latency_ms,
        cost_usd: a.cost_usd,
    }
}
