//! Avatars: upload a photo, the body is processed once by a job.

use axum::Json;
use axum::body::Body;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use garmax_store::objects::{ObjectKey, Owner};
use garmax_store::queue::NewJob;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::upload;
use crate::views::{Accepted, AvatarView, PageQuery, PageView};
use crate::worker::jobs;

/// Upload a person photo (multipart field `photo`); the body fit runs as a
/// job. Holds the avatar's 5 credits (captured when it is ready, released
/// if it fails) and counts against the plan's monthly avatars.
#[utoipa::path(post, path = "/api/avatars", security(("bearer" = [])),
    request_body(content_type = "multipart/form-data", description = "field `photo`: JPEG, PNG or WebP"),
    responses((status = 202, body = Accepted), (status = 402, body = crate::error::ErrorBody), (status = 413, body = crate::error::ErrorBody),
        (status = 429, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    Caller(user): Caller,
    State(state): State<AppState>,
    multipart: Multipart,
) -> ApiResult<(StatusCode, Json<Accepted>)> {
    let bytes = upload::read_field(multipart, "photo", state.config.max_upload_bytes).await?;
    let bytes = upload::check_image(bytes, image_limits(&state)).await?;
    let id = garmax_store::new_id();
    state
        .objects
        .put(&ObjectKey::new(Owner::Avatar, &id, "photo")?, bytes)
        .await?;
    let job = NewJob::new(jobs::AVATAR, serde_json::json!({ "avatarId": id }))
        .priority(jobs::AVATAR_PRIORITY)
        .max_attempts(state.config.job_max_attempts);
    let quota = crate::routes::billing::quota(&state, &user.id, true).await?;
    let created = state
        .store
        .create_avatar_charged(
            &id,
            &user.id,
            &job,
            state.config.billing.avatar_cost,
            Some(quota),
        )
        .await;
    if let Err(e) = created {
        // Refused (credits, quota) or failed: the photo has no avatar.
        if let Err(del) = state.objects.delete_all(Owner::Avatar, &id).await {
            tracing::warn!(avatar = %id, "deleting the refused avatar's photo: {del}");
        }
        return Err(e.into());
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(Accepted {
            id,
            status: "processing".into(),
        }),
    ))
}

pub fn image_limits(state: &AppState) -> garmax_vision::ImageLimits {
    garmax_vision::ImageLimits {
        max_bytes: state.config.max_upload_bytes as u64,
        max_pixels: state.config.max_upload_pixels,
    }
}

#[utoipa::path(get, path = "/api/avatars", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = PageView<AvatarView>)))]
pub async fn list(
    Caller(user): Caller,
    State(state): State<AppState>,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<PageView<AvatarView>>> {
    let page = state
        .store
        .list_avatars(&user.id, q.limit, q.cursor.as_deref())
        .await?;
    Ok(Json(PageView {
        items: page.items.iter().map(AvatarView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

#[utoipa::path(get, path = "/api/avatars/{id}", security(("bearer" = [])),
    responses((status = 200, body = AvatarView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get(
    Caller(user): Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<AvatarView>> {
    Ok(Json(AvatarView::from(
        &state.store.avatar(&user.id, &id).await?,
    )))
}

#[utoipa::path(delete, path = "/api/avatars/{id}", security(("bearer" = [])),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn remove(
    Caller(user): Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.store.delete_avatar(&user.id, &id).await?;
    // Sessions keep their previews and results; the body files go.
    if let Err(e) = state.objects.delete_all(Owner::Avatar, &id).await {
        tracing::warn!(avatar = %id, "deleting the avatar's files: {e}");
    }
    Ok(StatusCode::NO_CONTENT)
}

/// One stored file of a ready avatar (`photo`, guidance maps, `body.glb`,
/// `smpl.json`).
#[utoipa::path(get, path = "/api/avatars/{id}/files/{name}", security(("bearer" = [])),
    responses((status = 200, description = "the file"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn file(
    Caller(user): Caller,
    State(state): State<AppState>,
    Path((id, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    let avatar = state.store.avatar(&user.id, &id).await?;
    if !avatar.files.contains(&name) {
        return Err(ApiError::not_found());
    }
    serve_object(
        &state,
        &ObjectKey::new(Owner::Avatar, &id, &name)?,
        content_type(&name),
    )
    .await
}

/// The content type of a pipeline file by its name.
pub fn content_type(name: &str) -> &'static str {
    if name.ends_with(".glb") {
        "model/gltf-binary"
    } else if name.ends_with(".json") {
        "application/json"
    } else if name == "photo" || name == "image" {
        // Uploads keep their own format; browsers sniff JPEG/PNG/WebP.
        "application/octet-stream"
    } else {
        "image/png"
    }
}

/// Streams a stored object with private caching.
pub async fn serve_object(
    state: &AppState,
    key: &ObjectKey,
    content_type: &'static str,
) -> ApiResult<Response> {
    let bytes = state.objects.get(key, 256 * 1024 * 1024).await?;
    let content_type = if content_type == "application/octet-stream" {
        sniff(&bytes)
    } else {
        content_type
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "private, max-age=3600"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        Body::from(bytes),
    )
        .into_response())
}

fn sniff(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "image/jpeg"
    } else if bytes.starts_with(b"\x89PNG") {
        "image/png"
    } else if bytes.len() > 12 && &bytes[8..12] == b"WEBP" {
        "image/webp"
    } else {
        "application/octet-stream"
    }
}
