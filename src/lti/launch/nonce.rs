//! Step 5: the token's nonce is the one issued with this state
//! (https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation,
//! item 11). That the state, and so its nonce, is used once is held by the
//! store when the launch is committed.

use super::state::StateRecord;
use crate::crypto::{hash_secret, secrets_equal};
use crate::lti::LaunchError;
use crate::lti::claims::VerifiedClaims;

pub(super) fn check(claims: &VerifiedClaims, state: &StateRecord) -> Result<(), LaunchError> {
    let nonce = claims
        .string("nonce")?
        .ok_or(LaunchError::MissingClaim("nonce"))?;
    if !secrets_equal(&hash_secret(nonce), &state.nonce_hash) {
        return Err(LaunchError::NonceMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::fakes::{NONCE, state_record};
    use super::*;

    fn checked(claims: serde_json::Value) -> Result<(), LaunchError> {
        check(&VerifiedClaims(claims), &state_record())
    }

    #[test]
    fn the_nonce_issued_with_the_state_passes() {
        assert_eq!(checked(json!({"nonce": NONCE})), Ok(()));
    }

    #[test]
    fn another_missing_or_mistyped_nonce_is_refused() {
        assert_eq!(
            checked(json!({"nonce": "other"})),
            Err(LaunchError::NonceMismatch)
        );
        assert_eq!(checked(json!({})), Err(LaunchError::MissingClaim("nonce")));
        assert_eq!(
            checked(json!({"nonce": 42})),
            Err(LaunchError::InvalidClaim("nonce"))
        );
    }
}
