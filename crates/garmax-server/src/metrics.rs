//! Prometheus metrics: one recorder per process, requests and latencies per
//! route (middleware), queue depth and age and sessions by status (read at
//! scrape time), stage durations and job outcomes (recorded by workers).

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::state::AppState;

/// The process's recorder (installed on first use).
pub fn handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Another recorder already installed (a test harness) keeps
            // its own; ours then only renders what it saw.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// Counts and times every request by its route template (never the raw
/// path, which would let clients create unbounded label values).
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let start = Instant::now();
    let response = next.run(req).await;
    let elapsed = start.elapsed();
    let status = response.status().as_u16();
    let code = response
        .extensions()
        .get::<garmax_core::ErrorCode>()
        .map(|c| c.as_str());
    state.monitor.record_request(elapsed, status, code);
    if let Some(code) = code {
        metrics::counter!("garmax_api_errors_total", "code" => code).increment(1);
    }
    let labels = [
        ("method", method),
        ("route", route),
        ("status", status.to_string()),
    ];
    metrics::counter!("garmax_http_requests_total", &labels).increment(1);
    metrics::histogram!("garmax_http_request_duration_seconds", &labels)
        .record(elapsed.as_secs_f64());
    response
}

/// Per provider: calls by outcome, call latency and USD spent
/// (`garmax_provider_requests_total{provider,outcome}`,
/// `garmax_provider_request_duration_seconds{provider}`,
/// `garmax_provider_spend_micro_usd_total{provider}`). Skips (breaker open,
/// budget) are counted, not timed.
pub fn provider_attempts(attempts: &[garmax_render::ProviderAttempt]) {
    for a in attempts {
        let provider = a.provider.clone();
        metrics::counter!(
            "garmax_provider_requests_total",
            "provider" => provider.clone(),
            "outcome" => a.outcome.clone()
        )
        .increment(1);
        if a.outcome != "skipped" {
            metrics::histogram!("garmax_provider_request_duration_seconds", "provider" => provider.clone())
                .record(a.latency_ms / 1000.0);
        }
        if a.cost_usd > 0.0 {
            // Counters are integers: spend is counted in micro-USD.
            metrics::counter!("garmax_provider_spend_micro_usd_total", "provider" => provider)
                .increment((a.cost_usd * 1e6).round() as u64);
        }
    }
}

/// The numbers of `GET /api/admin/system-stats` as gauges.
fn export_system(s: &crate::views::SystemStatsView) {
    let m = &s.machine;
    metrics::gauge!("garmax_process_cpu_percent").set(m.process.cpu_percent);
    metrics::gauge!("garmax_process_memory_bytes").set(m.process.memory_bytes as f64);
    metrics::gauge!("garmax_host_cpu_percent").set(m.host.cpu_percent);
    metrics::gauge!("garmax_host_memory_used_percent").set(m.host.memory_percent);
    if let Some(d) = &m.disk {
        metrics::gauge!("garmax_data_disk_used_percent").set(d.used_percent);
    }
    for k in &s.queue.by_kind {
        metrics::gauge!("garmax_queue_backlog", "kind" => k.kind.clone()).set(k.queued as f64);
        metrics::gauge!("garmax_queue_backlog_oldest_seconds", "kind" => k.kind.clone())
            .set(k.oldest_ready_seconds);
    }
    for w in &s.workers {
        metrics::gauge!("garmax_worker_running_jobs", "worker" => w.worker.clone())
            .set(w.running as f64);
    }
    for (q, v) in [
        ("0.5", s.api.p50_ms),
        ("0.95", s.api.p95_ms),
        ("0.99", s.api.p99_ms),
    ] {
        metrics::gauge!("garmax_api_response_ms", "quantile" => q).set(v);
    }
    metrics::gauge!("garmax_api_server_error_rate").set(s.api.server_error_rate);
}

/// `GET /metrics`.
pub async fn render(State(state): State<AppState>) -> Response {
    if let Ok(q) = state.store.queue_stats().await {
        metrics::gauge!("garmax_queue_jobs", "status" => "queued").set(q.queued as f64);
        metrics::gauge!("garmax_queue_jobs", "status" => "running").set(q.running as f64);
        metrics::gauge!("garmax_queue_jobs", "status" => "failed").set(q.failed as f64);
        metrics::gauge!("garmax_queue_jobs", "status" => "done").set(q.done as f64);
        metrics::gauge!("garmax_queue_oldest_queued_seconds")
            .set(q.oldest_queued_ms as f64 / 1000.0);
    }
    for p in state.router.status().await {
        let open = p.breaker != garmax_providers::BreakerState::Closed;
        metrics::gauge!("garmax_provider_spend_today_usd", "provider" => p.name.clone())
            .set(p.spend_today.spent_usd);
        metrics::gauge!("garmax_provider_breaker_open", "provider" => p.name).set(if open {
            1.0
        } else {
            0.0
        });
    }
    if let Ok(stats) = crate::routes::system::collect(&state).await {
        export_system(&stats);
    }
    if let Ok(firing) = state.store.firing_alerts().await {
        for kind in garmax_core::alerts::AlertKind::ALL {
            let n = firing.iter().filter(|a| a.kind == kind.as_str()).count();
            metrics::gauge!("garmax_alerts_firing", "type" => kind.as_str()).set(n as f64);
        }
    }
    if let Ok(counts) = state.store.session_counts().await {
        for (status, n) in counts {
            metrics::gauge!("garmax_sessions", "status" => status).set(n as f64);
        }
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        state.metrics.render(),
    )
        .into_response()
}
