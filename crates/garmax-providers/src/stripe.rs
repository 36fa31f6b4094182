//! Stripe, the one payment provider: the Checkout Sessions client
//! (`POST /v1/checkout/sessions`, form-encoded as Stripe documents, with an
//! `Idempotency-Key`) and the verification of webhook signatures.
//!
//! It lives here because this is the only crate that calls out over HTTP;
//! it knows nothing of our routes, our JSON or the ledger — the server
//! turns verified events into store calls.
//!
//! A `Stripe-Signature` header reads `t=<unix seconds>,v1=<hex>,v1=<hex>,…`
//! (other schemes such as `v0` are ignored). The signed payload is
//! `"{t}.{raw body}"`, the MAC HMAC-SHA256 with the endpoint secret
//! (`whsec_…`, used as bytes, as Stripe's libraries do). An event is
//! accepted when any `v1` matches any configured secret (several during a
//! rotation), compared in constant time, and `t` is within the tolerance
//! of now in either direction.

use std::time::Duration;

use garmax_core::{Coded, ErrorCode};
use hmac::{KeyInit as _, Mac as _};
use serde::Deserialize;

type HmacSha256 = hmac::Hmac<sha2_v11::Sha256>;

/// Why a webhook was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the Stripe-Signature header is missing or malformed")]
    Malformed,
    #[error("no webhook secret is configured")]
    NoSecret,
    #[error("the signature's timestamp is {0} s away from now, outside the tolerance")]
    OutsideTolerance(i64),
    #[error("no v1 signature matches the body")]
    Mismatch,
}

impl Coded for SignatureError {
    fn code(&self) -> ErrorCode {
        match self {
            SignatureError::NoSecret => ErrorCode::InvalidConfig,
            _ => ErrorCode::InvalidSignature,
        }
    }
}

/// The parts of a `Stripe-Signature` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeader {
    pub timestamp: i64,
    /// The `v1` signatures, decoded from hex (undecodable ones dropped).
    pub v1: Vec<Vec<u8>>,
}

/// Parses `t=…,v1=…[,v1=…]`; other keys are ignored.
pub fn parse_signature_header(header: &str) -> Result<SignatureHeader, SignatureError> {
    let mut timestamp = None;
    let mut v1 = Vec::new();
    for part in header.split(',') {
        let Some((k, v)) = part.trim().split_once('=') else {
            continue;
        };
        match k {
            "t" => timestamp = Some(v.parse::<i64>().map_err(|_| SignatureError::Malformed)?),
            "v1" => {
                if let Ok(bytes) = hex::decode(v) {
                    v1.push(bytes);
                }
            }
            _ => {}
        }
    }
    match timestamp {
        Some(timestamp) if !v1.is_empty() => Ok(SignatureHeader { timestamp, v1 }),
        _ => Err(SignatureError::Malformed),
    }
}

/// The `v1` signature of `payload` at `timestamp` with `secret` (what
/// Stripe sends; tests sign with it too).
pub fn sign(payload: &[u8], secret: &str, timestamp: i64) -> String {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    hex::encode(mac.finalize().into_bytes())
}

/// Checks a webhook's raw body against its `Stripe-Signature` header at
/// `now` (unix seconds). Returns the signed timestamp.
pub fn verify_signature(
    payload: &[u8],
    header: &str,
    secrets: &[String],
    tolerance_secs: i64,
    now: i64,
) -> Result<i64, SignatureError> {
    if secrets.iter().all(|s| s.is_empty()) {
        return Err(SignatureError::NoSecret);
    }
    let parsed = parse_signature_header(header)?;
    let skew = now - parsed.timestamp;
    if skew.abs() > tolerance_secs {
        return Err(SignatureError::OutsideTolerance(skew));
    }
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        for candidate in &parsed.v1 {
            let mut mac =
                HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
            mac.update(parsed.timestamp.to_string().as_bytes());
            mac.update(b".");
            mac.update(payload);
            // Constant-time comparison.
            if mac.verify_slice(candidate).is_ok() {
                return Ok(parsed.timestamp);
            }
        }
    }
    Err(SignatureError::Mismatch)
}

/// A failed call to Stripe's API.
#[derive(Debug, thiserror::Error)]
pub enum StripeError {
    #[error("Stripe is not configured: {0}")]
    NotConfigured(String),
    #[error("calling Stripe: {0}")]
    Transport(String),
    #[error("Stripe answered {status}: {message}")]
    Api { status: u16, message: String },
    #[error("Stripe's answer could not be read: {0}")]
    Decode(String),
}

impl Coded for StripeError {
    fn code(&self) -> ErrorCode {
        match self {
            StripeError::NotConfigured(_) => ErrorCode::InvalidConfig,
            _ => ErrorCode::PaymentProviderFailed,
        }
    }
}

/// What a Checkout Session is created for: a subscription to one price.
#[derive(Debug, Clone)]
pub struct CheckoutRequest<'a> {
    pub price_id: &'a str,
    /// Our user id: set as `client_reference_id` and in the metadata of the
    /// session and of the subscription it creates, so webhooks name them.
    pub user_id: &'a str,
    /// The user's Stripe customer, when known.
    pub customer_id: Option<&'a str>,
    pub success_url: &'a str,
    pub cancel_url: &'a str,
    /// Sent as `Idempotency-Key`: a retried request creates one session.
    pub idempotency_key: &'a str,
}

impl CheckoutRequest<'_> {
    /// The form fields, in Stripe's bracket notation.
    pub fn form(&self) -> Vec<(String, String)> {
        let mut f = vec![
            ("mode".to_string(), "subscription".to_string()),
            ("line_items[0][price]".into(), self.price_id.into()),
            ("line_items[0][quantity]".into(), "1".into()),
            ("success_url".into(), self.success_url.into()),
            ("cancel_url".into(), self.cancel_url.into()),
            ("client_reference_id".into(), self.user_id.into()),
            ("metadata[user_id]".into(), self.user_id.into()),
            (
                "subscription_data[metadata][user_id]".into(),
                self.user_id.into(),
            ),
        ];
        if let Some(c) = self.customer_id {
            f.push(("customer".into(), c.into()));
        }
        f
    }
}

/// The parts of a Checkout Session we use.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct CheckoutSession {
    pub id: String,
    pub url: Option<String>,
    #[serde(default)]
    pub customer: Option<String>,
}

#[derive(Deserialize)]
struct ApiErrorBody {
    error: ApiErrorDetail,
}

#[derive(Deserialize)]
struct ApiErrorDetail {
    #[serde(default)]
    message: Option<String>,
}

/// A client of Stripe's API.
#[derive(Clone)]
pub struct StripeClient {
    http: reqwest::Client,
    base: String,
    secret_key: String,
}

impl StripeClient {
    /// A client of `base` (`https://api.stripe.com`, or a fake).
    pub fn new(base: &str, secret_key: &str) -> Result<StripeClient, StripeError> {
        if secret_key.is_empty() {
            return Err(StripeError::NotConfigured(
                "STRIPE_SECRET_KEY is not set".into(),
            ));
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| StripeError::Transport(e.to_string()))?;
        Ok(StripeClient {
            http,
            base: base.trim_end_matches('/').to_string(),
            secret_key: secret_key.to_string(),
        })
    }

    /// `POST /v1/checkout/sessions`.
    pub async fn create_checkout_session(
        &self,
        req: &CheckoutRequest<'_>,
    ) -> Result<CheckoutSession, StripeError> {
        let response = self
            .http
            .post(format!("{}/v1/checkout/sessions", self.base))
            .bearer_auth(&self.secret_key)
            .header("Idempotency-Key", req.idempotency_key)
            .form(&req.form())
            .send()
            .await
            .map_err(|e| StripeError::Transport(e.to_string()))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| StripeError::Transport(e.to_string()))?;
        if !status.is_success() {
            let message = serde_json::from_slice::<ApiErrorBody>(&bytes)
                .ok()
                .and_then(|b| b.error.message)
                .unwrap_or_else(|| String::from_utf8_lossy(&bytes).chars().take(200).collect());
            return Err(StripeError::Api {
                status: status.as_u16(),
                message,
            });
        }
        serde_json::from_slice(&bytes).map_err(|e| StripeError::Decode(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret";

    #[test]
    fn hmac_sha256_matches_rfc_4231() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let mut mac = HmacSha256::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn a_signed_body_verifies_and_everything_else_does_not() {
        let body = br#"{"id":"evt_1","type":"invoice.payment_succeeded"}"#;
        let t = 1_700_000_000;
        let header = format!("t={t},v1={}", sign(body, SECRET, t));
        let secrets = vec![SECRET.to_string()];
        assert_eq!(
            verify_signature(body, &header, &secrets, 300, t + 10),
            Ok(t)
        );
        // Wrong secret, tampered body.
        assert_eq!(
            verify_signature(body, &header, &["whsec_other".into()], 300, t),
            Err(SignatureError::Mismatch)
        );
        let tampered = br#"{"id":"evt_1","type":"invoice.payment_succeeded "}"#;
        assert_eq!(
            verify_signature(tampered, &header, &secrets, 300, t),
            Err(SignatureError::Mismatch)
        );
        // Too old and in the future, at the edges of the tolerance.
        assert_eq!(
            verify_signature(body, &header, &secrets, 300, t + 300),
            Ok(t)
        );
        assert_eq!(
            verify_signature(body, &header, &secrets, 300, t + 301),
            Err(SignatureError::OutsideTolerance(301))
        );
        assert_eq!(
            verify_signature(body, &header, &secrets, 300, t - 300),
            Ok(t)
        );
        assert_eq!(
            verify_signature(body, &header, &secrets, 300, t - 301),
            Err(SignatureError::OutsideTolerance(-301))
        );
        // Malformed headers, no secret.
        for h in ["", "t=abc,v1=00", &format!("t={t}"), "v1=00"] {
            assert_eq!(
                verify_signature(body, h, &secrets, 300, t),
                Err(SignatureError::Malformed),
                "{h}"
            );
        }
        assert_eq!(
            verify_signature(body, &header, &[], 300, t),
            Err(SignatureError::NoSecret)
        );
    }

    #[test]
    fn any_v1_under_any_secret_passes_during_a_rotation() {
        let body = b"{}";
        let t = 1_700_000_000;
        let old = "whsec_old";
        let new = "whsec_new";
        // Stripe signs with every active secret; v0 is not ours to check.
        let header = format!(
            "t={t},v0=deadbeef,v1={},v1={}",
            sign(body, old, t),
            sign(body, new, t)
        );
        assert!(verify_signature(body, &header, &[new.into()], 300, t).is_ok());
        assert!(verify_signature(body, &header, &[old.into()], 300, t).is_ok());
        let only_old = format!("t={t},v1={}", sign(body, old, t));
        assert!(verify_signature(body, &only_old, &["whsec_x".into(), old.into()], 300, t).is_ok());
        assert_eq!(
            verify_signature(body, &only_old, &[new.into()], 300, t),
            Err(SignatureError::Mismatch)
        );
        // A v0-only header has no v1 to check.
        assert_eq!(
            verify_signature(
                body,
                &format!("t={t},v0={}", sign(body, old, t)),
                &[old.into()],
                300,
                t
            ),
            Err(SignatureError::Malformed)
        );
    }

    #[tokio::test]
    async fn checkout_posts_the_documented_form_with_an_idempotency_key() {
        use wiremock::matchers::{body_string_contains, header, method, path};
        use wiremock::{Mock, MockServer, ResponseTemplate};
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v1/checkout/sessions"))
            .and(header("authorization", "Bearer sk_test_123"))
            .and(header("idempotency-key", "idem-1"))
            .and(header("content-type", "application/x-www-form-urlencoded"))
            .and(body_string_contains("mode=subscription"))
            .and(body_string_contains("line_items%5B0%5D%5Bprice%5D=price_pro"))
            .and(body_string_contains("subscription_data%5Bmetadata%5D%5Buser_id%5D=u1"))
            .and(body_string_contains("client_reference_id=u1"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "id": "cs_test_1", "object": "checkout.session", "url": "https://checkout.stripe.com/c/pay/cs_test_1"
            })))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/v1/checkout/sessions"))
            .and(header("idempotency-key", "idem-bad"))
            .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
                "error": { "type": "invalid_request_error", "message": "No such price: 'price_x'" }
            })))
            .expect(1)
            .mount(&server)
            .await;
        let client = StripeClient::new(&server.uri(), "sk_test_123").unwrap();
        let req = CheckoutRequest {
            price_id: "price_pro",
            user_id: "u1",
            customer_id: None,
            success_url: "http://localhost/ok",
            cancel_url: "http://localhost/no",
            idempotency_key: "idem-1",
        };
        let s = client.create_checkout_session(&req).await.unwrap();
        assert_eq!(s.id, "cs_test_1");
        assert_eq!(
            s.url.as_deref(),
            Some("https://checkout.stripe.com/c/pay/cs_test_1")
        );
        let err = client
            .create_checkout_session(&CheckoutRequest {
                idempotency_key: "idem-bad",
                price_id: "price_x",
                ..req
            })
            .await
            .unwrap_err();
        assert!(
            matches!(&err, StripeError::Api { status: 400, message } if message.contains("No such price")),
            "{err}"
        );
        assert_eq!(err.code(), ErrorCode::PaymentProviderFailed);
        assert!(StripeClient::new(&server.uri(), "").is_err());
    }
}
