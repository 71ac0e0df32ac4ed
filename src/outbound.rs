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
mod tests {
    use super::*;

    fn url(raw: &str) -> Url {
        Url::parse(raw).unwrap()
    }

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fc00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:a00:1::1",
            "2001:0:4136:e378::1",
            "fec0::1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        assert!(
            !is_public("3fff::1".parse().unwrap()),
            "documentation (RFC 9637)"
        );
        for public in ["8.8.8.8", "129.132.1.1", "2a00:1450:4001::200e"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn host_patterns_cover_the_default_port_one_port_or_every_port() {
        let patterns: Vec<HostPattern> = [
            "127.0.0.1:*",
            "LMS.example.edu:8443",
            "moodle.example.edu",
            "::1",
            "[::2]:9000",
        ]
        .iter()
        .map(|p| HostPattern::parse(p).unwrap())
        .collect();
        assert!(listed(&patterns, &url("http://127.0.0.1:9000/x")));
        assert!(listed(&patterns, &url("https://lms.example.edu:8443/x")));
        assert!(!listed(&patterns, &url("https://lms.example.edu/x")));
        assert!(listed(&patterns, &url("https://moodle.example.edu/x")));
        assert!(
            !listed(&patterns, &url("https://moodle.example.edu:6379/x")),
            "a host without a port covers its default port only"
        );
        assert!(listed(&patterns, &url("http://[::1]/x")));
        assert!(!listed(&patterns, &url("http://[::1]:9000/x")));
        assert!(listed(&patterns, &url("http://[::2]:9000/x")));
        assert!(!listed(&patterns, &url("http://[::2]:9001/x")));
        assert_eq!(patterns[4].to_string(), "[::2]:9000");
        assert_eq!(patterns[1].to_string(), "lms.example.edu:8443");
        assert_eq!(patterns[0].to_string(), "127.0.0.1:*");
        assert_eq!(patterns[2].to_string(), "moodle.example.edu");
        for bad in [
            "",
            "a b",
            "host:0",
            "host:99999",
            "[::1",
            "[::1]x",
            "http://x",
            "*",
        ] {
            assert!(HostPattern::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn plain_http_only_to_a_listed_loopback_host() {
        let rules = Outbound::new(vec![
            HostPattern::parse("127.0.0.1:*").unwrap(),
            HostPattern::parse("lms.example.edu").unwrap(),
        ]);
        assert!(rules.scheme_allowed(&url("https://anything.example.com/")));
        assert!(rules.scheme_allowed(&url("http://127.0.0.1:8080/jwks")));
        assert!(!rules.scheme_allowed(&url("http://lms.example.edu/jwks")));
        assert!(!rules.scheme_allowed(&url("http://[::1]/jwks")));
        assert!(!rules.scheme_allowed(&url("ftp://127.0.0.1/jwks")));
    }

    #[tokio::test]
    async fn unlisted_private_and_plain_http_targets_are_refused_before_any_connection() {
        let rules = Outbound::default();
        let timeout = Duration::from_secs(2);
        assert_eq!(
            rules
                .target("http://127.0.0.1:9/x", timeout)
                .await
                .unwrap_err(),
            FetchError::NotHttps
        );
        for private in [
            "https://127.0.0.1:9/x",
            "https://localhost:9/x",
            "https://[::1]:9/x",
            "https://10.0.0.1/x",
            "https://[::ffff:127.0.0.1]/x",
        ] {
            assert!(
                matches!(
                    rules.target(private, timeout).await,
                    Err(FetchError::PrivateAddress { .. })
                ),
                "{private}"
            );
        }
        assert_eq!(
            rules.target("not a url", timeout).await.unwrap_err(),
            FetchError::NotAUrl
        );
        let listed = Outbound::new(vec![HostPattern::parse("127.0.0.1:*").unwrap()]);
        assert!(listed.target("http://127.0.0.1:9/x", timeout).await.is_ok());
        assert!(
            listed
                .target("https://127.0.0.1:9/x", timeout)
                .await
                .is_ok()
        );
    }

    fn pattern(raw: &str) -> HostPattern {
        HostPattern::parse(raw).unwrap()
    }

    #[test]
    fn a_bare_host_covers_the_default_port_of_either_scheme() {
        let moodle = pattern("moodle.example.edu");
        assert!(moodle.matches(&url("https://moodle.example.edu/")));
        assert!(moodle.matches(&url("http://moodle.example.edu/")));
        assert!(
            moodle.matches(&url("https://moodle.example.edu:443/")),
            "an explicit default port is the default port"
        );
        assert!(!moodle.matches(&url("http://moodle.example.edu:8080/")));
    }

    #[test]
    fn a_listed_port_matches_a_url_whose_scheme_defaults_to_it() {
        let https_port = pattern("lms.example.edu:443");
        assert!(https_port.matches(&url("https://lms.example.edu/")));
        assert!(!https_port.matches(&url("http://lms.example.edu/")));
    }

    #[test]
    fn a_star_covers_every_port_including_the_default() {
        let any = pattern("lms.example.edu:*");
        for u in [
            "https://lms.example.edu/",
            "http://lms.example.edu:1/",
            "https://lms.example.edu:65535/",
        ] {
            assert!(any.matches(&url(u)), "{u}");
        }
        assert!(!any.matches(&url("https://other.example.edu/")));
    }

    #[test]
    fn a_pattern_matches_its_host_only_not_subdomains_or_parents() {
        let p = pattern("example.edu");
        assert!(!p.matches(&url("https://lms.example.edu/")));
        assert!(!p.matches(&url("https://example.edu.evil.com/")));
        assert!(pattern("LMS.Example.EDU").matches(&url("https://lms.example.edu/")));
    }

    #[test]
    fn ipv6_patterns_are_kept_in_canonical_form() {
        let long = pattern("[0:0:0:0:0:0:0:1]");
        assert_eq!(long, pattern("::1"));
        assert_eq!(long.to_string(), "::1");
        assert_eq!(pattern("[0:0::1]:*").to_string(), "[::1]:*");
        assert!(pattern("2001:DB8::A").matches(&url("https://[2001:db8::a]/")));
    }

    #[test]
    fn a_pattern_reads_back_from_its_display() {
        for raw in [
            "lms.example.edu",
            "lms.example.edu:8443",
            "10.0.0.1:*",
            "::1",
            "[::1]:9000",
        ] {
            let p = pattern(raw);
            assert_eq!(p.to_string().parse::<HostPattern>(), Ok(p), "{raw}");
        }
    }

    #[test]
    fn host_names_need_short_non_empty_labels() {
        assert!(HostPattern::parse(&format!("{}.edu", "a".repeat(63))).is_ok());
        for bad in [
            format!("{}.edu", "a".repeat(64)),
            "a..edu".to_string(),
            ".edu".to_string(),
            "lms.example.edu.".to_string(),
            "lms/x".to_string(),
        ] {
            assert!(HostPattern::parse(&bad).is_err(), "{bad}");
        }
        assert!(
            HostPattern::parse("my_lms.local").is_ok(),
            "underscores occur in real names"
        );
    }

    #[test]
    fn reserved_ipv4_ranges_are_not_public() {
        for reserved in [
            "0.1.2.3",
            "192.0.0.8",
            "192.0.2.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.1",
            "203.0.113.1",
            "224.0.0.1",
            "240.0.0.1",
            "255.255.255.255",
            "100.127.255.255",
        ] {
            assert!(!is_public(reserved.parse().unwrap()), "{reserved}");
        }
    }

    #[test]
    fn the_neighbours_of_reserved_ipv4_ranges_are_public() {
        for public in [
            "1.0.0.1",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.255",
            "192.169.0.1",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn only_global_unicast_ipv6_outside_special_ranges_is_public() {
        for reserved in [
            "::",
            "2001:db8::1",
            "2001::1",
            "2002::1",
            "3fff:fff::1",
            "4000::1",
            "ff02::1",
            "fd12:3456::1",
        ] {
            assert!(!is_public(reserved.parse().unwrap()), "{reserved}");
        }
        for public in ["2001:4860:4860::8888", "2600::1", "2c0f:f248::1"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn an_ipv4_mapped_address_is_as_public_as_its_ipv4() {
        assert!(is_public("::ffff:8.8.8.8".parse().unwrap()));
        assert!(!is_public("::ffff:192.168.0.1".parse().unwrap()));
    }

    #[test]
    fn this_machine_is_localhost_the_127_network_or_ipv6_loopback() {
        for u in [
            "http://localhost/",
            "http://LocalHost:8080/",
            "http://127.1.2.3/",
            "http://[::1]:9/",
        ] {
            assert!(is_loopback_host(&url(u)), "{u}");
        }
        for u in [
            "http://localhost.example.com/",
            "http://10.0.0.1/",
            "http://[::2]/",
            "file:///etc/passwd",
        ] {
            assert!(!is_loopback_host(&url(u)), "{u}");
        }
    }

    #[test]
    fn only_a_2xx_answer_is_a_success() {
        let answer = |status| Fetched {
            status,
            headers: reqwest::header::HeaderMap::new(),
            body: vec![],
        };
        assert!(answer(200).is_success());
        assert!(answer(299).is_success());
        assert!(!answer(199).is_success());
        assert!(!answer(304).is_success());
        assert!(!answer(404).is_success());
    }

    #[test]
    fn fetch_errors_name_the_host_but_never_a_url() {
        let err = FetchError::PrivateAddress {
            host: "lms.internal".into(),
        };
        assert_eq!(err.to_string(), "lms.internal is not on a public address");
        assert_eq!(
            FetchError::Redirect(302).to_string(),
            "it answered with a redirect (HTTP 302); guestlink follows none"
        );
    }

    #[test]
    fn only_3fff_20_of_the_3ff0_block_is_documentation() {
        assert!(is_public("3fff:1000::1".parse().unwrap()));
        assert!(is_public("3ffe::1".parse().unwrap()));
    }
}
