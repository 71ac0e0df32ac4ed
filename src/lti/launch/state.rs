//! Step 1: the posted `state` is one this tool issued, not expired, and
//! comes back in the browser that started the login. OpenID Connect Core
//! §3.1.2.1 (https://openid.net/specs/openid-connect-core-1_0.html#AuthRequest)
//! binds `state` to the browser against CSRF; the LTI Security Framework
//! returns it with the id_token in Step 3, Authentication Response, §5.1.1.3
//! (https://www.imsglobal.org/spec/security/v1p0/#step-3-authentication-response).

use crate::crypto::{hash_secret, secrets_equal};
use crate::domain::time::Timestamp;
use crate::lti::LaunchError;

/// The server-side half of a login, as stored (secrets only as hashes).
#[derive(Clone, Debug)]
pub struct StateRecord {
    pub platform_id: i64,
    pub nonce_hash: String,
    pub binding_hash: String,
    pub expires_at: Timestamp,
}

/// `found` is the record the service read for `state` (None if there was none).
pub(super) fn check<'r>(
    state: &str,
    binding: &str,
    found: Option<&'r StateRecord>,
    now: Timestamp,
) -> Result<&'r StateRecord, LaunchError> {
    if state.is_empty() {
        return Err(LaunchError::MissingState);
    }
    let record = found.ok_or(LaunchError::UnknownState)?;
    if now > record.expires_at {
        return Err(LaunchError::StateExpired);
    }
    if binding.is_empty() {
        return Err(LaunchError::StateCookieMissing);
    }
    if !secrets_equal(&hash_secret(binding), &record.binding_hash) {
        return Err(LaunchError::StateMismatch);
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::super::fakes::{BINDING, NOW, STATE, state_record};
    use super::*;

    const SECOND: crate::domain::time::Duration = crate::domain::time::Duration::seconds(1);

    #[test]
    fn a_state_issued_to_this_browser_and_still_fresh_passes() {
        let record = state_record();
        assert!(check(STATE, BINDING, Some(&record), NOW).is_ok());
        assert!(check(STATE, BINDING, Some(&record), record.expires_at).is_ok());
    }

    #[test]
    fn each_way_a_state_fails_has_its_code() {
        let record = state_record();
        let cases = [
            ("", BINDING, Some(&record), NOW, LaunchError::MissingState),
            (STATE, BINDING, None, NOW, LaunchError::UnknownState),
            (
                STATE,
                BINDING,
                Some(&record),
                record.expires_at + SECOND,
                LaunchError::StateExpired,
            ),
            (
                STATE,
                "",
                Some(&record),
                NOW,
                LaunchError::StateCookieMissing,
            ),
            (
                STATE,
                "another browser",
                Some(&record),
                NOW,
                LaunchError::StateMismatch,
            ),
        ];
        for (state, binding, found, now, expected) in cases {
            assert_eq!(check(state, binding, found, now).unwrap_err(), expected);
        }
    }

    #[test]
    fn an_expired_state_is_expired_whatever_the_browser() {
        let record = state_record();
        assert_eq!(
            check(STATE, "", Some(&record), record.expires_at + SECOND).unwrap_err(),
            LaunchError::StateExpired
        );
    }
}
