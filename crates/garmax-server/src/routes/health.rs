//! Liveness, readiness and the admin's view of the queue.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Admin;
use crate::error::ApiResult;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/health", responses((status = 200, body = Health)))]
pub async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    pub database: bool,
    pub storage: bool,
    pub queue: bool,
}

/// Readiness: the database, the object store and the queue answer.
#[utoipa::path(get, path = "/ready", responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let (db, objects, queue) = tokio::join!(
        state.store.ping(),
        state.objects.ping(),
        state.store.queue_stats()
    );
    let r = Readiness {
        database: db.is_ok(),
        storage: objects.is_ok(),
        queue: queue.is_ok(),
    };
    let status = if r.database && r.storage && r.queue {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(r))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueueView {
    pub queued: i64,
    pub running: i64,
    pub failed: i64,
    pub done: i64,
    pub oldest_queued_seconds: f64,
}

/// Queue depth and age (admin).
#[utoipa::path(get, path = "/api/admin/queue", security(("bearer" = [])),
    responses((status = 200, body = QueueView), (status = 403, body = crate::error::ErrorBody)))]
pub async fn queue(_: Admin, State(state): State<AppState>) -> ApiResult<Json<QueueView>> {
    let q = state.store.queue_stats().await?;
    Ok(Json(QueueView {
        queued: q.queued,
        running: q.running,
        failed: q.failed,
        done: q.done,
        oldest_queued_seconds: q.oldest_queued_ms as f64 / 1000.0,
    }))
}
