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

mod checks;
mod error;

use checks::{Rules, check_issuer, fetch_configuration};

use super::Tool;
use crate::config::host_and_port;
use crate::crypto::hash_secret;
use crate::domain::ids::PlatformId;
use crate::domain::platform::{
    DeploymentPolicy, DeploymentsNeeded, Lms, NewPlatform, PlatformFields,
};
use crate::domain::time::Duration;
use crate::domain::time::Timestamp;
use crate::lti::registration::{
    self as protocol, Offer, PlacementStyle, PlatformConfiguration, ToolUrls,
};
use crate::outbound::{FetchError, Target};
use crate::store::{StoreError, platforms, registration_tokens};

/// How long the confirmation page's form stays valid.
const CONFIRM_WITHIN: Duration = Duration::minutes(30);
/// Registrations waiting for activation at most: anyone may start one, so
/// without a ceiling the list could be flooded. One LMS host may hold only a
/// few of them, so one host cannot fill the list for everyone else.
const MOST_PENDING: i64 = 20;
const MOST_PENDING_PER_HOST: i64 = 3;
/// A registration nobody activated within this long is removed.
pub const PENDING_LIFETIME: Duration = Duration::days(7);

pub use error::RegistrationError;

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
        .is_some_and(|exp| exp < tool.clock.now().unix())
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
        confirm: confirm_value(tool, request, tool.clock.now() + CONFIRM_WITHIN),
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
    let now = tool.clock.now();
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

fn confirm_message(request: &RegistrationRequest, expires: Timestamp) -> String {
    format!(
        "register\n{}\n{}\n{}",
        request.configuration_url,
        request.token.as_deref().unwrap_or(""),
        expires.unix()
    )
}

/// The confirmation form's proof that it came from a page guestlink served
/// for this very request: stateless, so it works in an LMS frame where
/// cookies may be blocked.
fn confirm_value(tool: &Tool, request: &RegistrationRequest, expires: Timestamp) -> String {
    let tag = tool.url_key.sign(&confirm_message(request, expires));
    format!("{}.{tag}", expires.unix())
}

fn confirm_holds(tool: &Tool, request: &RegistrationRequest, confirm: &str) -> bool {
    let Some((expires, tag)) = confirm.split_once('.') else {
        return false;
    };
    let Ok(expires) = expires.parse::<i64>().map(Timestamp::from_unix) else {
        return false;
    };
    expires >= tool.clock.now() && tool.url_key.verify(&confirm_message(request, expires), tag)
}

/// POSTs the registration; the Authorization header only when the LMS gave
/// a token (Brightspace refuses one it did not issue).
async fn send_registration(
    tool: &Tool,
    prepared: &Prepared,
    token: Option<&str>,
) -> Result<protocol::Assigned> {
    let rules = Rules::of(tool);
    let base = tool.settings.server.public_url.as_str();
    let domain = tool.settings.server.public_url.domain();
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
    let deployment_ids: Vec<String> = assigned.deployment_id.iter().cloned().collect();
    let mut new = NewPlatform::parse(
        &PlatformFields {
            name: &name,
            lms: prepared.lms.as_str(),
            issuer: &configuration.issuer,
            client_id: &assigned.client_id,
            auth_url: &configuration.authorization_endpoint,
            jwks_url: &configuration.jwks_uri,
            token_url: configuration.token_endpoint.as_deref(),
            deployment_ids: &deployment_ids,
        },
        DeploymentsNeeded::MayComeLater,
    )
    .map_err(|e| RegistrationError::ResponseInvalid(format!("its {} {}", e.field, e.problem)))?;
    new.deployment_policy = DeploymentPolicy::RegisterOnFirstLaunch;
    new.pending = prepared.activation == Activation::Pending;
    new.registration_host = Some(prepared.configuration_host.clone());
    let issuer = new.issuer.clone();
    let now = tool.clock.now();
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
