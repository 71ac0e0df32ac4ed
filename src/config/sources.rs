//! Where settings come from: the environment and, underneath, the TOML file
//! `GUESTLINK_CONFIG` names; and every setting's name, once.

use std::collections::BTreeMap;

use super::{ConfigError, bad};

/// The setting that names the TOML file.
const CONFIG: &str = "GUESTLINK_CONFIG";

/// Where settings come from: the environment and, underneath, the TOML file.
pub struct Sources {
    env: BTreeMap<String, String>,
    file: BTreeMap<String, String>,
}

/// Declares each setting's name once: a constant per name, and [`ALL`],
/// which the TOML file is checked against.
macro_rules! names {
    ($($name:ident),* $(,)?) => {
        $(pub const $name: &str = stringify!($name);)*
        /// Every setting's environment name.
        pub const ALL: &[&str] = &[$($name),*];
    };
}

/// The settings' environment names; the TOML file uses each in lower case
/// without `GUESTLINK_`.
pub mod names {
    names!(
        DATABASE_URL,
        GUESTLINK_PUBLIC_URL,
        GUESTLINK_BIND,
        GUESTLINK_DATA_DIR,
        GUESTLINK_SESSION_IDLE_MINUTES,
        GUESTLINK_SESSION_MAX_HOURS,
        GUESTLINK_LOGIN_STATE_SECONDS,
        GUESTLINK_JWT_LEEWAY_SECONDS,
        GUESTLINK_JWKS_REFETCH_SECONDS,
        GUESTLINK_JWKS_TIMEOUT_SECONDS,
        GUESTLINK_KEY_GRACE_DAYS,
        GUESTLINK_TRUSTED_PROXIES,
        GUESTLINK_GUEST_RATE_LIMIT,
        GUESTLINK_LOGIN_RATE_LIMIT,
        GUESTLINK_GUEST_SESSION_HOURS,
        GUESTLINK_GUEST_RETENTION_DAYS,
        GUESTLINK_LOBBY_WAIT_MINUTES,
        GUESTLINK_CHAT_RATE_LIMIT,
        GUESTLINK_INVITE_DAYS,
        GUESTLINK_SMTP_URL,
        GUESTLINK_MAIL_FROM,
        GUESTLINK_SMTP_TIMEOUT_SECONDS,
        GUESTLINK_JANUS_URL,
        GUESTLINK_JANUS_PUBLIC_URL,
        GUESTLINK_JANUS_ADMIN_SECRET,
        GUESTLINK_JANUS_TIMEOUT_SECONDS,
        GUESTLINK_JANUS_SCRIPTS,
        GUESTLINK_UPLOAD_MAX_MB,
        GUESTLINK_COURSE_QUOTA_MB,
        GUESTLINK_UPLOAD_IDLE_SECONDS,
        GUESTLINK_MEDIA_URL_SECONDS,
        GUESTLINK_REGISTRATION_ALLOWED_HOSTS,
        GUESTLINK_OUTBOUND_ALLOWED_HOSTS,
        GUESTLINK_SECRET_KEY,
        GUESTLINK_SECRET_KEY_FILE,
        GUESTLINK_REGISTRATION_TIMEOUT_SECONDS,
        GUESTLINK_ADMIN_TOKEN,
        GUESTLINK_DIAGNOSTICS_DAYS,
        GUESTLINK_DB_POOL_SIZE,
        GUESTLINK_DB_TIMEOUT_SECONDS,
        GUESTLINK_WORKERS,
        GUESTLINK_LOG,
    );
}

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
        let file = match env.get(CONFIG) {
            Some(path) if !path.is_empty() => read_toml(path)?,
            _ => BTreeMap::new(),
        };
        Ok(Sources { env, file })
    }

    pub(super) fn get(&self, name: &str) -> Option<String> {
        self.env
            .get(name)
            .filter(|v| !v.trim().is_empty())
            .cloned()
            .or_else(|| self.file.get(&file_key(name)).cloned())
    }
}

fn read_toml(path: &str) -> Result<BTreeMap<String, String>, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| bad(CONFIG, format!("cannot read '{path}': {e}")))?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| {
        bad(
            CONFIG,
            format!("'{path}' is not valid TOML: {}", one_line(&e.to_string())),
        )
    })?;
    let known: Vec<String> = names::ALL.iter().map(|k| file_key(k)).collect();
    let mut out = BTreeMap::new();
    for (key, value) in table {
        if !known.contains(&key) {
            return Err(bad(CONFIG, format!("unknown setting '{key}' in '{path}'")));
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
                    CONFIG,
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
