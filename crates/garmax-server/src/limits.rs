//! The seed's per-user render limits at the door: a session is not queued
//! when its user already has `MAX_CONCURRENT_RENDERS_PER_USER` (3) renders
//! waiting or running, or has started `MAX_RENDERS_PER_USER_DAILY` (20)
//! today (UTC) — `429 LIM_016` with `Retry-After`. The router enforces
//! the same limits again, atomically, when a worker starts the render.

use garmax_core::ErrorCode;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// How long a client waits before trying again after the concurrency
/// limit (a render usually finishes within it).
const CONCURRENT_RETRY_SECS: u64 = 10;

/// Refuses a new session past the user's limits.
pub async fn check_render_limits(state: &AppState, user_id: &str) -> ApiResult<()> {
    let budgets = &state.config.providers.budgets;
    let now = garmax_store::now_ms();
    let day_start = now - now.rem_euclid(86_400_000);
    let (active, today) = state.store.user_session_load(user_id, day_start).await?;
    refusal(
        active,
        today,
        budgets.max_concurrent_renders_per_user as i64,
        budgets.max_renders_per_user_daily as i64,
        now,
    )
    .map_or(Ok(()), Err)
}

/// The refusal for these counts, if any (`now_ms` sets the daily reset).
pub fn refusal(
    active: i64,
    today: i64,
    max_concurrent: i64,
    max_daily: i64,
    now_ms: i64,
) -> Option<ApiError> {
    if today >= max_daily {
        let until_midnight = 86_400 - (now_ms.rem_euclid(86_400_000) / 1000) as u64;
        return Some(
            ApiError::new(
                ErrorCode::LimitExceeded,
                format!("at most {max_daily} renders a day (UTC); the count resets at midnight"),
            )
            .with_retry_after(until_midnight.max(1)),
        );
    }
    if active >= max_concurrent {
        return Some(
            ApiError::new(
                ErrorCode::LimitExceeded,
                format!("at most {max_concurrent} renders at once; wait for one to finish"),
            )
            .with_retry_after(CONCURRENT_RETRY_SECS),
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_refuse_with_retry_after() {
        assert!(refusal(2, 19, 3, 20, 0).is_none());
        let c = refusal(3, 5, 3, 20, 0).unwrap();
        assert_eq!(c.code.as_str(), "LIM_016");
        assert_eq!(c.retry_after_secs, Some(CONCURRENT_RETRY_SECS));
        // 23:00 UTC: the daily count resets in an hour.
        let d = refusal(0, 20, 3, 20, 23 * 3_600_000).unwrap();
        assert_eq!(d.retry_after_secs, Some(3_600));
        assert_eq!(ApiError::status_of(d.code).as_u16(), 429);
    }
}
