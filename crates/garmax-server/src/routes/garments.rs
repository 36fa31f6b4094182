//! Garments: upload a product photo, analysed at once.

use axum::Json;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use garmax_core::ErrorCode;
use garmax_store::garments::Garment;
use garmax_store::objects::{ObjectKey, Owner};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::routes::avatars::{image_limits, serve_object};
use crate::state::AppState;
use crate::upload;
use crate::views::{GarmentView, PageQuery, PageView};

/// Upload a product photo (multipart field `image`); answers with its analysis.
#[utoipa::path(post, path = "/api/garments", security(("bearer" = [])),
    request_body(content_type = "multipart/form-data", description = "field `image`: JPEG, PNG or WebP"),
    responses((status = 201, body = GarmentView), (status = 413, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    Caller(user): Caller,
    State(state): State<AppState>,
    multipart: Multipart,
) -> ApiResult<(StatusCode, Json<GarmentView>)> {
    let bytes = upload::read_field(multipart, "image", state.config.max_upload_bytes).await?;
    let bytes = upload::check_image(bytes, image_limits(&state)).await?;
    let garment = store_garment(&state, &user.id, bytes).await?;
    Ok((StatusCode::CREATED, Json(GarmentView::from(&garment))))
}

/// Analyses a checked product photo and stores it with its files.
pub async fn store_garment(state: &AppState, user_id: &str, bytes: Vec<u8>) -> ApiResult<Garment> {
    let engine = state.engine.clone();
    let timeout = std::time::Duration::from_millis(state.config.image_processing_timeout_ms);
    let analysed = tokio::time::timeout(
        timeout,
        tokio::task::spawn_blocking(move || {
            let out = engine.process_garment(&bytes);
            (bytes, out)
        }),
    )
    .await
    .map_err(|_| {
        ApiError::new(
            ErrorCode::ValidationTimeout,
            "the garment analysis took too long",
        )
    })?
    .map_err(|_| {
        ApiError::new(
            ErrorCode::GenerationFailed,
            "the garment analysis stopped unexpectedly",
        )
    })?;
    let (bytes, out) = analysed;
    let out = out.map_err(|e| ApiError::new(e.code, e.message))?;
    let id = garmax_store::new_id();
    state
        .objects
        .put(&ObjectKey::new(Owner::Garment, &id, "image")?, bytes)
        .await?;
    let mut names = vec!["image".to_string()];
    for (name, data) in out.files {
        state
            .objects
            .put(&ObjectKey::new(Owner::Garment, &id, &name)?, data)
            .await?;
        names.push(name);
    }
    Ok(state
        .store
        .insert_garment(&id, user_id, &out.analysis, &names)
        .await?)
}

#[utoipa::path(get, path = "/api/garments", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = PageView<GarmentView>)))]
pub async fn list(
    Caller(user): Caller,
    State(state): State<AppState>,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<PageView<GarmentView>>> {
    let page = state
        .store
        .list_garments(&user.id, q.limit, q.cursor.as_deref())
        .await?;
    Ok(Json(PageView {
        items: page.items.iter().map(GarmentView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

#[utoipa::path(get, path = "/api/garments/{id}", security(("bearer" = [])),
    responses((status = 200, body = GarmentView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get(
    Caller(user): Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<GarmentView>> {
    Ok(Json(GarmentView::from(
        &state.store.garment(&user.id, &id).await?,
    )))
}

/// The product photo as uploaded.
#[utoipa::path(get, path = "/api/garments/{id}/image", security(("bearer" = [])),
    responses((status = 200, description = "the photo"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn image(
    Caller(user): Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    state.store.garment(&user.id, &id).await?;
    serve_object(
        &state,
        &ObjectKey::new(Owner::Garment, &id, "image")?,
        "application/octet-stream",
    )
    .await
}
