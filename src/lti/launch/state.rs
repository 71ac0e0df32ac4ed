//! Step 1: the posted `state` is one this tool issued, not expired, and
//! comes back in the browser that started the login.

use super::LaunchBackend;
use crate::crypto::{hash_secret, secrets_equal};
use crate::lti::LaunchError;

/// The server-side half of a login, as stored (secrets only as hashes).
#[derive(Clone, Debug)]
pub struct StateRecord {
    pub platform_id: i64,
    pub nonce_hash: String,
    pub binding_hash: String,
    pub expires_at: i64,
}

pub(super) struct CheckedState {
    pub record: StateRecord,
    pub state_hash: String,
}

pub(super) async fn check<B: LaunchBackend>(
    backend: &B,
    state: &str,
    binding: &str,
    now: i64,
) -> Result<CheckedState, B::Error> {
    if state.is_empty() {
        return Err(LaunchError::MissingState.into());
    }
    let state_hash = hash_secret(state);
    let record = backend
        .find_state(&state_hash)
        .await?
        .ok_or(LaunchError::UnknownState)?;
    if now > record.expires_at {
        return Err(LaunchError::StateExpired.into());
    }
    if binding.is_empty() {
        return Err(LaunchError::StateCookieMissing.into());
    }
    if !secrets_equal(&hash_secret(binding), &record.binding_hash) {
        return Err(LaunchError::StateMismatch.into());
    }
    Ok(CheckedState { record, state_hash })
}
