//! What every HTTP client shares: the reqwest client (rustls), mapping of
//! transport errors and status codes onto [`ProviderError`], Retry-After,
//! size-capped body reads, polling backoff, and the output fetcher that
//! downloads result images (size-capped, images only, no private
//! addresses).

use std::net::IpAddr;
use std::time::Duration;

use base64::Engine as _;
use reqwest::header::{CONTENT_LENGTH, HeaderMap, LOCATION, RETRY_AFTER};
use reqwest::{Client, RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::ProviderError;
use crate::job::ImageData;

/// Limits of one client.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpSettings {
    /// Whole-request timeout of each HTTP call.
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
    /// Deadline of a whole render (create + polling); the prediction is
    /// cancelled when it passes.
    pub deadline: Duration,
    /// First polling interval; doubles up to `poll_max`.
    pub poll_initial: Duration,
    pub poll_max: Duration,
    /// Largest output image accepted, in bytes.
    pub max_output_bytes: u64,
    /// Largest JSON response accepted, in bytes (base64 images included).
    pub max_response_bytes: u64,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            request_timeout: Duration::from_secs(120),
            connect_timeout: Duration::from_secs(10),
            deadline: Duration::from_secs(300),
            poll_initial: Duration::from_millis(500),
            poll_max: Duration::from_secs(5),
            max_output_bytes: 32 << 20,
            max_response_bytes: 96 << 20,
        }
    }
}

pub(crate) fn client(settings: &HttpSettings) -> Client {
    Client::builder()
        .timeout(settings.request_timeout)
        .connect_timeout(settings.connect_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("garmax/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("a rustls reqwest client builds")
}

/// Sends a request and maps transport failures and non-2xx answers.
pub(crate) async fn send(
    provider: &str,
    request: RequestBuilder,
) -> Result<Response, ProviderError> {
    let response = request.send().await.map_err(|e| transport(provider, &e))?;
    if response.status().is_success() {
        return Ok(response);
    }
    let status = response.status();
    let headers = response.headers().clone();
    let body = read_capped(provider, response, 64 << 10)
        .await
        .unwrap_or_default();
    Err(classify(
        provider,
        status,
        &headers,
        &String::from_utf8_lossy(&body),
    ))
}

pub(crate) fn transport(provider: &str, e: &reqwest::Error) -> ProviderError {
    if e.is_timeout() {
        ProviderError::Timeout {
            provider: provider.into(),
            after: Duration::ZERO,
        }
    } else {
        ProviderError::Connection {
            provider: provider.into(),
            message: e.to_string(),
        }
    }
}

/// A non-2xx answer as a typed error. The body is searched for the
/// providers' documented markers of safety blocks and spent quotas.
pub(crate) fn classify(
    provider: &str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &str,
) -> ProviderError {
    let p = provider.to_string();
    let message: String = body.chars().take(300).collect();
    let lower = body.to_ascii_lowercase();
    if is_safety_message(&lower) {
        return ProviderError::SafetyBlocked {
            provider: p,
            message,
        };
    }
    if lower.contains("insufficient_quota") || lower.contains("billing") {
        return ProviderError::Quota {
            provider: p,
            message,
        };
    }
    match status.as_u16() {
        400 | 413 | 415 | 422 => ProviderError::InvalidInput {
            provider: p,
            message,
        },
        401 | 403 => ProviderError::Auth {
            provider: p,
            message,
        },
        402 => ProviderError::Quota {
            provider: p,
            message,
        },
        408 => ProviderError::Timeout {
            provider: p,
            after: Duration::ZERO,
        },
        429 => ProviderError::RateLimited {
            provider: p,
            retry_after: retry_after(headers, body),
        },
        s if s >= 500 => ProviderError::Server {
            provider: p,
            status: s,
            message,
        },
        s => ProviderError::Permanent {
            provider: p,
            message: format!("HTTP {s}: {message}"),
        },
    }
}

/// Safety-filter markers of the documented APIs: OpenAI
/// `moderation_blocked` / `content_policy_violation`, Gemini `SAFETY` /
/// `IMAGE_SAFETY` / `PROHIBITED_CONTENT`, FASHN `ContentModerationError`,
/// Replicate models' "NSFW content detected".
pub(crate) fn is_safety_message(lower: &str) -> bool {
    [
        "moderation_blocked",
        "content_policy",
        "contentmoderation",
        "nsfw",
        "safety",
        "prohibited_content",
    ]
    .iter()
    .any(|m| lower.contains(m))
}

/// `Retry-After: 7` (delta seconds), `Retry-After: Wed, 21 Oct 2015
/// 07:28:00 GMT` (an HTTP date, RFC 9110 §10.2.3: the wait until then, zero
/// when it has passed), or Google's `"retryDelay": "7s"` in the error
/// details. Capped at one day.
pub(crate) fn retry_after(headers: &HeaderMap, body: &str) -> Option<Duration> {
    retry_after_at(headers, body, std::time::SystemTime::now())
}

/// [`retry_after`] with the current time passed in.
pub(crate) fn retry_after_at(
    headers: &HeaderMap,
    body: &str,
    now: std::time::SystemTime,
) -> Option<Duration> {
    const DAY: f64 = 86_400.0;
    let header = headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    if let Some(value) = header {
        if let Some(s) = value
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s >= 0.0)
        {
            return Some(Duration::from_secs_f64(s.min(DAY)));
        }
        if let Ok(at) = httpdate::parse_http_date(value) {
            let wait = at.duration_since(now).unwrap_or(Duration::ZERO);
            return Some(wait.min(Duration::from_secs_f64(DAY)));
        }
    }
    let at = body.find("\"retryDelay\"")?;
    let rest = &body[at + 12..];
    let start = rest.find('"')? + 1;
    let end = rest[start..].find('"')? + start;
    let secs = rest[start..end].trim_end_matches('s').parse::<f64>().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(DAY)))
}

/// Reads at most `cap` bytes of a body; more is an error, refused from
/// `Content-Length` before reading when the server declares it.
pub(crate) async fn read_capped(
    provider: &str,
    mut response: Response,
    cap: u64,
) -> Result<Vec<u8>, ProviderError> {
    let too_big = || {
        ProviderError::permanent(
            provider,
            format!("response larger than {cap} bytes refused"),
        )
    };
    let declared = response
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > cap) {
        return Err(too_big());
    }
    let mut body = Vec::with_capacity(declared.unwrap_or(0) as usize);
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| transport(provider, &e))?
    {
        if body.len() as u64 + chunk.len() as u64 > cap {
            return Err(too_big());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Reads and parses a JSON body; anything unparsable is a permanent error.
pub(crate) async fn read_json<T: DeserializeOwned>(
    provider: &str,
    response: Response,
    cap: u64,
) -> Result<T, ProviderError> {
    let body = read_capped(provider, response, cap).await?;
    serde_json::from_slice(&body)
        .map_err(|e| ProviderError::permanent(provider, format!("malformed JSON response: {e}")))
}

/// Exponential polling intervals.
pub(crate) struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    pub(crate) fn new(settings: &HttpSettings) -> Backoff {
        Backoff {
            next: settings.poll_initial,
            max: settings.poll_max,
        }
    }

    pub(crate) fn next_delay(&mut self) -> Duration {
        let d = self.next;
        self.next = (self.next * 2).min(self.max);
        d
    }
}

/// Downloads output images: `data:` URIs decoded in place, `http(s)` URLs
/// fetched with a byte cap and at most three redirects, each hop checked.
/// Hosts other than the provider's own base URL host must resolve to
/// public addresses (an output URL must not make us fetch from the
/// metadata service or the LAN).
#[derive(Debug, Clone)]
pub struct OutputFetcher {
    client: Client,
    trusted_host: Option<String>,
    max_bytes: u64,
}

impl OutputFetcher {
    pub(crate) fn new(client: Client, base_url: &str, max_bytes: u64) -> OutputFetcher {
        OutputFetcher {
            client,
            trusted_host: url::Url::parse(base_url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string)),
            max_bytes,
        }
    }

    pub(crate) async fn fetch(
        &self,
        provider: &str,
        location: &str,
    ) -> Result<ImageData, ProviderError> {
        let bytes = if let Some(rest) = location.strip_prefix("data:") {
            decode_data_uri(provider, rest, self.max_bytes)?
        } else {
            self.download(provider, location).await?
        };
        image_from_bytes(provider, bytes)
    }

    async fn download(&self, provider: &str, location: &str) -> Result<Vec<u8>, ProviderError> {
        let mut url = url::Url::parse(location).map_err(|e| {
            ProviderError::permanent(provider, format!("bad output URL {location}: {e}"))
        })?;
        for _ in 0..4 {
            self.check_url(provider, &url).await?;
            let response = self
                .client
                .get(url.clone())
                .send()
                .await
                .map_err(|e| transport(provider, &e))?;
            if response.status().is_redirection() {
                let next = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| {
                        ProviderError::permanent(provider, "redirect without Location")
                    })?;
                url = url.join(next).map_err(|e| {
                    ProviderError::permanent(provider, format!("bad redirect: {e}"))
                })?;
                continue;
            }
            if !response.status().is_success() {
                let status = response.status();
                let headers = response.headers().clone();
                return Err(classify(provider, status, &headers, ""));
            }
            return read_capped(provider, response, self.max_bytes).await;
        }
        Err(ProviderError::permanent(
            provider,
            "too many redirects fetching the output",
        ))
    }

    async fn check_url(&self, provider: &str, url: &url::Url) -> Result<(), ProviderError> {
        let refuse = |why: String| {
            ProviderError::permanent(provider, format!("output URL {url} refused: {why}"))
        };
        if !matches!(url.scheme(), "http" | "https") {
            return Err(refuse("not http(s)".into()));
        }
        let host = url.host_str().ok_or_else(|| refuse("no host".into()))?;
        if self.trusted_host.as_deref() == Some(host) {
            return Ok(());
        }
        let port = url.port_or_known_default().unwrap_or(443);
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let addrs: Vec<IpAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => tokio::net::lookup_host((host, port))
                .await
                .map_err(|e| ProviderError::Connection {
                    provider: provider.into(),
                    message: format!("resolving {host}: {e}"),
                })?
                .map(|a| a.ip())
                .collect(),
        };
        match addrs.iter().find(|ip| !is_public(**ip)) {
            Some(ip) => Err(refuse(format!("{ip} is not a public address"))),
            None => Ok(()),
        }
    }
}

fn decode_data_uri(provider: &str, rest: &str, cap: u64) -> Result<Vec<u8>, ProviderError> {
    let (meta, payload) = rest
        .split_once(',')
        .ok_or_else(|| ProviderError::permanent(provider, "data URI without payload"))?;
    if !meta.ends_with(";base64") {
        return Err(ProviderError::permanent(provider, "data URI is not base64"));
    }
    if (payload.len() as u64) / 4 * 3 > cap {
        return Err(ProviderError::permanent(
            provider,
            format!("output larger than {cap} bytes refused"),
        ));
    }
    base64::engine::general_purpose::STANDARD
        .decode(payload.trim())
        .map_err(|e| ProviderError::permanent(provider, format!("bad base64 output: {e}")))
}

/// Accepts bytes only if they are a PNG, JPEG or WebP.
pub(crate) fn image_from_bytes(provider: &str, bytes: Vec<u8>) -> Result<ImageData, ProviderError> {
    match ImageData::sniff(&bytes) {
        Some(mime) => Ok(ImageData::new(bytes, mime)),
        None => Err(ProviderError::permanent(
            provider,
            "output is not a PNG, JPEG or WebP image",
        )),
    }
}

/// Decodes standard base64 (inline image parts) with the output cap.
pub(crate) fn image_from_base64(
    provider: &str,
    b64: &str,
    cap: u64,
) -> Result<ImageData, ProviderError> {
    let bytes = decode_data_uri(provider, &format!(";base64,{b64}"), cap)?;
    image_from_bytes(provider, bytes)
}

/// Public unicast addresses only.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || (o[0] == 198 && (o[1] & 0xfe) == 18)
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "169.254.169.254",
            "192.168.0.1",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
            "0.0.0.0",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700::1111"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn retry_after_from_header_or_google_details() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&h, ""), Some(Duration::from_secs(7)));
        let body = r#"{"error":{"code":429,"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay": "12s"}]}}"#;
        assert_eq!(
            retry_after(&HeaderMap::new(), body),
            Some(Duration::from_secs(12))
        );
        assert_eq!(retry_after(&HeaderMap::new(), "{}"), None);
    }

    #[test]
    fn retry_after_as_http_date() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        let mut h = HeaderMap::new();
        h.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:45 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after_at(&h, "", now), Some(Duration::from_secs(45)));
        // A date in the past: retry now.
        h.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:00:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after_at(&h, "", now), Some(Duration::ZERO));
        // Far future: capped at a day.
        h.insert(
            RETRY_AFTER,
            "Fri, 21 Oct 2016 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(
            retry_after_at(&h, "", now),
            Some(Duration::from_secs(86_400))
        );
        // Neither seconds nor a date: ignored.
        h.insert(RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after_at(&h, "", now), None);
    }

    #[test]
    fn status_classes() {
        let h = HeaderMap::new();
        let c = |s: u16, b: &str| classify("p", StatusCode::from_u16(s).unwrap(), &h, b).class();
        use crate::error::ErrorClass::*;
        assert_eq!(c(503, ""), Retryable);
        assert_eq!(c(429, ""), Retryable);
        assert_eq!(c(429, r#"{"error":{"code":"insufficient_quota"}}"#), Quota);
        assert_eq!(c(401, ""), Auth);
        assert_eq!(c(402, ""), Quota);
        assert_eq!(c(422, ""), InvalidInput);
        assert_eq!(
            c(400, r#"{"error":{"code":"moderation_blocked"}}"#),
            SafetyBlocked
        );
        assert_eq!(c(404, ""), Permanent);
    }

    #[test]
    fn data_uris_are_capped_and_sniffed() {
        let png = ImageData::new(
            vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0],
            "image/png",
        );
        let uri = png.data_uri();
        let ok = decode_data_uri("p", uri.strip_prefix("data:").unwrap(), 1 << 20).unwrap();
        assert_eq!(image_from_bytes("p", ok).unwrap().mime, "image/png");
        assert!(decode_data_uri("p", uri.strip_prefix("data:").unwrap(), 4).is_err());
        assert!(image_from_bytes("p", b"<html>".to_vec()).is_err());
    }
}
