//! Alert notifications out of the process: a webhook POST signed like
//! Stripe's (`Garmax-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`,
//! so a receiver verifies the raw body and rejects replays by the
//! timestamp), and email through an SMTP relay (lettre; `smtp://`,
//! `smtps://`, STARTTLS with `?tls=required`, credentials in the URL).
//! The caller decides what is said; this module only delivers it.

use std::time::Duration;

use garmax_core::{Coded, ErrorCode};
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};

/// The header carrying a webhook's signature.
pub const SIGNATURE_HEADER: &str = "Garmax-Signature";

/// Why a notification was not delivered.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("notification settings: {0}")]
    Config(String),
    #[error("webhook {url}: {message}")]
    Webhook { url: String, message: String },
    #[error("email: {0}")]
    Email(String),
}

impl Coded for NotifyError {
    fn code(&self) -> ErrorCode {
        match self {
            NotifyError::Config(_) => ErrorCode::InvalidConfig,
            _ => ErrorCode::NotificationFailed,
        }
    }
}

/// The `Garmax-Signature` value of `body` sent at `timestamp` (unix s).
pub fn signature_header(body: &[u8], secret: &str, timestamp: i64) -> String {
    format!(
        "t={timestamp},v1={}",
        crate::stripe::sign(body, secret, timestamp)
    )
}

/// Checks a received webhook (for receivers written in Rust, and tests):
/// the same scheme and tolerance as Stripe's.
pub fn verify_webhook(
    body: &[u8],
    header: &str,
    secret: &str,
    tolerance_secs: i64,
    now: i64,
) -> Result<i64, crate::stripe::SignatureError> {
    crate::stripe::verify_signature(body, header, &[secret.to_string()], tolerance_secs, now)
}

/// An email to send.
#[derive(Debug, Clone)]
pub struct Email {
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
}

/// Sends webhooks and, when an SMTP relay is configured, email.
#[derive(Clone)]
pub struct Notifier {
    http: reqwest::Client,
    smtp: Option<(AsyncSmtpTransport<Tokio1Executor>, lettre::message::Mailbox)>,
}

impl Notifier {
    /// `smtp_url` and `from` (an address, optionally `Name <addr>`) enable
    /// email; every call is bounded by `timeout`.
    pub fn new(
        smtp_url: Option<&str>,
        from: &str,
        timeout: Duration,
    ) -> Result<Notifier, NotifyError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| NotifyError::Config(format!("HTTP client: {e}")))?;
        let smtp = match smtp_url {
            None => None,
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| NotifyError::Config(format!("SMTP URL: {e}")))?
                    .timeout(Some(timeout))
                    .build();
                let from = from
                    .parse()
                    .map_err(|e| NotifyError::Config(format!("email sender '{from}': {e}")))?;
                Some((transport, from))
            }
        };
        Ok(Notifier { http, smtp })
    }

    /// Whether email can be sent.
    pub fn has_email(&self) -> bool {
        self.smtp.is_some()
    }

    /// POSTs `body` (JSON) to `url`, signed with `secret` when there is
    /// one; anything but a 2xx answer is a failure.
    pub async fn post_webhook(
        &self,
        url: &str,
        secret: Option<&str>,
        body: Vec<u8>,
        now_secs: i64,
    ) -> Result<(), NotifyError> {
        let mut req = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        if let Some(secret) = secret.filter(|s| !s.is_empty()) {
            req = req.header(SIGNATURE_HEADER, signature_header(&body, secret, now_secs));
        }
        let fail = |message: String| NotifyError::Webhook {
            url: url.to_string(),
            message,
        };
        let resp = req
            .body(body)
            .send()
            .await
            .map_err(|e| fail(e.to_string()))?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(fail(format!("answered {}", resp.status())))
        }
    }

    /// Sends `email` through the relay.
    pub async fn send_email(&self, email: &Email) -> Result<(), NotifyError> {
        let Some((transport, from)) = &self.smtp else {
            return Err(NotifyError::Config("no SMTP relay is configured".into()));
        };
        let mut builder = Message::builder()
            .from(from.clone())
            .subject(email.subject.as_str())
            .header(ContentType::TEXT_PLAIN);
        for to in &email.to {
            builder = builder.to(to
                .parse()
                .map_err(|e| NotifyError::Email(format!("recipient '{to}': {e}")))?);
        }
        let message = builder
            .body(email.text.clone())
            .map_err(|e| NotifyError::Email(e.to_string()))?;
        transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| NotifyError::Email(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_body_verifies_and_a_changed_one_does_not() {
        let h = signature_header(b"{\"a\":1}", "s3cret", 1_700_000_000);
        assert!(h.starts_with("t=1700000000,v1="));
        assert_eq!(
            verify_webhook(b"{\"a\":1}", &h, "s3cret", 300, 1_700_000_010),
            Ok(1_700_000_000)
        );
        assert!(verify_webhook(b"{\"a\":2}", &h, "s3cret", 300, 1_700_000_010).is_err());
        assert!(verify_webhook(b"{\"a\":1}", &h, "other", 300, 1_700_000_010).is_err());
        assert!(verify_webhook(b"{\"a\":1}", &h, "s3cret", 300, 1_700_001_000).is_err());
    }

    #[test]
    fn bad_settings_are_config_errors() {
        let e = Notifier::new(Some("ftp://x"), "a@b.c", Duration::from_secs(1)).err();
        assert!(matches!(e, Some(NotifyError::Config(_))), "{e:?}");
        let e = Notifier::new(
            Some("smtp://127.0.0.1:2525"),
            "not an address",
            Duration::from_secs(1),
        )
        .err();
        assert_eq!(e.map(|e| e.code()), Some(ErrorCode::InvalidConfig));
    }

    #[tokio::test]
    async fn a_webhook_refused_by_the_receiver_is_a_coded_failure() {
        let server = wiremock::MockServer::start().await;
        wiremock::Mock::given(wiremock::matchers::method("POST"))
            .respond_with(wiremock::ResponseTemplate::new(500))
            .mount(&server)
            .await;
        let n = Notifier::new(None, "a@b.c", Duration::from_secs(5)).unwrap();
        let e = n
            .post_webhook(
                &format!("{}/hook", server.uri()),
                Some("k"),
                b"{}".to_vec(),
                1,
            )
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::NotificationFailed);
        assert!(e.to_string().contains("500"), "{e}");
        assert!(!n.has_email());
        assert!(
            n.send_email(&Email {
                to: vec!["x@y.z".into()],
                subject: "s".into(),
                text: "t".into()
            })
            .await
            .is_err()
        );
    }
}
