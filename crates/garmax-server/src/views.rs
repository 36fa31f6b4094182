//! The API's JSON shapes, made from the store's rows. Only this crate knows
//! them (see docs/api/README.md).

use garmax_core::session::SessionStatus;
use garmax_store::avatars::{Avatar, AvatarStatus};
use garmax_store::garments::Garment;
use garmax_store::sessions::{Session, SessionEvent};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ErrorDetail;

/// RFC 3339 from epoch milliseconds.
pub fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 → (year, month, day), Howard Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn detail(e: &Option<(String, String)>) -> Option<ErrorDetail> {
    e.as_ref().map(|(code, message)| ErrorDetail {
        code: code.clone(),
        message: message.clone(),
        details: None,
    })
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MeView {
    pub id: String,
    pub name: String,
    /// `user` or `admin`.
    pub role: String,
    pub plan: String,
    pub credits: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AvatarView {
    pub id: String,
    /// `processing`, `ready` or `failed`.
    pub status: String,
    pub error: Option<ErrorDetail>,
    pub created_at: String,
    pub updated_at: String,
    /// Files under `/api/avatars/{id}/files/{name}`.
    pub files: Vec<String>,
}

impl From<&Avatar> for AvatarView {
    fn from(a: &Avatar) -> AvatarView {
        AvatarView {
            id: a.id.clone(),
            status: a.status.as_str().into(),
            error: detail(&a.error),
            created_at: rfc3339(a.created_at),
            updated_at: rfc3339(a.updated_at),
            files: if a.status == AvatarStatus::Ready {
                a.files.clone()
            } else {
                vec!["photo".into()]
            },
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GarmentView {
    pub id: String,
    pub created_at: String,
    /// The garment analysis (`garmax analyze --json`).
    #[schema(value_type = Object)]
    pub analysis: serde_json::Value,
    pub image_url: String,
}

impl From<&Garment> for GarmentView {
    fn from(g: &Garment) -> GarmentView {
        GarmentView {
            id: g.id.clone(),
            created_at: rfc3339(g.created_at),
            analysis: g.analysis.clone(),
            image_url: format!("/api/garments/{}/image", g.id),
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    pub session_id: String,
    pub avatar_id: String,
    pub garment_id: String,
    pub quality: String,
    pub tier: String,
    pub status: String,
    pub stage: String,
    pub progress: i64,
    pub message: String,
    /// Seconds left, estimated from recent runs of the remaining stages.
    pub estimated_time: Option<f64>,
    #[schema(value_type = Option<Object>)]
    pub validation: Option<serde_json::Value>,
    pub attempts: i64,
    pub preview_url: Option<String>,
    pub result_url: Option<String>,
    pub error: Option<ErrorDetail>,
    pub created_at: String,
    pub updated_at: String,
    pub auto_confirm_at: Option<String>,
    /// Every provider call behind the renders, in order (in the answer of
    /// `GET /api/tryon/sessions/{id}`; listings leave it out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_attempts: Option<Vec<ProviderAttemptView>>,
    /// The user's rating of the result, 1–5 (in the answer of
    /// `GET /api/tryon/sessions/{id}`: `null` until rated; listings leave
    /// it out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rating: Option<Option<i64>>,
    /// What the session did with its credits.
    pub credits: SessionCreditsView,
}

/// One provider call (or skip) of a session's renders.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ProviderAttemptView {
    /// Which render of the retry loop, from 1.
    pub render: i64,
    pub provider: String,
    /// `success`, `failed` or `skipped` (breaker open, over budget).
    pub outcome: String,
    /// `retryable`, `safety_blocked`, `invalid_input`, `auth`, `quota`, `permanent`.
    pub error_class: Option<String>,
    pub code: Option<String>,
    pub message: Option<String>,
    pub latency_ms: f64,
    pub cost_usd: f64,
}

impl From<&garmax_store::usage::AttemptRecord> for ProviderAttemptView {
    fn from(a: &garmax_store::usage::AttemptRecord) -> ProviderAttemptView {
        ProviderAttemptView {
            render: a.render,
            provider: a.provider.clone(),
            outcome: a.outcome.clone(),
            error_class: a.error_class.clone(),
            code: a.code.clone(),
            message: a.message.clone(),
            latency_ms: a.latency_ms,
            cost_usd: a.cost_usd,
        }
    }
}

/// A session's credits: `held` while it runs, then either `captured`
/// (charged at confirm), `released` (given back at failure, reject or
/// cancel) or `refunded` (a charge given back within the refund window).
#[derive(Serialize, ToSchema, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SessionCreditsView {
    /// The price of the session, held at creation.
    pub cost: i64,
    pub held: i64,
    pub captured: i64,
    pub released: i64,
    pub refunded: i64,
    pub charged_at: Option<String>,
    pub refunded_at: Option<String>,
    /// Until when a cancel refunds the charge.
    pub refundable_until: Option<String>,
}

impl From<&Session> for SessionCreditsView {
    fn from(s: &Session) -> SessionCreditsView {
        let c = s.credits();
        SessionCreditsView {
            cost: s.credits_held,
            held: c.held,
            captured: c.captured,
            released: c.released,
            refunded: c.refunded,
            charged_at: s.charged_at.map(rfc3339),
            refunded_at: s.refunded_at.map(rfc3339),
            refundable_until: s
                .charged_at
                .filter(|_| s.refunded_at.is_none() && s.status == SessionStatus::Confirmed)
                .map(|t| rfc3339(t + garmax_core::billing::REFUND_WINDOW_MS)),
        }
    }
}

impl From<&Session> for SessionView {
    fn from(s: &Session) -> SessionView {
        SessionView {
            session_id: s.id.clone(),
            avatar_id: s.avatar_id.clone(),
            garment_id: s.garment_id.clone(),
            quality: s.quality.clone(),
            tier: s.tier.clone(),
            status: s.status.as_str().into(),
            stage: s.stage.clone(),
            progress: s.progress,
            message: s.message.clone(),
            estimated_time: s.eta_ms.map(|ms| ms as f64 / 1000.0),
            validation: s.validation.clone(),
            attempts: s.attempts,
            preview_url: s
                .has_preview
                .then(|| format!("/api/tryon/sessions/{}/preview", s.id)),
            result_url: (s.status == SessionStatus::Confirmed)
                .then(|| format!("/api/tryon/sessions/{}/result", s.id)),
            error: detail(&s.error),
            created_at: rfc3339(s.created_at),
            updated_at: rfc3339(s.updated_at),
            auto_confirm_at: s.auto_confirm_at.map(rfc3339),
            provider_attempts: None,
            rating: None,
            credits: SessionCreditsView::from(s),
        }
    }
}

/// The payload of `status-update` (socket.io and SSE).
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StatusUpdate {
    pub session_id: String,
    pub seq: i64,
    pub status: String,
    pub stage: String,
    pub progress: i64,
    pub message: String,
    pub estimated_time: Option<f64>,
    /// The render attempt this update belongs to (absent before the first).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview_url: Option<String>,
}

impl From<&SessionEvent> for StatusUpdate {
    fn from(e: &SessionEvent) -> StatusUpdate {
        StatusUpdate {
            session_id: e.session_id.clone(),
            seq: e.seq,
            status: e.status.clone(),
            stage: e.stage.clone(),
            progress: e.progress,
            message: e.message.clone(),
            estimated_time: e.eta_ms.map(|ms| ms as f64 / 1000.0),
            attempts: (e.attempt > 0).then_some(e.attempt),
            preview_url: (e.status == SessionStatus::PreviewReady.as_str())
                .then(|| format!("/api/tryon/sessions/{}/preview", e.session_id)),
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PageView<T: ToSchema> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct PageQuery {
    /// Items per page (1–100, default 20).
    pub limit: Option<u32>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Accepted {
    pub id: String,
    pub status: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionCreated {
    pub session_id: String,
}

/// The seed's session request, with ids (or URLs into this server or an
/// allow-listed host) instead of uploads.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateSession {
    pub avatar_id: Option<String>,
    pub garment_id: Option<String>,
    /// Instead of `garmentId`: an image URL on this server or an allowed host.
    pub garment_url: Option<String>,
    /// `sd`, `hd` (default) or `4k`.
    pub quality: Option<String>,
    pub preferences: Option<Preferences>,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
pub struct Preferences {
    /// `standard`, `premium` or `ultra` (default: the server's).
    pub tier: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_of_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(rfc3339(1_796_083_200_000), "2026-12-01T00:00:00.000Z");
    }
}

/// `GET /api/billing/balance`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BalanceView {
    pub balance: i64,
    /// Always `credits`.
    pub currency: String,
}

/// One ledger entry.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LedgerEntryView {
    pub id: String,
    /// `grant`, `purchase`, `hold`, `capture`, `release`, `refund` or
    /// `adjustment`.
    pub kind: String,
    /// Signed: a hold is negative, a capture zero.
    pub amount: i64,
    pub idempotency_key: String,
    /// `user:<id>`, `admin:<id>`, `system` or `stripe`.
    pub actor: String,
    pub reason: String,
    /// The session, avatar or invoice the entry is about.
    pub subject: Option<String>,
    pub created_at: String,
}

impl From<&garmax_store::credits::Entry> for LedgerEntryView {
    fn from(e: &garmax_store::credits::Entry) -> LedgerEntryView {
        LedgerEntryView {
            id: e.id.clone(),
            kind: e.kind.as_str().into(),
            amount: e.amount,
            idempotency_key: e.idempotency_key.clone(),
            actor: e.actor.clone(),
            reason: e.reason.clone(),
            subject: e.subject.clone(),
            created_at: rfc3339(e.created_at),
        }
    }
}

/// `GET /api/billing/plan`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanView {
    /// The plan in force now: `free`, `studio` or `pro`.
    pub plan: String,
    /// Set when a cancelled subscription ends: the plan is `free` after it.
    pub plan_ends_at: Option<String>,
    /// The current billing period the monthly quotas count in.
    pub period_start: String,
    pub period_end: String,
    pub limits: PlanLimitsView,
    pub usage: PlanUsageView,
    pub balance: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanLimitsView {
    pub avatars_per_month: i64,
    pub tryons_per_month: i64,
    /// Credits granted when the plan's monthly invoice is paid.
    pub monthly_credits: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanUsageView {
    pub avatars: i64,
    pub tryons: i64,
}

/// `POST /api/billing/checkout`.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CheckoutRequest {
    /// The plan to subscribe to (`studio`, `pro`): one with a Stripe price.
    pub plan: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckoutView {
    /// The Checkout Session's id (`cs_…`).
    pub id: String,
    /// Where to send the shopper.
    pub url: Option<String>,
}

/// The webhook's answer.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookAck {
    pub received: bool,
    /// `applied`, `duplicate` (event id seen before), `stale` (older than
    /// what was applied) or `ignored`.
    pub result: String,
}

/// `POST /api/admin/credits`.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AdminCreditRequest {
    pub user_id: Option<String>,
    pub user_name: Option<String>,
    /// `grant` (default, positive) or `adjustment` (either sign; may not
    /// take the balance below zero).
    pub kind: Option<String>,
    pub amount: i64,
    pub reason: String,
    /// Makes a retried request apply once.
    pub idempotency_key: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdminCreditView {
    pub user_id: String,
    /// False when the idempotency key was used before (nothing applied).
    pub applied: bool,
    pub balance: i64,
}

/// `GET /api/admin/system-stats`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SystemStatsView {
    pub timestamp: String,
    #[serde(flatten)]
    pub machine: crate::system::MachineStats,
    pub queue: QueueStatsView,
    /// Jobs running now per worker (lease holder), busiest first.
    pub workers: Vec<WorkerLoadView>,
    /// This process's API requests of the last `windowSeconds`.
    pub api: crate::system::ApiStats,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueueStatsView {
    pub queued: i64,
    pub running: i64,
    pub failed: i64,
    pub oldest_queued_seconds: f64,
    pub by_kind: Vec<KindBacklogView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KindBacklogView {
    pub kind: String,
    pub queued: i64,
    /// Age of the oldest job of this kind that may run now.
    pub oldest_ready_seconds: f64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkerLoadView {
    pub worker: String,
    pub running: i64,
}
