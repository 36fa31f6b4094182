//! The caller, and the admin's list of users.

use axum::Json;
use axum::extract::State;

use crate::auth::{Admin, Caller};
use crate::error::ApiResult;
use crate::state::AppState;
use crate::views::MeView;

/// Who the key belongs to, their plan and credits.
#[utoipa::path(get, path = "/api/me", security(("bearer" = [])),
    responses((status = 200, body = MeView), (status = 401, body = crate::error::ErrorBody)))]
pub async fn me(Caller(user): Caller, State(state): State<AppState>) -> ApiResult<Json<MeView>> {
    let credits = state.store.balance(&user.id).await?;
    Ok(Json(MeView {
        id: user.id,
        name: user.name,
        role: user.role.as_str().into(),
        plan: user.plan,
        credits,
    }))
}

/// Every user (admin).
#[utoipa::path(get, path = "/api/admin/users", security(("bearer" = [])),
    responses((status = 200, body = [MeView]), (status = 403, body = crate::error::ErrorBody)))]
pub async fn users(_: Admin, State(state): State<AppState>) -> ApiResult<Json<Vec<MeView>>> {
    let users = state.store.list_users().await?;
    Ok(Json(
        users
            .into_iter()
            .map(|u| MeView {
                id: u.user.id,
                name: u.user.name,
                role: u.user.role.as_str().into(),
                plan: u.user.plan,
                credits: u.credits,
            })
            .collect(),
    ))
}
