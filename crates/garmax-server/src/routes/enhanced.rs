//! The consistency seed's enhanced try-on API: `POST
//! /api/enhanced-tryon/generate` (a durable job; synchronous with `Prefer:
//! wait`), its status, `GET /api/enhanced-tryon/quality-tiers` and `POST
//! /api/enhanced-tryon/validate`. Bodies are the seed's, field for field;
//! errors carry the seed's codes (`MOD_005`, `POS_006`, `IMG_004`,
//! `RET_003` with the best attempt, `GEN_002`, `VAL_001`).

use std::collections::HashMap;
use std::time::Duration;

use axum::Json;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use garmax_core::ErrorCode;
use garmax_core::session::SessionStatus;
use garmax_core::tier::QualityTier;
use garmax_store::generations::NewGeneration;
use garmax_store::objects::{ObjectKey, Owner};
use garmax_store::queue::NewJob;
use garmax_store::sessions::NewSession;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::routes::avatars::image_limits;
use crate::state::AppState;
use crate::upload;
use crate::worker::enhanced::ENHANCED;

/// Text fields of a multipart body and its files.
pub struct Form {
    pub text: HashMap<String, String>,
    pub files: HashMap<String, Vec<u8>>,
}

/// Longest text field (a `productAnalysis` JSON fits).
const MAX_TEXT: usize = 256 * 1024;

/// Reads every field of a multipart body: `file_fields` as bytes up to the
/// upload limit, the rest as text up to [`MAX_TEXT`].
pub async fn read_form(
    mut multipart: Multipart,
    file_fields: &[&str],
    max_file: usize,
) -> ApiResult<Form> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(ErrorCode::ImageTooLarge, "the upload is too large")
        } else {
            ApiError::bad_request(format!("malformed multipart body: {}", e.body_text()))
        }
    };
    let mut form = Form {
        text: HashMap::new(),
        files: HashMap::new(),
    };
    while let Some(mut field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_string();
        let is_file = file_fields.contains(&name.as_str());
        let limit = if is_file { max_file } else { MAX_TEXT };
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(bad)? {
            if bytes.len() + chunk.len() > limit {
                return Err(if is_file {
                    ApiError::new(
                        ErrorCode::ImageTooLarge,
                        format!("{name} exceeds {limit} bytes"),
                    )
                } else {
                    ApiError::new(ErrorCode::RequestTooLarge, format!("{name} is too long"))
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        if is_file {
            form.files.insert(name, bytes);
        } else {
            let text = String::from_utf8(bytes)
                .map_err(|_| ApiError::bad_request(format!("{name} is not UTF-8 text")))?;
            form.text.insert(name, text);
        }
    }
    Ok(form)
}

/// An error in the enhanced API's shape: `success: false` beside the
/// usual `error` object, with the status of its code.
pub fn enhanced_error(e: ApiError) -> Response {
    let status = ApiError::status_of(e.code);
    (
        status,
        Json(json!({
            "success": false,
            "error": { "code": e.code.as_str(), "message": e.message },
        })),
    )
        .into_response()
}

fn parse_bool(v: Option<&String>, default: bool, name: &str) -> ApiResult<bool> {
    match v.map(|s| s.trim().to_ascii_lowercase()) {
        None => Ok(default),
        Some(s) if s == "true" || s == "1" => Ok(true),
        Some(s) if s == "false" || s == "0" => Ok(false),
        Some(s) => Err(ApiError::bad_request(format!(
            "{name} '{s}' is not true or false"
        ))),
    }
}

/// The request, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateRequest {
    pub model_id: Option<String>,
    pub pose: Option<String>,
    pub avatar_id: Option<String>,
    pub tier: QualityTier,
    pub enable_retry: bool,
    pub max_retries: i64,
    pub product_analysis: Option<Value>,
}

/// Parses the seed's fields (plus `avatarId`).
pub fn parse_generate(
    text: &HashMap<String, String>,
    default_tier: &str,
) -> ApiResult<GenerateRequest> {
    let get = |k: &str| {
        text.get(k)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let tier_name = get("qualityTier").unwrap_or_else(|| default_tier.to_string());
    let tier = QualityTier::parse(&tier_name).ok_or_else(|| {
        ApiError::bad_request(format!(
            "qualityTier '{tier_name}' is not standard, premium or ultra"
        ))
    })?;
    let enable_retry = parse_bool(text.get("enableRetry"), true, "enableRetry")?;
    let max_retries = match get("maxRetries") {
        None => tier.max_retries() as i64,
        Some(s) => s
            .parse::<i64>()
            .ok()
            .filter(|n| (0..=10).contains(n))
            .ok_or_else(|| ApiError::bad_request(format!("maxRetries '{s}' is not 0 to 10")))?,
    };
    let product_analysis = match get("productAnalysis") {
        None => None,
        Some(s) => {
            let v: Value = serde_json::from_str(&s)
                .map_err(|e| ApiError::bad_request(format!("productAnalysis is not JSON: {e}")))?;
            if !v.is_object() {
                return Err(ApiError::bad_request(
                    "productAnalysis must be a JSON object",
                ));
            }
            Some(v)
        }
    };
    let model_id = get("modelId");
    let avatar_id = get("avatarId");
    let pose = get("pose");
    match (&model_id, &avatar_id) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request("give modelId or avatarId, not both"));
        }
        (None, None) => {
            return Err(ApiError::bad_request(
                "modelId (a catalogue persona) or avatarId (your avatar) is required",
            ));
        }
        _ => {}
    }
    Ok(GenerateRequest {
        model_id,
        pose,
        avatar_id,
        tier,
        enable_retry,
        max_retries,
        product_analysis,
    })
}

/// How long the client asked to wait (`Prefer: wait` or `wait=N`), bounded.
pub fn prefer_wait(headers: &HeaderMap, max_secs: u64) -> Option<Duration> {
    let mut out = None;
    for v in headers.get_all("prefer") {
        for pref in v.to_str().unwrap_or_default().split([',', ';']) {
            let pref = pref.trim();
            if pref.eq_ignore_ascii_case("wait") {
                out = Some(max_secs);
            } else if let Some(n) = pref
                .strip_prefix("wait=")
                .or_else(|| pref.strip_prefix("WAIT="))
            {
                out = n.trim().parse::<u64>().ok().map(|n| n.min(max_secs));
            }
        }
    }
    out.map(Duration::from_secs)
}

/// Generate a try-on with quality control (the seed's `generate`).
#[utoipa::path(post, path = "/api/enhanced-tryon/generate", security(("bearer" = [])),
    request_body(content_type = "multipart/form-data", description = "`productImage` (file), `modelId`, `pose`, `qualityTier`, `enableRetry`, `maxRetries`, optional `productAnalysis` (JSON), or `avatarId` instead of `modelId`"),
    responses((status = 200, description = "the seed's response (with `Prefer: wait`)"), (status = 202, description = "queued: `jobId` and `statusUrl`"),
        (status = 404, description = "MOD_005"), (status = 422, description = "POS_006, IMG_004, RET_003 with the best attempt")))]
pub async fn generate(
    Caller(user): Caller,
    State(state): State<AppState>,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    match start(&state, &user, &headers, multipart).await {
        Ok(r) => r,
        Err(e) => enhanced_error(e),
    }
}

async fn start(
    state: &AppState,
    user: &garmax_store::users::User,
    headers: &HeaderMap,
    multipart: Multipart,
) -> ApiResult<Response> {
    let form = read_form(multipart, &["productImage"], state.config.max_upload_bytes).await?;
    let mut req = parse_generate(&form.text, &state.config.default_quality_tier)?;
    // A running A/B test may override the request's parameters.
    let variant = crate::routes::abtests::assign(state, &user.id).await?;
    if let Some(v) = &variant {
        crate::routes::abtests::apply(&v.parameters, &mut req)?;
    }
    let avatar_id = match (&req.model_id, &req.avatar_id) {
        (Some(model), _) => persona_avatar(state, model, req.pose.as_deref()).await?,
        (None, Some(avatar)) => {
            let a = state.store.avatar(&user.id, avatar).await?;
            if a.status == garmax_store::avatars::AvatarStatus::Failed {
                return Err(ApiError::new(
                    ErrorCode::InvalidState,
                    "the avatar failed to process; upload another photo",
                ));
            }
            a.id
        }
        (None, None) => unreachable!("parse_generate requires one"),
    };
    let image =
        form.files.get("productImage").cloned().ok_or_else(|| {
            ApiError::bad_request("the multipart body has no field 'productImage'")
        })?;
    let image = upload::check_image(image, image_limits(state)).await?;
    let garment_id = garmax_store::new_id();
    state
        .objects
        .put(
            &ObjectKey::new(Owner::Garment, &garment_id, "image")?,
            image,
        )
        .await?;
    let id = garmax_store::new_id();
    let tier = req.tier.name();
    let job = NewJob::new(ENHANCED, json!({ "sessionId": id }))
        .priority(crate::routes::sessions::tier_priority(tier))
        .max_attempts(state.config.job_max_attempts);
    let mut rx = state.store.subscribe();
    state
        .store
        .create_generation(
            &garment_id,
            &NewSession {
                id: &id,
                user_id: &user.id,
                avatar_id: &avatar_id,
                garment_id: &garment_id,
                quality: "hd",
                tier,
                credits: 0,
            },
            &NewGeneration {
                model_id: req.model_id.as_deref(),
                pose: req.pose.as_deref(),
                enable_retry: req.enable_retry,
                max_retries: req.max_retries,
                product_analysis: req.product_analysis.as_ref(),
                prompts: &json!({}),
                ab_test_id: variant.as_ref().map(|v| v.test_id.as_str()),
                ab_variant: variant.as_ref().map(|v| v.name.as_str()),
            },
            &job,
        )
        .await?;
    if let Some(wait) = prefer_wait(headers, state.config.enhanced_wait_secs) {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(done) = finished(state, &user.id, &id).await? {
                return Ok(done);
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                break;
            }
            // Woken by the session's events; re-read at least every second.
            let _ = tokio::time::timeout(left.min(Duration::from_secs(1)), async {
                loop {
                    match rx.recv().await {
                        Ok(e) if e.session_id == id => return,
                        Ok(_) => {}
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => return,
                        Err(_) => std::future::pending::<()>().await,
                    }
                }
            })
            .await;
        }
    }
    Ok(accepted(&id, "queued", "queued", 0).into_response())
}

/// The catalogue avatar of a persona's pose: MOD_005 for an unknown
/// persona, POS_006 for a pose it does not offer or has no reference for.
async fn persona_avatar(state: &AppState, model: &str, pose: Option<&str>) -> ApiResult<String> {
    let persona = match state.store.persona(model).await {
        Ok(p) => p,
        Err(garmax_store::StoreError::NotFound) => {
            let known: Vec<String> = state
                .store
                .list_personas()
                .await?
                .into_iter()
                .map(|p| p.id)
                .collect();
            return Err(ApiError::new(
                ErrorCode::ModelNotFound,
                format!(
                    "Model not found: '{model}' (available: {})",
                    known.join(", ")
                ),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let names = || {
        persona
            .poses
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let chosen = match pose {
        Some(name) => persona.pose(name).ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidPose,
                format!(
                    "Invalid pose: '{name}' is not offered for {model} (supported: {})",
                    names()
                ),
            )
        })?,
        None => &persona.poses[0],
    };
    chosen.avatar_id.clone().ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidPose,
            format!(
                "Invalid pose: '{}' of {model} has no reference photo yet (an admin uploads one)",
                chosen.name
            ),
        )
    })
}

fn accepted(id: &str, status: &str, stage: &str, progress: i64) -> (StatusCode, Json<Value>) {
    (
        StatusCode::ACCEPTED,
        Json(json!({
            "success": true,
            "jobId": id,
            "status": status,
            "stage": stage,
            "progress": progress,
            "statusUrl": format!("/api/enhanced-tryon/jobs/{id}"),
            "eventsUrl": format!("/api/tryon/sessions/{id}/events"),
        })),
    )
}

/// The final answer of a generation that ended, or `None` while it runs.
async fn finished(state: &AppState, user_id: &str, id: &str) -> ApiResult<Option<Response>> {
    let generation = state.store.generation(user_id, id).await?;
    let session = state.store.session(user_id, id).await?;
    // The worker stores the response, then confirms the session: only then
    // is the image at `imageUrl` served.
    if let Some(body) = generation
        .response
        .filter(|_| session.status == SessionStatus::Confirmed)
    {
        let status = match generation.error_code.as_deref().and_then(ErrorCode::parse) {
            Some(code) => ApiError::status_of(code),
            None => StatusCode::OK,
        };
        return Ok(Some((status, Json(body)).into_response()));
    }
    if matches!(
        session.status,
        SessionStatus::Failed | SessionStatus::Cancelled
    ) {
        let (code, message) = session.error.clone().unwrap_or_else(|| {
            (
                ErrorCode::GenerationFailed.as_str().to_string(),
                format!("the generation was {}", session.status),
            )
        });
        let code = ErrorCode::parse(&code).unwrap_or(ErrorCode::GenerationFailed);
        return Ok(Some(enhanced_error(ApiError::new(code, message))));
    }
    Ok(None)
}

/// The generation's status: the seed's response once it ended (with the
/// status of its error code), else `202` with the stage and progress.
#[utoipa::path(get, path = "/api/enhanced-tryon/jobs/{id}", security(("bearer" = [])),
    responses((status = 200, description = "the seed's response"), (status = 202, description = "still running"), (status = 404, description = "not found")))]
pub async fn job(
    Caller(user): Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Response {
    let run = async {
        if let Some(done) = finished(&state, &user.id, &id).await? {
            return Ok::<_, ApiError>(done);
        }
        let s = state.store.session(&user.id, &id).await?;
        Ok(accepted(&id, s.status.as_str(), &s.stage, s.progress).into_response())
    };
    match run.await {
        Ok(r) => r,
        Err(e) => enhanced_error(e),
    }
}

/// Thresholds as the seed prints them (two decimals, not f32 noise).
fn th(v: f32) -> Value {
    json!((v as f64 * 1000.0).round() / 1000.0)
}

/// The seed's `qualityTiers` body from the one tier table.
pub fn quality_tiers_body() -> Value {
    let mut tiers = serde_json::Map::new();
    for t in QualityTier::ALL {
        let x = t.thresholds();
        tiers.insert(
            t.name().to_string(),
            json!({
                "name": t.title(),
                "description": t.description(),
                "thresholds": {
                    "overall": th(x.overall),
                    "consistency": { "face": th(x.face), "pose": th(x.pose) },
                    "accuracy": { "color": th(x.color), "style": th(x.style), "branding": th(x.branding) },
                },
                "estimatedTime": t.estimated_time(),
            }),
        );
    }
    json!({ "success": true, "qualityTiers": tiers })
}

/// Available quality tiers and their thresholds.
#[utoipa::path(get, path = "/api/enhanced-tryon/quality-tiers", security(("bearer" = [])),
    responses((status = 200, description = "the seed's qualityTiers body")))]
pub async fn quality_tiers(Caller(_caller): Caller) -> Json<Value> {
    Json(quality_tiers_body())
}

/// Validate a generated image's quality (the seed's `validate`): multipart
/// `generatedImage`, `productImage`, `modelId` + `expectedPose` (the
/// persona reference it is compared with), `qualityTier`.
#[utoipa::path(post, path = "/api/enhanced-tryon/validate", security(("bearer" = [])),
    request_body(content_type = "multipart/form-data", description = "`generatedImage`, `productImage`, `modelId`, `expectedPose`, `qualityTier`, optional `productAnalysis`"),
    responses((status = 200, description = "validation in the seed's shape plus details"), (status = 404, description = "MOD_005"), (status = 422, description = "POS_006, IMG_004")))]
pub async fn validate(
    Caller(_caller): Caller,
    State(state): State<AppState>,
    multipart: Multipart,
) -> Response {
    match validate_inner(&state, multipart).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => enhanced_error(e),
    }
}

async fn validate_inner(state: &AppState, multipart: Multipart) -> ApiResult<Value> {
    let form = read_form(
        multipart,
        &["generatedImage", "productImage"],
        state.config.max_upload_bytes,
    )
    .await?;
    let tier_name = form
        .text
        .get("qualityTier")
        .cloned()
        .unwrap_or_else(|| state.config.default_quality_tier.clone());
    let tier = QualityTier::parse(&tier_name)
        .ok_or_else(|| ApiError::bad_request(format!("qualityTier '{tier_name}' is unknown")))?;
    let generated =
        form.files.get("generatedImage").cloned().ok_or_else(|| {
            ApiError::bad_request("the multipart body has no field 'generatedImage'")
        })?;
    let generated = upload::check_image(generated, image_limits(state)).await?;
    let product = form.files.get("productImage").cloned().ok_or_else(|| {
        ApiError::bad_request(
            "productImage is required: colour, style and branding are scored against its pixels",
        )
    })?;
    let product = upload::check_image(product, image_limits(state)).await?;
    let reference = match form.text.get("modelId").filter(|s| !s.trim().is_empty()) {
        Some(model) => {
            let avatar_id = persona_avatar(
                state,
                model.trim(),
                form.text.get("expectedPose").map(|s| s.trim()),
            )
            .await?;
            let avatar = state.store.avatar_by_id(&avatar_id).await?;
            if avatar.status != garmax_store::avatars::AvatarStatus::Ready {
                return Err(ApiError::new(
                    ErrorCode::InvalidState,
                    "the pose's reference photo is still being processed",
                )
                .with_retry_after(5));
            }
            let mut files = Vec::new();
            for name in state.engine.avatar_files() {
                if avatar.files.iter().any(|f| f == name) {
                    let bytes = state
                        .objects
                        .get(&ObjectKey::new(Owner::Avatar, &avatar.id, name)?, 256 << 20)
                        .await?;
                    files.push((name.to_string(), bytes.to_vec()));
                }
            }
            Some(files)
        }
        None => None,
    };
    let engine = state.engine.clone();
    let timeout = Duration::from_millis(state.config.image_processing_timeout_ms);
    let result = tokio::time::timeout(
        timeout,
        tokio::task::spawn_blocking(move || {
            let lookup = reference.map(|files| {
                move |name: &str| {
                    files
                        .iter()
                        .find(|(n, _)| n == name)
                        .map(|(_, b)| b.clone())
                }
            });
            engine.validate_image(
                &generated,
                &product,
                lookup
                    .as_ref()
                    .map(|f| f as &dyn Fn(&str) -> Option<Vec<u8>>),
                tier.name(),
            )
        }),
    )
    .await
    .map_err(|_| ApiError::new(ErrorCode::ValidationTimeout, "Validation timeout"))?
    .map_err(|_| {
        ApiError::new(
            ErrorCode::GenerationFailed,
            "the validation stopped unexpectedly",
        )
    })?
    .map_err(|e| ApiError::new(e.code, e.message))?;
    let mut body = json!({ "success": true, "validation": {
        "passes": result["passes"],
        "overallQuality": result["overallQuality"],
        "consistency": result["consistency"],
        "accuracy": result["accuracy"],
        "feedback": result["feedback"],
    }});
    body["details"] = json!({ "tier": result["tier"], "results": result["results"] });
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_seeds_request_fields_parse() {
        let r = parse_generate(
            &form(&[
                ("modelId", "johny"),
                ("pose", "Arms Crossed"),
                ("qualityTier", "premium"),
                ("enableRetry", "true"),
                ("maxRetries", "3"),
                ("productAnalysis", r#"{"garmentType":"tshirt"}"#),
            ]),
            "standard",
        )
        .unwrap();
        assert_eq!(r.model_id.as_deref(), Some("johny"));
        assert_eq!(r.tier, QualityTier::Premium);
        assert_eq!((r.enable_retry, r.max_retries), (true, 3));
        assert_eq!(r.product_analysis.unwrap()["garmentType"], "tshirt");
        let d = parse_generate(&form(&[("avatarId", "a")]), "ultra").unwrap();
        assert_eq!((d.tier, d.max_retries), (QualityTier::Ultra, 5));
        for bad in [
            form(&[]),
            form(&[("modelId", "j"), ("avatarId", "a")]),
            form(&[("modelId", "j"), ("qualityTier", "gold")]),
            form(&[("modelId", "j"), ("maxRetries", "99")]),
            form(&[("modelId", "j"), ("enableRetry", "maybe")]),
            form(&[("modelId", "j"), ("productAnalysis", "[1]")]),
        ] {
            assert_eq!(
                parse_generate(&bad, "standard").unwrap_err().code,
                ErrorCode::InvalidRequest,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn prefer_wait_is_bounded() {
        let mut h = HeaderMap::new();
        assert_eq!(prefer_wait(&h, 60), None);
        h.insert("prefer", "wait".parse().unwrap());
        assert_eq!(prefer_wait(&h, 60), Some(Duration::from_secs(60)));
        h.insert("prefer", "respond-async, wait=600".parse().unwrap());
        assert_eq!(prefer_wait(&h, 60), Some(Duration::from_secs(60)));
        h.insert("prefer", "wait=5".parse().unwrap());
        assert_eq!(prefer_wait(&h, 60), Some(Duration::from_secs(5)));
    }

    #[test]
    fn quality_tiers_are_the_seeds_table() {
        let b = quality_tiers_body();
        let seed_standard = json!({
            "name": "Standard",
            "description": "Balanced quality and speed",
            "thresholds": {
                "overall": 0.65,
                "consistency": { "face": 0.65, "pose": 0.55 },
                "accuracy": { "color": 0.65, "style": 0.55, "branding": 0.75 }
            },
            "estimatedTime": "30-60 seconds"
        });
        assert_eq!(b["success"], true);
        assert_eq!(b["qualityTiers"]["standard"], seed_standard);
        assert_eq!(
            b["qualityTiers"]["premium"]["thresholds"]["overall"],
            json!(0.75)
        );
        assert_eq!(
            b["qualityTiers"]["ultra"]["thresholds"]["accuracy"]["branding"],
            json!(0.9)
        );
        assert_eq!(b["qualityTiers"].as_object().unwrap().len(), 3);
    }
}
