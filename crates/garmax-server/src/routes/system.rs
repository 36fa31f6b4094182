//! `GET /api/admin/system-stats`: the machine, the queue, the workers and
//! the API's recent requests, read now.

use axum::Json;
use axum::extract::State;

use crate::auth::Admin;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::views::{KindBacklogView, QueueStatsView, SystemStatsView, WorkerLoadView};

/// Real-time system statistics (admin).
#[utoipa::path(get, path = "/api/admin/system-stats", security(("bearer" = [])),
    responses((status = 200, body = SystemStatsView), (status = 403, body = crate::error::ErrorBody)))]
pub async fn system_stats(
    _: Admin,
    State(state): State<AppState>,
) -> ApiResult<Json<SystemStatsView>> {
    Ok(Json(collect(&state).await?))
}

/// Everything the endpoint and `/metrics` report.
pub async fn collect(state: &AppState) -> ApiResult<SystemStatsView> {
    let machine = {
        let state = state.clone();
        tokio::task::spawn_blocking(move || state.monitor.machine(&state.config.data_dir))
            .await
            .map_err(|e| {
                crate::error::ApiError::new(
                    garmax_core::ErrorCode::Io,
                    format!("reading the system's statistics failed: {e}"),
                )
            })?
    };
    let q = state.store.queue_stats().await?;
    let by_kind = state
        .store
        .queue_backlog()
        .await?
        .into_iter()
        .map(|b| KindBacklogView {
            kind: b.kind,
            queued: b.queued,
            oldest_ready_seconds: b.oldest_ready_ms as f64 / 1000.0,
        })
        .collect();
    let workers = state
        .store
        .running_by_worker()
        .await?
        .into_iter()
        .map(|(worker, running)| WorkerLoadView { worker, running })
        .collect();
    Ok(SystemStatsView {
        timestamp: crate::views::rfc3339(garmax_store::now_ms()),
        machine,
        queue: QueueStatsView {
            queued: q.queued,
            running: q.running,
            failed: q.failed,
            oldest_queued_seconds: q.oldest_queued_ms as f64 / 1000.0,
            by_kind,
        },
        workers,
        api: state.monitor.api_stats(),
    })
}
