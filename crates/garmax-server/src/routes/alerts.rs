//! `GET /api/admin/alerts`: the alerts, newest first, each with its
//! notifications, the rules they are judged by and when they were last
//! evaluated.

use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Admin;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct AlertsParams {
    /// `firing`, `resolved` or `all` (the default).
    pub state: Option<String>,
    /// At most this many alerts (1–500, default 50).
    pub limit: Option<i64>,
}

/// The alerts (admin).
#[utoipa::path(get, path = "/api/admin/alerts", security(("bearer" = [])), params(AlertsParams),
    responses((status = 200, description = "alerts newest first with their deliveries, the rules, the last evaluation"),
        (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list(
    _: Admin,
    State(state): State<AppState>,
    Query(p): Query<AlertsParams>,
) -> ApiResult<Json<Value>> {
    let filter = match p.state.as_deref().unwrap_or("all") {
        "all" => None,
        s @ ("firing" | "resolved") => Some(s),
        other => {
            return Err(ApiError::bad_request(format!(
                "state '{other}' is not firing, resolved or all"
            )));
        }
    };
    let alerts = state
        .store
        .list_alerts(filter, p.limit.unwrap_or(50))
        .await?;
    let alerts: Vec<Value> = alerts
        .iter()
        .map(|(a, deliveries)| {
            let mut v = crate::alerts::alert_json(a);
            v["deliveries"] = deliveries
                .iter()
                .map(|d| {
                    json!({
                        "channel": d.channel,
                        "target": d.target,
                        "event": d.event,
                        "attempts": d.attempts,
                        "deliveredAt": d.delivered_at.map(crate::views::rfc3339),
                        "lastError": d.last_error,
                    })
                })
                .collect();
            v
        })
        .collect();
    let c = &state.config.alerts;
    let last = state.store.lease_renewed_at(crate::alerts::LEASE).await?;
    Ok(Json(json!({
        "success": true,
        "alerts": alerts,
        "config": {
            "enabled": c.enabled,
            "evaluateEverySecs": c.evaluate_every_secs,
            "qualityDrop": {
                "threshold": c.quality_drop.threshold,
                "timeWindowMs": c.quality_drop.time_window_ms,
                "minSamples": c.quality_drop.min_samples,
                "recipients": c.quality_drop.recipients,
            },
            "highCost": { "threshold": c.high_cost.threshold, "recipients": c.high_cost.recipients },
            "systemHealth": {
                "cpuThreshold": c.system_health.cpu_threshold,
                "memoryThreshold": c.system_health.memory_threshold,
                "recipients": c.system_health.recipients,
            },
            "webhooks": c.webhooks.len(),
            "email": c.smtp_url.is_some(),
        },
        "lastEvaluatedAt": last.map(crate::views::rfc3339),
    })))
}
