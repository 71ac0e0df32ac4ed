//! LTI 1.3 protocol only: login initiation, launch validation, key sets and
//! the tool's own keys, the deep-linking response. Nothing here knows about media or guest links; the
//! small traits it needs (state, registrations, keys) are implemented by the
//! service layer.

pub mod claims;
pub mod deep_linking;
pub mod der;
pub mod error;
pub mod jwks;
pub mod keys;
pub mod launch;
pub mod login;
pub mod registration;

pub use error::LaunchError;

/// What the tool knows of one registered platform (issuer + client id).
#[derive(Clone, Debug)]
pub struct Registration {
    pub platform_id: i64,
    pub issuer: String,
    pub client_id: String,
    pub auth_url: String,
    pub jwks_url: String,
    pub deployment_ids: Vec<String>,
    /// Accept (and let the service record) deployment ids the platform has
    /// not listed, on an otherwise valid launch.
    pub register_new_deployments: bool,
}
