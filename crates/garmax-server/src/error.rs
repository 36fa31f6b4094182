//! API errors: a code from `garmax_core::ErrorCode`, a message, the HTTP
//! status that fits the code, and `Retry-After` where a wait helps.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use garmax_core::{Coded, ErrorCode};
use garmax_store::StoreError;
use serde::Serialize;

/// An error answered to a client.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub retry_after_secs: Option<u64>,
    /// Numbers a client acts on (the shortfall of a 402, the limit and
    /// reset time of a quota's 429).
    pub details: Option<serde_json::Value>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// A stable code such as `IMG_004`.
    pub code: String,
    pub message: String,
    /// Present on some errors: `PAY_030` has `needed`, `available` and
    /// `shortfall`; `QUO_031` has `quota`, `limit`, `used`, `resetsAt`
    /// (ms) and `retryAfterSecs`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
            retry_after_secs: None,
            details: None,
        }
    }
    pub fn with_details(mut self, details: serde_json::Value) -> ApiError {
        self.details = Some(details);
        self
    }
    pub fn not_found() -> ApiError {
        ApiError::new(ErrorCode::NotFound, "not found")
    }
    pub fn unauthorized() -> ApiError {
        ApiError::new(
            ErrorCode::Unauthorized,
            "a valid API key is required (Authorization: Bearer …)",
        )
    }
    pub fn forbidden() -> ApiError {
        ApiError::new(ErrorCode::Forbidden, "this route needs the admin role")
    }
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::InvalidRequest, message)
    }
    pub fn with_retry_after(mut self, secs: u64) -> ApiError {
        self.retry_after_secs = Some(secs);
        self
    }

    /// The HTTP status of a code.
    pub fn status_of(code: ErrorCode) -> StatusCode {
        use ErrorCode as C;
        match code {
            C::Unauthorized => StatusCode::UNAUTHORIZED,
            C::Forbidden => StatusCode::FORBIDDEN,
            C::NotFound | C::ModelNotFound => StatusCode::NOT_FOUND,
            C::InvalidState => StatusCode::CONFLICT,
            C::RateLimited | C::LimitExceeded => StatusCode::TOO_MANY_REQUESTS,
            C::BudgetExceeded => StatusCode::PAYMENT_REQUIRED,
            C::ContentBlocked => StatusCode::UNPROCESSABLE_ENTITY,
            C::ProviderUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            C::ImageTooLarge | C::RequestTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            C::InvalidImage
            | C::NoGarmentFound
            | C::NoPersonFound
            | C::InvalidPose
            | C::UrlRefused
            | C::BodyFitFailed => StatusCode::UNPROCESSABLE_ENTITY,
            C::InvalidRequest | C::InvalidConfig => StatusCode::BAD_REQUEST,
            C::DatabaseUnavailable | C::StorageUnavailable | C::AssetUnavailable => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            C::ValidationTimeout => StatusCode::GATEWAY_TIMEOUT,
            C::GenerationFailed | C::InferenceFailed => StatusCode::BAD_GATEWAY,
            C::MaxRetriesExceeded => StatusCode::UNPROCESSABLE_ENTITY,
            C::Io => StatusCode::INTERNAL_SERVER_ERROR,
            C::InsufficientCredits => StatusCode::PAYMENT_REQUIRED,
            C::QuotaExceeded => StatusCode::TOO_MANY_REQUESTS,
            C::RefundWindowClosed => StatusCode::CONFLICT,
            C::InvalidSignature => StatusCode::BAD_REQUEST,
            C::PaymentProviderFailed | C::NotificationFailed => StatusCode::BAD_GATEWAY,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = ApiError::status_of(self.code);
        if status.is_server_error() {
            tracing::warn!(code = %self.code, "{}", self.message);
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.as_str().to_string(),
                message: self.message,
                details: self.details,
            },
        };
        let mut response = (status, axum::Json(body)).into_response();
        // For the request metrics (errors by code).
        response.extensions_mut().insert(self.code);
        if let Some(secs) = self.retry_after_secs
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        let code = e.code();
        let message = match &e {
            StoreError::NotFound => "not found".to_string(),
            // Details of the database stay in the log.
            StoreError::Database(_) | StoreError::Objects(_) | StoreError::Migration(_) => {
                tracing::error!("{e}");
                code.title().to_string()
            }
            other => other.to_string(),
        };
        let mut err = ApiError::new(code, message);
        if e.is_transient() {
            err.retry_after_secs = Some(2);
        }
        match e {
            StoreError::InsufficientCredits { needed, available } => {
                err.details = Some(serde_json::json!({
                    "needed": needed,
                    "available": available,
                    "shortfall": (needed - available).max(0),
                }));
            }
            StoreError::QuotaExceeded {
                what,
                limit,
                used,
                resets_at,
            } => {
                let secs = garmax_core::billing::seconds_until(resets_at, garmax_store::now_ms());
                err.retry_after_secs = Some(secs);
                err.details = Some(serde_json::json!({
                    "quota": what,
                    "limit": limit,
                    "used": used,
                    "resetsAt": resets_at,
                    "retryAfterSecs": secs,
                }));
            }
            StoreError::RefundWindowClosed {
                charged_at,
                closed_at,
            } => {
                err.details = Some(serde_json::json!({
                    "chargedAt": charged_at,
                    "refundableUntil": closed_at,
                }));
            }
            _ => {}
        }
        err
    }
}

impl From<garmax_vision::ImageError> for ApiError {
    fn from(e: garmax_vision::ImageError) -> ApiError {
        ApiError::new(e.code(), e.to_string())
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(e: axum::extract::rejection::JsonRejection) -> ApiError {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(ErrorCode::RequestTooLarge, "the request body is too large")
        } else {
            ApiError::bad_request(e.body_text())
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_status_and_errors_are_json() {
        for code in ErrorCode::ALL {
            let s = ApiError::status_of(code);
            assert!(s.is_client_error() || s.is_server_error(), "{code}: {s}");
        }
        let r = ApiError::new(ErrorCode::RateLimited, "slow down")
            .with_retry_after(7)
            .into_response();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()[header::RETRY_AFTER], "7");
        assert_eq!(
            ApiError::from(StoreError::NotFound).code,
            ErrorCode::NotFound
        );
    }

    #[test]
    fn billing_errors_carry_their_numbers() {
        let e = ApiError::from(StoreError::InsufficientCredits {
            needed: 15,
            available: 4,
        });
        assert_eq!(ApiError::status_of(e.code), StatusCode::PAYMENT_REQUIRED);
        assert_eq!(e.details.as_ref().unwrap()["shortfall"], 11);
        assert!(e.message.starts_with("Insufficient credits"));
        let resets_at = garmax_store::now_ms() + 90_500;
        let q = ApiError::from(StoreError::QuotaExceeded {
            what: "try-ons",
            limit: 25,
            used: 25,
            resets_at,
        });
        let secs = q.retry_after_secs.unwrap();
        assert!((90..=91).contains(&secs), "{secs}");
        let r = q.into_response();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()[header::RETRY_AFTER], secs.to_string().as_str());
    }
}
