//! Launch validation as a pipeline of small named steps, run in order; the
//! first failure stops it with its own coded error. Each step hands a typed
//! value to the next, so nothing later re-reads an unchecked token.
//!
//! The nonce is consumed only after the signature holds, so a forged token
//! cannot burn a genuine user's login.

mod deployment;
mod header;
mod message;
mod nonce;
mod signature;
mod state;

pub use message::{Context, DeepLinkingSettings, Launcher, ValidatedLaunch};
pub use state::StateRecord;

use jsonwebtoken::DecodingKey;

use super::{LaunchError, Registration};

/// What the launch POST carried, once the browser binding was found (in the
/// state cookie, or in LTI platform storage when the cookie was blocked).
pub struct LaunchInput<'a> {
    pub id_token: &'a str,
    pub state: &'a str,
    pub binding: &'a str,
}

/// The storage and key lookups the pipeline needs; implemented by the service
/// layer over the store and the JWKS cache.
#[allow(async_fn_in_trait)]
pub trait LaunchBackend {
    type Error: From<LaunchError>;
    async fn find_state(&self, state_hash: &str) -> Result<Option<StateRecord>, Self::Error>;
    async fn registration(&self, platform_id: i64) -> Result<Option<Registration>, Self::Error>;
    async fn platform_key(
        &self,
        registration: &Registration,
        kid: &str,
    ) -> Result<DecodingKey, Self::Error>;
    /// Marks the state used; false if it already was (a replay).
    async fn consume_state(&self, state_hash: &str) -> Result<bool, Self::Error>;
}

/// Time limits for the token's own dates.
#[derive(Clone, Copy, Debug)]
pub struct Leeway {
    pub now: i64,
    pub seconds: i64,
}

/// Which deep-linking return URLs a launch may name. The tool posts a signed
/// response to it from the user's browser, so a real platform's must be
/// https; a platform on this machine (the demo LMS) may use plain http.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReturnUrls {
    HttpsOnly,
    AlsoLoopbackHttp,
}

/// A launch that passed every step, with the claims it was read from.
pub struct Verified {
    pub launch: ValidatedLaunch,
    /// The verified payload as the platform sent it (for diagnostics).
    pub claims: serde_json::Value,
}

pub async fn validate<B: LaunchBackend>(
    backend: &B,
    input: LaunchInput<'_>,
    leeway: Leeway,
    return_urls: ReturnUrls,
) -> Result<Verified, B::Error> {
    let state = state::check(backend, input.state, input.binding, leeway.now).await?;
    let kid = header::check(input.id_token)?;
    let registration = backend
        .registration(state.record.platform_id)
        .await?
        .ok_or(LaunchError::UnknownState)?;
    let key = backend.platform_key(&registration, &kid).await?;
    let claims = signature::verify(input.id_token, &key, &registration, leeway)?;
    nonce::consume(backend, &claims, &state).await?;
    let deployment = deployment::check(&claims, &registration)?;
    let launch = message::validate(
        &claims,
        &registration,
        deployment.id,
        deployment.new,
        return_urls,
    )?;
    Ok(Verified {
        launch,
        claims: claims.0,
    })
}
