//! The values settings take that are more than a number: where the data
//! lives, networks, the public URL, the admin token.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;

/// Where the data lives: an SQLite file (the embedded default) or PostgreSQL.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl fmt::Debug for DatabaseUrl {
    // The PostgreSQL URL may carry a password: never print it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => write!(f, "{}", redact_url_password(url)),
        }
    }
}

impl DatabaseUrl {
    /// The backend is chosen from the scheme, and an unknown scheme is refused
    /// rather than being taken for an SQLite file name.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(raw.to_string()));
        }
        if let Some(path) = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err("an sqlite: URL needs a file path".into());
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        Err(format!(
            "expected a postgres:// URL or sqlite://PATH, got '{}'",
            redact_url_password(raw)
        ))
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, DatabaseUrl::Postgres(_))
    }
}

pub fn redact_url_password(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}://{}:***{}",
                    &url[..scheme_end],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// An address or network (`10.0.0.0/8`) allowed to set `X-Forwarded-For`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let (addr, prefix) = match raw.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (raw, None),
        };
        let addr: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| format!("'{raw}' is not an IP address or network"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("'{raw}' has a bad prefix length"))?,
            None => max,
        };
        Ok(IpNet { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u32::MAX << (32 - self.prefix as u32)
                };
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u128::MAX << (128 - self.prefix as u32)
                };
                u128::from(net) & mask == u128::from(ip) & mask
            }
            // An IPv4-mapped network (::ffff:10.0.0.0/104) covers the IPv4
            // addresses inside it.
            (IpAddr::V6(net), IpAddr::V4(ip)) => match net.to_ipv4_mapped() {
                Some(net) if self.prefix >= 96 => IpNet {
                    addr: IpAddr::V4(net),
                    prefix: self.prefix - 96,
                }
                .contains(IpAddr::V4(ip)),
                _ => false,
            },
            (IpAddr::V4(_), IpAddr::V6(ip)) => ip
                .to_ipv4_mapped()
                .is_some_and(|v4| self.contains(IpAddr::V4(v4))),
        }
    }
}

/// The tool's public URL, `{base}` in README.md and lti-config/: scheme,
/// host and optional port; never a path, trailing slash, query or fragment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicUrl(String);

impl PublicUrl {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = raw.trim().trim_end_matches('/');
        let url = url::Url::parse(trimmed).map_err(|e| format!("'{raw}' is not a URL ({e})"))?;
        if url.scheme() != "https" && url.scheme() != "http" {
            return Err(format!(
                "'{raw}' must start with https:// (or http:// for local use)"
            ));
        }
        if url.host_str().is_none() || url.query().is_some() || url.fragment().is_some() {
            return Err(format!(
                "'{raw}' must be scheme://host[:port] without query or fragment"
            ));
        }
        // guestlink answers at the root of its host: every page links to
        // absolute paths such as /static/ and /lti/launch.
        if url.path() != "/" && !url.path().is_empty() {
            return Err(format!(
                "'{raw}' must not have a path: serve guestlink at the root of its own host name"
            ));
        }
        Ok(PublicUrl(trimmed.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_https(&self) -> bool {
        self.0.starts_with("https://")
    }

    /// An absolute URL for a path of this tool (`path` starts with `/`).
    pub fn join(&self, path: &str) -> String {
        format!("{}{}", self.0, path)
    }

    /// host[:port]: the `domain` an LMS registers for the tool.
    pub fn domain(&self) -> String {
        url::Url::parse(&self.0)
            .map(|u| host_and_port(&u))
            .unwrap_or_default()
    }

    /// Whether `url` points inside this tool: same origin, under its path.
    pub fn contains(&self, url: &str) -> bool {
        url == self.0
            || url.starts_with(&format!("{}/", self.0))
            || url.starts_with(&format!("{}?", self.0))
    }
}

/// A URL's host with its port when it names one (`lms.example.edu:8443`).
pub fn host_and_port(url: &url::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

/// Where invitation email is sent: `smtps://user:pass@host[:port]`
/// (TLS from the start), `smtp://host:port?tls=required` (STARTTLS), or
/// `smtp://host:port` (no TLS: for a relay on loopback). It may carry a
/// password, so it is never printed.
#[derive(Clone)]
pub struct SmtpUrl(String);

impl SmtpUrl {
    pub fn parse(raw: &str) -> Result<SmtpUrl, String> {
        let url = url::Url::parse(raw).map_err(|_| {
            "expected a URL such as smtps://user:pass@mail.example.edu or smtp://127.0.0.1:2525"
                .to_string()
        })?;
        if !matches!(url.scheme(), "smtp" | "smtps") {
            return Err(format!(
                "expected smtp:// or smtps://, got {}://",
                url.scheme()
            ));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err("the URL names no host".into());
        }
        Ok(SmtpUrl(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SmtpUrl({})", redact_url_password(&self.0))
    }
}

/// The admin console's standing sign-in secret; never printed.
#[derive(Clone)]
pub struct AdminToken(String);

impl AdminToken {
    pub fn new(value: impl Into<String>) -> AdminToken {
        AdminToken(value.into())
    }

    /// Compares digests in constant time, so the answer's timing says
    /// nothing, not even the token's length.
    pub fn matches(&self, candidate: &str) -> bool {
        crate::crypto::secrets_equal(
            &crate::crypto::hash_secret(&self.0),
            &crate::crypto::hash_secret(candidate),
        )
    }
}

impl fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AdminToken(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_postgres_schemes_choose_postgres() {
        for raw in ["postgres://u@h/db", " postgresql://u@h/db "] {
            let url = DatabaseUrl::parse(raw).unwrap();
            assert!(url.is_postgres(), "{raw}");
        }
    }

    #[test]
    fn sqlite_urls_name_a_file_with_or_without_slashes() {
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/g.db").unwrap(),
            DatabaseUrl::Sqlite(PathBuf::from("/var/lib/g.db"))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:data/g.db").unwrap(),
            DatabaseUrl::Sqlite(PathBuf::from("data/g.db"))
        );
        assert!(DatabaseUrl::parse("sqlite://").is_err());
        assert!(!DatabaseUrl::parse("sqlite:x").unwrap().is_postgres());
    }

    #[test]
    fn an_unknown_database_scheme_is_refused_without_showing_its_password() {
        let err = DatabaseUrl::parse("mysql://app:hunter2@db/g").unwrap_err();
        assert!(!err.contains("hunter2"), "{err}");
        assert!(err.contains("mysql://app:***@db/g"), "{err}");
        assert!(DatabaseUrl::parse("guestlink.sqlite3").is_err());
    }

    #[test]
    fn a_password_is_redacted_up_to_the_last_at_sign() {
        assert_eq!(
            redact_url_password("postgres://u:p@ss@db:5432/g"),
            "postgres://u:***@db:5432/g"
        );
        assert_eq!(
            redact_url_password("postgres://u@db/g"),
            "postgres://u@db/g"
        );
        assert_eq!(redact_url_password("postgres://db/g"), "postgres://db/g");
    }

    #[test]
    fn a_network_prefix_may_be_as_long_as_its_family_allows() {
        assert!(IpNet::parse("10.0.0.1/32").is_ok());
        assert!(IpNet::parse("10.0.0.1/33").is_err());
        assert!(IpNet::parse("2001:db8::/128").is_ok());
        assert!(IpNet::parse("2001:db8::/129").is_err());
        assert!(IpNet::parse("10.0.0.0/x").is_err());
        assert!(IpNet::parse("proxy.example.edu").is_err());
    }

    #[test]
    fn a_zero_prefix_covers_its_whole_family() {
        let v4 = IpNet::parse("0.0.0.0/0").unwrap();
        assert!(v4.contains("203.0.113.9".parse().unwrap()));
        assert!(!v4.contains("2001:db8::1".parse().unwrap()));
        let v6 = IpNet::parse("::/0").unwrap();
        assert!(v6.contains("2001:db8::1".parse().unwrap()));
    }

    #[test]
    fn an_ipv4_network_covers_its_addresses_written_as_ipv4_mapped_ipv6() {
        let net = IpNet::parse("10.0.0.0/8").unwrap();
        assert!(net.contains("::ffff:10.1.2.3".parse().unwrap()));
        assert!(!net.contains("::ffff:11.1.2.3".parse().unwrap()));
    }

    #[test]
    fn a_single_ipv4_mapped_address_covers_its_ipv4_address() {
        let net = IpNet::parse("::ffff:10.0.0.5").unwrap();
        assert!(net.contains("10.0.0.5".parse().unwrap()));
        assert!(!net.contains("10.0.0.6".parse().unwrap()));
    }

    #[test]
    fn an_ipv4_mapped_network_covers_the_ipv4_addresses_inside_it() {
        let net = IpNet::parse("::ffff:10.0.0.0/104").unwrap();
        assert!(net.contains("::ffff:10.9.9.9".parse().unwrap()));
        assert!(net.contains("10.9.9.9".parse().unwrap()));
    }

    #[test]
    fn a_public_url_loses_its_trailing_slash_and_joins_paths() {
        let url = PublicUrl::parse(" https://media.example.edu:8443/ ").unwrap();
        assert_eq!(url.as_str(), "https://media.example.edu:8443");
        assert_eq!(
            url.join("/lti/launch"),
            "https://media.example.edu:8443/lti/launch"
        );
        assert_eq!(url.domain(), "media.example.edu:8443");
        assert!(url.is_https());
        assert!(
            !PublicUrl::parse("http://127.0.0.1:8080")
                .unwrap()
                .is_https()
        );
    }

    #[test]
    fn a_public_url_has_no_query_fragment_or_path() {
        for bad in [
            "https://media.example.edu/#top",
            "https://media.example.edu?x=1",
            "https://media.example.edu/guestlink/",
            "media.example.edu",
        ] {
            assert!(PublicUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_public_url_contains_its_own_paths_and_queries_only() {
        let url = PublicUrl::parse("https://media.example.edu").unwrap();
        assert!(url.contains("https://media.example.edu"));
        assert!(url.contains("https://media.example.edu?x=1"));
        assert!(!url.contains("https://media.example.edu:8443/lti"));
        assert!(!url.contains("http://media.example.edu/lti"));
    }

    #[test]
    fn a_host_is_given_with_its_port_only_when_the_url_names_one() {
        let at = |u: &str| host_and_port(&url::Url::parse(u).unwrap());
        assert_eq!(at("https://lms.example.edu/x"), "lms.example.edu");
        assert_eq!(at("https://lms.example.edu:443/x"), "lms.example.edu");
        assert_eq!(at("https://lms.example.edu:8443/x"), "lms.example.edu:8443");
        assert_eq!(at("http://[::1]:9000/"), "[::1]:9000");
    }

    #[test]
    fn an_admin_token_matches_only_itself_and_never_prints() {
        let token = AdminToken::new("a".repeat(32));
        assert!(token.matches(&"a".repeat(32)));
        assert!(!token.matches(&"a".repeat(31)));
        assert!(!token.matches(""));
        assert_eq!(format!("{token:?}"), "AdminToken(<redacted>)");
    }
}
