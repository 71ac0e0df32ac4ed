//! Outbound HTTP: the one place guestlink fetches from addresses an LMS named
//! (its OpenID configuration, its registration endpoint, its key set).
//!
//! Anyone can make the tool fetch such a URL (a dynamic registration is open
//! to the world, and a platform's URLs come from its own answers), so every
//! fetch here follows the same rules, checked again at every fetch and not
//! only when a URL was first seen:
//!
//! - https only;
//! - the host is resolved once, every address it resolves to must be public,
//!   and the connection goes to exactly those addresses (a second DNS answer,
//!   "DNS rebinding", cannot point it elsewhere);
//! - no redirects are followed and no proxy from the environment is used (a
//!   proxy would resolve the name again);
//! - the body is read as a stream and abandoned at a size cap, and the whole
//!   fetch has a timeout.
//!
//! Hosts the operator lists in `GUESTLINK_OUTBOUND_ALLOWED_HOSTS` may resolve
//! to private or loopback addresses (an on-campus LMS, a test), and loopback
//! ones may use plain http. Services the operator configures (a media server)
//! are not fetched through here: their addresses are the operator's, not an LMS's.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use url::Url;

/// How guestlink names itself: some Moodle hosts' web filters refuse requests
/// without a User-Agent.
pub const USER_AGENT: &str = concat!("guestlink/", env!("CARGO_PKG_VERSION"), " (LTI 1.3 tool)");

/// A host an operator listed, with the ports it covers: `lms.example.edu`
/// (its scheme's default port only: 443 for https), `lms.example.edu:8443`
/// (that port), `127.0.0.1:*` (every port: a test or development machine).
/// IPv6 is written `::1`, `[::1]:9000` or `[::1]:*`. Lower case; an IPv6
/// address is kept in its canonical form, without brackets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostPattern {
    host: String,
    port: Ports,
}

/// Which ports of a listed host are covered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ports {
    /// The URL's scheme's default port (443, or 80 for http).
    Default,
    One(u16),
    Any,
}

impl HostPattern {
    pub fn parse(raw: &str) -> Result<HostPattern, String> {
        let raw = raw.trim().to_ascii_lowercase();
        let bad = || format!("'{raw}' is not a host or host:port");
        let (host, port) = if let Some(rest) = raw.strip_prefix('[') {
            let (v6, after) = rest.split_once(']').ok_or_else(bad)?;
            let port = match after {
                "" => None,
                _ => Some(after.strip_prefix(':').ok_or_else(bad)?),
            };
            (v6.to_string(), port)
        } else if raw.parse::<IpAddr>().is_ok() {
            (raw.clone(), None)
        } else {
            match raw.rsplit_once(':') {
                Some((host, port)) => (host.to_string(), Some(port)),
                None => (raw.clone(), None),
            }
        };
        let port = match port {
            None => Ports::Default,
            Some("*") => Ports::Any,
            Some(p) => Ports::One(p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(bad)?),
        };
        let host = match host.parse::<IpAddr>() {
            Ok(ip) => ip.to_string(),
            Err(_) if is_host_name(&host) => host,
            Err(_) => return Err(bad()),
        };
        Ok(HostPattern { host, port })
    }

    /// Whether `url` is on this host and one of its ports (a URL without a
    /// port has its scheme's).
    pub fn matches(&self, url: &Url) -> bool {
        let host = match url.host() {
            Some(url::Host::Domain(d)) => d.to_ascii_lowercase(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            None => return false,
        };
        let port_fits = match self.port {
            Ports::Any => true,
            Ports::Default => url.port().is_none(),
            Ports::One(p) => url.port_or_known_default() == Some(p),
        };
        host == self.host && port_fits
    }
}

impl std::str::FromStr for HostPattern {
    type Err = String;

    fn from_str(raw: &str) -> Result<HostPattern, String> {
        HostPattern::parse(raw)
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let port = match self.port {
            Ports::Default => return f.write_str(&self.host),
            Ports::One(port) => port.to_string(),
            Ports::Any => "*".into(),
        };
        if self.host.contains(':') {
            write!(f, "[{}]:{port}", self.host)
        } else {
            write!(f, "{}:{port}", self.host)
        }
    }
}

fn is_host_name(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Whether one of `patterns` matches `url`.
pub fn listed(patterns: &[HostPattern], url: &Url) -> bool {
    patterns.iter().any(|p| p.matches(url))
}

/// Whether an address is on the public internet: not loopback, private,
/// link-local, shared (CGNAT), documentation, multicast or reserved.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || a >= 240
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 198 && (18..20).contains(&b)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let seg = v6.segments();
            // Only global unicast (2000::/3), without the ranges that carry
            // or reach IPv4 (6to4, Teredo, NAT64) or are for documentation.
            // (NAT64's 64:ff9b::/96 lies outside 2000::/3 already.)
            (seg[0] & 0xe000) == 0x2000
                && seg[0] != 0x2002
                && !(seg[0] == 0x2001 && seg[1] == 0x0000)
                && !(seg[0] == 0x2001 && seg[1] == 0x0db8)
                // 3fff::/20 (RFC 9637).
                && !(seg[0] == 0x3fff && (seg[1] & 0xf000) == 0)
        }
    }
}

/// Whether a URL names this machine (`localhost`, 127.0.0.0/8, `::1`).
pub fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Why a fetch did not happen or did not finish. The texts name no URL
/// (one may carry a registration token) and are meant for an administrator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("it is not an http(s) URL")]
    NotAUrl,
    #[error("it is not an https:// address")]
    NotHttps,
    #[error("{host} is not on a public address")]
    PrivateAddress { host: String },
    #[error("the host name {host} does not resolve")]
    DoesNotResolve { host: String },
    #[error("it did not answer in time")]
    Timeout,
    #[error("it could not be reached: {0}")]
    Unreachable(&'static str),
    #[error("it answered with a redirect (HTTP {0}); guestlink follows none")]
    Redirect(u16),
    #[error("its answer is larger than {0}")]
    TooLarge(&'static str),
    #[error("its answer broke off ({0})")]
    BrokenOff(&'static str),
}

/// How much a fetch may read and how long it may take.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_bytes: usize,
    /// In words, for the error that says the cap was hit.
    pub max_label: &'static str,
    pub timeout: Duration,
}

impl Limits {
    /// An LMS's OpenID configuration, or its answer to a registration.
    pub fn configuration(timeout: Duration) -> Limits {
        Limits {
            max_bytes: 1024 * 1024,
            max_label: "1 MB",
            timeout,
        }
    }

    /// A platform's key set.
    pub fn key_set(timeout: Duration) -> Limits {
        Limits {
            max_bytes: 256 * 1024,
            max_label: "256 KB",
            timeout,
        }
    }
}

/// A URL that passed the rules, pinned to the addresses it resolved to.
#[derive(Clone, Debug)]
pub struct Target {
    pub url: Url,
    host: String,
    addresses: Vec<SocketAddr>,
}

/// An answer that is not a redirect, read whole within its limits.
#[derive(Debug)]
pub struct Fetched {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Fetched {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// The fetch rules of this installation.
#[derive(Clone, Debug, Default)]
pub struct Outbound {
    allowed: Vec<HostPattern>,
}

impl Outbound {
    pub fn new(allowed: Vec<HostPattern>) -> Outbound {
        Outbound { allowed }
    }

    /// Whether the operator listed `url`'s host.
    pub fn allows(&self, url: &Url) -> bool {
        listed(&self.allowed, url)
    }

    /// The scheme rule alone, for URLs handed to browsers rather than
    /// fetched (an LMS's sign-in URL): https, or http to a listed loopback host.
    pub fn scheme_allowed(&self, url: &Url) -> bool {
        match url.scheme() {
            "https" => true,
            "http" => self.allows(url) && is_loopback_host(url),
            _ => false,
        }
    }

    /// Checks `raw` against the rules and resolves its host, once.
    pub async fn target(&self, raw: &str, timeout: Duration) -> Result<Target, FetchError> {
        let url = Url::parse(raw.trim()).map_err(|_| FetchError::NotAUrl)?;
        let host = match url.host_str() {
            Some(h) if matches!(url.scheme(), "http" | "https") => h.to_string(),
            _ => return Err(FetchError::NotAUrl),
        };
        if !self.scheme_allowed(&url) {
            return Err(FetchError::NotHttps);
        }
        let listed = self.allows(&url);
        let port = url.port_or_known_default().unwrap_or(443);
        let bare = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let addresses: Vec<SocketAddr> =
            tokio::time::timeout(timeout, tokio::net::lookup_host((bare.as_str(), port)))
                .await
                .map_err(|_| FetchError::Timeout)?
                .map_err(|_| FetchError::DoesNotResolve { host: host.clone() })?
                .collect();
        if addresses.is_empty() {
            return Err(FetchError::DoesNotResolve { host });
        }
        let allowed = |ip: IpAddr| {
            if url.scheme() == "http" {
                // Plain http only ever reaches this machine.
                ip.is_loopback()
            } else {
                listed || is_public(ip)
            }
        };
        if !addresses.iter().all(|a| allowed(a.ip())) {
            return Err(FetchError::PrivateAddress { host });
        }
        Ok(Target {
            url,
            host: bare,
            addresses,
        })
    }

    /// GETs `target`, with a Bearer token when one is given.
    pub async fn get(
        &self,
        target: &Target,
        bearer: Option<&str>,
        limits: Limits,
    ) -> Result<Fetched, FetchError> {
        let mut request = client_for(target, limits)?
            .get(target.url.clone())
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        send(request, limits).await
    }

    /// POSTs `body` as JSON to `target`, with a Bearer token when one is given.
    pub async fn post_json(
        &self,
        target: &Target,
        bearer: Option<&str>,
        body: &serde_json::Value,
        limits: Limits,
    ) -> Result<Fetched, FetchError> {
        let mut request = client_for(target, limits)?
            .post(target.url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .json(body);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        send(request, limits).await
    }

    /// Checks, resolves and GETs `raw` in one go.
    pub async fn fetch(&self, raw: &str, limits: Limits) -> Result<Fetched, FetchError> {
        let target = self.target(raw, limits.timeout).await?;
        self.get(&target, None, limits).await
    }
}

/// A client that connects only to the target's checked addresses. Built per
/// fetch: these fetches are rare (a registration, a key set every few
/// minutes), and a client cannot be pinned per request.
fn client_for(target: &Target, limits: Limits) -> Result<reqwest::Client, FetchError> {
    reqwest::Client::builder()
        .connect_timeout(limits.timeout)
        .timeout(limits.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(USER_AGENT)
        .resolve_to_addrs(&target.host, &target.addresses)
        .build()
        .map_err(|_| FetchError::Unreachable("the HTTP client could not be set up"))
}

async fn send(request: reqwest::RequestBuilder, limits: Limits) -> Result<Fetched, FetchError> {
    let response = request.send().await.map_err(|e| {
        if e.is_timeout() {
            FetchError::Timeout
        } else {
            FetchError::Unreachable(error_kind(&e))
        }
    })?;
    let status = response.status().as_u16();
    if (300..400).contains(&status) {
        return Err(FetchError::Redirect(status));
    }
    let headers = response.headers().clone();
    let body = read_limited(response, limits).await?;
    Ok(Fetched {
        status,
        headers,
        body,
    })
}

/// Reads the body piece by piece and gives up as soon as it passes the cap,
/// so a huge or endless answer costs at most the cap in memory.
async fn read_limited(
    mut response: reqwest::Response,
    limits: Limits,
) -> Result<Vec<u8>, FetchError> {
    if response
        .content_length()
        .is_some_and(|len| len > limits.max_bytes as u64)
    {
        return Err(FetchError::TooLarge(limits.max_label));
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) if body.len() + chunk.len() > limits.max_bytes => {
                return Err(FetchError::TooLarge(limits.max_label));
            }
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => return Ok(body),
            Err(e) if e.is_timeout() => return Err(FetchError::Timeout),
            Err(e) => return Err(FetchError::BrokenOff(error_kind(&e))),
        }
    }
}

/// A reqwest error in words, without the URL (which may carry a token).
fn error_kind(err: &reqwest::Error) -> &'static str {
    if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "the connection was refused or could not be made"
    } else {
        "a network error"
    }
}

#[cfg(test)]
#[path = "outbound_tests.rs"]
mod tests;
