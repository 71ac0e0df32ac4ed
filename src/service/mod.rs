//! Use cases: each joins the domain rules, the store and the LTI protocol.
//! Handlers call one function here and render what it returns.

pub mod admin;
pub mod admission_gates;
pub mod console;
pub mod deep_linking;
pub mod diagnostics;
pub mod guest_links;
pub mod housekeeping;
pub mod keys;
pub mod launch;
pub mod login;
pub mod media;
pub mod media_files;
pub mod platforms;
pub mod rate_limit;
pub mod registration;
pub mod registrations;
pub mod secrets;
pub mod sessions;

use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;
use crate::config::Settings;
use crate::crypto::{MacKey, Sealer};
use crate::lti::LaunchError;
use crate::lti::jwks::JwksCache;
use crate::outbound::Outbound;
use crate::store::{Db, StoreError};

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
}

impl Tool {
    pub fn new(db: Db, settings: Settings, clock: Clock, url_key: MacKey, sealer: Sealer) -> Tool {
        let outbound = Arc::new(Outbound::new(settings.outbound_allowed_hosts.clone()));
        let jwks = JwksCache::new(
            outbound.clone(),
            Duration::from_secs(settings.jwks_timeout_seconds),
            Duration::from_secs(settings.jwks_refetch_seconds),
            clock.clone(),
        );
        Tool {
            db,
            settings: Arc::new(settings),
            clock,
            jwks: Arc::new(jwks),
            outbound,
            sealer: Arc::new(sealer),
            registrations: Arc::default(),
            url_key: Arc::new(url_key),
            guest_limiter: Arc::default(),
            login_limiter: Arc::default(),
            admin_login_limiter: Arc::default(),
            registration_limiter: Arc::default(),
            diagnostics_limiter: Arc::default(),
            admission_gates: Arc::default(),
        }
    }
}

/// A use case's failure: something the request did wrong (an LTI error with
/// its code), the database being away (503), or a bug (500, logged).
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Launch(#[from] LaunchError),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// What was asked for does not exist.
    #[error("not found")]
    NotFound,
    /// A unique rule refused the change (say, a registration that exists).
    #[error("conflict: {0}")]
    Conflict(String),
    /// Refused for a reason of its own, with the HTTP status and code it
    /// answers with (a file over the size limit, an item without a file).
    #[error("{code}: {message}")]
    Rejected {
        status: u16,
        code: &'static str,
        field: Option<&'static str>,
        message: String,
    },
    /// The session may see this but not change it.
    #[error("forbidden")]
    Forbidden,
    /// A value was refused; `field` names it.
    #[error("{field}: {problem}")]
    Invalid {
        field: &'static str,
        problem: String,
    },
    #[error(transparent)]
    Internal(anyhow::Error),
}

impl From<StoreError> for ServiceError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(what) => ServiceError::Unavailable(what),
            StoreError::NotFound => ServiceError::NotFound,
            StoreError::Conflict(what) => ServiceError::Conflict(what),
            other => ServiceError::Internal(anyhow::Error::new(other)),
        }
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;

impl From<crate::domain::media::Invalid> for ServiceError {
    fn from(invalid: crate::domain::media::Invalid) -> Self {
        ServiceError::Invalid {
            field: invalid.field,
            problem: invalid.problem,
        }
    }
}
