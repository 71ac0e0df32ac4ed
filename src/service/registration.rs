//! LTI Dynamic Registration: an LMS admin pastes `{base}/lti/register` into
//! the LMS, which opens it with `openid_configuration` (and usually a
//! `registration_token`). guestlink fetches that configuration, shows the
//! admin what it will register, and on "Register" sends its registration and
//! stores the platform.
//!
//! Anyone can open the URL, so it must not become a way in: every fetch goes
//! through [`crate::outbound`] (https, public addresses or the operator's
//! outbound list, pinned, no redirects), reads at most 1 MB and gives up after
//! `registration_timeout_seconds`. With GUESTLINK_REGISTRATION_ALLOWED_HOSTS
//! set, only those hosts may register and they are active at once; without
//! it a new platform waits as pending until a tool administrator activates it.

use std::time::Duration;

use url::Url;

use super::Tool;
use crate::config::host_and_port;
use crate::crypto::hash_secret;
use crate::domain::ids::PlatformId;
use crate::domain::platform::{DeploymentPolicy, DeploymentsNeeded, Lms, NewPlatform};
use crate::lti::registration::{
    self as protocol, Offer, PlacementStyle, PlatformConfiguration, SHARED_ISSUERS, ToolUrls,
};
use crate::outbound::{FetchError, Limits, Target, listed};
use crate::store::{StoreError, platforms, registration_tokens};

/// How long the confirmation page's form stays valid.
const CONFIRM_SECONDS: i64 = 30 * 60;
/// Registrations waiting for activation at most: anyone may start one, so
/// without a ceiling the list could be flooded. One LMS host may hold only a
/// few of them, so one host cannot fill the list for everyone else.
const MOST_PENDING: i64 = 20;
const MOST_PENDING_PER_HOST: i64 = 3;
/// A registration nobody activated within this long is removed.
pub const PENDING_DAYS: i64 = 7;

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
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(anyhow::Error),
}

impl RegistrationError {
    pub fn code(&self) -> &'static str {
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
            Unavailable(_) => "database_unavailable",
            Internal(_) => "internal",
        }
    }

    /// 4xx for what the request got wrong, 502/504 for what the LMS did.
    pub fn status(&self) -> u16 {
        use RegistrationError::*;
        match self {
            HostNotAllowed(_) | PrivateAddress(_) => 403,
            ConfigUnreachable { .. } | ConfigInvalid { .. } => 502,
            Refused { .. } | Unreachable(_) | ResponseInvalid(_) => 502,
            ConfigTimeout(_) | Timeout => 504,
            Conflict { .. } => 409,
            TooManyAttempts | TooManyPending => 429,
            Unavailable(_) => 503,
            Internal(_) => 500,
            _ => 400,
        }
    }

    /// What the LMS administrator should do, in a sentence or two.
    pub fn hint(&self) -> String {
        use RegistrationError::*;
        match self {
            MissingConfiguration => "Start the registration from the LMS (its dynamic registration page), with guestlink's registration URL; opening the URL by itself does nothing.".into(),
            InsecureUrl(_) => "The LMS must be served over https. For a test LMS on this machine, list its host in GUESTLINK_OUTBOUND_ALLOWED_HOSTS.".into(),
            HostNotAllowed(_) => "Ask guestlink's administrator to add the LMS host to GUESTLINK_REGISTRATION_ALLOWED_HOSTS, or register the LMS by hand in the admin console.".into(),
            PrivateAddress(_) => "guestlink only fetches from public addresses. For an LMS on an internal network, guestlink's administrator lists its host in GUESTLINK_OUTBOUND_ALLOWED_HOSTS.".into(),
            ConfigUnreachable { .. } | ConfigTimeout(_) => "Check that the guestlink server can reach the LMS over https (firewall, proxy, DNS), then start the registration again from the LMS.".into(),
            ConfigInvalid { .. } => "The LMS's OpenID configuration lacks what LTI Dynamic Registration needs; register guestlink by hand instead (see the guide for your LMS).".into(),
            IssuerMismatch { .. } => "The LMS's issuer must be on the same host as its configuration URL. Check the LMS's site URL (wwwroot) setting, or register guestlink by hand.".into(),
            TokenMissing(_) | TokenExpired | TokenUsed | FormInvalid => "Start the registration again from the LMS: each registration link works once and for a limited time.".into(),
            // Sakai answers a bad token with 400 invalid_authorization.
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
            TooManyAttempts | Unavailable(_) | Internal(_) => "Please try again in a minute.".into(),
        }
    }

    /// The platform's own reasons, when it refused.
    pub fn reasons(&self) -> &[String] {
        match self {
            RegistrationError::Refused { reasons, .. } => reasons,
            _ => &[],
        }
    }
}

impl From<StoreError> for RegistrationError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(what) => RegistrationError::Unavailable(what),
            other => RegistrationError::Internal(anyhow::Error::new(other)),
        }
    }
}

impl From<super::ServiceError> for RegistrationError {
    fn from(err: super::ServiceError) -> Self {
        match err {
            super::ServiceError::Unavailable(what) => RegistrationError::Unavailable(what),
            other => RegistrationError::Internal(anyhow::anyhow!(other.to_string())),
        }
    }
}

type Result<T> = std::result::Result<T, RegistrationError>;

/// Whether a registered platform can launch at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    Active,
    Pending,
}

impl Activation {
    pub fn as_str(self) -> &'static str {
        match self {
            Activation::Active => "active",
            Activation::Pending => "pending",
        }
    }
}

/// What the LMS opened `/lti/register` with.
pub struct RegistrationRequest {
    pub configuration_url: String,
    pub token: Option<String>,
}

/// A registration checked and ready for the admin to confirm.
pub struct Prepared {
    pub configuration: PlatformConfiguration,
    pub lms: Lms,
    pub activation: Activation,
    pub offer: Offer,
    /// The value of the confirmation form's `confirm` field.
    pub confirm: String,
    /// host[:port] of the configuration URL: where the platform really is
    /// (hosted Canvas's issuer does not say).
    pub configuration_host: String,
    style: PlacementStyle,
    registration_endpoint: Target,
    used_key: String,
}

/// A registration the LMS accepted and guestlink stored.
pub struct Registered {
    pub platform_id: PlatformId,
    pub name: String,
    pub lms: Lms,
    pub activation: Activation,
    pub client_id: String,
    pub deployment_id: Option<String>,
}

/// Fetches and checks the platform's configuration; nothing is stored.
pub async fn prepare(tool: &Tool, request: &RegistrationRequest) -> Result<Prepared> {
    // What needs no network first: a spent or expired token.
    let token = request.token.as_deref().filter(|t| !t.is_empty());
    if token
        .and_then(protocol::token_expiry)
        .is_some_and(|exp| exp < tool.clock.unix())
    {
        return Err(RegistrationError::TokenExpired);
    }
    let used_key = used_key(request);
    let key = used_key.clone();
    if tool
        .db
        .read(move |conn| registration_tokens::is_used(conn, &key))
        .await?
    {
        return Err(RegistrationError::TokenUsed);
    }

    let rules = Rules::of(tool);
    let config_target = rules
        .configuration_target(&request.configuration_url)
        .await?;
    let body = fetch_configuration(&rules, &config_target, token).await?;
    let invalid = |problem: String| RegistrationError::ConfigInvalid {
        url: config_target.url.to_string(),
        problem,
    };
    let configuration = PlatformConfiguration::parse(&body).map_err(invalid)?;
    check_issuer(
        &configuration,
        &config_target.url,
        rules.listed(&config_target.url),
    )?;
    for (name, url) in [
        (
            "authorization_endpoint",
            Some(&configuration.authorization_endpoint),
        ),
        ("token_endpoint", configuration.token_endpoint.as_ref()),
    ] {
        if let Some(url) = url {
            rules
                .secure_enough(url)
                .map_err(|problem| invalid(format!("its {name} {problem}")))?;
        }
    }
    // guestlink will fetch these two: they pass the same rules as the
    // configuration URL, and a failure is the platform's, not the admin's.
    let platform_fault = |name: &str, err: FetchError| invalid(format!("its {name}: {err}"));
    rules
        .outbound
        .target(&configuration.jwks_uri, rules.timeout)
        .await
        .map_err(|e| platform_fault("jwks_uri", e))?;
    let registration_endpoint = rules
        .outbound
        .target(&configuration.registration_endpoint, rules.timeout)
        .await
        .map_err(|e| platform_fault("registration_endpoint", e))?;

    let lms = Lms::from_product_family(configuration.product_family.as_deref());
    if token.is_none() && lms.sends_registration_token() {
        return Err(RegistrationError::TokenMissing(lms.display_name()));
    }
    let configuration_host = host_and_port(&config_target.url);
    let activation = if rules.listed(&config_target.url) {
        Activation::Active
    } else {
        let host = configuration_host.clone();
        let (pending, from_host) = tool
            .db
            .read(move |conn| {
                Ok((
                    platforms::count_pending(conn)?,
                    platforms::count_pending_from(conn, &host)?,
                ))
            })
            .await?;
        if pending >= MOST_PENDING || from_host >= MOST_PENDING_PER_HOST {
            return Err(RegistrationError::TooManyPending);
        }
        Activation::Pending
    };
    let style = match lms {
        Lms::Canvas => PlacementStyle::Canvas,
        _ => PlacementStyle::Ims,
    };
    Ok(Prepared {
        offer: protocol::offer(&configuration, style),
        confirm: confirm_value(tool, request, tool.clock.unix() + CONFIRM_SECONDS),
        configuration_host,
        configuration,
        lms,
        activation,
        style,
        registration_endpoint,
        used_key,
    })
}

/// Checks the confirmation, sends the registration and stores the platform.
pub async fn register(
    tool: &Tool,
    request: &RegistrationRequest,
    confirm: &str,
) -> Result<Registered> {
    if !confirm_holds(tool, request, confirm) {
        return Err(RegistrationError::FormInvalid);
    }
    let prepared = prepare(tool, request).await?;
    let key = prepared.used_key.clone();
    let now = tool.clock.unix();
    // Claimed before it is sent, so two tabs cannot both use it.
    if !tool
        .db
        .write(move |conn| registration_tokens::claim(conn, &key, now))
        .await?
    {
        return Err(RegistrationError::TokenUsed);
    }
    let assigned = match send_registration(tool, &prepared, request.token.as_deref()).await {
        Ok(assigned) => assigned,
        Err(err) => {
            // Given back when the LMS certainly did not register guestlink
            // (it refused, or was never reached), so nothing stays behind;
            // kept after a timeout or a server error, when it may have.
            let certainly_not = match &err {
                RegistrationError::Refused { status, .. } => (400..500).contains(status),
                RegistrationError::Unreachable(_) => true,
                _ => false,
            };
            if certainly_not {
                let key = prepared.used_key.clone();
                tool.db
                    .write(move |conn| registration_tokens::release(conn, &key))
                    .await?;
            }
            return Err(err);
        }
    };
    store_platform(tool, &prepared, assigned).await
}

/// The key under which a registration's token is remembered as used: the
/// token, or the configuration URL for an LMS that puts its one-time token
/// there (Brightspace).
fn used_key(request: &RegistrationRequest) -> String {
    match request.token.as_deref().filter(|t| !t.is_empty()) {
        Some(token) => hash_secret(&format!("token\n{token}")),
        None => hash_secret(&format!("configuration\n{}", request.configuration_url)),
    }
}

fn confirm_message(request: &RegistrationRequest, expires: i64) -> String {
    format!(
        "register\n{}\n{}\n{expires}",
        request.configuration_url,
        request.token.as_deref().unwrap_or("")
    )
}

/// The confirmation form's proof that it came from a page guestlink served
/// for this very request: stateless, so it works in an LMS frame where
/// cookies may be blocked.
fn confirm_value(tool: &Tool, request: &RegistrationRequest, expires: i64) -> String {
    let tag = tool.url_key.sign(&confirm_message(request, expires));
    format!("{expires}.{tag}")
}

fn confirm_holds(tool: &Tool, request: &RegistrationRequest, confirm: &str) -> bool {
    let Some((expires, tag)) = confirm.split_once('.') else {
        return false;
    };
    let Ok(expires) = expires.parse::<i64>() else {
        return false;
    };
    expires >= tool.clock.unix() && tool.url_key.verify(&confirm_message(request, expires), tag)
}

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
fn check_issuer(
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
struct Rules<'a> {
    outbound: &'a crate::outbound::Outbound,
    allowed: &'a [crate::outbound::HostPattern],
    timeout: Duration,
}

impl<'a> Rules<'a> {
    fn of(tool: &'a Tool) -> Rules<'a> {
        Rules {
            outbound: &tool.outbound,
            allowed: &tool.settings.registration_allowed_hosts,
            timeout: Duration::from_secs(tool.settings.registration_timeout_seconds),
        }
    }

    fn limits(&self) -> Limits {
        Limits::configuration(self.timeout)
    }

    /// On GUESTLINK_REGISTRATION_ALLOWED_HOSTS: accepted, and active at once.
    fn listed(&self, url: &Url) -> bool {
        listed(self.allowed, url)
    }

    /// https, or plain http to a loopback host the operator listed.
    fn secure_enough(&self, raw: &str) -> std::result::Result<(), String> {
        let url = Url::parse(raw.trim()).map_err(|_| format!("'{raw}' is not a URL"))?;
        if self.outbound.scheme_allowed(&url) {
            Ok(())
        } else {
            Err(format!("'{raw}' is not an https:// address"))
        }
    }

    /// The configuration URL the LMS sent: the admin's to fix when it fails.
    async fn configuration_target(&self, raw: &str) -> Result<Target> {
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
async fn fetch_configuration(
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

/// POSTs the registration; the Authorization header only when the LMS gave
/// a token (Brightspace refuses one it did not issue).
async fn send_registration(
    tool: &Tool,
    prepared: &Prepared,
    token: Option<&str>,
) -> Result<protocol::Assigned> {
    let rules = Rules::of(tool);
    let base = tool.settings.public_url.as_str();
    let domain = tool.settings.public_url.domain();
    let body = protocol::registration_request(
        &ToolUrls {
            base,
            domain: &domain,
        },
        &prepared.offer,
        prepared.style,
    );
    let answer = rules
        .outbound
        .post_json(
            &prepared.registration_endpoint,
            token.filter(|t| !t.is_empty()),
            &body,
            rules.limits(),
        )
        .await
        .map_err(|e| match e {
            FetchError::Timeout => RegistrationError::Timeout,
            FetchError::TooLarge(_) | FetchError::BrokenOff(_) => {
                RegistrationError::ResponseInvalid(e.to_string())
            }
            other => RegistrationError::Unreachable(other.to_string()),
        })?;
    if !answer.is_success() {
        tracing::info!(
            status = answer.status,
            issuer = %prepared.configuration.issuer,
            "a platform refused the dynamic registration"
        );
        return Err(RegistrationError::Refused {
            status: answer.status,
            reasons: protocol::refusal_reasons(&answer.body),
        });
    }
    protocol::assigned(&answer.body).map_err(RegistrationError::ResponseInvalid)
}

async fn store_platform(
    tool: &Tool,
    prepared: &Prepared,
    assigned: protocol::Assigned,
) -> Result<Registered> {
    let configuration = &prepared.configuration;
    // Named after where the platform really is: hosted Canvas's issuer is
    // the same for every school.
    let name = format!(
        "{} ({})",
        prepared.lms.display_name(),
        prepared.configuration_host
    );
    // The same rules as a platform added by hand; what fails them is the
    // platform's answer's fault.
    let mut new = NewPlatform::parse(
        &name,
        prepared.lms.as_str(),
        &configuration.issuer,
        &assigned.client_id,
        &configuration.authorization_endpoint,
        &configuration.jwks_uri,
        configuration.token_endpoint.as_deref(),
        &assigned.deployment_id.iter().cloned().collect::<Vec<_>>(),
        DeploymentsNeeded::MayComeLater,
    )
    .map_err(|(field, problem)| {
        RegistrationError::ResponseInvalid(format!("its {} {problem}", field.replace('-', "_")))
    })?;
    new.deployment_policy = DeploymentPolicy::RegisterOnFirstLaunch;
    new.pending = prepared.activation == Activation::Pending;
    new.registration_host = Some(prepared.configuration_host.clone());
    let issuer = new.issuer.clone();
    let now = tool.clock.unix();
    let inserted = tool
        .db
        .write(move |conn| {
            Ok(platforms::insert_within(
                conn,
                &new,
                now,
                Some(platforms::PendingCaps {
                    total: MOST_PENDING,
                    per_host: MOST_PENDING_PER_HOST,
                }),
            ))
        })
        .await?;
    let platform_id = match inserted {
        Ok(Some(id)) => id,
        // Others registered while this one was sent: the caps hold anyway.
        Ok(None) => return Err(RegistrationError::TooManyPending),
        Err(StoreError::Conflict(_)) => {
            return Err(RegistrationError::Conflict {
                issuer,
                client_id: assigned.client_id,
            });
        }
        Err(other) => return Err(other.into()),
    };
    tool.registrations.forget_all();
    tracing::info!(
        platform_id = platform_id.0,
        lms = %prepared.lms,
        %issuer,
        pending = prepared.activation == Activation::Pending,
        "a platform registered itself (LTI Dynamic Registration)"
    );
    Ok(Registered {
        platform_id,
        name,
        lms: prepared.lms,
        activation: prepared.activation,
        client_id: assigned.client_id,
        deployment_id: assigned.deployment_id,
    })
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
