//! Step 5: the token's nonce is the one issued with this state, and this
//! state (and so its nonce) is used once. Consuming is one conditional
//! UPDATE in the store, so two concurrent posts of the same token cannot
//! both succeed.

use super::LaunchBackend;
use super::state::CheckedState;
use crate::crypto::{hash_secret, secrets_equal};
use crate::lti::LaunchError;
use crate::lti::claims::VerifiedClaims;

pub(super) async fn consume<B: LaunchBackend>(
    backend: &B,
    claims: &VerifiedClaims,
    state: &CheckedState,
) -> Result<(), B::Error> {
    let nonce = claims
        .string("nonce")?
        .ok_or(LaunchError::MissingClaim("nonce"))?;
    if !secrets_equal(&hash_secret(nonce), &state.record.nonce_hash) {
        return Err(LaunchError::NonceMismatch.into());
    }
    if !backend.consume_state(&state.state_hash).await? {
        return Err(LaunchError::NonceReused.into());
    }
    Ok(())
}
