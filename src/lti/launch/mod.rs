//! Launch validation as a pipeline of small named steps, run in order; the
//! first failure stops it with its own coded error. Each step hands a typed
//! value to the next, so nothing later re-reads an unchecked token.
//!
//! The steps are pure: they check the posted form against what the service
//! read for it beforehand ([`LaunchRead`]: the login state and its platform),
//! the platform's keys ([`PlatformKeys`]) and the time ([`Leeway`]). What a
//! valid launch changes (the login state used, the session opened) is
//! committed afterwards in one store call, which uses the state only if no
//! other launch did: a forged token never burns a genuine user's login, and
//! two posts of one token cannot both succeed.

mod deployment;
mod header;
mod message;
mod nonce;
mod signature;
mod state;

pub use deployment::storable as storable_deployment_id;
pub use message::{Context, DeepLinkingSettings, Launcher, ValidatedLaunch};
pub use state::StateRecord;

use jsonwebtoken::DecodingKey;

use super::{LaunchError, Registration};
use crate::domain::time::{Duration, Timestamp};

/// What the launch POST carried, once the browser binding was found (in the
/// state cookie, or in LTI platform storage when the cookie was blocked).
#[derive(Clone, Copy, Debug)]
pub struct LaunchInput<'a> {
    pub id_token: &'a str,
    pub state: &'a str,
    pub binding: &'a str,
}

/// What the service read before the checks: the login state the posted
/// `state` names, and the platform that state was issued for.
#[derive(Clone, Debug, Default)]
pub struct LaunchRead {
    pub state: Option<StateRecord>,
    pub platform: Option<PlatformRead>,
}

/// A platform as a launch needs it.
#[derive(Clone, Debug)]
pub struct PlatformRead {
    pub registration: Registration,
    /// Registered dynamically and not yet activated: it may not launch.
    pub pending: bool,
}

/// Where a platform's signing keys come from (the JWKS cache; a fixed key
/// in tests).
#[allow(async_fn_in_trait)]
pub trait PlatformKeys {
    async fn key(&self, jwks_url: &str, kid: &str) -> Result<DecodingKey, LaunchError>;
}

/// The time, and how far the token's own dates may be off it.
#[derive(Clone, Copy, Debug)]
pub struct Leeway {
    pub now: Timestamp,
    pub skew: Duration,
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
#[derive(Debug)]
pub struct Verified {
    pub launch: ValidatedLaunch,
    /// The verified payload as the platform sent it (for diagnostics).
    pub claims: serde_json::Value,
}

pub async fn validate(
    input: LaunchInput<'_>,
    read: &LaunchRead,
    keys: &impl PlatformKeys,
    leeway: Leeway,
    return_urls: ReturnUrls,
) -> Result<Verified, LaunchError> {
    let state = state::check(input.state, input.binding, read.state.as_ref(), leeway.now)?;
    let kid = header::check(input.id_token)?;
    let platform = read.platform.as_ref().ok_or(LaunchError::UnknownState)?;
    if platform.pending {
        return Err(LaunchError::PlatformPending);
    }
    let registration = &platform.registration;
    let key = keys.key(&registration.jwks_url, &kid).await?;
    let claims = signature::verify(input.id_token, &key, registration, leeway)?;
    nonce::check(&claims, state)?;
    let deployment = deployment::check(&claims, registration)?;
    let launch = message::validate(&claims, registration, deployment, return_urls)?;
    Ok(Verified {
        launch,
        claims: claims.0,
    })
}

#[cfg(test)]
pub(crate) mod fakes;

#[cfg(test)]
mod tests {
    use super::fakes::*;
    use super::*;

    fn run(input: LaunchInput<'_>, read: &LaunchRead) -> Result<Verified, LaunchError> {
        futures_util::FutureExt::now_or_never(validate(
            input,
            read,
            &FixedKey::a(),
            leeway(),
            ReturnUrls::HttpsOnly,
        ))
        .expect("the fake key answers at once")
    }

    #[test]
    fn a_valid_launch_passes_every_step() {
        let token = sign_a(&resource_link_claims());
        let verified = run(input(&token), &read()).unwrap();
        let launcher = verified.launch.launcher();
        assert_eq!(launcher.sub.as_deref(), Some("user-1"));
        assert_eq!(launcher.deployment_id, DEPLOYMENT);
        assert!(!launcher.new_deployment);
        assert_eq!(verified.claims["nonce"], NONCE);
    }

    #[test]
    fn the_state_is_checked_before_the_token() {
        let read = LaunchRead::default();
        assert_eq!(
            run(input("garbage"), &read).unwrap_err(),
            LaunchError::UnknownState
        );
        let no_state = LaunchInput {
            state: "",
            ..input("garbage")
        };
        assert_eq!(run(no_state, &read).unwrap_err(), LaunchError::MissingState);
    }

    #[test]
    fn the_header_is_checked_before_any_key_is_asked_for() {
        let read = LaunchRead {
            platform: None,
            ..read()
        };
        assert_eq!(
            run(input("garbage"), &read).unwrap_err(),
            LaunchError::MalformedToken
        );
    }

    #[test]
    fn a_pending_platform_does_not_launch() {
        let mut read = read();
        read.platform.as_mut().unwrap().pending = true;
        let token = sign_a(&resource_link_claims());
        assert_eq!(
            run(input(&token), &read).unwrap_err(),
            LaunchError::PlatformPending
        );
    }

    #[test]
    fn a_key_the_platform_does_not_publish_stops_the_launch() {
        let token = sign_a(&resource_link_claims());
        let refused = futures_util::FutureExt::now_or_never(validate(
            input(&token),
            &read(),
            &NoKeys,
            leeway(),
            ReturnUrls::HttpsOnly,
        ))
        .unwrap();
        assert_eq!(refused.unwrap_err(), LaunchError::UnknownKid);
    }

    #[test]
    fn a_token_signed_by_another_key_fails_before_its_nonce_is_read() {
        let mut claims = resource_link_claims();
        claims["nonce"] = "another".into();
        let token = sign_b(&claims);
        assert_eq!(
            run(input(&token), &read()).unwrap_err(),
            LaunchError::InvalidSignature
        );
    }
}
