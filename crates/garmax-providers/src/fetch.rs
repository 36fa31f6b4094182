//! Images named by a user's URL, fetched without trusting the URL (SSRF).
//!
//! A URL is fetched only when its host is allow-listed, every address it
//! resolves to is a public unicast address (no loopback, private, link-local
//! — which includes cloud metadata at 169.254.169.254 —, CGNAT, unique-local,
//! multicast or unspecified addresses, IPv4-mapped forms included), the
//! connection goes to the very address that was checked (no second DNS
//! lookup to rebind), redirects are followed by hand and each target checked
//! again, and the body is capped in bytes and time.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use garmax_core::{Coded, ErrorCode};

/// Why a URL was not fetched.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FetchError {
    /// The URL, its host, an address it resolves to or a redirect is not allowed.
    #[error("{0}")]
    Refused(String),
    #[error("the image exceeds {0} bytes")]
    TooLarge(usize),
}

impl Coded for FetchError {
    fn code(&self) -> ErrorCode {
        match self {
            FetchError::Refused(_) => ErrorCode::UrlRefused,
            FetchError::TooLarge(_) => ErrorCode::ImageTooLarge,
        }
    }
}

/// What a fetch may reach.
#[derive(Clone)]
pub struct FetchPolicy {
    pub allowed_hosts: Vec<String>,
    pub max_bytes: usize,
    pub timeout: Duration,
    pub max_redirects: usize,
    /// Which resolved addresses may be connected to.
    pub address_allowed: fn(IpAddr) -> bool,
}

impl FetchPolicy {
    pub fn new(allowed_hosts: Vec<String>, max_bytes: usize) -> FetchPolicy {
        FetchPolicy {
            allowed_hosts,
            max_bytes,
            timeout: Duration::from_secs(15),
            max_redirects: 3,
            address_allowed: is_public,
        }
    }
}

fn refused(message: impl Into<String>) -> FetchError {
    FetchError::Refused(message.into())
}

/// Whether an address is a public unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xC0) == 64) // 100.64/10 CGNAT
                || (o[0] == 192 && o[1] == 0 && o[2] == 0) // 192.0.0/24
                || (o[0] == 198 && (o[1] & 0xFE) == 18) // 198.18/15 benchmarking
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
                || (s[0] & 0xFE00) == 0xFC00 // unique local
                || (s[0] & 0xFFC0) == 0xFE80 // link local
                || (s[0] == 0x2001 && s[1] == 0x0DB8) // documentation
                || (s[0] == 0x0064 && s[1] == 0xFF9B)) // NAT64 of anything
        }
    }
}

/// A garment id when `url` is the server's own garment URL
/// (`/api/garments/{id}[/image]`, relative or on `own_host`): such a URL is
/// resolved, never fetched.
pub fn own_garment_id(url: &str, own_host: Option<&str>) -> Option<String> {
    let path = if url.starts_with('/') {
        url.to_string()
    } else {
        let u = url::Url::parse(url).ok()?;
        let authority = match u.port() {
            Some(p) => format!("{}:{p}", u.host_str()?),
            None => u.host_str()?.to_string(),
        };
        if Some(authority.as_str()) != own_host {
            return None;
        }
        u.path().to_string()
    };
    let rest = path.strip_prefix("/api/garments/")?;
    let id = rest.strip_suffix("/image").unwrap_or(rest);
    (!id.is_empty() && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-'))
        .then(|| id.to_string())
}

fn host_allowed(host: &str, allowed: &[String]) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    allowed.iter().any(|a| {
        let a = a.trim_end_matches('.').to_ascii_lowercase();
        host == a || host.ends_with(&format!(".{a}"))
    })
}

/// Checks a URL against the policy and resolves it to an address to
/// connect to.
pub async fn check_url(url: &url::Url, policy: &FetchPolicy) -> Result<SocketAddr, FetchError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(refused(format!(
            "the URL scheme '{}' is not allowed (http or https)",
            url.scheme()
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refused("URLs with credentials are not allowed"));
    }
    let host = url
        .host_str()
        .ok_or_else(|| refused("the URL has no host"))?;
    if !host_allowed(host, &policy.allowed_hosts) {
        return Err(refused(format!(
            "the host '{host}' is not on this server's allow-list"
        )));
    }
    let port = url
        .port_or_known_default()
        .ok_or_else(|| refused("the URL has no port"))?;
    let lookup_host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let addrs: Vec<SocketAddr> = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::net::lookup_host((lookup_host.as_str(), port)),
    )
    .await
    .map_err(|_| refused(format!("resolving '{host}' timed out")))?
    .map_err(|_| refused(format!("'{host}' does not resolve")))?
    .collect();
    if addrs.is_empty() {
        return Err(refused(format!("'{host}' does not resolve")));
    }
    // Every address must pass, or a name with one public and one private
    // address could be steered to the private one.
    if let Some(bad) = addrs.iter().find(|a| !(policy.address_allowed)(a.ip())) {
        return Err(refused(format!(
            "'{host}' resolves to the non-public address {}",
            bad.ip()
        )));
    }
    Ok(addrs[0])
}

/// Fetches an image URL under the policy.
pub async fn fetch_image(url: &str, policy: &FetchPolicy) -> Result<Vec<u8>, FetchError> {
    let mut current = url::Url::parse(url).map_err(|_| refused("not a valid URL"))?;
    tokio::time::timeout(policy.timeout, async {
        for _ in 0..=policy.max_redirects {
            let addr = check_url(&current, policy).await?;
            let host = current.host_str().unwrap_or_default().to_string();
            let client = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .resolve(&host, addr)
                .no_proxy()
                .timeout(policy.timeout)
                .build()
                .map_err(|e| refused(format!("HTTP client: {e}")))?;
            let response = client
                .get(current.clone())
                .send()
                .await
                .map_err(|e| refused(format!("fetching the URL failed: {e}")))?;
            if response.status().is_redirection() {
                let location = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .ok_or_else(|| refused("a redirect without a location"))?;
                current = current
                    .join(location)
                    .map_err(|_| refused("a redirect to an invalid URL"))?;
                continue;
            }
            if !response.status().is_success() {
                return Err(refused(format!("the URL answered {}", response.status())));
            }
            return read_capped(response, policy.max_bytes).await;
        }
        Err(refused("too many redirects"))
    })
    .await
    .map_err(|_| refused("fetching the URL took too long"))?
}

async fn read_capped(
    mut response: reqwest::Response,
    max_bytes: usize,
) -> Result<Vec<u8>, FetchError> {
    if response
        .content_length()
        .is_some_and(|n| n as usize > max_bytes)
    {
        return Err(FetchError::TooLarge(max_bytes));
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| refused(format!("reading the URL failed: {e}")))?
    {
        if bytes.len() + chunk.len() > max_bytes {
            return Err(FetchError::TooLarge(max_bytes));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for a in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "2001:db8::1",
        ] {
            assert!(!is_public(a.parse().unwrap()), "{a} is not public");
        }
        for a in ["8.8.8.8", "151.101.1.69", "2606:4700::1111"] {
            assert!(is_public(a.parse().unwrap()), "{a} is public");
        }
    }

    #[test]
    fn own_urls_resolve_to_ids_without_fetching() {
        let id = "0b6a3f0e-8a3c-4b8e-9a57-2c2f1c7e5d10";
        assert_eq!(
            own_garment_id(&format!("/api/garments/{id}/image"), None),
            Some(id.into())
        );
        assert_eq!(
            own_garment_id(
                &format!("http://127.0.0.1:8080/api/garments/{id}"),
                Some("127.0.0.1:8080")
            ),
            Some(id.into())
        );
        assert_eq!(
            own_garment_id(
                &format!("http://evil.test/api/garments/{id}"),
                Some("127.0.0.1:8080")
            ),
            None
        );
        assert_eq!(own_garment_id("/api/garments/../../etc/passwd", None), None);
    }

    #[tokio::test]
    async fn refusals() {
        let policy = FetchPolicy::new(
            vec![
                "localhost".into(),
                "127.0.0.1".into(),
                "[::1]".into(),
                "10.0.0.1".into(),
                "169.254.169.254".into(),
            ],
            1000,
        );
        for url in [
            "file:///etc/passwd",
            "gopher://localhost/",
            "http://localhost:1/x.png",
            "http://127.0.0.1/x.png",
            "http://[::1]/x.png",
            "http://10.0.0.1/x.png",
            "http://169.254.169.254/latest/meta-data/",
            "http://user:pw@localhost/x.png",
            "http://not-allowed.example/x.png",
        ] {
            let err = fetch_image(url, &policy).await.unwrap_err();
            assert_eq!(err.code(), ErrorCode::UrlRefused, "{url}: {err}");
        }
    }
}
