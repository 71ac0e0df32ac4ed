//! Settings from the environment, with an optional TOML file underneath.
//!
//! Every setting has one environment name (`GUESTLINK_...`, or `DATABASE_URL`)
//! and the same name in lower case without the prefix in the TOML file named
//! by `GUESTLINK_CONFIG`. The environment wins. Everything is validated here,
//! at start: a wrong value stops the process with one line naming the setting.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use crate::crypto::SecretKey;
use crate::outbound::HostPattern;

/// A setting that could not be used, with the name an operator would search for.
#[derive(Debug, thiserror::Error)]
#[error("{setting}: {problem}")]
pub struct ConfigError {
    pub setting: String,
    pub problem: String,
}

fn bad(setting: &str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        setting: setting.to_string(),
        problem: problem.into(),
    }
}

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
            (IpAddr::V6(net), IpAddr::V4(ip)) => {
                net.to_ipv4_mapped() == Some(ip) && self.prefix >= 96
            }
            (IpAddr::V4(_), IpAddr::V6(ip)) => ip
                .to_ipv4_mapped()
                .is_some_and(|v4| self.contains(IpAddr::V4(v4))),
        }
    }
}

/// The tool's public URL, `{base}` in CONTRACT.md: scheme, host, optional
/// port and path, never a trailing slash, query or fragment.
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

#[derive(Clone, Debug)]
pub struct Settings {
    /// `serve` or `demo`: the demo alone accepts loopback http where real
    /// LMSs must use https (deep-linking return URLs).
    pub mode: Mode,
    pub database_url: DatabaseUrl,
    pub public_url: PublicUrl,
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    /// A launch session ends after this long without a request.
    pub session_idle_minutes: i64,
    /// A launch session ends this long after the launch, however busy.
    pub session_max_hours: i64,
    /// How long the login state (state, nonce) waits for the platform's answer.
    pub login_state_seconds: i64,
    /// Clock skew allowed on `exp`, `iat` and `nbf` of id_tokens.
    pub jwt_leeway_seconds: i64,
    /// An unknown `kid` refetches a platform's JWKS at most once per this interval.
    pub jwks_refetch_seconds: u64,
    pub jwks_timeout_seconds: u64,
    /// A retired tool key stays published this long, for platforms that cached it.
    pub key_grace_days: i64,
    pub trusted_proxies: Vec<IpNet>,
    pub guest_rate_limit: u32,
    /// LTI login initiations per minute per client address (0: no limit).
    pub login_rate_limit: u32,
    pub guest_session_hours: i64,
    /// Guest visits, guest sessions and deleted links are kept this long.
    pub guest_retention_days: i64,
    /// The largest file an upload may carry.
    pub upload_max_bytes: u64,
    /// Uploaded files a course may hold in all, in bytes (0: no quota).
    pub course_quota_bytes: u64,
    /// An upload whose body stops arriving for this long is abandoned.
    pub upload_idle_seconds: u64,
    /// How long a signed media file URL may start a download or a stream.
    pub media_url_seconds: i64,
    /// Hosts whose dynamic registrations are accepted and active at once.
    pub registration_allowed_hosts: Vec<HostPattern>,
    /// Hosts an LMS may name for the tool to fetch from although they
    /// resolve to private or loopback addresses.
    pub outbound_allowed_hosts: Vec<HostPattern>,
    /// How long fetching a platform's configuration or registering with it may take.
    pub registration_timeout_seconds: u64,
    /// A standing sign-in secret for the admin console (at least 32
    /// characters); without it only `guestlink admin login-link` signs in.
    pub admin_token: Option<AdminToken>,
    /// The key that seals secrets at rest; `serve` refuses to start without
    /// it, `demo` makes one in its data directory.
    pub secret_key: Option<SecretKey>,
    /// How long launch diagnostics (which hold personal data) are kept.
    pub diagnostics_days: i64,
    /// Connections in the PostgreSQL pool (and SQLite readers).
    pub db_pool_size: u32,
    /// How long a request waits for a database connection before answering 503.
    pub db_timeout_seconds: u64,
    pub workers: usize,
    pub log_level: String,
}

/// Where settings come from: the environment and, underneath, the TOML file.
pub struct Sources {
    env: BTreeMap<String, String>,
    file: BTreeMap<String, String>,
}

const FILE_KEYS: &[&str] = &[
    "DATABASE_URL",
    "GUESTLINK_PUBLIC_URL",
    "GUESTLINK_BIND",
    "GUESTLINK_DATA_DIR",
    "GUESTLINK_SESSION_IDLE_MINUTES",
    "GUESTLINK_SESSION_MAX_HOURS",
    "GUESTLINK_LOGIN_STATE_SECONDS",
    "GUESTLINK_JWT_LEEWAY_SECONDS",
    "GUESTLINK_JWKS_REFETCH_SECONDS",
    "GUESTLINK_JWKS_TIMEOUT_SECONDS",
    "GUESTLINK_KEY_GRACE_DAYS",
    "GUESTLINK_TRUSTED_PROXIES",
    "GUESTLINK_GUEST_RATE_LIMIT",
    "GUESTLINK_LOGIN_RATE_LIMIT",
    "GUESTLINK_GUEST_SESSION_HOURS",
    "GUESTLINK_GUEST_RETENTION_DAYS",
    "GUESTLINK_UPLOAD_MAX_MB",
    "GUESTLINK_COURSE_QUOTA_MB",
    "GUESTLINK_UPLOAD_IDLE_SECONDS",
    "GUESTLINK_MEDIA_URL_SECONDS",
    "GUESTLINK_REGISTRATION_ALLOWED_HOSTS",
    "GUESTLINK_OUTBOUND_ALLOWED_HOSTS",
    "GUESTLINK_SECRET_KEY",
    "GUESTLINK_SECRET_KEY_FILE",
    "GUESTLINK_REGISTRATION_TIMEOUT_SECONDS",
    "GUESTLINK_ADMIN_TOKEN",
    "GUESTLINK_DIAGNOSTICS_DAYS",
    "GUESTLINK_DB_POOL_SIZE",
    "GUESTLINK_DB_TIMEOUT_SECONDS",
    "GUESTLINK_WORKERS",
    "GUESTLINK_LOG",
];

fn file_key(env_name: &str) -> String {
    env_name
        .trim_start_matches("GUESTLINK_")
        .to_ascii_lowercase()
}

impl Sources {
    /// The process environment, plus the file named by `GUESTLINK_CONFIG` if any.
    pub fn from_process() -> Result<Self, ConfigError> {
        let env: BTreeMap<String, String> = std::env::vars().collect();
        Self::new(env)
    }

    pub fn new(env: BTreeMap<String, String>) -> Result<Self, ConfigError> {
        let file = match env.get("GUESTLINK_CONFIG") {
            Some(path) if !path.is_empty() => read_toml(path)?,
            _ => BTreeMap::new(),
        };
        Ok(Sources { env, file })
    }

    fn get(&self, name: &str) -> Option<String> {
        self.env
            .get(name)
            .filter(|v| !v.trim().is_empty())
            .cloned()
            .or_else(|| self.file.get(&file_key(name)).cloned())
    }
}

fn read_toml(path: &str) -> Result<BTreeMap<String, String>, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| bad("GUESTLINK_CONFIG", format!("cannot read '{path}': {e}")))?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| {
        bad(
            "GUESTLINK_CONFIG",
            format!("'{path}' is not valid TOML: {}", one_line(&e.to_string())),
        )
    })?;
    let known: Vec<String> = FILE_KEYS.iter().map(|k| file_key(k)).collect();
    let mut out = BTreeMap::new();
    for (key, value) in table {
        if !known.contains(&key) {
            return Err(bad(
                "GUESTLINK_CONFIG",
                format!("unknown setting '{key}' in '{path}'"),
            ));
        }
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Array(items) => items
                .iter()
                .map(|v| match v {
                    toml::Value::String(s) => s.clone(),
                    toml::Value::Integer(i) => i.to_string(),
                    _ => String::new(),
                })
                .collect::<Vec<_>>()
                .join(","),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Float(f) => f.to_string(),
            _ => {
                return Err(bad(
                    "GUESTLINK_CONFIG",
                    format!("setting '{key}' in '{path}' must be a string, number or list"),
                ));
            }
        };
        out.insert(key, text);
    }
    Ok(out)
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Defaults differ between `serve` and `demo` only in the address: the demo
/// listens on loopback, `serve` on every interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Serve,
    Demo,
}

impl Settings {
    pub fn load(sources: &Sources, mode: Mode) -> Result<Settings, ConfigError> {
        let bind_default = match mode {
            Mode::Serve => "0.0.0.0:8080",
            Mode::Demo => "127.0.0.1:8080",
        };
        let bind_raw = sources
            .get("GUESTLINK_BIND")
            .unwrap_or_else(|| bind_default.into());
        let bind: SocketAddr = bind_raw.trim().parse().map_err(|_| {
            bad(
                "GUESTLINK_BIND",
                format!("expected host:port such as 0.0.0.0:8080, got '{bind_raw}'"),
            )
        })?;

        let data_dir = PathBuf::from(
            sources
                .get("GUESTLINK_DATA_DIR")
                .unwrap_or_else(|| "guestlink-data".into()),
        );

        let database_url = match sources.get("DATABASE_URL") {
            Some(raw) => DatabaseUrl::parse(&raw).map_err(|p| bad("DATABASE_URL", p))?,
            None => DatabaseUrl::Sqlite(data_dir.join("guestlink.sqlite3")),
        };

        let public_default = {
            let host = if bind.ip().is_unspecified() {
                "127.0.0.1".to_string()
            } else {
                bind.ip().to_string()
            };
            let host = if bind.ip().is_ipv6() && !bind.ip().is_unspecified() {
                format!("[{host}]")
            } else {
                host
            };
            format!("http://{host}:{}", bind.port())
        };
        let public_url = PublicUrl::parse(
            &sources
                .get("GUESTLINK_PUBLIC_URL")
                .unwrap_or(public_default),
        )
        .map_err(|p| bad("GUESTLINK_PUBLIC_URL", p))?;

        let trusted_proxies = list(sources.get("GUESTLINK_TRUSTED_PROXIES"))
            .iter()
            .map(|item| IpNet::parse(item))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|p| bad("GUESTLINK_TRUSTED_PROXIES", p))?;

        let registration_allowed_hosts = hosts(sources, "GUESTLINK_REGISTRATION_ALLOWED_HOSTS")?;
        let mut outbound_allowed_hosts = hosts(sources, "GUESTLINK_OUTBOUND_ALLOWED_HOSTS")?;
        if mode == Mode::Demo {
            // The demo LMSs' key sets are served by the tool itself.
            outbound_allowed_hosts.extend(HostPattern::parse(&public_url.domain()).ok());
        }
        let secret_key = secret_key(sources)?;

        let admin_token = match sources.get("GUESTLINK_ADMIN_TOKEN") {
            None => None,
            Some(raw) if raw.trim().is_empty() => None,
            Some(raw) if raw.trim().chars().count() < 32 => {
                return Err(bad(
                    "GUESTLINK_ADMIN_TOKEN",
                    "must be at least 32 characters (try: openssl rand -base64 32)",
                ));
            }
            Some(raw) => Some(AdminToken(raw.trim().to_string())),
        };

        let log_level = sources
            .get("GUESTLINK_LOG")
            .unwrap_or_else(|| "info".into())
            .to_ascii_lowercase();
        if !["error", "warn", "info", "debug", "trace", "off"].contains(&log_level.as_str()) {
            return Err(bad(
                "GUESTLINK_LOG",
                format!("expected error, warn, info, debug, trace or off, got '{log_level}'"),
            ));
        }

        Ok(Settings {
            mode,
            database_url,
            public_url,
            bind,
            data_dir,
            session_idle_minutes: number(
                sources,
                "GUESTLINK_SESSION_IDLE_MINUTES",
                120,
                1,
                7 * 24 * 60,
            )?,
            session_max_hours: number(sources, "GUESTLINK_SESSION_MAX_HOURS", 12, 1, 24 * 30)?,
            login_state_seconds: number(sources, "GUESTLINK_LOGIN_STATE_SECONDS", 600, 10, 3600)?,
            jwt_leeway_seconds: number(sources, "GUESTLINK_JWT_LEEWAY_SECONDS", 30, 0, 300)?,
            jwks_refetch_seconds: number(sources, "GUESTLINK_JWKS_REFETCH_SECONDS", 10, 0, 3600)?
                as u64,
            jwks_timeout_seconds: number(sources, "GUESTLINK_JWKS_TIMEOUT_SECONDS", 5, 1, 60)?
                as u64,
            key_grace_days: number(sources, "GUESTLINK_KEY_GRACE_DAYS", 14, 0, 365)?,
            trusted_proxies,
            guest_rate_limit: number(sources, "GUESTLINK_GUEST_RATE_LIMIT", 120, 0, 1_000_000)?
                as u32,
            // A lecture hall behind one campus NAT address must be able to
            // launch at once.
            login_rate_limit: number(sources, "GUESTLINK_LOGIN_RATE_LIMIT", 1200, 0, 1_000_000)?
                as u32,
            guest_session_hours: number(sources, "GUESTLINK_GUEST_SESSION_HOURS", 12, 1, 24 * 30)?,
            guest_retention_days: number(
                sources,
                "GUESTLINK_GUEST_RETENTION_DAYS",
                180,
                1,
                10 * 365,
            )?,
            upload_max_bytes: number(sources, "GUESTLINK_UPLOAD_MAX_MB", 1024, 1, 1024 * 1024)?
                as u64
                * 1024
                * 1024,
            course_quota_bytes: number(
                sources,
                "GUESTLINK_COURSE_QUOTA_MB",
                20 * 1024,
                0,
                1024 * 1024 * 1024,
            )? as u64
                * 1024
                * 1024,
            upload_idle_seconds: number(sources, "GUESTLINK_UPLOAD_IDLE_SECONDS", 60, 1, 3600)?
                as u64,
            // At most the four hours a file URL can ever serve.
            media_url_seconds: number(sources, "GUESTLINK_MEDIA_URL_SECONDS", 600, 30, 4 * 3600)?,
            registration_allowed_hosts,
            outbound_allowed_hosts,
            registration_timeout_seconds: number(
                sources,
                "GUESTLINK_REGISTRATION_TIMEOUT_SECONDS",
                10,
                1,
                120,
            )? as u64,
            admin_token,
            secret_key,
            diagnostics_days: number(sources, "GUESTLINK_DIAGNOSTICS_DAYS", 30, 1, 365)?,
            db_pool_size: number(sources, "GUESTLINK_DB_POOL_SIZE", 10, 1, 200)? as u32,
            db_timeout_seconds: number(sources, "GUESTLINK_DB_TIMEOUT_SECONDS", 3, 1, 60)? as u64,
            workers: number(
                sources,
                "GUESTLINK_WORKERS",
                default_workers() as i64,
                1,
                256,
            )? as usize,
            log_level,
        })
    }
}

/// A list of hosts (or host:port).
fn hosts(sources: &Sources, name: &str) -> Result<Vec<HostPattern>, ConfigError> {
    list(sources.get(name))
        .iter()
        .map(|h| HostPattern::parse(h))
        .collect::<Result<_, _>>()
        .map_err(|p| bad(name, p))
}

/// The secret key from `GUESTLINK_SECRET_KEY` or the file
/// `GUESTLINK_SECRET_KEY_FILE` names (not both); None when neither is set.
fn secret_key(sources: &Sources) -> Result<Option<SecretKey>, ConfigError> {
    const KEY: &str = "GUESTLINK_SECRET_KEY";
    const FILE: &str = "GUESTLINK_SECRET_KEY_FILE";
    match (sources.get(KEY), sources.get(FILE)) {
        (Some(_), Some(_)) => Err(bad(KEY, format!("set either {KEY} or {FILE}, not both"))),
        (Some(text), None) => SecretKey::parse(&text).map(Some).map_err(|p| bad(KEY, p)),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path.trim())
                .map_err(|e| bad(FILE, format!("cannot read '{}': {e}", path.trim())))?;
            SecretKey::parse(&text)
                .map(Some)
                .map_err(|p| bad(FILE, format!("the key in '{}' {p}", path.trim())))
        }
        (None, None) => Ok(None),
    }
}

impl Settings {
    /// The secret key, or the one-line reason a command that needs it cannot run.
    pub fn require_secret_key(&self) -> Result<&SecretKey, ConfigError> {
        self.secret_key.as_ref().ok_or_else(|| {
            bad(
                "GUESTLINK_SECRET_KEY",
                "not set: guestlink seals its keys and secrets with it; give it as GUESTLINK_SECRET_KEY (e.g. the output of openssl rand -base64 32) or in a file named by GUESTLINK_SECRET_KEY_FILE",
            )
        })
    }
}

fn default_workers() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
}

fn list(raw: Option<String>) -> Vec<String> {
    raw.unwrap_or_default()
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn number(
    sources: &Sources,
    name: &str,
    default: i64,
    min: i64,
    max: i64,
) -> Result<i64, ConfigError> {
    match sources.get(name) {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| {
                bad(
                    name,
                    format!("expected a whole number from {min} to {max}, got '{raw}'"),
                )
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let env = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::load(&Sources::new(env)?, Mode::Serve)
    }

    #[test]
    fn defaults_use_an_sqlite_file_in_the_data_dir() {
        let s = settings(&[("GUESTLINK_DATA_DIR", "/tmp/x")]).unwrap();
        assert_eq!(
            s.database_url,
            DatabaseUrl::Sqlite(PathBuf::from("/tmp/x/guestlink.sqlite3"))
        );
        assert_eq!(s.public_url.as_str(), "http://127.0.0.1:8080");
    }

    #[test]
    fn each_bad_value_names_its_setting() {
        let cases = [
            ("GUESTLINK_BIND", "nonsense"),
            ("DATABASE_URL", "mysql://x"),
            ("GUESTLINK_PUBLIC_URL", "ftp://x"),
            ("GUESTLINK_PUBLIC_URL", "https://x/?a=b"),
            ("GUESTLINK_TRUSTED_PROXIES", "10.0.0.0/99"),
            ("GUESTLINK_GUEST_RATE_LIMIT", "-1"),
            ("GUESTLINK_SESSION_IDLE_MINUTES", "abc"),
            ("GUESTLINK_LOG", "loud"),
            ("GUESTLINK_OUTBOUND_ALLOWED_HOSTS", "lms.example.edu:99999"),
            ("GUESTLINK_LOGIN_RATE_LIMIT", "lots"),
            ("GUESTLINK_SESSION_MAX_HOURS", "0"),
            ("GUESTLINK_SECRET_KEY", "c2hvcnQ="),
            ("GUESTLINK_SECRET_KEY_FILE", "/nonexistent/guestlink.key"),
        ];
        for (name, value) in cases {
            let err = settings(&[(name, value)]).expect_err(name);
            assert_eq!(err.setting, name, "{name}={value}");
        }
    }

    #[test]
    fn database_url_debug_hides_the_password() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db/guestlink").unwrap();
        assert!(!format!("{url:?}").contains("s3cret"));
    }

    #[test]
    fn trusted_proxy_networks_match_addresses() {
        let net = IpNet::parse("10.1.0.0/16").unwrap();
        assert!(net.contains("10.1.200.3".parse().unwrap()));
        assert!(!net.contains("10.2.0.1".parse().unwrap()));
        assert!(
            IpNet::parse("::1")
                .unwrap()
                .contains("::1".parse().unwrap())
        );
    }

    #[test]
    fn public_url_containment_is_by_origin_not_prefix() {
        let url = PublicUrl::parse("https://media.example.edu/").unwrap();
        assert_eq!(url.as_str(), "https://media.example.edu");
        assert!(url.contains("https://media.example.edu/lti/launch"));
        assert!(!url.contains("https://media.example.edu.evil.com/lti/launch"));
        assert!(PublicUrl::parse("https://media.example.edu/tool").is_err());
    }
}
