//! Catalogue personas (the seed's models, e.g. `johny`): `GET /api/models`
//! for users, admin CRUD under `/api/admin/models`, and a reference photo
//! per pose, stored in object storage and processed like an avatar once.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use garmax_core::ErrorCode;
use garmax_store::objects::{ObjectKey, Owner};
use garmax_store::personas::{Persona, PersonaInput};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{Admin, Caller};
use crate::error::{ApiError, ApiResult};
use crate::routes::avatars::{image_limits, serve_object};
use crate::state::AppState;
use crate::upload;

/// The seed's persona body (`name`, `characteristics`, `poses`,
/// `consistencyThreshold`); `id` comes from the body on create.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PersonaBody {
    pub id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub characteristics: BTreeMap<String, String>,
    pub poses: Vec<String>,
    pub consistency_threshold: f64,
}

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// The seed's shape plus each pose's reference photo and its state.
async fn view(state: &AppState, p: &Persona) -> ApiResult<Value> {
    let mut refs = Vec::new();
    for pose in &p.poses {
        let status = match &pose.avatar_id {
            Some(a) => match state.store.avatar_by_id(a).await {
                Ok(a) => Some(a.status.as_str()),
                Err(garmax_store::StoreError::NotFound) => None,
                Err(e) => return Err(e.into()),
            },
            None => None,
        };
        refs.push(json!({
            "pose": pose.name,
            "status": status,
            "imageUrl": status.map(|_| format!("/api/models/{}/poses/{}/reference", p.id, encode(&pose.name))),
        }));
    }
    let first = refs
        .iter()
        .find_map(|r| r["imageUrl"].as_str().map(str::to_string));
    Ok(json!({
        "id": p.id,
        "name": p.name,
        "characteristics": p.characteristics,
        "poses": p.poses.iter().map(|x| x.name.clone()).collect::<Vec<_>>(),
        "referenceImagePath": first,
        "consistencyThreshold": p.consistency_threshold,
        "poseReferences": refs,
    }))
}

fn not_found_model(id: &str) -> ApiError {
    ApiError::new(ErrorCode::ModelNotFound, format!("Model not found: '{id}'"))
}

async fn load(state: &AppState, id: &str) -> ApiResult<Persona> {
    match state.store.persona(id).await {
        Ok(p) => Ok(p),
        Err(garmax_store::StoreError::NotFound) => Err(not_found_model(id)),
        Err(e) => Err(e.into()),
    }
}

/// The catalogue, for users choosing a model and pose.
#[utoipa::path(get, path = "/api/models", security(("bearer" = [])),
    responses((status = 200, description = "`{models: [Persona]}`")))]
pub async fn list(
    Caller(_caller): Caller,
    State(state): State<AppState>,
) -> ApiResult<Json<Value>> {
    let mut models = Vec::new();
    for p in state.store.list_personas().await? {
        models.push(view(&state, &p).await?);
    }
    Ok(Json(json!({ "success": true, "models": models })))
}

#[utoipa::path(get, path = "/api/models/{id}", security(("bearer" = [])),
    responses((status = 200, description = "Persona"), (status = 404, description = "MOD_005")))]
pub async fn get(
    Caller(_caller): Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let p = load(&state, &id).await?;
    Ok(Json(view(&state, &p).await?))
}

/// A pose's reference photo.
#[utoipa::path(get, path = "/api/models/{id}/poses/{pose}/reference", security(("bearer" = [])),
    responses((status = 200, content_type = "image/png", description = "the reference photo"), (status = 404, description = "none")))]
pub async fn reference(
    Caller(_caller): Caller,
    State(state): State<AppState>,
    Path((id, pose)): Path<(String, String)>,
) -> ApiResult<Response> {
    let p = load(&state, &id).await?;
    let avatar = p
        .pose(&pose)
        .and_then(|x| x.avatar_id.clone())
        .ok_or_else(ApiError::not_found)?;
    serve_object(
        &state,
        &ObjectKey::new(Owner::Avatar, &avatar, "photo")?,
        "image/png",
    )
    .await
}

fn input(id: String, body: PersonaBody) -> PersonaInput {
    PersonaInput {
        id,
        name: body.name,
        characteristics: body.characteristics,
        poses: body.poses,
        consistency_threshold: body.consistency_threshold,
    }
}

/// Create a persona (admin).
#[utoipa::path(post, path = "/api/admin/models", security(("bearer" = [])), request_body = PersonaBody,
    responses((status = 201, description = "Persona"), (status = 400, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn create(
    Admin(_admin): Admin,
    State(state): State<AppState>,
    body: Result<Json<PersonaBody>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let Json(body) = body.map_err(ApiError::from)?;
    let id = body
        .id
        .clone()
        .ok_or_else(|| ApiError::bad_request("id is required"))?;
    let p = state.store.create_persona(&input(id, body)).await?;
    Ok((StatusCode::CREATED, Json(view(&state, &p).await?)))
}

/// Replace a persona's name, characteristics, poses and threshold (admin);
/// poses that stay keep their reference photo.
#[utoipa::path(put, path = "/api/admin/models/{id}", security(("bearer" = [])), request_body = PersonaBody,
    responses((status = 200, description = "Persona"), (status = 404, description = "MOD_005")))]
pub async fn update(
    Admin(_admin): Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Result<Json<PersonaBody>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Json<Value>> {
    let Json(body) = body.map_err(ApiError::from)?;
    if body.id.as_deref().is_some_and(|b| b != id) {
        return Err(ApiError::bad_request(
            "the body's id differs from the path's",
        ));
    }
    let p = match state.store.update_persona(&input(id.clone(), body)).await {
        Ok(p) => p,
        Err(garmax_store::StoreError::NotFound) => return Err(not_found_model(&id)),
        Err(e) => return Err(e.into()),
    };
    Ok(Json(view(&state, &p).await?))
}

#[utoipa::path(delete, path = "/api/admin/models/{id}", security(("bearer" = [])),
    responses((status = 204, description = "deleted"), (status = 404, description = "MOD_005")))]
pub async fn remove(
    Admin(_admin): Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    match state.store.delete_persona(&id).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(garmax_store::StoreError::NotFound) => Err(not_found_model(&id)),
        Err(e) => Err(e.into()),
    }
}

/// Upload a pose's reference photo (multipart `image`, admin): stored and
/// processed like an avatar (person analysis, body fit, guidance maps),
/// once; generations of the pose reuse it.
#[utoipa::path(post, path = "/api/admin/models/{id}/poses/{pose}/reference", security(("bearer" = [])),
    request_body(content_type = "multipart/form-data", description = "field `image`"),
    responses((status = 202, description = "Persona, the pose's reference processing"), (status = 404, description = "MOD_005"), (status = 422, description = "POS_006, IMG_004")))]
pub async fn upload_reference(
    Admin(_admin): Admin,
    State(state): State<AppState>,
    Path((id, pose)): Path<(String, String)>,
    multipart: Multipart,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let p = load(&state, &id).await?;
    let name = p.pose(&pose).map(|x| x.name.clone()).ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidPose,
            format!("Invalid pose: '{pose}' is not a pose of {id}"),
        )
    })?;
    let bytes = upload::read_field(multipart, "image", state.config.max_upload_bytes).await?;
    let bytes = upload::check_image(bytes, image_limits(&state)).await?;
    crate::catalogue::set_reference(&state, &id, &name, bytes).await?;
    let p = load(&state, &id).await?;
    Ok((StatusCode::ACCEPTED, Json(view(&state, &p).await?)))
}
