//! `/lti/register`: LTI Dynamic Registration as the LMS admin sees it: a
//! page saying what will be registered, a Register button, and a last page
//! that tells the LMS to close its frame or tab.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::middleware::client_ip;
use super::render::{ASSET_VERSION, capitalised, html};
use crate::lti::registration::{CLAIMS, OfferedMessage};
use crate::service::Tool;
use crate::service::failure::Failure;
use crate::service::registration::{self, RegistrationError, RegistrationRequest};

#[derive(Debug, Default, Deserialize)]
pub struct RegisterParams {
    #[serde(default)]
    openid_configuration: String,
    registration_token: Option<String>,
    #[serde(default)]
    confirm: String,
}

impl RegisterParams {
    fn request(&self) -> Result<RegistrationRequest, RegistrationError> {
        let url = self.openid_configuration.trim();
        if url.is_empty() || url.len() > 4096 {
            return Err(RegistrationError::MissingConfiguration);
        }
        Ok(RegistrationRequest {
            configuration_url: url.to_string(),
            token: self
                .registration_token
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty() && t.len() <= 8192)
                .map(str::to_string),
        })
    }
}

/// The registration form is three short fields (a Canvas token is ~1 KB).
pub fn register_form_config() -> web::FormConfig {
    web::FormConfig::default()
        .limit(32 * 1024)
        .error_handler(|_, _| RegistrationPageError(RegistrationError::FormInvalid).into())
}

#[derive(Template)]
#[template(path = "pages/register_confirm.html")]
struct ConfirmPage<'a> {
    version: &'a str,
    base: &'a str,
    domain: String,
    lms: &'a str,
    lms_name: &'a str,
    version_text: Option<&'a str>,
    issuer: &'a str,
    auth_url: &'a str,
    jwks_url: &'a str,
    messages: &'a [OfferedMessage],
    claims: &'a [&'a str],
    activation: &'a str,
    configuration_url: &'a str,
    token: Option<&'a str>,
    confirm: &'a str,
}

#[derive(Template)]
#[template(path = "pages/register_done.html")]
struct DonePage<'a> {
    version: &'a str,
    platform_id: i64,
    name: &'a str,
    client_id: &'a str,
    deployment_id: Option<&'a str>,
    activation: &'a str,
    next_step: &'a str,
}

#[derive(Template)]
#[template(path = "pages/register_error.html")]
struct ErrorPage<'a> {
    version: &'a str,
    title: &'a str,
    code: &'a str,
    message: String,
    reasons: &'a [String],
    hint: String,
}

/// A registration that stopped, shown as a page with what to check.
#[derive(Debug)]
pub struct RegistrationPageError(RegistrationError);

impl std::fmt::Display for RegistrationPageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.code())
    }
}

impl actix_web::ResponseError for RegistrationPageError {
    fn status_code(&self) -> StatusCode {
        super::error::status_of(self.0.kind())
    }

    fn error_response(&self) -> HttpResponse {
        let err = &self.0;
        let message = match err {
            RegistrationError::Fault(fault) => super::error::told_and_logged(fault),
            other => {
                tracing::info!(reason = other.code(), "dynamic registration stopped");
                capitalised(&other.to_string())
            }
        };
        let page = ErrorPage {
            version: ASSET_VERSION,
            title: "guestlink could not be registered",
            code: err.code(),
            message,
            reasons: err.reasons(),
            hint: err.hint().unwrap_or_default(),
        };
        html(self.status_code(), &page)
    }
}

/// Registrations per client address and minute: each one makes guestlink
/// fetch a URL the request names.
const REGISTRATIONS_PER_MINUTE: u32 = 20;

fn within_limit(tool: &Tool, req: &HttpRequest) -> Result<(), RegistrationPageError> {
    if tool.registration_limiter.allow_client(
        client_ip(req),
        tool.clock.now(),
        REGISTRATIONS_PER_MINUTE,
    ) {
        Ok(())
    } else {
        Err(RegistrationPageError(RegistrationError::TooManyAttempts))
    }
}

pub async fn start(
    tool: web::Data<Tool>,
    req: HttpRequest,
    query: web::Query<RegisterParams>,
) -> Result<HttpResponse, RegistrationPageError> {
    within_limit(&tool, &req)?;
    let request = query.request().map_err(RegistrationPageError)?;
    let prepared = registration::prepare(&tool, &request)
        .await
        .map_err(RegistrationPageError)?;
    let base = tool.settings.server.public_url.as_str();
    let config = &prepared.configuration;
    let page = ConfirmPage {
        version: ASSET_VERSION,
        base,
        domain: tool.settings.server.public_url.domain(),
        lms: prepared.lms.as_str(),
        lms_name: prepared.lms.display_name(),
        version_text: config.version.as_deref(),
        issuer: &config.issuer,
        auth_url: &config.authorization_endpoint,
        jwks_url: &config.jwks_uri,
        messages: &prepared.offer.messages,
        claims: &CLAIMS,
        activation: prepared.activation.as_str(),
        configuration_url: &request.configuration_url,
        token: request.token.as_deref(),
        confirm: &prepared.confirm,
    };
    Ok(html(StatusCode::OK, &page))
}

pub async fn finish(
    tool: web::Data<Tool>,
    req: HttpRequest,
    form: web::Form<RegisterParams>,
) -> Result<HttpResponse, RegistrationPageError> {
    within_limit(&tool, &req)?;
    let request = form.request().map_err(RegistrationPageError)?;
    let registered = registration::register(&tool, &request, &form.confirm)
        .await
        .map_err(RegistrationPageError)?;
    let next_step = match registered.lms {
        crate::domain::platform::Lms::Moodle => {
            "In Moodle, the new tool is Pending under Manage tools: activate it there too."
        }
        crate::domain::platform::Lms::Canvas => {
            "In Canvas, turn the developer key ON, then add the app By Client ID in Settings > Apps."
        }
        crate::domain::platform::Lms::Brightspace => {
            "In Brightspace the registration starts disabled: enable it and create a deployment."
        }
        crate::domain::platform::Lms::Sakai => {
            "In Sakai, review the tool's settings (names, email, placements) and save."
        }
        crate::domain::platform::Lms::Generic => {
            "Finish the tool's set-up in your LMS (enable it, add it to a course)."
        }
    };
    let page = DonePage {
        version: ASSET_VERSION,
        platform_id: registered.platform_id.0,
        name: &registered.name,
        client_id: &registered.client_id,
        deployment_id: registered.deployment_id.as_deref(),
        activation: registered.activation.as_str(),
        next_step,
    };
    Ok(html(StatusCode::OK, &page))
}
