//! Login initiation: pick the platform, issue state, nonce and browser
//! binding, and send the browser to the platform's authorization endpoint.

use super::failure::Fault;
use super::launch::LaunchFailure;
use super::{Tool, platforms};
use crate::crypto::{hash_secret, secret_token};
use crate::domain::ids::PlatformId;
use crate::lti::LaunchError;
use crate::lti::login::{self, LoginParams};
use crate::store::login_states::{self, NewLoginState};

/// Where the browser goes next and what it must keep.
pub struct LoginStart {
    /// The platform's authorization URL with every parameter.
    pub redirect_url: String,
    pub state: String,
    /// Kept by the browser (state cookie, or platform storage) to prove at
    /// launch that it is the browser that started this login.
    pub binding: String,
    /// The frame to talk to for LTI platform storage, when the platform offered it.
    pub storage_target: Option<String>,
    /// The platform's origin, the only one platform-storage messages go to.
    pub platform_origin: String,
}

pub async fn start(tool: &Tool, params: LoginParams) -> Result<LoginStart, LaunchFailure> {
    let request = params.parse()?;
    if !tool
        .settings
        .server
        .public_url
        .contains(&request.target_link_uri)
    {
        return Err(LaunchError::InvalidTargetLinkUri.into());
    }
    let candidates = tool.registrations.by_issuer(tool, &request.iss).await?;
    let registration = login::choose_registration(
        candidates.iter().map(platforms::registration).collect(),
        request.client_id.as_deref(),
    )?;
    if candidates
        .iter()
        .any(|p| p.id.0 == registration.platform_id && p.pending)
    {
        return Err(LaunchError::PlatformPending.into());
    }

    let (state, nonce, binding) = (secret_token(), secret_token(), secret_token());
    let now = tool.clock.now();
    let record = (
        hash_secret(&state),
        hash_secret(&nonce),
        hash_secret(&binding),
    );
    let expires_at = now + tool.settings.lti.login_state;
    let platform_id = PlatformId(registration.platform_id);
    tool.db
        .write(move |conn| {
            login_states::insert(
                conn,
                &NewLoginState {
                    state_hash: &record.0,
                    platform_id,
                    nonce_hash: &record.1,
                    binding_hash: &record.2,
                    created_at: now,
                    expires_at,
                },
            )
        })
        .await?;

    let redirect_uri = tool.settings.server.public_url.join("/lti/launch");
    let redirect_url =
        login::authentication_url(&registration, &request, &redirect_uri, &state, &nonce)?;
    let platform_origin = url::Url::parse(&registration.auth_url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    Ok(LoginStart {
        redirect_url,
        state,
        binding,
        storage_target: request.lti_storage_target,
        platform_origin,
    })
}

/// The origin of the platform a login state was issued for: the only origin
/// platform-storage messages may be exchanged with.
pub async fn storage_origin(tool: &Tool, state: &str) -> Result<Option<String>, Fault> {
    if state.is_empty() || state.len() > 100 {
        return Ok(None);
    }
    let state_hash = hash_secret(state);
    let Some(record) = tool
        .db
        .read(move |conn| login_states::find(conn, &state_hash))
        .await?
    else {
        return Ok(None);
    };
    let found = tool
        .registrations
        .by_id(tool, PlatformId(record.platform_id))
        .await?;
    Ok(found
        .and_then(|p| url::Url::parse(&p.auth_url).ok())
        .map(|u| u.origin().ascii_serialization()))
}
