//! Bearer-key authentication, per-key rate limits and the admin role.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, header};
use garmax_core::ErrorCode;
use garmax_store::users::{Role, User};

use crate::error::ApiError;
use crate::state::AppState;

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller(pub User);

/// A caller with the admin role (others get 403).
#[derive(Debug, Clone)]
pub struct Admin(pub User);

/// The key of a request: the bearer header, or — for the event stream
/// only, because browsers' `EventSource` cannot set headers — `?token=`.
fn presented_key(parts: &Parts) -> Option<String> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let value = value.to_str().ok()?;
        let (scheme, key) = value.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| key.trim().to_string());
    }
    if parts.method == Method::GET && parts.uri.path().ends_with("/events") {
        let query = parts.uri.query()?;
        return url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.into_owned());
    }
    None
}

/// Checks a key and the caller's rate limit.
pub async fn authenticate(state: &AppState, key: &str) -> Result<User, ApiError> {
    let user = state
        .store
        .authenticate(key)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    if let Err(not_until) = state.limiter.check_key(&user.id) {
        let wait = not_until.wait_time_from(governor::clock::Clock::now(
            &governor::clock::DefaultClock::default(),
        ));
        return Err(
            ApiError::new(ErrorCode::RateLimited, "too many requests for this API key")
                .with_retry_after(wait.as_secs().max(1)),
        );
    }
    Ok(user)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let key = presented_key(parts).ok_or_else(ApiError::unauthorized)?;
        let caller = Caller(authenticate(state, &key).await?);
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Admin, ApiError> {
        let Caller(user) = Caller::from_request_parts(parts, state).await?;
        if user.role != Role::Admin {
            return Err(ApiError::forbidden());
        }
        Ok(Admin(user))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(method: &str, uri: &str, auth: Option<&str>) -> Parts {
        let mut b = Request::builder().method(method).uri(uri);
        if let Some(a) = auth {
            b = b.header(header::AUTHORIZATION, a);
        }
        b.body(()).unwrap().into_parts().0
    }

    #[test]
    fn keys_come_from_the_bearer_header_or_the_event_stream_query() {
        assert_eq!(
            presented_key(&parts("GET", "/api/me", Some("Bearer gmx_a"))),
            Some("gmx_a".into())
        );
        assert_eq!(
            presented_key(&parts("GET", "/api/me", Some("bearer  gmx_a "))),
            Some("gmx_a".into())
        );
        assert_eq!(
            presented_key(&parts("GET", "/api/me", Some("Basic x"))),
            None
        );
        assert_eq!(
            presented_key(&parts("GET", "/api/me?token=gmx_a", None)),
            None
        );
        assert_eq!(
            presented_key(&parts(
                "GET",
                "/api/tryon/sessions/x/events?token=gmx_a",
                None
            )),
            Some("gmx_a".into())
        );
        assert_eq!(
            presented_key(&parts(
                "POST",
                "/api/tryon/sessions/x/events?token=gmx_a",
                None
            )),
            None
        );
    }
}
