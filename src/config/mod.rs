//! Settings from the environment, with an optional TOML file underneath.
//!
//! Every setting has one environment name (`GUESTLINK_...`, or `DATABASE_URL`)
//! and the same name in lower case without the prefix in the TOML file named
//! by `GUESTLINK_CONFIG`. The environment wins. Everything is validated here,
//! at start: a wrong value stops the process with one line naming the setting.
//! Settings are grouped by what they govern; times are `Duration`s from here
//! on, whatever unit their name gives.

mod sources;
mod values;

use std::net::SocketAddr;
use std::path::PathBuf;

pub use sources::{Sources, names};
pub use values::{
    AdminToken, DatabaseUrl, IpNet, PublicUrl, SmtpUrl, host_and_port, redact_url_password,
};

use crate::crypto::SecretKey;
use crate::domain::time::Duration;
use crate::outbound::HostPattern;
use names::*;

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

#[derive(Clone, Debug)]
pub struct Settings {
    /// `serve` or `demo`: the demo alone accepts loopback http where real
    /// LMSs must use https (deep-linking return URLs).
    pub mode: Mode,
    pub server: Server,
    pub database: Database,
    /// Uploaded files, the SQLite file by default, the demo's keys.
    pub data_dir: PathBuf,
    /// The key that seals secrets at rest; `serve` refuses to start without
    /// it, `demo` makes one in its data directory.
    pub secret_key: Option<SecretKey>,
    pub sessions: Sessions,
    pub lti: Lti,
    pub guests: Guests,
    pub media: MediaLimits,
    pub admin: Admin,
    pub invites: Invites,
    pub janus: Janus,
    pub log_level: String,
}

/// The rooms' media servers (Janus Gateway's VideoRoom plugin). None
/// listed: rooms have their stage and chat, and say that audio and video
/// are not set up.
#[derive(Clone, Debug, Default)]
pub struct Janus {
    pub servers: Vec<JanusServer>,
    /// The VideoRoom plugin's `admin_key`, which creating rooms needs when
    /// the plugin is configured with one. Never printed.
    pub admin_secret: Option<JanusSecret>,
    /// The longest one call to a media server may take.
    pub timeout: Duration,
    /// The browser library the room pages talk to the media servers with
    /// (read once at start; only when media servers are listed).
    pub scripts: Option<std::sync::Arc<BrowserScripts>>,
}

impl Janus {
    /// The origins of the media servers browsers reach directly (not those
    /// behind the tool's own proxy path), space-separated, for the pages'
    /// `connect-src`.
    pub fn browser_origins(&self) -> String {
        let mut origins: Vec<String> = self
            .servers
            .iter()
            .filter_map(|s| url::Url::parse(&s.public).ok())
            .map(|u| u.origin().ascii_serialization())
            .collect();
        origins.sort();
        origins.dedup();
        origins.join(" ")
    }
}

/// Janus's browser library and the WebRTC adapter it needs, as Debian's
/// `libjs-janus-gateway` and `libjs-webrtc-adapter` install them; the tool
/// serves them itself (no CDN).
#[derive(Clone, PartialEq, Eq)]
pub struct BrowserScripts {
    pub janus_js: String,
    pub adapter_js: String,
}

impl std::fmt::Debug for BrowserScripts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "BrowserScripts(janus.js {} bytes, adapter.js {} bytes)",
            self.janus_js.len(),
            self.adapter_js.len()
        )
    }
}

/// Where Debian installs the browser libraries.
pub const DEBIAN_SCRIPTS: &str = "/usr/share/javascript";

/// Reads `janus-gateway/janus.min.js` and `webrtc-adapter/adapter.min.js` under
/// `dir` (GUESTLINK_JANUS_SCRIPTS).
fn browser_scripts(dir: &str) -> Result<BrowserScripts, ConfigError> {
    let read = |file: &str| {
        let path = std::path::Path::new(dir).join(file);
        std::fs::read_to_string(&path).map_err(|e| {
            bad(
                GUESTLINK_JANUS_SCRIPTS,
                format!(
                    "{} could not be read ({e}): install Debian's libjs-janus-gateway and libjs-webrtc-adapter, or point this at a folder holding janus-gateway/janus.min.js and webrtc-adapter/adapter.min.js",
                    path.display()
                ),
            )
        })
    };
    Ok(BrowserScripts {
        janus_js: read("janus-gateway/janus.min.js")?,
        adapter_js: read("webrtc-adapter/adapter.min.js")?,
    })
}

/// One media server: its HTTP API as the tool reaches it, and as browsers do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JanusServer {
    pub api: String,
    /// An absolute URL, or a path on the tool's own host (a proxy).
    pub public: String,
}

/// A secret shared with the media servers; its `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct JanusSecret(String);

impl JanusSecret {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for JanusSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JanusSecret(<redacted>)")
    }
}

/// Invite links and the email that carries them.
#[derive(Clone, Debug)]
pub struct Invites {
    /// How long an invitation lasts unless its owner picks another length.
    pub days: i64,
    /// Where invitation email goes; None: links are copied, not mailed
    /// (the demo catches its mail in an outbox page instead).
    pub smtp: Option<SmtpUrl>,
    /// The `From` of invitation email.
    pub mail_from: String,
    /// The longest one send may take before it counts as failed.
    pub smtp_timeout: Duration,
}

/// Where the tool listens and how it is reached.
#[derive(Clone, Debug)]
pub struct Server {
    pub public_url: PublicUrl,
    pub bind: SocketAddr,
    pub workers: usize,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
}

#[derive(Clone, Debug)]
pub struct Database {
    pub url: DatabaseUrl,
    /// Connections in the PostgreSQL pool (and SQLite readers).
    pub pool_size: u32,
    /// How long a request waits for a connection before answering 503.
    pub timeout: Duration,
}

/// Launch sessions.
#[derive(Clone, Copy, Debug)]
pub struct Sessions {
    /// A session ends after this long without a request.
    pub idle: Duration,
    /// A session ends this long after its launch, however busy.
    pub max: Duration,
}

/// Talking LTI with platforms.
#[derive(Clone, Debug)]
pub struct Lti {
    /// How long a login state (state, nonce) waits for the platform's answer.
    pub login_state: Duration,
    /// Clock skew allowed on `exp`, `iat` and `nbf` of id_tokens.
    pub jwt_leeway: Duration,
    /// An unknown `kid` refetches a platform's key set at most this often.
    pub jwks_refetch: Duration,
    pub jwks_timeout: Duration,
    /// A retired tool key stays published this long, for platforms that cached it.
    pub key_grace: Duration,
    /// Login initiations per minute per client address (0: no limit).
    pub login_rate_limit: u32,
    /// Hosts whose dynamic registrations are accepted and active at once.
    pub registration_allowed_hosts: Vec<HostPattern>,
    /// How long fetching a platform's configuration or registering with it may take.
    pub registration_timeout: Duration,
    /// Hosts an LMS may name for the tool to fetch from although they
    /// resolve to private or loopback addresses.
    pub outbound_allowed_hosts: Vec<HostPattern>,
}

/// Guests who come in through guest links.
#[derive(Clone, Copy, Debug)]
pub struct Guests {
    /// Entries per minute per client address (0: no limit).
    pub rate_limit: u32,
    /// How long an admitted guest's session lasts.
    pub session: Duration,
    /// Visits, guest sessions and deleted links are kept this long.
    pub retention: Duration,
    /// The longest a guest waits in a room's lobby.
    pub lobby_wait: Duration,
    /// Chat messages per minute per person in a room (0: no limit).
    pub chat_rate_limit: u32,
}

/// Uploads and the URLs files are served under.
#[derive(Clone, Copy, Debug)]
pub struct MediaLimits {
    /// The largest file an upload may carry.
    pub upload_max_bytes: u64,
    /// Uploaded files a course may hold in all, in bytes (0: no quota).
    pub course_quota_bytes: u64,
    /// An upload whose body stops arriving for this long is abandoned.
    pub upload_idle: Duration,
    /// How long a file URL may start a download or a stream.
    pub url_start_window: Duration,
}

/// The admin console.
#[derive(Clone, Debug)]
pub struct Admin {
    /// A standing sign-in secret (at least 32 characters); without it only
    /// `guestlink admin login-link` signs in.
    pub token: Option<AdminToken>,
    /// How long launch diagnostics (which hold personal data) are kept.
    pub diagnostics_kept: Duration,
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
        let read = Read(sources);
        let server = server(&read, mode)?;
        let data_dir = PathBuf::from(
            sources
                .get(GUESTLINK_DATA_DIR)
                .unwrap_or_else(|| "guestlink-data".into()),
        );
        let database = Database {
            url: match sources.get(DATABASE_URL) {
                Some(raw) => DatabaseUrl::parse(&raw).map_err(|p| bad(DATABASE_URL, p))?,
                None => DatabaseUrl::Sqlite(data_dir.join("guestlink.sqlite3")),
            },
            pool_size: read.number(GUESTLINK_DB_POOL_SIZE, 10, 1, 200)? as u32,
            timeout: read.seconds(GUESTLINK_DB_TIMEOUT_SECONDS, 3, 1, 60)?,
        };
        let mut outbound_allowed_hosts = hosts(sources, GUESTLINK_OUTBOUND_ALLOWED_HOSTS)?;
        if mode == Mode::Demo {
            // The demo LMSs' key sets are served by the tool itself.
            outbound_allowed_hosts.extend(HostPattern::parse(&server.public_url.domain()).ok());
        }
        Ok(Settings {
            mode,
            database,
            data_dir,
            secret_key: secret_key(sources)?,
            sessions: Sessions {
                idle: read.minutes(GUESTLINK_SESSION_IDLE_MINUTES, 120, 1, 7 * 24 * 60)?,
                max: read.hours(GUESTLINK_SESSION_MAX_HOURS, 12, 1, 24 * 30)?,
            },
            lti: Lti {
                login_state: read.seconds(GUESTLINK_LOGIN_STATE_SECONDS, 600, 10, 3600)?,
                jwt_leeway: read.seconds(GUESTLINK_JWT_LEEWAY_SECONDS, 30, 0, 300)?,
                jwks_refetch: read.seconds(GUESTLINK_JWKS_REFETCH_SECONDS, 10, 0, 3600)?,
                jwks_timeout: read.seconds(GUESTLINK_JWKS_TIMEOUT_SECONDS, 5, 1, 60)?,
                key_grace: read.days(GUESTLINK_KEY_GRACE_DAYS, 14, 0, 365)?,
                // A lecture hall behind one campus NAT address must be able
                // to launch at once.
                login_rate_limit: read.number(GUESTLINK_LOGIN_RATE_LIMIT, 1200, 0, 1_000_000)?
                    as u32,
                registration_allowed_hosts: hosts(sources, GUESTLINK_REGISTRATION_ALLOWED_HOSTS)?,
                registration_timeout: read.seconds(
                    GUESTLINK_REGISTRATION_TIMEOUT_SECONDS,
                    10,
                    1,
                    120,
                )?,
                outbound_allowed_hosts,
            },
            guests: Guests {
                rate_limit: read.number(GUESTLINK_GUEST_RATE_LIMIT, 120, 0, 1_000_000)? as u32,
                session: read.hours(GUESTLINK_GUEST_SESSION_HOURS, 12, 1, 24 * 30)?,
                retention: read.days(GUESTLINK_GUEST_RETENTION_DAYS, 180, 1, 10 * 365)?,
                lobby_wait: read.minutes(GUESTLINK_LOBBY_WAIT_MINUTES, 30, 1, 24 * 60)?,
                chat_rate_limit: read.number(GUESTLINK_CHAT_RATE_LIMIT, 30, 0, 10_000)? as u32,
            },
            media: MediaLimits {
                upload_max_bytes: read.megabytes(GUESTLINK_UPLOAD_MAX_MB, 1024, 1, 1024 * 1024)?,
                course_quota_bytes: read.megabytes(
                    GUESTLINK_COURSE_QUOTA_MB,
                    20 * 1024,
                    0,
                    1024 * 1024 * 1024,
                )?,
                upload_idle: read.seconds(GUESTLINK_UPLOAD_IDLE_SECONDS, 60, 1, 3600)?,
                // At most the four hours a file URL can ever serve.
                url_start_window: read.seconds(GUESTLINK_MEDIA_URL_SECONDS, 600, 30, 4 * 3600)?,
            },
            admin: Admin {
                token: admin_token(sources)?,
                diagnostics_kept: read.days(GUESTLINK_DIAGNOSTICS_DAYS, 30, 1, 365)?,
            },
            invites: invites(sources, &read, &server)?,
            janus: janus(sources, &read)?,
            log_level: log_level(sources)?,
            server,
        })
    }
}

fn server(read: &Read<'_>, mode: Mode) -> Result<Server, ConfigError> {
    let sources = read.0;
    let bind_default = match mode {
        Mode::Serve => "0.0.0.0:8080",
        Mode::Demo => "127.0.0.1:8080",
    };
    let bind_raw = sources
        .get(GUESTLINK_BIND)
        .unwrap_or_else(|| bind_default.into());
    let bind: SocketAddr = bind_raw.trim().parse().map_err(|_| {
        bad(
            GUESTLINK_BIND,
            format!("expected host:port such as 0.0.0.0:8080, got '{bind_raw}'"),
        )
    })?;
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
    let public_url = PublicUrl::parse(&sources.get(GUESTLINK_PUBLIC_URL).unwrap_or(public_default))
        .map_err(|p| bad(GUESTLINK_PUBLIC_URL, p))?;
    let trusted_proxies = list(sources.get(GUESTLINK_TRUSTED_PROXIES))
        .iter()
        .map(|item| IpNet::parse(item))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|p| bad(GUESTLINK_TRUSTED_PROXIES, p))?;
    Ok(Server {
        public_url,
        bind,
        workers: read.number(GUESTLINK_WORKERS, default_workers() as i64, 1, 256)? as usize,
        trusted_proxies,
    })
}

fn admin_token(sources: &Sources) -> Result<Option<AdminToken>, ConfigError> {
    match sources.get(GUESTLINK_ADMIN_TOKEN) {
        None => Ok(None),
        Some(raw) if raw.trim().is_empty() => Ok(None),
        Some(raw) if raw.trim().chars().count() < 32 => Err(bad(
            GUESTLINK_ADMIN_TOKEN,
            "must be at least 32 characters (try: openssl rand -base64 32)",
        )),
        Some(raw) => Ok(Some(AdminToken::new(raw.trim()))),
    }
}

fn invites(sources: &Sources, read: &Read<'_>, server: &Server) -> Result<Invites, ConfigError> {
    let smtp = match sources.get(GUESTLINK_SMTP_URL) {
        None => None,
        Some(raw) if raw.trim().is_empty() => None,
        Some(raw) => Some(SmtpUrl::parse(raw.trim()).map_err(|p| bad(GUESTLINK_SMTP_URL, p))?),
    };
    let mail_from = match sources.get(GUESTLINK_MAIL_FROM) {
        Some(raw) if !raw.trim().is_empty() => raw.trim().to_string(),
        _ => {
            // The tool's own host, unless it is an address (the demo's).
            let host = url::Url::parse(server.public_url.as_str())
                .ok()
                .and_then(|u| u.domain().map(str::to_string))
                .unwrap_or_else(|| "localhost".into());
            format!("guestlink <noreply@{host}>")
        }
    };
    if mail_from.parse::<lettre::message::Mailbox>().is_err() {
        return Err(bad(
            GUESTLINK_MAIL_FROM,
            format!("expected an address such as 'Media <media@example.edu>', got '{mail_from}'"),
        ));
    }
    Ok(Invites {
        days: read.number(GUESTLINK_INVITE_DAYS, 7, 1, crate::domain::invite::MAX_DAYS)?,
        smtp,
        mail_from,
        smtp_timeout: read.seconds(GUESTLINK_SMTP_TIMEOUT_SECONDS, 20, 1, 300)?,
    })
}

fn janus(sources: &Sources, read: &Read<'_>) -> Result<Janus, ConfigError> {
    let apis = list(sources.get(GUESTLINK_JANUS_URL));
    let publics = list(sources.get(GUESTLINK_JANUS_PUBLIC_URL));
    let http_url = |name: &str, raw: &str| -> Result<String, ConfigError> {
        let url = url::Url::parse(raw).map_err(|_| {
            bad(
                name,
                format!("expected an http(s) URL such as http://127.0.0.1:8088/janus, got '{raw}'"),
            )
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
            return Err(bad(
                name,
                format!("expected an http(s) URL with a host, got '{raw}'"),
            ));
        }
        Ok(raw.trim_end_matches('/').to_string())
    };
    let apis = apis
        .iter()
        .map(|raw| http_url(GUESTLINK_JANUS_URL, raw))
        .collect::<Result<Vec<_>, _>>()?;
    if apis.is_empty() && !publics.is_empty() {
        return Err(bad(
            GUESTLINK_JANUS_PUBLIC_URL,
            format!("set {GUESTLINK_JANUS_URL} too (the media servers as the tool reaches them)"),
        ));
    }
    if publics.len() != apis.len() {
        return Err(bad(
            GUESTLINK_JANUS_PUBLIC_URL,
            format!(
                "give one address per media server in {GUESTLINK_JANUS_URL} ({} listed, {} here): how browsers reach each, e.g. /janus behind the tool's proxy",
                apis.len(),
                publics.len()
            ),
        ));
    }
    let publics = publics
        .iter()
        .map(|raw| {
            if raw.starts_with('/') && !raw.starts_with("//") {
                Ok(raw.trim_end_matches('/').to_string())
            } else {
                http_url(GUESTLINK_JANUS_PUBLIC_URL, raw)
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let timeout = read.seconds(GUESTLINK_JANUS_TIMEOUT_SECONDS, 5, 1, 60)?;
    let scripts = if apis.is_empty() {
        None
    } else {
        let dir = sources
            .get(GUESTLINK_JANUS_SCRIPTS)
            .unwrap_or_else(|| DEBIAN_SCRIPTS.to_string());
        Some(std::sync::Arc::new(browser_scripts(dir.trim())?))
    };
    Ok(Janus {
        servers: apis
            .into_iter()
            .zip(publics)
            .map(|(api, public)| JanusServer { api, public })
            .collect(),
        admin_secret: sources
            .get(GUESTLINK_JANUS_ADMIN_SECRET)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .map(JanusSecret),
        timeout,
        scripts,
    })
}

fn log_level(sources: &Sources) -> Result<String, ConfigError> {
    let level = sources
        .get(GUESTLINK_LOG)
        .unwrap_or_else(|| "info".into())
        .to_ascii_lowercase();
    if ["error", "warn", "info", "debug", "trace", "off"].contains(&level.as_str()) {
        Ok(level)
    } else {
        Err(bad(
            GUESTLINK_LOG,
            format!("expected error, warn, info, debug, trace or off, got '{level}'"),
        ))
    }
}

/// Numbers read from the sources, in the unit the setting's name gives.
struct Read<'a>(&'a Sources);

impl Read<'_> {
    fn number(&self, name: &str, default: i64, min: i64, max: i64) -> Result<i64, ConfigError> {
        match self.0.get(name) {
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

    fn seconds(
        &self,
        name: &str,
        default: i64,
        min: i64,
        max: i64,
    ) -> Result<Duration, ConfigError> {
        self.number(name, default, min, max).map(Duration::seconds)
    }

    fn minutes(
        &self,
        name: &str,
        default: i64,
        min: i64,
        max: i64,
    ) -> Result<Duration, ConfigError> {
        self.number(name, default, min, max).map(Duration::minutes)
    }

    fn hours(&self, name: &str, default: i64, min: i64, max: i64) -> Result<Duration, ConfigError> {
        self.number(name, default, min, max).map(Duration::hours)
    }

    fn days(&self, name: &str, default: i64, min: i64, max: i64) -> Result<Duration, ConfigError> {
        self.number(name, default, min, max).map(Duration::days)
    }

    fn megabytes(&self, name: &str, default: i64, min: i64, max: i64) -> Result<u64, ConfigError> {
        self.number(name, default, min, max)
            .map(|mb| mb as u64 * 1024 * 1024)
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
    const KEY: &str = GUESTLINK_SECRET_KEY;
    const FILE: &str = GUESTLINK_SECRET_KEY_FILE;
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
                GUESTLINK_SECRET_KEY,
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

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
