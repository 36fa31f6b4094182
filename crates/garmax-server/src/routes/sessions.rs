//! Try-on sessions: create, read, confirm / reject / cancel, download.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use garmax_core::ErrorCode;
use garmax_core::session::SessionAction;
use garmax_store::objects::{ObjectKey, Owner};
use garmax_store::queue::NewJob;
use garmax_store::sessions::{NewSession, Outcome};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::routes::avatars::serve_object;
use crate::state::AppState;
use crate::views::{CreateSession, PageQuery, PageView, SessionCreated, SessionView};
use crate::worker::jobs;
use garmax_providers::fetch as remote;

const QUALITIES: [&str; 3] = ["sd", "hd", "4k"];
const TIERS: [&str; 3] = ["standard", "premium", "ultra"];

/// The seed's priority: ultra before premium before standard.
pub fn tier_priority(tier: &str) -> i64 {
    match tier {
        "ultra" => 3,
        "premium" => 2,
        _ => 1,
    }
}

/// Start a try-on of an avatar in a garment.
#[utoipa::path(post, path = "/api/tryon/sessions", security(("bearer" = [])), request_body = CreateSession,
    responses((status = 202, body = SessionCreated), (status = 402, body = crate::error::ErrorBody, description = "PAY_030 Insufficient credits, with the shortfall"),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody),
        (status = 429, body = crate::error::ErrorBody, description = "QUO_031 Monthly quota exceeded (Retry-After: seconds until the billing period resets); LIM_016 too many renders in flight or today (Retry-After)")))]
pub async fn create(
    Caller(user): Caller,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<CreateSession>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<(StatusCode, Json<SessionCreated>)> {
    let Json(req) = body.map_err(ApiError::from)?;
    let quality = req.quality.as_deref().unwrap_or("hd");
    if !QUALITIES.contains(&quality) {
        return Err(ApiError::bad_request(format!(
            "quality '{quality}' is not sd, hd or 4k"
        )));
    }
    let tier = req
        .preferences
        .as_ref()
        .and_then(|p| p.tier.as_deref())
        .unwrap_or(&state.config.default_quality_tier)
        .to_string();
    if !TIERS.contains(&tier.as_str()) {
        return Err(ApiError::bad_request(format!(
            "tier '{tier}' is not standard, premium or ultra"
        )));
    }
    let avatar_id = req
        .avatar_id
        .as_deref()
        .ok_or_else(|| ApiError::bad_request("avatarId is required"))?;
    let avatar = state.store.avatar(&user.id, avatar_id).await?;
    if avatar.status == garmax_store::avatars::AvatarStatus::Failed {
        return Err(ApiError::new(
            ErrorCode::InvalidState,
            "the avatar failed to process; upload another photo",
        ));
    }
    let garment_id = match (&req.garment_id, &req.garment_url) {
        (Some(id), None) => state.store.garment(&user.id, id).await?.id,
        (None, Some(url)) => garment_from_url(&state, &user.id, &headers, url).await?,
        _ => {
            return Err(ApiError::bad_request(
                "give exactly one of garmentId and garmentUrl",
            ));
        }
    };
    crate::limits::check_render_limits(&state, &user.id).await?;
    let cost = state
        .config
        .billing
        .render_cost(quality)
        .ok_or_else(|| ApiError::bad_request(format!("no price for quality '{quality}'")))?;
    let quota = crate::routes::billing::quota(&state, &user.id, false).await?;
    let id = garmax_store::new_id();
    let job = NewJob::new(jobs::RENDER, serde_json::json!({ "sessionId": id }))
        .priority(tier_priority(&tier))
        .max_attempts(state.config.job_max_attempts);
    state
        .store
        .create_session_within(
            &NewSession {
                id: &id,
                user_id: &user.id,
                avatar_id: &avatar.id,
                garment_id: &garment_id,
                quality,
                tier: &tier,
                credits: cost,
            },
            &job,
            Some(quota),
        )
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(SessionCreated { session_id: id }),
    ))
}

/// A garment named by URL: one of this server's own garment URLs (resolved,
/// not fetched), or an image on an allow-listed host (fetched with the SSRF
/// guard, then analysed like an upload).
async fn garment_from_url(
    state: &AppState,
    user_id: &str,
    headers: &HeaderMap,
    url: &str,
) -> ApiResult<String> {
    let own_host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok());
    if let Some(id) = remote::own_garment_id(url, own_host) {
        return Ok(state.store.garment(user_id, &id).await?.id);
    }
    let policy = remote::FetchPolicy::new(
        state.config.allowed_image_hosts.clone(),
        state.config.max_upload_bytes,
    );
    let bytes = remote::fetch_image(url, &policy)
        .await
        .map_err(|e| ApiError::new(garmax_core::Coded::code(&e), e.to_string()))?;
    let bytes =
        crate::upload::check_image(bytes, crate::routes::avatars::image_limits(state)).await?;
    Ok(
        crate::routes::garments::store_garment(state, user_id, bytes)
            .await?
            .id,
    )
}

#[utoipa::path(get, path = "/api/tryon/sessions", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = PageView<SessionView>)))]
pub async fn list(
    Caller(user): Caller,
    State(state): State<AppState>,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<PageView<SessionView>>> {
    let page = state
        .store
        .list_sessions(&user.id, q.limit, q.cursor.as_deref())
        .await?;
    Ok(Json(PageView {
        items: page.items.iter().map(SessionView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

#[utoipa::path(get, path = "/api/tryon/sessions/{id}", security(("bearer" = [])),
    responses((status = 200, body = SessionView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get(
    Caller(user): Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<SessionView>> {
    let session = state.store.session(&user.id, &id).await?;
    let attempts = state.store.provider_attempts(&session.id).await?;
    let mut view = SessionView::from(&session);
    view.provider_attempts = Some(attempts.iter().map(Into::into).collect());
    view.rating = Some(state.store.rating_of(&session.id).await?);
    Ok(Json(view))
}

async fn act(
    state: &AppState,
    user_id: &str,
    id: &str,
    action: SessionAction,
    message: &str,
) -> ApiResult<Json<SessionView>> {
    let outcome = Outcome {
        message: Some(message),
        ..Default::default()
    };
    let done = state
        .store
        .transition(id, Some(user_id), action, outcome)
        .await?;
    Ok(Json(SessionView::from(&done.session)))
}

/// Accept the preview: the session is confirmed and its result available.
#[utoipa::path(post, path = "/api/tryon/sessions/{id}/confirm", security(("bearer" = [])),
    responses((status = 200, body = SessionView), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn confirm(
    Caller(user): Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<SessionView>> {
    act(&state, &user.id, &id, SessionAction::Confirm, "confirmed").await
}

/// Decline the preview.
#[utoipa::path(post, path = "/api/tryon/sessions/{id}/reject", security(("bearer" = [])),
    responses((status = 200, body = SessionView), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn reject(
    Caller(user): Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<SessionView>> {
    act(&state, &user.id, &id, SessionAction::Reject, "rejected").await
}

/// Stop a session that is queued, processing or in preview (its hold is
/// released), or take back a confirmed one within 5 minutes of the charge
/// (a full refund); later, `409 PAY_032`.
#[utoipa::path(post, path = "/api/tryon/sessions/{id}/cancel", security(("bearer" = [])),
    responses((status = 200, body = SessionView), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody, description = "STA_023 not cancellable, or PAY_032 Refund window closed")))]
pub async fn cancel(
    Caller(user): Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<SessionView>> {
    let current = state.store.session(&user.id, &id).await?;
    if current.status == garmax_core::session::SessionStatus::Confirmed {
        return act(
            &state,
            &user.id,
            &id,
            SessionAction::Refund,
            "cancelled and refunded",
        )
        .await;
    }
    act(&state, &user.id, &id, SessionAction::Cancel, "cancelled").await
}

/// The preview image, once rendered.
#[utoipa::path(get, path = "/api/tryon/sessions/{id}/preview", security(("bearer" = [])),
    responses((status = 200, content_type = "image/png", description = "PNG"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn preview(
    Caller(user): Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let s = state.store.session(&user.id, &id).await?;
    if !s.has_preview {
        return Err(ApiError::not_found());
    }
    serve_object(
        &state,
        &ObjectKey::new(Owner::Session, &id, "preview.png")?,
        "image/png",
    )
    .await
}

/// The confirmed result.
#[utoipa::path(get, path = "/api/tryon/sessions/{id}/result", security(("bearer" = [])),
    responses((status = 200, content_type = "image/png", description = "PNG"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn result(
    Caller(user): Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let s = state.store.session(&user.id, &id).await?;
    if s.status != garmax_core::session::SessionStatus::Confirmed || !s.has_preview {
        return Err(ApiError::not_found());
    }
    serve_object(
        &state,
        &ObjectKey::new(Owner::Session, &id, "preview.png")?,
        "image/png",
    )
    .await
}
