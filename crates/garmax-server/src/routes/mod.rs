//! The HTTP routes, one module per resource.

pub mod abtests;
pub mod admin_analytics;
pub mod alerts;
pub mod avatars;
pub mod billing;
pub mod enhanced;
pub mod events;
pub mod garments;
pub mod health;
pub mod me;
pub mod personas;
pub mod providers;
pub mod sessions;
pub mod system;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::state::AppState;

/// Largest Stripe event accepted.
pub const WEBHOOK_BODY_LIMIT: usize = 1024 * 1024;

/// Every API route (without the layers `crate::app` adds).
pub fn api(state: &AppState) -> Router<AppState> {
    let upload_limit = DefaultBodyLimit::max(state.config.max_upload_bytes + 64 * 1024);
    let uploads = Router::new()
        .route("/api/avatars", post(avatars::create))
        .route("/api/garments", post(garments::create))
        .route("/api/enhanced-tryon/generate", post(enhanced::generate))
        .route("/api/enhanced-tryon/validate", post(enhanced::validate))
        .route(
            "/api/admin/models/{id}/poses/{pose}/reference",
            post(personas::upload_reference),
        )
        .layer(upload_limit);
    let json = Router::new()
        .route("/api/me", get(me::me))
        .route("/api/avatars", get(avatars::list))
        .route(
            "/api/avatars/{id}",
            get(avatars::get).delete(avatars::remove),
        )
        .route("/api/avatars/{id}/files/{name}", get(avatars::file))
        .route("/api/garments", get(garments::list))
        .route("/api/garments/{id}", get(garments::get))
        .route("/api/garments/{id}/image", get(garments::image))
        .route(
            "/api/tryon/sessions",
            post(sessions::create).get(sessions::list),
        )
        .route("/api/tryon/sessions/{id}", get(sessions::get))
        .route("/api/tryon/sessions/{id}/confirm", post(sessions::confirm))
        .route("/api/tryon/sessions/{id}/reject", post(sessions::reject))
        .route("/api/tryon/sessions/{id}/cancel", post(sessions::cancel))
        .route("/api/tryon/sessions/{id}/preview", get(sessions::preview))
        .route("/api/tryon/sessions/{id}/result", get(sessions::result))
        .route("/api/tryon/sessions/{id}/events", get(events::stream))
        .route("/api/admin/queue", get(health::queue))
        .route("/api/admin/system-stats", get(system::system_stats))
        .route("/api/admin/users", get(me::users))
        .route("/api/admin/providers", get(providers::status))
        .route("/api/admin/credits", post(billing::admin_credits))
        .route("/api/billing/balance", get(billing::balance))
        .route("/api/billing/ledger", get(billing::ledger))
        .route("/api/billing/plan", get(billing::plan))
        .route("/api/billing/checkout", post(billing::checkout))
        .route(
            "/api/tryon/sessions/{id}/rating",
            post(admin_analytics::rate),
        )
        .route(
            "/api/enhanced-tryon/quality-tiers",
            get(enhanced::quality_tiers),
        )
        .route("/api/enhanced-tryon/jobs/{id}", get(enhanced::job))
        .route("/api/models", get(personas::list))
        .route("/api/models/{id}", get(personas::get))
        .route(
            "/api/models/{id}/poses/{pose}/reference",
            get(personas::reference),
        )
        .route(
            "/api/admin/models",
            get(personas::list).post(personas::create),
        )
        .route(
            "/api/admin/models/{id}",
            get(personas::get)
                .put(personas::update)
                .delete(personas::remove),
        )
        .route("/api/admin/analytics", get(admin_analytics::analytics))
        .route(
            "/api/admin/ab-tests",
            get(abtests::list).post(abtests::create),
        )
        .route("/api/admin/ab-tests/{id}", get(abtests::get))
        .route("/api/admin/alerts", get(alerts::list))
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes));
    // Stripe's events can be larger than our own JSON bodies.
    let webhook = Router::new()
        .route("/api/billing/stripe/webhook", post(billing::webhook))
        .layer(DefaultBodyLimit::max(WEBHOOK_BODY_LIMIT));
    Router::new().merge(uploads).merge(json).merge(webhook)
}
