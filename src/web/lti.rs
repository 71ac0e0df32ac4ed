//! The LTI endpoints: login initiation, launch, and the tool's JWKS.

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, LOCATION, SET_COOKIE};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::error::PageError;
use super::middleware::client_ip;
use super::render::{ASSET_VERSION, html};
use super::session::is_same_origin_post;
use super::{cookies, deep_linking, media_pages};
use crate::lti::LaunchError;
use crate::lti::launch::{LaunchInput, Launcher, ValidatedLaunch};
use crate::lti::login::LoginParams;
use crate::service::deep_linking::MEDIA_ID_PARAMETER;
use crate::service::failure::Kind;
use crate::service::launch::LaunchFailure;
use crate::service::{Tool, diagnostics, keys, launch, login};

/// Launch forms are small (Canvas' tokens with LTI 1.1 migration claims are
/// a few KB); anything near this limit is not a launch.
const LARGEST_LAUNCH_FORM: usize = 64 * 1024;

pub fn launch_form_config() -> web::FormConfig {
    web::FormConfig::default()
        .limit(LARGEST_LAUNCH_FORM)
        .error_handler(|err, _req| {
            let launch_error = match err {
                actix_web::error::UrlencodedError::Overflow { .. } => LaunchError::RequestTooLarge,
                actix_web::error::UrlencodedError::ContentType => LaunchError::MissingIdToken,
                _ => LaunchError::MalformedParameter("form"),
            };
            tracing::info!(reason = launch_error.code(), "launch form refused");
            PageError::of(&launch_error, "").into()
        })
}

pub async fn jwks(tool: web::Data<Tool>) -> Result<HttpResponse, PageError> {
    let set = keys::published_jwks(&tool)
        .await
        .map_err(|e| PageError::of(&e, ""))?;
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "public, max-age=300"))
        .json(set))
}

pub async fn login_get(
    tool: web::Data<Tool>,
    req: HttpRequest,
    query: web::Query<LoginParams>,
) -> Result<HttpResponse, PageError> {
    start_login(&tool, client_ip(&req), query.into_inner()).await
}

pub async fn login_post(
    tool: web::Data<Tool>,
    req: HttpRequest,
    form: web::Form<LoginParams>,
) -> Result<HttpResponse, PageError> {
    start_login(&tool, client_ip(&req), form.into_inner()).await
}

#[derive(Template)]
#[template(path = "pages/lti_storage_put.html")]
struct StoragePutPage<'a> {
    version: &'a str,
    target: &'a str,
    origin: &'a str,
    key: String,
    value: &'a str,
    next: &'a str,
}

async fn start_login(
    tool: &Tool,
    client: Option<std::net::IpAddr>,
    params: LoginParams,
) -> Result<HttpResponse, PageError> {
    let base = tool.settings.server.public_url.as_str();
    // Each login initiation writes a login state, and anyone may send one.
    if !tool.login_limiter.allow_client(
        client,
        tool.clock.now(),
        tool.settings.lti.login_rate_limit,
    ) {
        tracing::info!("login initiation rate-limited");
        return Err(PageError::rate_limited(
            "Too many sign-ins to guestlink came from your network in the last minute. Please wait a minute and open the tool again.",
        ));
    }
    let issuer = params.iss.clone().unwrap_or_default();
    let (client_id, deployment_id) = (params.client_id.clone(), params.lti_deployment_id.clone());
    let start = match login::start(tool, params).await {
        Ok(start) => start,
        Err(err) => {
            if let LaunchFailure::Refused(launch_error) = &err {
                diagnostics::login_refused(
                    tool,
                    client,
                    Some(&issuer),
                    client_id.as_deref(),
                    deployment_id.as_deref(),
                    launch_error,
                )
                .await;
            }
            return Err(refused(
                err,
                base,
                |reason| tracing::info!(%issuer, reason, "login initiation refused"),
            ));
        }
    };
    let cookie = cookies::state_cookie(&start.state, &start.binding, tool.settings.lti.login_state);
    match &start.storage_target {
        // The platform offers LTI platform storage: keep the binding there too,
        // for browsers that drop the cookie, then continue to the platform.
        Some(target) => {
            let page = StoragePutPage {
                version: ASSET_VERSION,
                target,
                origin: &start.platform_origin,
                key: storage_key(&start.state),
                value: &start.binding,
                next: &start.redirect_url,
            };
            let mut response = html(StatusCode::OK, &page);
            response
                .headers_mut()
                .append(SET_COOKIE, cookie.parse().expect("a valid header"));
            Ok(response)
        }
        None => Ok(HttpResponse::Found()
            .insert_header((LOCATION, start.redirect_url))
            .insert_header((SET_COOKIE, cookie))
            .insert_header((CACHE_CONTROL, "no-store"))
            .finish()),
    }
}

/// The error page for a failed login or launch; `log` records an LTI
/// refusal's reason code (other failures are logged where they are mapped).
fn refused(err: LaunchFailure, base: &str, log: impl FnOnce(&'static str)) -> PageError {
    if let LaunchFailure::Refused(launch_error) = &err {
        log(launch_error.code());
    }
    PageError::of(&err, base)
}

/// The platform-storage key under which a login's binding is kept.
fn storage_key(state: &str) -> String {
    format!("guestlink_state_{state}")
}

#[derive(Debug, Default, Deserialize)]
pub struct LaunchForm {
    #[serde(default)]
    id_token: String,
    #[serde(default)]
    state: String,
    lti_storage_target: Option<String>,
    /// The binding read back from platform storage by our own page.
    #[serde(default)]
    storage_binding: String,
    /// Set by that page, so a failed storage read ends in an error, not a loop.
    #[serde(default)]
    storage_checked: String,
}

#[derive(Template)]
#[template(path = "pages/lti_storage_get.html")]
struct StorageGetPage<'a> {
    version: &'a str,
    target: &'a str,
    origin: &'a str,
    key: String,
    id_token: &'a str,
    state: &'a str,
}

pub async fn launch(
    tool: web::Data<Tool>,
    req: HttpRequest,
    form: web::Form<LaunchForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    let base = tool.settings.server.public_url.as_str();
    let binding = match cookies::state_binding(&req, &form.state) {
        Some(binding) => binding,
        // A binding read from platform storage is only taken from the tool's
        // own storage page (a same-origin POST): posted by another site it
        // would sign this browser in to the launch of whoever made the form.
        None if !form.storage_binding.is_empty() => {
            if !is_same_origin_post(&req, base) {
                let err = LaunchError::CrossSiteStorageBinding;
                diagnostics::launch_refused(
                    &tool,
                    client_ip(&req),
                    &form.id_token,
                    &form.state,
                    &err,
                )
                .await;
                tracing::info!(reason = err.code(), "launch refused");
                return Err(PageError::of(&err, base));
            }
            form.storage_binding.clone()
        }
        None => String::new(),
    };

    if binding.is_empty()
        && form.storage_checked.is_empty()
        && let Some(target) = form.lti_storage_target.as_deref().filter(|t| !t.is_empty())
    {
        // The cookie did not come back, but the platform keeps storage for
        // us: read the binding from there and post the launch again.
        let origin = login::storage_origin(&tool, &form.state)
            .await
            .map_err(|e| PageError::of(&e, base))?;
        if let Some(origin) = origin {
            let page = StorageGetPage {
                version: ASSET_VERSION,
                target,
                origin: &origin,
                key: storage_key(&form.state),
                id_token: &form.id_token,
                state: &form.state,
            };
            return Ok(html(StatusCode::OK, &page));
        }
    }

    let input = LaunchInput {
        id_token: &form.id_token,
        state: &form.state,
        binding: &binding,
    };
    // Logged with the reason only: never the token, state or nonce.
    let launched = match launch::finish(&tool, input).await {
        Ok(launched) => launched,
        Err(err) => {
            if let LaunchFailure::Refused(launch_error) = &err {
                diagnostics::launch_refused(
                    &tool,
                    client_ip(&req),
                    &form.id_token,
                    &form.state,
                    launch_error,
                )
                .await;
            }
            let detail = match &err {
                LaunchFailure::Refused(e) => e.detail().map(str::to_string),
                LaunchFailure::Fault(_) => None,
            };
            return Err(refused(err, base, |reason| {
                tracing::info!(reason, detail, "launch refused")
            }));
        }
    };
    tracing::info!(
        platform_id = launched.session.platform_id.0,
        user_id = launched.session.user_id.map(|u| u.0),
        course_id = launched.session.course.as_ref().map(|c| c.id.0),
        kind = match launched.launch {
            ValidatedLaunch::ResourceLink { .. } => "resource_link",
            ValidatedLaunch::DeepLinking { .. } => "deep_linking",
        },
        "launch accepted"
    );
    let mut response = landing_page(&tool, &launched).await?;
    let headers = response.headers_mut();
    headers.append(
        SET_COOKIE,
        cookies::session_cookie(&launched.token)
            .parse()
            .expect("a valid header"),
    );
    headers.append(
        SET_COOKIE,
        cookies::expired_state_cookie(&form.state)
            .parse()
            .expect("a valid header"),
    );
    Ok(response)
}

/// Where a launch lands: the picker for a deep-linking request; for a link
/// made by deep linking, its media page; otherwise the library.
async fn landing_page(tool: &Tool, launched: &launch::Launched) -> Result<HttpResponse, PageError> {
    let (session, token) = (&launched.session, launched.token.as_str());
    let launcher = match &launched.launch {
        ValidatedLaunch::DeepLinking { .. } => {
            return deep_linking::render_picker(tool, session, token).await;
        }
        ValidatedLaunch::ResourceLink { launcher, .. } => launcher,
    };
    let Some(media_id) = linked_media(tool, launcher) else {
        return media_pages::render_library(tool, session, token, None).await;
    };
    match media_pages::render_media(tool, session, token, &media_id).await {
        // A link copied into another course (a course copy) or to deleted media.
        Err(page) if page.kind == Kind::NotFound => {
            media_pages::render_library(
                tool,
                session,
                token,
                Some(media_pages::NOTICE_MEDIA_NOT_IN_COURSE),
            )
            .await
        }
        other => other,
    }
}

/// The media a resource link points at: its custom parameter, else a target
/// link URI of the form `{base}/media/{id}`.
fn linked_media(tool: &Tool, launcher: &Launcher) -> Option<String> {
    if let Some(id) = launcher
        .custom
        .get(MEDIA_ID_PARAMETER)
        .and_then(|v| v.as_str())
        .filter(|v| !v.is_empty())
    {
        return Some(id.to_string());
    }
    let target = launcher.target_link_uri.as_deref()?;
    let prefix = tool.settings.server.public_url.join("/media/");
    let id = target.strip_prefix(&prefix)?;
    let id = id.split(['?', '#']).next().unwrap_or(id);
    (!id.is_empty() && !id.contains('/')).then(|| id.to_string())
}

/// A GET to the launch URL: someone opened it directly or reloaded a launch.
pub async fn launch_get(tool: web::Data<Tool>) -> Result<HttpResponse, PageError> {
    let mut page = PageError::of(
        &LaunchError::MissingIdToken,
        tool.settings.server.public_url.as_str(),
    );
    page.kind = Kind::WrongMethod;
    Err(page)
}
