//! Every way a login or launch is refused, each with a stable code for the
//! error page's `data-error-code` and a sentence telling an LMS admin what to
//! check. Nothing here carries a token, a state or a nonce value.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LaunchError {
    // The request itself.
    #[error("the request is larger than a launch can be")]
    RequestTooLarge,
    #[error("the request is missing the parameter {0}")]
    MissingParameter(&'static str),
    #[error("the parameter {0} is malformed")]
    MalformedParameter(&'static str),

    // Login initiation.
    #[error("no platform is registered with this issuer")]
    UnknownIssuer,
    #[error("no platform is registered with this issuer and client id")]
    UnknownClient,
    #[error("several client ids are registered for this issuer and the login named none")]
    AmbiguousClient,
    #[error("the target_link_uri points outside this tool")]
    InvalidTargetLinkUri,
    #[error(
        "this platform registered itself and waits for a guestlink administrator to activate it"
    )]
    PlatformPending,

    // State.
    #[error("the launch carries no state")]
    MissingState,
    #[error("the state is not one this tool issued")]
    UnknownState,
    #[error("the state has expired")]
    StateExpired,
    #[error("the state was issued to another browser")]
    StateMismatch,
    #[error("the browser did not return the tool's state cookie")]
    StateCookieMissing,
    /// A launch may bring the browser binding from LTI platform storage only
    /// through the tool's own page; from any other site it would log the
    /// browser into someone else's launch (login CSRF).
    #[error("the browser binding from platform storage was posted by another site")]
    CrossSiteStorageBinding,

    // The token.
    #[error("the launch carries no id_token")]
    MissingIdToken,
    #[error("the id_token is not a JWT")]
    MalformedToken,
    #[error("the id_token uses the algorithm {0}; only RS256 is accepted")]
    UnsupportedAlgorithm(String),
    #[error("the id_token header has no kid")]
    MissingKid,
    #[error("the platform's key set has no key with the id_token's kid")]
    UnknownKid,
    /// The detail (an HTTP status, a timeout) goes to the diagnostics and the
    /// log only: the error page says no more than that the keys were not had.
    #[error("the platform's key set could not be fetched")]
    JwksUnavailable(String),
    #[error("the id_token signature does not verify")]
    InvalidSignature,
    #[error("the id_token lacks the claim {0}")]
    MissingClaim(&'static str),
    #[error("the claim {0} has the wrong type")]
    InvalidClaim(&'static str),
    #[error("the id_token has expired")]
    TokenExpired,
    #[error("the id_token was issued in the future")]
    IssuedInFuture,
    #[error("the id_token is not valid yet (nbf)")]
    NotYetValid,
    #[error("the id_token's iss is not this platform's issuer")]
    InvalidIssuer,
    #[error("the id_token's aud does not contain this platform's client id")]
    InvalidAudience,
    #[error("the id_token has several audiences and no azp")]
    MissingAzp,
    #[error("the id_token's azp is not this platform's client id")]
    InvalidAzp,
    #[error("the id_token's nonce is not the one issued for this state")]
    NonceMismatch,
    #[error("this id_token's nonce was already used")]
    NonceReused,
    #[error("the launch has no deployment id")]
    MissingDeploymentId,
    #[error("the deployment id is not registered for this platform")]
    UnknownDeployment,
    #[error("the launch has no LTI version")]
    MissingLtiVersion,
    #[error("the LTI version is not 1.3.0")]
    UnsupportedLtiVersion,
    #[error("the launch has no message type")]
    MissingMessageType,
    #[error("the message type is not one this tool handles")]
    UnsupportedMessageType,
    #[error("the resource link launch has no resource link id")]
    MissingResourceLink,
    #[error("the deep linking request has no deep linking settings or return URL")]
    MissingDeepLinkingSettings,
    #[error("the deep linking return URL is not an https:// address")]
    InsecureReturnUrl,
    #[error("the launch has no roles claim")]
    MissingRoles,
    #[error("the launch has no subject (sub)")]
    MissingSub,
}

impl LaunchError {
    /// What the administrator needs beyond the message, for the launch
    /// diagnostics and the log; never shown on the error page.
    pub fn detail(&self) -> Option<&str> {
        match self {
            LaunchError::JwksUnavailable(why) => Some(why),
            _ => None,
        }
    }

    /// The stable code shown as `data-error-code`.
    pub fn code(&self) -> &'static str {
        use LaunchError::*;
        match self {
            RequestTooLarge => "request_too_large",
            MissingParameter(_) => "missing_parameter",
            MalformedParameter(_) => "malformed_parameter",
            UnknownIssuer => "unknown_issuer",
            UnknownClient => "unknown_client",
            AmbiguousClient => "ambiguous_client",
            InvalidTargetLinkUri => "invalid_target_link_uri",
            PlatformPending => "platform_pending",
            MissingState => "missing_state",
            UnknownState => "unknown_state",
            StateExpired => "state_expired",
            StateMismatch => "state_mismatch",
            StateCookieMissing => "state_cookie_missing",
            CrossSiteStorageBinding => "storage_binding_cross_site",
            MissingIdToken => "missing_id_token",
            MalformedToken => "malformed_token",
            UnsupportedAlgorithm(_) => "unsupported_algorithm",
            MissingKid => "missing_kid",
            UnknownKid => "unknown_kid",
            JwksUnavailable(_) => "jwks_unavailable",
            InvalidSignature => "invalid_signature",
            MissingClaim(_) => "missing_claim",
            InvalidClaim(_) => "invalid_claim",
            TokenExpired => "token_expired",
            IssuedInFuture => "issued_in_future",
            NotYetValid => "not_yet_valid",
            InvalidIssuer => "invalid_issuer",
            InvalidAudience => "invalid_audience",
            MissingAzp => "missing_azp",
            InvalidAzp => "invalid_azp",
            NonceMismatch => "nonce_mismatch",
            NonceReused => "nonce_reused",
            MissingDeploymentId => "missing_deployment_id",
            UnknownDeployment => "unknown_deployment",
            MissingLtiVersion => "missing_lti_version",
            UnsupportedLtiVersion => "unsupported_lti_version",
            MissingMessageType => "missing_message_type",
            UnsupportedMessageType => "unsupported_message_type",
            MissingResourceLink => "missing_resource_link",
            MissingDeepLinkingSettings => "missing_deep_linking_settings",
            InsecureReturnUrl => "insecure_return_url",
            MissingRoles => "missing_roles",
            MissingSub => "missing_sub",
        }
    }

    /// What an LMS administrator should check, in one sentence.
    pub fn admin_hint(&self) -> &'static str {
        use LaunchError::*;
        match self {
            RequestTooLarge
            | MissingParameter(_)
            | MalformedParameter(_)
            | MissingIdToken
            | MalformedToken => {
                "The request did not come from an LTI 1.3 platform in the expected form: check that the tool's login URL is {base}/lti/login and its redirect URL is {base}/lti/launch."
            }
            UnknownIssuer => {
                "Register this platform in guestlink (guestlink platform add) with exactly the issuer your LMS shows, including any path."
            }
            UnknownClient | AmbiguousClient => {
                "Register this client id in guestlink for this issuer; Canvas creates a new client id for every developer key."
            }
            InvalidTargetLinkUri => {
                "Set the tool's target link URI in the LMS to an address under guestlink's public URL."
            }
            PlatformPending => {
                "A guestlink administrator activates the platform in the admin console ({base}/admin) or with guestlink platform activate ID."
            }
            MissingState | UnknownState | StateExpired => {
                "Launch the tool again from the LMS; if it keeps failing, check that the redirect URL registered in the LMS is guestlink's /lti/launch and that the login is not delayed by more than a few minutes."
            }
            StateMismatch | StateCookieMissing => {
                "The browser blocked the tool's cookie inside the LMS frame: set the placement to open in a new window, or use an LMS that supports LTI platform storage."
            }
            CrossSiteStorageBinding => {
                "This launch was not completed by guestlink's own page: launch the tool again from the LMS. If it keeps happening, a page outside the LMS may be trying to sign users in as someone else."
            }
            UnsupportedAlgorithm(_) | MissingKid | InvalidSignature => {
                "The token was not signed by the platform's registered key: check the JWKS (public keyset) URL registered in guestlink."
            }
            UnknownKid | JwksUnavailable(_) => {
                "Check that the platform's JWKS (public keyset) URL registered in guestlink is right and reachable from the guestlink server."
            }
            TokenExpired | IssuedInFuture | NotYetValid => {
                "Check that the clocks of the LMS server and the guestlink server are synchronised (NTP)."
            }
            InvalidIssuer | InvalidAudience | MissingAzp | InvalidAzp => {
                "Check the issuer and client id registered in guestlink against the ones the LMS shows for this tool."
            }
            NonceMismatch | NonceReused => {
                "This launch was already used: launch the tool again from the LMS rather than reloading the page."
            }
            MissingDeploymentId | UnknownDeployment => {
                "Add this deployment id to the platform in guestlink; Canvas and Brightspace create one per installation."
            }
            MissingLtiVersion | UnsupportedLtiVersion => {
                "Configure the tool in the LMS as an LTI 1.3 tool."
            }
            MissingMessageType | UnsupportedMessageType => {
                "guestlink handles resource link and deep linking launches; check the placement's message type in the LMS."
            }
            InsecureReturnUrl => {
                "The LMS must be served over https: guestlink posts the chosen content back to the LMS's deep_link_return_url from the user's browser, signed, and does not send it over plain http."
            }
            MissingResourceLink
            | MissingDeepLinkingSettings
            | MissingRoles
            | MissingSub
            | MissingClaim(_)
            | InvalidClaim(_) => {
                "The LMS sent a launch without a claim LTI 1.3 requires; check the tool's privacy and placement settings in the LMS."
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_error() -> Vec<LaunchError> {
        use LaunchError::*;
        vec![
            RequestTooLarge,
            MissingParameter("iss"),
            MalformedParameter("login_hint"),
            UnknownIssuer,
            UnknownClient,
            AmbiguousClient,
            InvalidTargetLinkUri,
            PlatformPending,
            MissingState,
            UnknownState,
            StateExpired,
            StateMismatch,
            StateCookieMissing,
            CrossSiteStorageBinding,
            MissingIdToken,
            MalformedToken,
            UnsupportedAlgorithm("HS256".into()),
            MissingKid,
            UnknownKid,
            JwksUnavailable("HTTP 503".into()),
            InvalidSignature,
            MissingClaim("aud"),
            InvalidClaim("exp"),
            TokenExpired,
            IssuedInFuture,
            NotYetValid,
            InvalidIssuer,
            InvalidAudience,
            MissingAzp,
            InvalidAzp,
            NonceMismatch,
            NonceReused,
            MissingDeploymentId,
            UnknownDeployment,
            MissingLtiVersion,
            UnsupportedLtiVersion,
            MissingMessageType,
            UnsupportedMessageType,
            MissingResourceLink,
            MissingDeepLinkingSettings,
            InsecureReturnUrl,
            MissingRoles,
            MissingSub,
        ]
    }

    #[test]
    fn every_launch_error_has_its_own_code() {
        let errors = every_error();
        let mut codes: Vec<&str> = errors.iter().map(LaunchError::code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), errors.len());
    }

    #[test]
    fn codes_are_lower_snake_case_whatever_the_parameter() {
        for err in every_error() {
            let code = err.code();
            assert!(
                !code.is_empty() && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{code}"
            );
        }
        assert_eq!(
            LaunchError::MissingParameter("iss").code(),
            LaunchError::MissingParameter("login_hint").code()
        );
    }

    #[test]
    fn every_launch_error_tells_the_admin_what_to_check_in_a_sentence() {
        for err in every_error() {
            let hint = err.admin_hint();
            assert!(hint.len() > 20, "{err:?}: {hint}");
            assert!(hint.ends_with('.'), "{err:?}: {hint}");
        }
    }

    #[test]
    fn only_an_unavailable_key_set_carries_a_detail_for_the_admin() {
        for err in every_error() {
            match &err {
                LaunchError::JwksUnavailable(_) => assert_eq!(err.detail(), Some("HTTP 503")),
                _ => assert_eq!(err.detail(), None, "{err:?}"),
            }
        }
    }

    #[test]
    fn the_detail_of_an_unavailable_key_set_stays_out_of_its_message() {
        let err = LaunchError::JwksUnavailable("connect to 10.0.0.7 refused".into());
        assert!(!err.to_string().contains("10.0.0.7"), "{err}");
    }

    #[test]
    fn a_message_names_the_parameter_claim_or_algorithm_it_is_about() {
        assert!(
            LaunchError::MissingParameter("login_hint")
                .to_string()
                .contains("login_hint")
        );
        assert!(
            LaunchError::MalformedParameter("lti_storage_target")
                .to_string()
                .contains("lti_storage_target")
        );
        assert!(LaunchError::MissingClaim("aud").to_string().contains("aud"));
        assert!(LaunchError::InvalidClaim("exp").to_string().contains("exp"));
        assert!(
            LaunchError::UnsupportedAlgorithm("HS256".into())
                .to_string()
                .contains("HS256")
        );
    }
}
