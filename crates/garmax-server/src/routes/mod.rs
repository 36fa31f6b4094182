//! The HTTP routes, one module per resource.

pub mod abtests;
pub mod admin_analytics;
pub mod avatars;
pub mod enhanced;
pub mod events;
pub mod garments;
pub mod health;
pub mod me;
pub mod personas;
pub mod sessions;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::state::AppState;

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
        .route("/api/admin/users", get(me::users))
        .route("/api/tryon/sessions/{id}/rating", post(admin_analytics::rate))
        .route("/api/enhanced-tryon/quality-tiers", get(enhanced::quality_tiers))
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
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes));
    Router::new().merge(uploads).merge(json)
}
