//! The tool's state that every use case runs over: the database, the
//! settings, the clock, the keys that seal and sign, and the caches and
//! limiters shared by all workers. The server and the command line open it
//! the same way.

use std::sync::Arc;

use super::failure::Fault;
use super::secrets::{self, SecretsError};
use super::{admission_gates, live, rate_limit, registrations};
use crate::clock::Clock;
use crate::config::{ConfigError, Settings};
use crate::crypto::{MacKey, Sealer, SecretKey};
use crate::lti::jwks::JwksCache;
use crate::outbound::Outbound;
use crate::store::{Db, secrets as stored_secrets};

/// Everything a use case needs, shared by all workers.
#[derive(Clone)]
pub struct Tool {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub clock: Clock,
    pub jwks: Arc<JwksCache>,
    /// The rules for everything fetched because an LMS named it.
    pub outbound: Arc<Outbound>,
    /// Seals secrets at rest and hashes guest-link tokens for lookup.
    pub sealer: Arc<Sealer>,
    pub registrations: Arc<registrations::RegistrationCache>,
    /// Signs media file URLs and guest forms; the secret is shared by every instance.
    pub url_key: Arc<MacKey>,
    /// Guest entries per client address (per instance).
    pub guest_limiter: Arc<rate_limit::RateLimiter>,
    /// LTI login initiations per client address (per instance): each
    /// anonymous one writes a login state.
    pub login_limiter: Arc<rate_limit::RateLimiter>,
    /// Admin console sign-in attempts per client address (per instance).
    pub admin_login_limiter: Arc<rate_limit::RateLimiter>,
    /// Dynamic registrations (each makes outbound requests) per client address.
    pub registration_limiter: Arc<rate_limit::RateLimiter>,
    /// Diagnostics of refused attempts per client address, so junk sent to
    /// the public endpoints cannot flood the table.
    pub diagnostics_limiter: Arc<rate_limit::RateLimiter>,
    /// Admissions to one link at once (per instance).
    pub admission_gates: Arc<admission_gates::AdmissionGates>,
    /// The rooms this instance's pages follow live.
    pub rooms: Arc<live::RoomHub>,
    /// Chat messages per person (per instance).
    pub chat_limiter: Arc<rate_limit::KeyedLimiter>,
    /// Invitation email.
    pub mailer: Arc<super::mail::Mailer>,
    /// The rooms' media servers.
    pub janus: crate::janus::Client,
    /// The origins of the media servers browsers reach directly, for the
    /// pages' `connect-src` (worked out once, not per response).
    pub media_origins: Arc<str>,
}

/// Why the tool's state could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Secrets(#[from] SecretsError),
}

impl From<Fault> for OpenError {
    fn from(fault: Fault) -> Self {
        OpenError::Secrets(SecretsError::Fault(fault))
    }
}

/// The name under which the media URL key is stored (sealed).
const URL_KEY: &str = "media_url_key";

impl Tool {
    /// Opens the tool's state on `db`: the operator's secret key must be the
    /// one the database's secrets were sealed with (what an older guestlink
    /// stored in the clear is sealed now), and the key that signs file URLs
    /// and forms is read, or made on the first start.
    pub async fn open(db: Db, settings: Settings, clock: Clock) -> Result<Tool, OpenError> {
        let sealer = Arc::new(Sealer::new(settings.require_secret_key()?));
        let (now, check) = (clock.now(), sealer.clone());
        db.write(move |conn| Ok(secrets::open_at_start(conn, &check, now)))
            .await
            .map_err(Fault::from)??;
        let stored = sealer.clone();
        let url_secret = db
            .write(move |conn| {
                stored_secrets::get_or_create(
                    conn,
                    &stored,
                    URL_KEY,
                    || crate::crypto::random_token(32),
                    now,
                )
            })
            .await
            .map_err(Fault::from)?;
        Ok(Tool::with(
            db,
            settings,
            clock,
            MacKey::new(url_secret.as_bytes()),
            sealer,
        ))
    }

    /// The state for a command that seals and signs nothing (registering
    /// platforms, printing a sign-in link), so it runs without the operator's
    /// secret key: a throwaway key stands in, and anything it sealed could
    /// never be opened, which is why the commands that do seal open the tool
    /// with [`Tool::open`].
    pub fn for_plain_command(db: Db, settings: Settings, clock: Clock) -> Tool {
        let (throwaway, _) = SecretKey::generate();
        Tool::new(
            db,
            settings,
            clock,
            MacKey::new(crate::crypto::random_token(32).as_bytes()),
            Sealer::new(&throwaway),
        )
    }

    pub fn new(db: Db, settings: Settings, clock: Clock, url_key: MacKey, sealer: Sealer) -> Tool {
        Tool::with(db, settings, clock, url_key, Arc::new(sealer))
    }

    fn with(
        db: Db,
        settings: Settings,
        clock: Clock,
        url_key: MacKey,
        sealer: Arc<Sealer>,
    ) -> Tool {
        let outbound = Arc::new(Outbound::new(settings.lti.outbound_allowed_hosts.clone()));
        let jwks = JwksCache::new(
            outbound.clone(),
            settings.lti.jwks_timeout,
            settings.lti.jwks_refetch,
            clock.clone(),
        );
        let admission_gates = Arc::new(admission_gates::AdmissionGates::for_database(&db));
        Tool {
            db,
            clock,
            jwks: Arc::new(jwks),
            outbound,
            sealer,
            registrations: Arc::default(),
            url_key: Arc::new(url_key),
            guest_limiter: Arc::default(),
            login_limiter: Arc::default(),
            admin_login_limiter: Arc::default(),
            registration_limiter: Arc::default(),
            diagnostics_limiter: Arc::default(),
            admission_gates,
            rooms: Arc::default(),
            chat_limiter: Arc::default(),
            mailer: Arc::new(super::mail::Mailer::from_settings(&settings)),
            janus: crate::janus::Client::new(
                std::time::Duration::from_secs(settings.janus.timeout.whole_seconds().max(1) as u64),
                settings
                    .janus
                    .admin_secret
                    .as_ref()
                    .map(|s| s.as_str().to_string()),
            ),
            media_origins: settings.janus.browser_origins().into(),
            settings: Arc::new(settings),
        }
    }

    /// Whether the database answers (the health check).
    pub async fn database_answers(&self) -> bool {
        self.db.ping().await.is_ok()
    }
}
