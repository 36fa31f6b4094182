//! `GET /api/admin/providers` (admin): what `garmax providers status`
//! prints, as JSON — each configured endpoint (kind, model, base URL, key
//! present), both failover chains and the split, the budgets, each
//! provider's breaker and today's spend against its budget.

use axum::Json;
use axum::extract::State;

use crate::auth::Admin;
use crate::error::ApiResult;
use crate::state::AppState;

/// Providers, chains, breakers and spend (admin).
#[utoipa::path(get, path = "/api/admin/providers", security(("bearer" = [])),
    responses((status = 200, body = Object, description = "endpoints, chains, split, budgets, status, globalSpend"),
        (status = 403, body = crate::error::ErrorBody)))]
pub async fn status(_: Admin, State(state): State<AppState>) -> ApiResult<Json<serde_json::Value>> {
    let config = &state.config.providers;
    let endpoints = config.resolve(&|k| std::env::var(k).ok());
    let router = &state.router;
    let (default_chain, split_chain) = router.chains();
    Ok(Json(serde_json::json!({
        "endpoints": endpoints,
        "defaultChain": default_chain,
        "splitChain": split_chain,
        "split": {"enabled": config.enable_gemini_batch, "percent": config.gemini_traffic_percent},
        "allowBedrockFailover": config.allow_bedrock_failover,
        "budgets": config.budgets,
        "status": router.status().await,
        "globalSpend": router.global_spend().await,
    })))
}
