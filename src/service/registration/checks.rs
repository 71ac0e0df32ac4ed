//! The checks a registration's configuration must pass before anything is
//! sent: where it may be fetched from, and whether its issuer is its own.

use std::time::Duration;

use url::Url;

use super::{RegistrationError, Result};
use crate::lti::registration::{PlatformConfiguration, SHARED_ISSUERS};
use crate::outbound::{FetchError, Limits, Target, listed};
use crate::service::Tool;

/// Hosts hosted Canvas signs in and publishes its keys on.
const INSTRUCTURE_HOSTS: [&str; 6] = [
    "sso.canvaslms.com",
    "sso.beta.canvaslms.com",
    "sso.test.canvaslms.com",
    "canvas.instructure.com",
    "canvas.beta.instructure.com",
    "canvas.test.instructure.com",
];

/// The issuer must be on the configuration URL's host, except the issuers
/// hosted Canvas shares between all its schools. Anyone can claim such an
/// issuer, so from a host the administrator did not list, its sign-in and
/// key-set URLs must then be Instructure's own: otherwise a look-alike
/// "Canvas" would wait for activation with a name an admin trusts.
pub(super) fn check_issuer(
    configuration: &PlatformConfiguration,
    config_url: &Url,
    listed: bool,
) -> Result<()> {
    let issuer = configuration.issuer.trim_end_matches('/');
    let host_of = |url: &str| {
        Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
    };
    let config_host = config_url.host_str().unwrap_or_default();
    let mismatch = || RegistrationError::IssuerMismatch {
        issuer: issuer.to_string(),
        host: config_host.to_string(),
    };
    if SHARED_ISSUERS.contains(&issuer) {
        let on_instructure =
            |url: &str| host_of(url).is_some_and(|h| INSTRUCTURE_HOSTS.contains(&h.as_str()));
        if listed
            || (on_instructure(&configuration.authorization_endpoint)
                && on_instructure(&configuration.jwks_uri))
        {
            return Ok(());
        }
        return Err(mismatch());
    }
    if host_of(issuer).is_some_and(|h| h.eq_ignore_ascii_case(config_host)) {
        Ok(())
    } else {
        Err(mismatch())
    }
}

/// The registration's rules: the outbound fetch rules, and which hosts the
/// administrator accepts registrations from.
pub(super) struct Rules<'a> {
    pub outbound: &'a crate::outbound::Outbound,
    allowed: &'a [crate::outbound::HostPattern],
    pub timeout: Duration,
}

impl<'a> Rules<'a> {
    pub fn of(tool: &'a Tool) -> Rules<'a> {
        Rules {
            outbound: &tool.outbound,
            allowed: &tool.settings.lti.registration_allowed_hosts,
            timeout: tool.settings.lti.registration_timeout.unsigned_abs(),
        }
    }

    pub fn limits(&self) -> Limits {
        Limits::configuration(self.timeout)
    }

    /// On GUESTLINK_REGISTRATION_ALLOWED_HOSTS: accepted, and active at once.
    pub fn listed(&self, url: &Url) -> bool {
        listed(self.allowed, url)
    }

    /// https, or plain http to a loopback host the operator listed.
    pub fn secure_enough(&self, raw: &str) -> std::result::Result<(), String> {
        let url = Url::parse(raw.trim()).map_err(|_| format!("'{raw}' is not a URL"))?;
        if self.outbound.scheme_allowed(&url) {
            Ok(())
        } else {
            Err(format!("'{raw}' is not an https:// address"))
        }
    }

    /// The configuration URL the LMS sent: the admin's to fix when it fails.
    pub async fn configuration_target(&self, raw: &str) -> Result<Target> {
        let url = Url::parse(raw.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .ok_or(RegistrationError::MissingConfiguration)?;
        if !self.allowed.is_empty() && !self.listed(&url) {
            let host = url.host_str().unwrap_or_default().to_string();
            return Err(RegistrationError::HostNotAllowed(host));
        }
        self.outbound
            .target(raw, self.timeout)
            .await
            .map_err(|e| config_fetch_error(&url, e))
    }
}

/// A failed configuration fetch as the admin is told of it.
fn config_fetch_error(url: &Url, err: FetchError) -> RegistrationError {
    let url = url.to_string();
    match err {
        FetchError::NotAUrl => RegistrationError::MissingConfiguration,
        FetchError::NotHttps => RegistrationError::InsecureUrl(url),
        FetchError::PrivateAddress { host } => RegistrationError::PrivateAddress(host),
        FetchError::Timeout => RegistrationError::ConfigTimeout(url),
        FetchError::TooLarge(_) | FetchError::BrokenOff(_) => RegistrationError::ConfigInvalid {
            url,
            problem: err.to_string(),
        },
        FetchError::DoesNotResolve { .. }
        | FetchError::Unreachable(_)
        | FetchError::Redirect(_) => RegistrationError::ConfigUnreachable {
            url,
            problem: err.to_string(),
        },
    }
}

/// GETs the configuration, with the registration token when there is one:
/// Canvas and Moodle show it only to the token's holder.
pub(super) async fn fetch_configuration(
    rules: &Rules<'_>,
    target: &Target,
    token: Option<&str>,
) -> Result<Vec<u8>> {
    let answer = rules
        .outbound
        .get(target, token, rules.limits())
        .await
        .map_err(|e| config_fetch_error(&target.url, e))?;
    // Canvas and Moodle show their configuration only with the token.
    if token.is_none() && matches!(answer.status, 401 | 403) {
        return Err(RegistrationError::TokenMissing("This LMS"));
    }
    if !answer.is_success() {
        return Err(RegistrationError::ConfigUnreachable {
            url: target.url.to_string(),
            problem: format!("it answered HTTP {}", answer.status),
        });
    }
    Ok(answer.body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issuer_must_be_on_the_configuration_host_unless_shared() {
        let target = |url: &str, listed: bool| (Url::parse(url).unwrap(), listed);
        let check_issuer = |config: &PlatformConfiguration, (url, listed): &(Url, bool)| {
            check_issuer(config, url, *listed)
        };
        let config = configuration;
        let moodle = target(
            "https://moodle.example.edu/mod/lti/openid-configuration.php",
            false,
        );
        let own = |issuer: &str| config(issuer, "https://x/auth", "https://x/jwks");
        assert!(check_issuer(&own("https://moodle.example.edu"), &moodle).is_ok());
        assert!(check_issuer(&own("https://moodle.example.edu/"), &moodle).is_ok());
        assert!(check_issuer(&own("https://evil.example.com"), &moodle).is_err());

        let school = "https://school.instructure.com/api/lti/security/openid-configuration";
        let real_canvas = config(
            "https://canvas.instructure.com",
            "https://sso.canvaslms.com/api/lti/authorize_redirect",
            "https://sso.canvaslms.com/api/lti/security/jwks",
        );
        assert!(check_issuer(&real_canvas, &target(school, false)).is_ok());
        // A look-alike claiming the shared issuer with keys of its own.
        let fake = config(
            "https://canvas.instructure.com",
            "https://evil.example.com/auth",
            "https://evil.example.com/jwks",
        );
        assert!(check_issuer(&fake, &target("https://evil.example.com/c", false)).is_err());
        // A host the administrator listed is trusted as it is.
        assert!(check_issuer(&fake, &target("https://evil.example.com/c", true)).is_ok());
    }

    fn configuration(issuer: &str, auth: &str, jwks: &str) -> PlatformConfiguration {
        PlatformConfiguration {
            issuer: issuer.into(),
            authorization_endpoint: auth.into(),
            token_endpoint: None,
            jwks_uri: jwks.into(),
            registration_endpoint: String::new(),
            product_family: None,
            version: None,
            messages_supported: vec![],
        }
    }

    fn at(url: &str) -> Url {
        Url::parse(url).unwrap()
    }

    fn rules<'a>(
        outbound: &'a crate::outbound::Outbound,
        allowed: &'a [crate::outbound::HostPattern],
    ) -> Rules<'a> {
        Rules {
            outbound,
            allowed,
            timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn an_issuer_on_the_configuration_host_may_have_a_path_and_other_case() {
        let own = configuration(
            "https://LMS.example.edu/moodle",
            "https://x/a",
            "https://x/k",
        );
        assert!(check_issuer(&own, &at("https://lms.example.edu/c"), false).is_ok());
    }

    #[test]
    fn an_issuer_on_a_sibling_or_parent_host_is_a_mismatch() {
        let config_url = at("https://moodle.example.edu/c");
        for issuer in [
            "https://example.edu",
            "https://moodle.example.edu.evil.com",
            "not a url",
        ] {
            let own = configuration(issuer, "https://x/a", "https://x/k");
            assert!(check_issuer(&own, &config_url, false).is_err(), "{issuer}");
        }
    }

    #[test]
    fn a_mismatch_names_the_issuer_without_its_slash_and_the_host() {
        let own = configuration("https://other.example.edu/", "https://x/a", "https://x/k");
        match check_issuer(&own, &at("https://lms.example.edu/c"), false) {
            Err(RegistrationError::IssuerMismatch { issuer, host }) => {
                assert_eq!(issuer, "https://other.example.edu");
                assert_eq!(host, "lms.example.edu");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_shared_canvas_issuer_needs_both_sign_in_and_keys_on_instructure() {
        let school = at("https://school.instructure.com/api/lti/security/openid-configuration");
        let half = configuration(
            "https://canvas.instructure.com",
            "https://sso.canvaslms.com/api/lti/authorize_redirect",
            "https://evil.example.com/jwks",
        );
        assert!(check_issuer(&half, &school, false).is_err());
        let other_half = configuration(
            "https://canvas.instructure.com",
            "https://evil.example.com/auth",
            "https://sso.canvaslms.com/api/lti/security/jwks",
        );
        assert!(check_issuer(&other_half, &school, false).is_err());
    }

    #[test]
    fn the_beta_and_test_canvas_issuers_are_shared_too() {
        let school = at("https://school.beta.instructure.com/c");
        for (issuer, host) in [
            (
                "https://canvas.beta.instructure.com/",
                "sso.beta.canvaslms.com",
            ),
            (
                "https://canvas.test.instructure.com",
                "sso.test.canvaslms.com",
            ),
        ] {
            let config = configuration(
                issuer,
                &format!("https://{host}/api/lti/authorize_redirect"),
                &format!("https://{host}/api/lti/security/jwks"),
            );
            assert!(check_issuer(&config, &school, false).is_ok(), "{issuer}");
        }
    }

    #[test]
    fn a_configuration_that_is_not_a_url_means_the_lms_named_none() {
        assert!(matches!(
            config_fetch_error(&at("https://lms.example.edu/c"), FetchError::NotAUrl),
            RegistrationError::MissingConfiguration
        ));
    }

    #[test]
    fn a_refused_scheme_or_address_is_told_by_url_or_host() {
        let url = at("http://lms.example.edu/c");
        assert!(matches!(
            config_fetch_error(&url, FetchError::NotHttps),
            RegistrationError::InsecureUrl(u) if u == "http://lms.example.edu/c"
        ));
        assert!(matches!(
            config_fetch_error(&url, FetchError::PrivateAddress { host: "lms.example.edu".into() }),
            RegistrationError::PrivateAddress(h) if h == "lms.example.edu"
        ));
    }

    #[test]
    fn a_slow_configuration_is_a_configuration_timeout() {
        assert!(matches!(
            config_fetch_error(&at("https://lms.example.edu/c"), FetchError::Timeout),
            RegistrationError::ConfigTimeout(u) if u == "https://lms.example.edu/c"
        ));
    }

    #[test]
    fn an_oversized_or_broken_answer_is_an_invalid_configuration() {
        for err in [
            FetchError::TooLarge("1 MB"),
            FetchError::BrokenOff("a network error"),
        ] {
            let said = err.to_string();
            match config_fetch_error(&at("https://lms.example.edu/c"), err) {
                RegistrationError::ConfigInvalid { problem, .. } => assert_eq!(problem, said),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn an_unresolvable_unreachable_or_redirecting_host_is_unreachable() {
        for err in [
            FetchError::DoesNotResolve {
                host: "lms.example.edu".into(),
            },
            FetchError::Unreachable("the connection was refused or could not be made"),
            FetchError::Redirect(302),
        ] {
            let said = err.to_string();
            match config_fetch_error(&at("https://lms.example.edu/c"), err) {
                RegistrationError::ConfigUnreachable { url, problem } => {
                    assert_eq!(url, "https://lms.example.edu/c");
                    assert_eq!(problem, said);
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn a_url_the_lms_gives_is_secure_enough_over_https_or_listed_loopback_http() {
        let outbound = crate::outbound::Outbound::new(vec![
            crate::outbound::HostPattern::parse("127.0.0.1:*").unwrap(),
        ]);
        let rules = rules(&outbound, &[]);
        assert!(
            rules
                .secure_enough(" https://lms.example.edu/auth ")
                .is_ok()
        );
        assert!(rules.secure_enough("http://127.0.0.1:8081/auth").is_ok());
        assert_eq!(
            rules
                .secure_enough("http://lms.example.edu/auth")
                .unwrap_err(),
            "'http://lms.example.edu/auth' is not an https:// address"
        );
        assert_eq!(
            rules.secure_enough("nope").unwrap_err(),
            "'nope' is not a URL"
        );
    }

    #[tokio::test]
    async fn a_configuration_url_that_is_not_web_is_missing() {
        let outbound = crate::outbound::Outbound::default();
        let rules = rules(&outbound, &[]);
        for raw in ["", "not a url", "ftp://lms.example.edu/c", "mailto:x@y.z"] {
            assert!(
                matches!(
                    rules.configuration_target(raw).await,
                    Err(RegistrationError::MissingConfiguration)
                ),
                "{raw:?}"
            );
        }
    }

    #[tokio::test]
    async fn with_a_list_of_hosts_an_unlisted_configuration_host_is_not_allowed() {
        let outbound = crate::outbound::Outbound::default();
        let allowed = [crate::outbound::HostPattern::parse("moodle.example.edu").unwrap()];
        let rules = rules(&outbound, &allowed);
        assert!(matches!(
            rules.configuration_target("https://evil.example.com/c").await,
            Err(RegistrationError::HostNotAllowed(host)) if host == "evil.example.com"
        ));
        assert!(rules.listed(&at("https://moodle.example.edu/c")));
        assert!(!rules.listed(&at("https://moodle.example.edu:8443/c")));
    }
}
