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
        let config = |issuer: &str, auth: &str, jwks: &str| PlatformConfiguration {
            issuer: issuer.into(),
            authorization_endpoint: auth.into(),
            token_endpoint: None,
            jwks_uri: jwks.into(),
            registration_endpoint: String::new(),
            product_family: None,
            version: None,
            messages_supported: vec![],
        };
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
}
