//! Billing: the caller's balance, ledger and plan; Stripe Checkout and
//! Stripe's webhook; the admin's grants and adjustments.
//!
//! The webhook is the one API route without a bearer key: its
//! `Stripe-Signature` over the raw body is its authentication, checked
//! (`garmax_providers::stripe::verify_signature`) before the body is parsed.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use garmax_core::{Coded as _, ErrorCode};
use garmax_providers::stripe;
use garmax_store::billing::{Applied, InvoicePaid, SubscriptionChange};
use garmax_store::credits::{EntryKind, NewEntry};
use garmax_store::now_ms;
use serde_json::Value;

use crate::auth::{Admin, Caller};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::views::{
    AdminCreditRequest, AdminCreditView, BalanceView, CheckoutRequest, CheckoutView,
    LedgerEntryView, PageQuery, PageView, PlanLimitsView, PlanUsageView, PlanView, WebhookAck,
    rfc3339,
};

/// The caller's credits.
#[utoipa::path(get, path = "/api/billing/balance", security(("bearer" = [])),
    responses((status = 200, body = BalanceView), (status = 401, body = crate::error::ErrorBody)))]
pub async fn balance(
    Caller(user): Caller,
    State(state): State<AppState>,
) -> ApiResult<Json<BalanceView>> {
    let balance = state.store.balance(&user.id).await?;
    Ok(Json(BalanceView {
        balance,
        currency: "credits".into(),
    }))
}

/// The caller's ledger entries, newest first.
#[utoipa::path(get, path = "/api/billing/ledger", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = PageView<LedgerEntryView>), (status = 400, body = crate::error::ErrorBody)))]
pub async fn ledger(
    Caller(user): Caller,
    State(state): State<AppState>,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<PageView<LedgerEntryView>>> {
    let page = state
        .store
        .ledger(&user.id, q.limit, q.cursor.as_deref())
        .await?;
    Ok(Json(PageView {
        items: page.items.iter().map(LedgerEntryView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// The caller's plan, its limits and what was used this billing period.
#[utoipa::path(get, path = "/api/billing/plan", security(("bearer" = [])),
    responses((status = 200, body = PlanView)))]
pub async fn plan(
    Caller(user): Caller,
    State(state): State<AppState>,
) -> ApiResult<Json<PlanView>> {
    let now = now_ms();
    let account = state.store.account(&user.id).await?;
    let plan = account.plan_at(now).to_string();
    let limits = state.config.billing.limits(&plan);
    let window = account.window_at(now);
    let usage = state.store.usage(&user.id, window).await?;
    Ok(Json(PlanView {
        plan,
        plan_ends_at: account.plan_ends_at.filter(|t| *t > now).map(rfc3339),
        period_start: rfc3339(window.0),
        period_end: rfc3339(window.1),
        limits: PlanLimitsView {
            avatars_per_month: limits.avatars_per_month,
            tryons_per_month: limits.tryons_per_month,
            monthly_credits: limits.monthly_credits,
        },
        usage: PlanUsageView {
            avatars: usage.avatars,
            tryons: usage.tryons,
        },
        balance: state.store.balance(&user.id).await?,
    }))
}

/// The caller's quota of avatars or try-ons this period, from their plan.
pub async fn quota(state: &AppState, user_id: &str, avatars: bool) -> ApiResult<i64> {
    let account = state.store.account(user_id).await?;
    let limits = state.config.billing.limits(account.plan_at(now_ms()));
    Ok(if avatars {
        limits.avatars_per_month
    } else {
        limits.tryons_per_month
    })
}

/// Start a Stripe Checkout for a plan's subscription; answers the URL to
/// send the shopper to. An `Idempotency-Key` header is passed on to Stripe.
#[utoipa::path(post, path = "/api/billing/checkout", security(("bearer" = [])), request_body = CheckoutRequest,
    responses((status = 201, body = CheckoutView), (status = 400, body = crate::error::ErrorBody),
        (status = 502, body = crate::error::ErrorBody)))]
pub async fn checkout(
    Caller(user): Caller,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<CheckoutRequest>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<(StatusCode, Json<CheckoutView>)> {
    let Json(req) = body.map_err(ApiError::from)?;
    let billing = &state.config.billing;
    let price = billing.price_of_plan(&req.plan).ok_or_else(|| {
        ApiError::bad_request(format!(
            "plan '{}' cannot be bought (no Stripe price)",
            req.plan
        ))
    })?;
    let key = billing.stripe_secret_key.clone().unwrap_or_default();
    let client = stripe::StripeClient::new(&billing.stripe_api_base, &key)
        .map_err(|e| ApiError::new(e.code(), e.to_string()))?;
    let account = state.store.account(&user.id).await?;
    let idempotency_key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 200)
        .map(|v| format!("{}:{v}", user.id))
        .unwrap_or_else(garmax_store::new_id);
    let session = client
        .create_checkout_session(&stripe::CheckoutRequest {
            price_id: price,
            user_id: &user.id,
            customer_id: account.stripe_customer_id.as_deref(),
            success_url: &billing.checkout_success_url,
            cancel_url: &billing.checkout_cancel_url,
            idempotency_key: &idempotency_key,
        })
        .await
        .map_err(|e| ApiError::new(e.code(), e.to_string()))?;
    if let (Some(c), None) = (&session.customer, &account.stripe_customer_id) {
        state.store.set_stripe_customer(&user.id, c).await?;
    }
    Ok((
        StatusCode::CREATED,
        Json(CheckoutView {
            id: session.id,
            url: session.url,
        }),
    ))
}

/// Stripe's webhook: verified by `Stripe-Signature`, applied once per
/// event id, in order per subscription; unknown events are acknowledged.
#[utoipa::path(post, path = "/api/billing/stripe/webhook",
    request_body(content_type = "application/json", description = "a Stripe event, as Stripe sends it"),
    responses((status = 200, body = WebhookAck), (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<WebhookAck>> {
    let billing = &state.config.billing;
    let header = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    stripe::verify_signature(
        &body,
        header,
        &billing.stripe_webhook_secrets,
        billing.stripe_tolerance_secs,
        now_ms() / 1000,
    )
    .map_err(|e| ApiError::new(e.code(), e.to_string()))?;
    let event: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("the event is not JSON: {e}")))?;
    let id = str_at(&event, "/id").ok_or_else(|| ApiError::bad_request("the event has no id"))?;
    let kind = str_at(&event, "/type").unwrap_or("");
    let created = event.get("created").and_then(Value::as_i64).unwrap_or(0);
    let object = event
        .pointer("/data/object")
        .cloned()
        .unwrap_or(Value::Null);
    let result = match kind {
        "customer.subscription.created"
        | "customer.subscription.updated"
        | "customer.subscription.deleted" => {
            apply_subscription(&state, id, kind, created, &object).await?
        }
        "invoice.payment_succeeded" | "invoice.paid" => {
            apply_invoice(&state, id, kind, created, &object).await?
        }
        _ => state.store.ignore_stripe_event(id, kind, created).await?,
    };
    Ok(Json(WebhookAck {
        received: true,
        result: match result {
            Applied::Applied => "applied",
            Applied::Duplicate => "duplicate",
            Applied::Stale => "stale",
            Applied::Ignored => "ignored",
        }
        .into(),
    }))
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

fn i64_at(v: &Value, pointers: &[&str]) -> i64 {
    pointers
        .iter()
        .find_map(|p| v.pointer(p).and_then(Value::as_i64))
        .unwrap_or(0)
}

/// A user the event could not be matched to yet: answered 404, not
/// recorded, so Stripe's retry applies it once the customer is known.
fn unmatched(e: garmax_store::StoreError) -> ApiError {
    match e {
        garmax_store::StoreError::NotFound => ApiError::new(
            ErrorCode::NotFound,
            "no user for this Stripe customer (yet); the event was not applied",
        ),
        other => other.into(),
    }
}

async fn apply_subscription(
    state: &AppState,
    id: &str,
    kind: &str,
    created: i64,
    sub: &Value,
) -> ApiResult<Applied> {
    let price = str_at(sub, "/items/data/0/price/id")
        .or_else(|| str_at(sub, "/plan/id"))
        .unwrap_or("");
    let change = SubscriptionChange {
        event_id: id,
        event_type: kind,
        event_created: created,
        subscription_id: str_at(sub, "/id")
            .ok_or_else(|| ApiError::bad_request("the subscription has no id"))?,
        customer_id: str_at(sub, "/customer").unwrap_or(""),
        user_id: str_at(sub, "/metadata/user_id"),
        price_id: price,
        plan: state.config.billing.plan_of_price(price),
        status: str_at(sub, "/status").unwrap_or(""),
        // Older API versions carry the period on the subscription, newer
        // ones on its items.
        current_period_start: i64_at(
            sub,
            &[
                "/current_period_start",
                "/items/data/0/current_period_start",
            ],
        ),
        current_period_end: i64_at(
            sub,
            &["/current_period_end", "/items/data/0/current_period_end"],
        ),
        deleted: kind == "customer.subscription.deleted",
    };
    state
        .store
        .apply_subscription(&change)
        .await
        .map_err(unmatched)
}

async fn apply_invoice(
    state: &AppState,
    id: &str,
    kind: &str,
    created: i64,
    invoice: &Value,
) -> ApiResult<Applied> {
    let price = str_at(invoice, "/lines/data/0/price/id")
        .or_else(|| str_at(invoice, "/lines/data/0/pricing/price_details/price"))
        .unwrap_or("");
    let billing = &state.config.billing;
    let credits = billing
        .plan_of_price(price)
        .map(|plan| billing.limits(plan).monthly_credits)
        .unwrap_or(0);
    let user_id = str_at(invoice, "/parent/subscription_details/metadata/user_id")
        .or_else(|| str_at(invoice, "/subscription_details/metadata/user_id"))
        .or_else(|| str_at(invoice, "/metadata/user_id"));
    let paid = InvoicePaid {
        event_id: id,
        event_type: kind,
        event_created: created,
        invoice_id: str_at(invoice, "/id")
            .ok_or_else(|| ApiError::bad_request("the invoice has no id"))?,
        customer_id: str_at(invoice, "/customer").unwrap_or(""),
        user_id,
        credits,
    };
    state
        .store
        .apply_invoice_paid(&paid)
        .await
        .map_err(unmatched)
}

/// Grant credits to a user, or adjust their balance (admin); `reason` is
/// required, `idempotencyKey` makes a retried request apply once.
#[utoipa::path(post, path = "/api/admin/credits", security(("bearer" = [])), request_body = AdminCreditRequest,
    responses((status = 201, body = AdminCreditView), (status = 200, body = AdminCreditView, description = "the key was used before: nothing applied"),
        (status = 402, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn admin_credits(
    Admin(admin): Admin,
    State(state): State<AppState>,
    body: Result<Json<AdminCreditRequest>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<(StatusCode, Json<AdminCreditView>)> {
    let Json(req) = body.map_err(ApiError::from)?;
    let kind = match req.kind.as_deref().unwrap_or("grant") {
        "grant" => EntryKind::Grant,
        "adjustment" => EntryKind::Adjustment,
        other => {
            return Err(ApiError::bad_request(format!(
                "kind '{other}' is not grant or adjustment"
            )));
        }
    };
    let user = match (&req.user_id, &req.user_name) {
        (Some(id), None) => state.store.user(id).await?,
        (None, Some(name)) => state.store.user_by_name(name).await?,
        _ => {
            return Err(ApiError::bad_request(
                "give exactly one of userId and userName",
            ));
        }
    };
    let key = req
        .idempotency_key
        .clone()
        .unwrap_or_else(garmax_store::new_id);
    let key = format!("admin:{key}");
    let actor = format!("admin:{}", admin.id);
    let applied = state
        .store
        .add_entry(&NewEntry {
            user_id: &user.id,
            kind,
            amount: req.amount,
            idempotency_key: &key,
            actor: &actor,
            reason: &req.reason,
            subject: None,
        })
        .await?;
    let balance = state.store.balance(&user.id).await?;
    let status = if applied {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(AdminCreditView {
            user_id: user.id,
            applied,
            balance,
        }),
    ))
}
