//! The seed's alerts, evaluated in the background of every `serve`
//! process: each one records its host's CPU and memory; the one holding the
//! `alerts` lease in the database (three evaluation periods long, renewed on
//! every evaluation) checks the quality, cost and every host against the
//! rules, opens or resolves alerts through the store (which queues the
//! notifications in the same transaction, and never opens a second firing
//! alert of one kind and subject) and delivers the queued notifications
//! with retries. N servers: one evaluator, one notification per event.

use std::collections::BTreeMap;
use std::time::Duration;

use garmax_core::alerts::{AlertKind, Check, Transition, transition};
use garmax_providers::notify::{Email, Notifier, NotifyError};
use garmax_store::StoreError;
use garmax_store::alerts::{Alert, Delivery, HostHealth, NewAlert, Recipient};
use serde_json::json;

use crate::config::AlertsConfig;
use crate::state::AppState;

/// The lease the evaluating process holds.
pub const LEASE: &str = "alerts";
const DAY_MS: i64 = 86_400_000;

/// What one evaluation did (for logs and tests).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Evaluation {
    /// Whether this process held the lease and evaluated.
    pub evaluated: bool,
    pub fired: Vec<String>,
    pub resolved: Vec<String>,
    pub delivered: usize,
    pub failed: usize,
}

/// Runs evaluations every `evaluate_every_secs` until `stop` is notified.
pub async fn run(state: AppState, stop: std::sync::Arc<tokio::sync::Notify>) {
    let cfg = state.config.alerts.clone();
    if !cfg.enabled {
        return;
    }
    let notifier = match Notifier::new(
        cfg.smtp_url.as_deref(),
        &cfg.email_from,
        Duration::from_secs(10),
    ) {
        Ok(n) => n,
        Err(e) => {
            tracing::error!(error = %e, "alerts are off: their notifier cannot be built");
            return;
        }
    };
    let holder = format!(
        "{}:{}:{}",
        crate::system::host_name(),
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    );
    let mut tick = tokio::time::interval(Duration::from_secs(cfg.evaluate_every_secs));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = stop.notified() => break,
        }
        match evaluate_once(&state, &notifier, &holder).await {
            Ok(e) if !e.fired.is_empty() || !e.resolved.is_empty() || e.failed > 0 => {
                tracing::info!(fired = ?e.fired, resolved = ?e.resolved, delivered = e.delivered,
                    failed = e.failed, "alerts evaluated");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "alert evaluation failed; retrying next period"),
        }
    }
    let _ = state.store.release_lease(LEASE, &holder).await;
}

/// One period: report this host, then (lease holder only) check, change
/// state and deliver.
pub async fn evaluate_once(
    state: &AppState,
    notifier: &Notifier,
    holder: &str,
) -> Result<Evaluation, StoreError> {
    let cfg = &state.config.alerts;
    let period_ms = cfg.evaluate_every_secs as i64 * 1000;
    report_host(state).await?;
    let now = garmax_store::now_ms();
    if !state
        .store
        .try_lease(LEASE, holder, 3 * period_ms, now)
        .await?
    {
        return Ok(Evaluation::default());
    }
    let mut out = Evaluation {
        evaluated: true,
        ..Evaluation::default()
    };
    let hosts = state.store.host_health().await?;
    let checks = checks(state, &hosts, now, period_ms).await?;
    apply(state, notifier, &checks, &hosts, now, period_ms, &mut out).await?;
    deliver_due(state, notifier, now, &mut out).await?;
    Ok(out)
}

/// This host's CPU and memory, read now.
async fn report_host(state: &AppState) -> Result<(), StoreError> {
    let s = state.clone();
    let machine = tokio::task::spawn_blocking(move || s.monitor.machine(&s.config.data_dir))
        .await
        .map_err(|e| StoreError::Invalid(format!("reading the host's statistics: {e}")))?;
    state
        .store
        .report_host_health(&HostHealth {
            host: crate::system::host_name(),
            cpu_percent: machine.host.cpu_percent,
            memory_percent: machine.host.memory_percent,
            updated_at: garmax_store::now_ms(),
        })
        .await
}

/// A host whose last reading is older than this is no longer judged.
fn stale_after(period_ms: i64) -> i64 {
    3 * period_ms
}

/// Every rule's check now: quality over its window, today's spend, and
/// each host that reported recently.
async fn checks(
    state: &AppState,
    hosts: &[HostHealth],
    now: i64,
    period_ms: i64,
) -> Result<Vec<Check>, StoreError> {
    let cfg = &state.config.alerts;
    let (mean, samples) = state
        .store
        .quality_since(now - cfg.quality_drop.time_window_ms)
        .await?;
    let spend = state
        .store
        .cost_since(now.div_euclid(DAY_MS) * DAY_MS)
        .await?;
    let mut out = vec![
        cfg.quality_drop.check(mean, samples),
        cfg.high_cost.check(spend),
    ];
    out.extend(
        hosts
            .iter()
            .filter(|h| now - h.updated_at <= stale_after(period_ms))
            .map(|h| {
                cfg.system_health
                    .check(&h.host, h.cpu_percent, h.memory_percent)
            }),
    );
    Ok(out)
}

/// Opens and resolves alerts as the checks say; a host gone quiet has its
/// firing alert resolved (nobody can tell whether it recovered).
async fn apply(
    state: &AppState,
    notifier: &Notifier,
    checks: &[Check],
    hosts: &[HostHealth],
    now: i64,
    period_ms: i64,
    out: &mut Evaluation,
) -> Result<(), StoreError> {
    let cfg = &state.config.alerts;
    let firing: BTreeMap<(String, String), Alert> = state
        .store
        .firing_alerts()
        .await?
        .into_iter()
        .map(|a| ((a.kind.clone(), a.subject.clone()), a))
        .collect();
    for c in checks {
        let key = (c.kind.as_str().to_string(), c.subject.clone());
        let current = firing.get(&key);
        let to = recipients(cfg, notifier, c.kind);
        match transition(current.is_some(), c.breached) {
            Transition::Fire => {
                let opened = state
                    .store
                    .open_alert(
                        &NewAlert {
                            kind: c.kind.as_str(),
                            subject: &c.subject,
                            severity: c.kind.severity().as_str(),
                            message: &c.message,
                            value: c.value,
                            threshold: c.threshold,
                        },
                        &to,
                        now,
                    )
                    .await?;
                if opened.is_some() {
                    out.fired.push(format!("{}:{}", key.0, key.1));
                }
            }
            Transition::Resolve => {
                if let Some(a) = current
                    && state
                        .store
                        .resolve_alert(&a.id, &c.message, &to, now)
                        .await?
                {
                    out.resolved.push(format!("{}:{}", key.0, key.1));
                }
            }
            Transition::Hold => {}
        }
    }
    let fresh = |host: &str| {
        hosts
            .iter()
            .any(|h| h.host == host && now - h.updated_at <= stale_after(period_ms))
    };
    for a in firing.values() {
        if a.kind == AlertKind::SystemHealth.as_str() && !fresh(&a.subject) {
            let to = recipients(cfg, notifier, AlertKind::SystemHealth);
            let message = format!("Host {} stopped reporting; its alert is closed", a.subject);
            if state.store.resolve_alert(&a.id, &message, &to, now).await? {
                out.resolved.push(format!("{}:{}", a.kind, a.subject));
            }
        }
    }
    Ok(())
}

/// Every webhook, and the rule's email recipients when email is set up.
fn recipients(cfg: &AlertsConfig, notifier: &Notifier, kind: AlertKind) -> Vec<Recipient> {
    let emails = match kind {
        AlertKind::QualityDrop => &cfg.quality_drop.recipients,
        AlertKind::HighCost => &cfg.high_cost.recipients,
        AlertKind::SystemHealth => &cfg.system_health.recipients,
    };
    let webhooks = cfg.webhooks.iter().map(|w| Recipient {
        channel: "webhook".into(),
        target: w.url.clone(),
    });
    let emails = emails
        .iter()
        .filter(|_| notifier.has_email())
        .map(|e| Recipient {
            channel: "email".into(),
            target: e.clone(),
        });
    webhooks.chain(emails).collect()
}

/// Sends the queued notifications that are due; a failure waits
/// 5 s · 2^attempts (at most 10 min) before the next try.
async fn deliver_due(
    state: &AppState,
    notifier: &Notifier,
    now: i64,
    out: &mut Evaluation,
) -> Result<(), StoreError> {
    let cfg = &state.config.alerts;
    for (d, alert) in state
        .store
        .due_deliveries(now, cfg.delivery_attempts, 100)
        .await?
    {
        match send(cfg, notifier, &d, &alert, now).await {
            Ok(()) => {
                if state
                    .store
                    .mark_delivered(&d.id, garmax_store::now_ms())
                    .await?
                {
                    out.delivered += 1;
                }
            }
            Err(e) => {
                out.failed += 1;
                let wait = (5_000i64 << d.attempts.clamp(0, 20)).min(600_000);
                tracing::warn!(channel = %d.channel, target = %d.target, error = %e,
                    "alert notification failed");
                state
                    .store
                    .delivery_failed(&d.id, &e.to_string(), now + wait)
                    .await?;
            }
        }
    }
    Ok(())
}

async fn send(
    cfg: &AlertsConfig,
    notifier: &Notifier,
    d: &Delivery,
    alert: &Alert,
    now: i64,
) -> Result<(), NotifyError> {
    match d.channel.as_str() {
        "webhook" => {
            let secret = cfg
                .webhooks
                .iter()
                .find(|w| w.url == d.target)
                .and_then(|w| w.secret.as_deref());
            let body = webhook_body(alert, &d.event);
            notifier
                .post_webhook(&d.target, secret, body, now.div_euclid(1000))
                .await
        }
        "email" => {
            notifier
                .send_email(&email(alert, &d.event, &d.target))
                .await
        }
        other => Err(NotifyError::Config(format!("unknown channel '{other}'"))),
    }
}

/// The JSON a webhook receives: the alert as `GET /api/admin/alerts`
/// shows it, plus which event this is.
pub fn webhook_body(alert: &Alert, event: &str) -> Vec<u8> {
    let mut v = alert_json(alert);
    v["event"] = json!(event);
    serde_json::to_vec(&v).unwrap_or_default()
}

/// An alert in the API's shape (camelCase, RFC 3339 times).
pub fn alert_json(a: &Alert) -> serde_json::Value {
    json!({
        "id": a.id,
        "type": a.kind,
        "subject": a.subject,
        "state": a.state,
        "severity": a.severity,
        "message": a.message,
        "value": a.value,
        "threshold": a.threshold,
        "firedAt": crate::views::rfc3339(a.fired_at),
        "resolvedAt": a.resolved_at.map(crate::views::rfc3339),
        "resolvedMessage": a.resolved_message,
    })
}

fn email(alert: &Alert, event: &str, to: &str) -> Email {
    let state = if event == "resolved" {
        "RESOLVED"
    } else {
        "FIRING"
    };
    let mut text = format!(
        "{state}: {} ({}, {})\n\n{}\n\nFired at {}",
        alert.kind,
        alert.subject,
        alert.severity,
        alert.message,
        crate::views::rfc3339(alert.fired_at)
    );
    if let (Some(at), Some(m)) = (alert.resolved_at, &alert.resolved_message) {
        text.push_str(&format!("\nResolved at {}: {m}", crate::views::rfc3339(at)));
    }
    text.push_str("\n\nThe alerts: GET /api/admin/alerts (admin dashboard: /admin/dashboard)\n");
    Email {
        to: vec![to.to_string()],
        subject: format!("[garmax] {state} {}: {}", alert.kind, alert.message),
        text,
    }
}
