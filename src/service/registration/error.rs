//! Why a dynamic registration stopped, with what the LMS admin should check.

use crate::service::failure::{Failure, Fault, Kind};

/// Why a registration stopped, with what the LMS admin should check. Nothing
/// is stored when one of these is returned.
#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    #[error("the LMS did not say where its configuration is")]
    MissingConfiguration,
    #[error("{0} is not an https:// address")]
    InsecureUrl(String),
    #[error(
        "this guestlink accepts registrations only from the hosts its administrator listed, and {0} is not one of them"
    )]
    HostNotAllowed(String),
    #[error("{0} is not on a public address")]
    PrivateAddress(String),
    #[error("the LMS configuration at {url} could not be read: {problem}")]
    ConfigUnreachable { url: String, problem: String },
    #[error("the LMS configuration at {0} did not answer in time")]
    ConfigTimeout(String),
    #[error("the LMS configuration at {url} is not usable: {problem}")]
    ConfigInvalid { url: String, problem: String },
    #[error("the issuer {issuer} is not on the host of the configuration URL ({host})")]
    IssuerMismatch { issuer: String, host: String },
    #[error("{0} sends a registration token with dynamic registration, and this request has none")]
    TokenMissing(&'static str),
    #[error("the registration token has expired")]
    TokenExpired,
    #[error("this registration link was already used")]
    TokenUsed,
    #[error("the confirmation form is too old or was altered")]
    FormInvalid,
    #[error("the LMS refused the registration (HTTP {status})")]
    Refused { status: u16, reasons: Vec<String> },
    #[error("the LMS could not be reached to register: {0}")]
    Unreachable(String),
    #[error("the LMS did not answer the registration in time")]
    Timeout,
    #[error("the LMS accepted the registration but its answer is not usable: {0}")]
    ResponseInvalid(String),
    #[error("a platform with issuer {issuer} and client id {client_id} is registered already")]
    Conflict { issuer: String, client_id: String },
    #[error("too many registrations came from this address in the last minute")]
    TooManyAttempts,
    #[error("too many registrations are already waiting for activation")]
    TooManyPending,
    #[error(transparent)]
    Fault(#[from] Fault),
}

impl Failure for RegistrationError {
    fn code(&self) -> &'static str {
        use RegistrationError::*;
        match self {
            MissingConfiguration => "registration_missing_configuration",
            InsecureUrl(_) => "registration_insecure_url",
            HostNotAllowed(_) => "registration_host_not_allowed",
            PrivateAddress(_) => "registration_private_address",
            ConfigUnreachable { .. } => "registration_config_unreachable",
            ConfigTimeout(_) => "registration_config_timeout",
            ConfigInvalid { .. } => "registration_config_invalid",
            IssuerMismatch { .. } => "registration_issuer_mismatch",
            TokenMissing(_) => "registration_token_missing",
            TokenExpired => "registration_token_expired",
            TokenUsed => "registration_token_used",
            FormInvalid => "registration_form_invalid",
            Refused { .. } | Unreachable(_) => "registration_refused",
            Timeout => "registration_timeout",
            ResponseInvalid(_) => "registration_response_invalid",
            Conflict { .. } => "registration_conflict",
            TooManyAttempts => "rate_limited",
            TooManyPending => "registration_pending_limit",
            Fault(f) => f.code(),
        }
    }

    /// What the request got wrong, or what the LMS did.
    fn kind(&self) -> Kind {
        use RegistrationError::*;
        match self {
            HostNotAllowed(_) | PrivateAddress(_) => Kind::Forbidden,
            ConfigUnreachable { .. } | ConfigInvalid { .. } => Kind::Upstream,
            Refused { .. } | Unreachable(_) | ResponseInvalid(_) => Kind::Upstream,
            ConfigTimeout(_) | Timeout => Kind::UpstreamTimeout,
            Conflict { .. } => Kind::Conflict,
            TooManyAttempts | TooManyPending => Kind::TooMany,
            Fault(f) => f.kind(),
            MissingConfiguration
            | InsecureUrl(_)
            | IssuerMismatch { .. }
            | TokenMissing(_)
            | TokenExpired
            | TokenUsed
            | FormInvalid => Kind::Malformed,
        }
    }

    /// What the LMS administrator should do, in a sentence or two.
    fn hint(&self) -> Option<String> {
        use RegistrationError::*;
        Some(match self {
            MissingConfiguration => "Start the registration from the LMS (its dynamic registration page), with guestlink's registration URL; opening the URL by itself does nothing.".into(),
            InsecureUrl(_) => "The LMS must be served over https. For a test LMS on this machine, list its host in GUESTLINK_OUTBOUND_ALLOWED_HOSTS.".into(),
            HostNotAllowed(_) => "Ask guestlink's administrator to add the LMS host to GUESTLINK_REGISTRATION_ALLOWED_HOSTS, or register the LMS by hand in the admin console.".into(),
            PrivateAddress(_) => "guestlink only fetches from public addresses. For an LMS on an internal network, guestlink's administrator lists its host in GUESTLINK_OUTBOUND_ALLOWED_HOSTS.".into(),
            ConfigUnreachable { .. } | ConfigTimeout(_) => "Check that the guestlink server can reach the LMS over https (firewall, proxy, DNS), then start the registration again from the LMS.".into(),
            ConfigInvalid { .. } => "The LMS's OpenID configuration lacks what LTI Dynamic Registration needs; register guestlink by hand instead (see the guide for your LMS).".into(),
            IssuerMismatch { .. } => "The LMS's issuer must be on the same host as its configuration URL. Check the LMS's site URL (wwwroot) setting, or register guestlink by hand.".into(),
            TokenMissing(_) | TokenExpired | TokenUsed | FormInvalid => "Start the registration again from the LMS: each registration link works once and for a limited time.".into(),
            // Sakai answers a bad token with 400 and the error code
            // invalid_authorization in its body (see docs/lms-platforms.md,
            // Sakai); the LMS's words are all it gives, and they only pick
            // the hint.
            Refused { status, reasons }
                if matches!(status, 401 | 403)
                    || reasons.iter().any(|r| r.contains("invalid_authorization")) =>
            {
                "The LMS refused the registration token (used, expired or without the right scope): start the registration again from the LMS.".into()
            }
            Refused { .. } => "The LMS did not accept guestlink's registration. Its reasons are above; if they name a setting of the LMS (a domain already in use, a disabled feature), change it there and start again, or register guestlink by hand.".into(),
            Unreachable(_) | Timeout => "Check that the guestlink server can reach the LMS, then start the registration again from the LMS.".into(),
            ResponseInvalid(_) => "Check the LMS's list of tools: the registration may exist there without guestlink knowing it. Remove it and start again, or register guestlink by hand.".into(),
            Conflict { .. } => "guestlink already has this registration: nothing was changed. Manage it in guestlink's admin console.".into(),
            TooManyPending => "Ask guestlink's administrator to activate or remove the registrations waiting in the admin console, then start again.".into(),
            TooManyAttempts | Fault(_) => "Please try again in a minute.".into(),
        })
    }
}

impl RegistrationError {
    /// The platform's own reasons, when it refused.
    pub fn reasons(&self) -> &[String] {
        match self {
            RegistrationError::Refused { reasons, .. } => reasons,
            _ => &[],
        }
    }
}

crate::faults_from_store!(RegistrationError);

#[cfg(test)]
mod tests {
    use super::*;
    use RegistrationError::*;

    fn every_error() -> Vec<RegistrationError> {
        vec![
            MissingConfiguration,
            InsecureUrl("http://lms".into()),
            HostNotAllowed("lms".into()),
            PrivateAddress("lms".into()),
            ConfigUnreachable {
                url: "u".into(),
                problem: "p".into(),
            },
            ConfigTimeout("u".into()),
            ConfigInvalid {
                url: "u".into(),
                problem: "p".into(),
            },
            IssuerMismatch {
                issuer: "i".into(),
                host: "h".into(),
            },
            TokenMissing("Moodle"),
            TokenExpired,
            TokenUsed,
            FormInvalid,
            Refused {
                status: 400,
                reasons: vec![],
            },
            Unreachable("refused".into()),
            Timeout,
            ResponseInvalid("no client_id".into()),
            Conflict {
                issuer: "i".into(),
                client_id: "c".into(),
            },
            TooManyAttempts,
            TooManyPending,
            Fault(crate::service::failure::Fault::Unavailable("x".into())),
        ]
    }

    #[test]
    fn each_registration_refusal_has_its_own_code_but_an_unreachable_lms_counts_as_refused() {
        let errors = every_error();
        let mut codes: Vec<&str> = errors.iter().map(|e| e.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), errors.len() - 1);
        assert_eq!(Unreachable("x".into()).code(), "registration_refused");
    }

    #[test]
    fn every_registration_refusal_tells_the_admin_what_to_do() {
        for err in every_error() {
            let hint = err.hint().unwrap_or_default();
            assert!(hint.ends_with('.'), "{err:?}: {hint}");
        }
    }

    #[test]
    fn hosts_the_tool_may_not_fetch_from_are_forbidden() {
        assert_eq!(HostNotAllowed("x".into()).kind(), Kind::Forbidden);
        assert_eq!(PrivateAddress("x".into()).kind(), Kind::Forbidden);
    }

    #[test]
    fn an_lms_that_answers_badly_is_upstream_and_one_that_is_slow_an_upstream_timeout() {
        for err in [
            ConfigUnreachable {
                url: "u".into(),
                problem: "p".into(),
            },
            ConfigInvalid {
                url: "u".into(),
                problem: "p".into(),
            },
            Refused {
                status: 500,
                reasons: vec![],
            },
            Unreachable("x".into()),
            ResponseInvalid("x".into()),
        ] {
            assert_eq!(err.kind(), Kind::Upstream, "{err:?}");
        }
        assert_eq!(ConfigTimeout("u".into()).kind(), Kind::UpstreamTimeout);
        assert_eq!(Timeout.kind(), Kind::UpstreamTimeout);
    }

    #[test]
    fn a_request_without_a_usable_token_or_form_is_malformed() {
        for err in [
            MissingConfiguration,
            InsecureUrl("u".into()),
            TokenMissing("Canvas"),
            TokenExpired,
            TokenUsed,
            FormInvalid,
        ] {
            assert_eq!(err.kind(), Kind::Malformed, "{err:?}");
        }
    }

    #[test]
    fn too_many_registrations_are_too_many_requests() {
        assert_eq!(TooManyAttempts.kind(), Kind::TooMany);
        assert_eq!(TooManyAttempts.code(), "rate_limited");
        assert_eq!(TooManyPending.kind(), Kind::TooMany);
        assert_eq!(
            Conflict {
                issuer: "i".into(),
                client_id: "c".into()
            }
            .kind(),
            Kind::Conflict
        );
    }

    #[test]
    fn a_refused_token_is_told_to_start_again_from_the_lms() {
        let token_hint = |err: RegistrationError| {
            err.hint()
                .unwrap()
                .starts_with("The LMS refused the registration token")
        };
        assert!(token_hint(Refused {
            status: 401,
            reasons: vec![]
        }));
        assert!(token_hint(Refused {
            status: 403,
            reasons: vec![]
        }));
        assert!(token_hint(Refused {
            status: 400,
            reasons: vec!["invalid_authorization: bad token".into()]
        }));
        assert!(!token_hint(Refused {
            status: 400,
            reasons: vec!["claims: is required".into()]
        }));
    }

    #[test]
    fn only_a_refusal_carries_the_platforms_reasons() {
        let refused = Refused {
            status: 422,
            reasons: vec!["domain taken".into()],
        };
        assert_eq!(refused.reasons(), ["domain taken"]);
        assert!(Unreachable("x".into()).reasons().is_empty());
        assert!(TokenUsed.reasons().is_empty());
    }

    #[test]
    fn a_refusal_says_the_status_the_lms_answered() {
        let err = Refused {
            status: 422,
            reasons: vec![],
        };
        assert_eq!(
            err.to_string(),
            "the LMS refused the registration (HTTP 422)"
        );
    }
}
