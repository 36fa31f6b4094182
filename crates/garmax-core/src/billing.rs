//! Billing rules that need no I/O: credit costs (the seed's price list),
//! plans and their monthly quotas, the billing-period window, and the
//! refund window of a charged session.

/// Credits a render of `quality` (`sd`, `hd`, `4k`) costs, or `None` for an
/// unknown quality.
pub fn render_cost(quality: &str) -> Option<i64> {
    match quality {
        "sd" => Some(10),
        "hd" => Some(15),
        "4k" => Some(25),
        _ => None,
    }
}

/// Credits creating an avatar costs (held at upload, captured when the
/// avatar is ready, released when processing fails).
pub const AVATAR_COST: i64 = 5;

/// How long after the charge a confirmed session can still be cancelled
/// for a full refund (the seed's 5 minutes).
pub const REFUND_WINDOW_MS: i64 = 5 * 60 * 1000;

/// Length of one billing period when no subscription names it (30 days).
pub const PERIOD_MS: i64 = 30 * 24 * 60 * 60 * 1000;

/// Whether a charge made at `charged_at` may still be refunded at `now`
/// (the window is inclusive of its last millisecond).
pub fn refund_allowed(charged_at: i64, now: i64) -> bool {
    now >= charged_at && now - charged_at <= REFUND_WINDOW_MS
}

/// What a plan allows each billing period, and what it grants.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub struct PlanLimits {
    /// Avatars that may be created per period.
    pub avatars_per_month: i64,
    /// Try-on sessions that may be started per period.
    pub tryons_per_month: i64,
    /// Credits granted when the plan's invoice is paid (Stripe).
    #[serde(default)]
    pub monthly_credits: i64,
}

/// The built-in plans: free (1 avatar, 0 try-ons), studio (3, 25), pro
/// (5, 100). Configuration may replace them (`[billing.plans.*]`).
pub fn default_plans() -> Vec<(String, PlanLimits)> {
    vec![
        (
            "free".into(),
            PlanLimits {
                avatars_per_month: 1,
                tryons_per_month: 0,
                monthly_credits: 0,
            },
        ),
        (
            "studio".into(),
            PlanLimits {
                avatars_per_month: 3,
                tryons_per_month: 25,
                monthly_credits: 500,
            },
        ),
        (
            "pro".into(),
            PlanLimits {
                avatars_per_month: 5,
                tryons_per_month: 100,
                monthly_credits: 2000,
            },
        ),
    ]
}

/// The billing window that contains `now`: the stored `[start, end)`
/// advanced by whole periods of its own length (30 days when the stored
/// window is empty) until it contains `now`. A window in the future is
/// returned as it is (usage before it counts for nothing).
pub fn current_window(start: i64, end: i64, now: i64) -> (i64, i64) {
    let len = if end > start { end - start } else { PERIOD_MS };
    let end = start + len;
    if now < end {
        return (start, end);
    }
    let k = (now - start) / len;
    (start + k * len, start + (k + 1) * len)
}

/// Seconds from `now` until `reset_at`, at least 1 (for Retry-After).
pub fn seconds_until(reset_at: i64, now: i64) -> u64 {
    let ms = (reset_at - now).max(0) as u64;
    ms.div_ceil(1000).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seeds_prices() {
        assert_eq!(render_cost("sd"), Some(10));
        assert_eq!(render_cost("hd"), Some(15));
        assert_eq!(render_cost("4k"), Some(25));
        assert_eq!(render_cost("8k"), None);
        assert_eq!(AVATAR_COST, 5);
    }

    #[test]
    fn the_refund_window_is_five_minutes_inclusive() {
        assert!(refund_allowed(1_000, 1_000));
        assert!(refund_allowed(1_000, 1_000 + REFUND_WINDOW_MS));
        assert!(!refund_allowed(1_000, 1_001 + REFUND_WINDOW_MS));
        assert!(!refund_allowed(1_000, 999));
    }

    #[test]
    fn windows_roll_forward_by_whole_periods() {
        assert_eq!(current_window(0, 100, 50), (0, 100));
        assert_eq!(current_window(0, 100, 100), (100, 200));
        assert_eq!(current_window(0, 100, 350), (300, 400));
        assert_eq!(current_window(0, 0, 5), (0, PERIOD_MS));
        assert_eq!(current_window(1000, 2000, 10), (1000, 2000));
        assert_eq!(seconds_until(2_500, 1_000), 2);
        assert_eq!(seconds_until(1_000, 1_000), 1);
    }

    #[test]
    fn the_default_plans_are_the_issues() {
        let plans = default_plans();
        let get = |n: &str| plans.iter().find(|(p, _)| p == n).unwrap().1.clone();
        assert_eq!(
            (get("free").avatars_per_month, get("free").tryons_per_month),
            (1, 0)
        );
        assert_eq!(
            (
                get("studio").avatars_per_month,
                get("studio").tryons_per_month
            ),
            (3, 25)
        );
        assert_eq!(
            (get("pro").avatars_per_month, get("pro").tryons_per_month),
            (5, 100)
        );
    }
}
