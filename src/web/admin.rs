//! The admin console (`/admin`), for guestlink's own administrators: sign-in
//! by one-time link or admin token, platforms (add, edit, modules,
//! deployment policy, deployments, activate, remove), the registration URL
//! and guides, tool keys, and launch diagnostics.
//!
//! Every page needs an admin session (cookie `guestlink_admin`, Path=/admin,
//! SameSite=Strict); every POST also a CSRF token derived from it. Pages
//! cannot be framed.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError, web};
use askama::Template;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::error::PageError;
use super::markdown;
use super::middleware::ClientAddr;
use super::render::{ASSET_VERSION, capitalised, html, long_date, rfc3339};
use crate::domain::ids::PlatformId;
use crate::domain::platform::{DeploymentPolicy, Lms, Modules, NewPlatform, Platform};
use crate::service::platforms::{Activation, Removal};
use crate::service::{ServiceError, Tool, admin, keys, platforms as platform_service};
use crate::store::launch_attempts::{self, Attempt, Scope};
use crate::store::platforms::{self as platform_store, DeploymentRow, Details};

pub const ADMIN_COOKIE: &str = "guestlink_admin";
/// Sign-in attempts per minute per client address.
const SIGN_INS_PER_MINUTE: u32 = 10;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/admin")
            .app_data(
                web::FormConfig::default()
                    .limit(64 * 1024)
                    .error_handler(|_, _| PageError::bad_request().into()),
            )
            .wrap(actix_web::middleware::from_fn(no_framing))
            .route("", web::get().to(platforms_page))
            .route("/", web::get().to(platforms_page))
            .route("/login", web::get().to(login_page))
            .route("/login", web::post().to(sign_in))
            .route("/logout", web::post().to(sign_out))
            .route("/platforms/new", web::get().to(new_platform_page))
            .route("/platforms", web::post().to(add_platform))
            .route("/platforms/{id}", web::get().to(platform_page))
            .route("/platforms/{id}", web::post().to(edit_platform))
            .route("/platforms/{id}/modules", web::post().to(set_modules))
            .route(
                "/platforms/{id}/deployment-policy",
                web::post().to(set_deployment_policy),
            )
            .route(
                "/platforms/{id}/deployments",
                web::post().to(add_deployment),
            )
            .route("/platforms/{id}/activate", web::post().to(activate))
            .route("/platforms/{id}/remove", web::post().to(remove))
            .route("/register", web::get().to(register_page))
            .route("/guides/{lms}", web::get().to(guide_page))
            .route("/keys", web::get().to(keys_page))
            .route("/keys/rotate", web::post().to(rotate_keys))
            .route("/diagnostics", web::get().to(diagnostics_page))
            .default_service(web::to(not_found)),
    );
}

/// The console is never shown inside another site's frame (clickjacking).
async fn no_framing(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let mut response = next.call(req).await?;
    let headers = response.headers_mut();
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    Ok(response)
}

async fn not_found(session: AdminSession) -> Result<HttpResponse, PageError> {
    let _ = session;
    Err(PageError::not_found())
}

// ---- Sessions, CSRF and errors ------------------------------------------

/// A request from a signed-in administrator.
pub struct AdminSession {
    token: String,
    csrf: String,
}

/// Why an admin request was turned away.
#[derive(Debug)]
pub enum Denied {
    /// A page asked for without a session: to the sign-in page.
    SignIn,
    Page(PageError),
}

impl std::fmt::Display for Denied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Denied::SignIn => f.write_str("admin sign-in needed"),
            Denied::Page(page) => write!(f, "{page}"),
        }
    }
}

impl ResponseError for Denied {
    fn status_code(&self) -> StatusCode {
        match self {
            Denied::SignIn => StatusCode::SEE_OTHER,
            Denied::Page(page) => page.status,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Denied::SignIn => see_other("/admin/login"),
            Denied::Page(page) => page.error_response(),
        }
    }
}

impl From<PageError> for Denied {
    fn from(page: PageError) -> Self {
        Denied::Page(page)
    }
}

fn page_error(
    status: StatusCode,
    code: &'static str,
    title: &'static str,
    message: &str,
) -> PageError {
    PageError {
        status,
        code,
        title,
        message: message.into(),
        hint: None,
    }
}

fn session_required() -> PageError {
    page_error(
        StatusCode::UNAUTHORIZED,
        "admin_session_required",
        "Sign in to the admin console",
        "This needs an admin session. Run `guestlink admin login-link` on the server and open the link it prints.",
    )
}

fn csrf_refused() -> PageError {
    page_error(
        StatusCode::FORBIDDEN,
        "admin_csrf",
        "This form has expired",
        "The form did not carry this session's security token. Reload the page and try again.",
    )
}

fn service_error(err: ServiceError, base: &str) -> Denied {
    Denied::Page(PageError::from_service(err, base))
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

fn tool_of(req: &HttpRequest) -> web::Data<Tool> {
    req.app_data::<web::Data<Tool>>()
        .cloned()
        .expect("the tool is registered as app data")
}

async fn session_of(req: &HttpRequest) -> Result<AdminSession, Denied> {
    let tool = tool_of(req);
    let token = req
        .cookie(ADMIN_COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    let valid = admin::session_valid(&tool, &token)
        .await
        .map_err(|e| service_error(e, tool.settings.public_url.as_str()))?;
    if !valid {
        return Err(if req.method() == actix_web::http::Method::GET {
            Denied::SignIn
        } else {
            Denied::Page(session_required())
        });
    }
    Ok(AdminSession {
        csrf: admin::csrf_token(&tool, &token),
        token,
    })
}

impl FromRequest for AdminSession {
    type Error = Denied;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Denied>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { session_of(&req).await })
    }
}

/// A form POSTed by a signed-in administrator, its CSRF token checked. The
/// session is checked before the body is read.
pub struct AdminForm<T> {
    session: AdminSession,
    fields: T,
}

#[derive(Deserialize)]
struct Posted<T> {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    fields: T,
}

impl<T: DeserializeOwned + 'static> FromRequest for AdminForm<T> {
    type Error = Denied;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Denied>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let session = session_of(&req).await?;
            let posted = web::Form::<Posted<T>>::from_request(&req, &mut payload)
                .await
                .map_err(|_| Denied::Page(PageError::bad_request()))?
                .into_inner();
            let tool = tool_of(&req);
            if !admin::csrf_holds(&tool, &session.token, &posted.csrf) {
                return Err(Denied::Page(csrf_refused()));
            }
            Ok(AdminForm {
                session,
                fields: posted.fields,
            })
        })
    }
}

#[derive(Deserialize)]
struct NoFields {}

// ---- Sign-in ------------------------------------------------------------

#[derive(Template)]
#[template(path = "admin/login.html")]
struct LoginPage<'a> {
    version: &'a str,
    login_token: Option<&'a str>,
    admin_token_enabled: bool,
    error: Option<&'a str>,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    token: Option<String>,
}

/// Shows the sign-in form. A GET never uses a link up: mail and chat
/// scanners open links too.
async fn login_page(tool: web::Data<Tool>, query: web::Query<LoginQuery>) -> HttpResponse {
    let token = query
        .token
        .as_deref()
        .filter(|t| !t.is_empty() && t.len() <= 200);
    html(
        StatusCode::OK,
        &LoginPage {
            version: ASSET_VERSION,
            login_token: token,
            admin_token_enabled: tool.settings.admin_token.is_some(),
            error: None,
        },
    )
}

#[derive(Deserialize)]
pub struct SignInForm {
    login_token: Option<String>,
    admin_token: Option<String>,
}

async fn sign_in(
    tool: web::Data<Tool>,
    req: HttpRequest,
    form: web::Form<SignInForm>,
) -> Result<HttpResponse, Denied> {
    let base = tool.settings.public_url.as_str();
    let client = req.extensions().get::<ClientAddr>().map(|c| c.0);
    if let Some(ip) = client
        && !tool
            .admin_login_limiter
            .allow(ip, tool.clock.unix(), SIGN_INS_PER_MINUTE)
    {
        return Err(Denied::Page(page_error(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "Too many attempts",
            "Too many sign-in attempts from this address. Wait a minute and try again.",
        )));
    }
    let session = match (&form.login_token, &form.admin_token) {
        (Some(link), _) if !link.is_empty() => admin::sign_in_with_link(&tool, link).await,
        (_, Some(token)) if !token.is_empty() => {
            admin::sign_in_with_admin_token(&tool, token).await
        }
        _ => Ok(None),
    }
    .map_err(|e| service_error(e, base))?;
    let Some(session) = session else {
        tracing::info!(client = ?client, "admin sign-in refused");
        let mut page = page_error(
            StatusCode::UNAUTHORIZED,
            "admin_login_invalid",
            "This sign-in did not work",
            "The sign-in link is unknown, was used already or has expired (links work once, for 10 minutes), or the admin token is wrong. Run `guestlink admin login-link` on the server for a new link.",
        );
        page.hint = None;
        return Err(Denied::Page(page));
    };
    tracing::info!(client = ?client, "admin signed in");
    let secure = if tool.settings.public_url.is_https() {
        "; Secure"
    } else {
        ""
    };
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/admin"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::SET_COOKIE,
            format!(
                "{ADMIN_COOKIE}={session}; Path=/admin; Max-Age={}; HttpOnly; SameSite=Strict{secure}",
                admin::SESSION_HOURS * 3600
            ),
        ))
        .finish())
}

async fn sign_out(
    tool: web::Data<Tool>,
    form: AdminForm<NoFields>,
) -> Result<HttpResponse, Denied> {
    admin::sign_out(&tool, &form.session.token)
        .await
        .map_err(|e| service_error(e, tool.settings.public_url.as_str()))?;
    let mut response = see_other("/admin/login");
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&format!(
            "{ADMIN_COOKIE}=; Path=/admin; Max-Age=0; HttpOnly; SameSite=Strict"
        ))
        .expect("a valid header"),
    );
    Ok(response)
}

// ---- Platforms ----------------------------------------------------------

/// One platform as the list shows it.
struct PlatformRow {
    id: i64,
    name: String,
    lms: &'static str,
    issuer: String,
    client_id: String,
    deployments: String,
    policy: &'static str,
    pending: bool,
}

impl From<&Platform> for PlatformRow {
    fn from(p: &Platform) -> Self {
        PlatformRow {
            id: p.id.0,
            name: p.name.clone(),
            lms: p.lms.display_name(),
            issuer: p.issuer.clone(),
            client_id: p.client_id.clone(),
            deployments: p.deployment_ids.join(", "),
            policy: policy_label(p.deployment_policy),
            pending: p.pending,
        }
    }
}

fn policy_label(policy: DeploymentPolicy) -> &'static str {
    match policy {
        DeploymentPolicy::Strict => "Listed deployments only",
        DeploymentPolicy::RegisterOnFirstLaunch => "Record new deployments on first launch",
    }
}

#[derive(Template)]
#[template(path = "admin/platforms.html")]
struct PlatformsPage<'a> {
    version: &'a str,
    csrf: &'a str,
    section: &'a str,
    registration_url: String,
    platforms: Vec<PlatformRow>,
    pending: usize,
}

async fn platforms_page(
    tool: web::Data<Tool>,
    session: AdminSession,
) -> Result<HttpResponse, Denied> {
    let base = tool.settings.public_url.as_str();
    let list = tool
        .db
        .read(platform_store::list)
        .await
        .map_err(|e| service_error(e.into(), base))?;
    let rows: Vec<PlatformRow> = list.iter().map(PlatformRow::from).collect();
    Ok(html(
        StatusCode::OK,
        &PlatformsPage {
            version: ASSET_VERSION,
            csrf: &session.csrf,
            section: "platforms",
            registration_url: format!("{base}/lti/register"),
            pending: rows.iter().filter(|r| r.pending).count(),
            platforms: rows,
        },
    ))
}

/// The add form's values and its one error.
#[derive(Default, Deserialize)]
pub struct PlatformFields {
    #[serde(default)]
    name: String,
    #[serde(default)]
    lms: String,
    #[serde(default)]
    issuer: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    auth_url: String,
    #[serde(default)]
    jwks_url: String,
    #[serde(default)]
    token_url: String,
    #[serde(default)]
    deployment_ids: String,
}

#[derive(Template)]
#[template(path = "admin/platform_new.html")]
struct NewPlatformPage<'a> {
    version: &'a str,
    csrf: &'a str,
    section: &'a str,
    form: &'a PlatformFields,
    lms_options: Vec<(&'static str, &'static str)>,
    error_field: &'a str,
    error: &'a str,
}

fn lms_options() -> Vec<(&'static str, &'static str)> {
    Lms::ALL
        .iter()
        .map(|l| (l.as_str(), l.display_name()))
        .collect()
}

async fn new_platform_page(session: AdminSession) -> HttpResponse {
    html(
        StatusCode::OK,
        &NewPlatformPage {
            version: ASSET_VERSION,
            csrf: &session.csrf,
            section: "platforms",
            form: &PlatformFields::default(),
            lms_options: lms_options(),
            error_field: "",
            error: "",
        },
    )
}

/// The form's field names differ from the command line's flags only in
/// their separator.
fn form_field(cli_field: &str) -> &'static str {
    match cli_field {
        "name" => "name",
        "lms" => "lms",
        "issuer" => "issuer",
        "client-id" => "client_id",
        "auth-url" => "auth_url",
        "jwks-url" => "jwks_url",
        "token-url" => "token_url",
        _ => "deployment_ids",
    }
}

async fn add_platform(
    tool: web::Data<Tool>,
    form: AdminForm<PlatformFields>,
) -> Result<HttpResponse, Denied> {
    let fields = &form.fields;
    let again = |status: StatusCode, field: &str, error: &str| {
        html(
            status,
            &NewPlatformPage {
                version: ASSET_VERSION,
                csrf: &form.session.csrf,
                section: "platforms",
                form: fields,
                lms_options: lms_options(),
                error_field: field,
                error,
            },
        )
    };
    let deployments: Vec<String> = fields
        .deployment_ids
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    let token_url = Some(fields.token_url.trim()).filter(|t| !t.is_empty());
    let new = match NewPlatform::parse(
        &fields.name,
        &fields.lms,
        &fields.issuer,
        &fields.client_id,
        &fields.auth_url,
        &fields.jwks_url,
        token_url,
        &deployments,
    ) {
        Ok(new) => new,
        Err((field, problem)) => {
            return Ok(again(
                StatusCode::UNPROCESSABLE_ENTITY,
                form_field(field),
                &capitalised(&problem),
            ));
        }
    };
    let now = tool.clock.unix();
    let inserted = tool
        .db
        .write(move |conn| Ok(platform_store::insert(conn, &new, now)))
        .await
        .map_err(|e| service_error(e.into(), tool.settings.public_url.as_str()))?;
    match inserted {
        Ok(id) => {
            tool.registrations.forget_all();
            tracing::info!(platform_id = id.0, "platform added in the admin console");
            Ok(see_other(&format!("/admin/platforms/{}", id.0)))
        }
        Err(crate::store::StoreError::Conflict(_)) => Ok(again(
            StatusCode::CONFLICT,
            "client_id",
            "A platform with this issuer and client id is registered already.",
        )),
        Err(other) => Err(service_error(
            other.into(),
            tool.settings.public_url.as_str(),
        )),
    }
}

/// "2026-12-02 06:22:21" (UTC), for tables people scan.
fn readable_time(unix: i64) -> String {
    rfc3339(unix)
        .replacen('T', " ", 1)
        .trim_end_matches('Z')
        .to_string()
}

struct DeploymentView {
    id: String,
    added: String,
    added_by: String,
}

#[derive(Template)]
#[template(path = "admin/platform.html")]
struct PlatformPage<'a> {
    version: &'a str,
    csrf: &'a str,
    section: &'a str,
    p: &'a Platform,
    lms_name: &'a str,
    modules: Modules,
    policy: &'a str,
    deployments: Vec<DeploymentView>,
    error_field: &'a str,
    error: &'a str,
    form_name: &'a str,
    form_auth_url: &'a str,
    form_jwks_url: &'a str,
    form_token_url: &'a str,
}

async fn load_platform(tool: &Tool, id: i64) -> Result<(Platform, Vec<DeploymentRow>), Denied> {
    let base = tool.settings.public_url.as_str();
    let id = PlatformId(id);
    let found = tool
        .db
        .read(move |conn| {
            Ok(match platform_store::find(conn, id)? {
                Some(p) => Some((p, platform_store::deployments_of(conn, id)?)),
                None => None,
            })
        })
        .await
        .map_err(|e| service_error(e.into(), base))?;
    found.ok_or_else(|| Denied::Page(PageError::not_found()))
}

fn platform_view<'a>(
    session: &'a AdminSession,
    p: &'a Platform,
    deployments: &[DeploymentRow],
    edit: Option<(&'a EditFields, &'a str, &'a str)>,
) -> PlatformPage<'a> {
    let (form_name, form_auth_url, form_jwks_url, form_token_url, error_field, error) = match edit {
        Some((f, field, error)) => (
            f.name.as_str(),
            f.auth_url.as_str(),
            f.jwks_url.as_str(),
            f.token_url.as_str(),
            field,
            error,
        ),
        None => (
            p.name.as_str(),
            p.auth_url.as_str(),
            p.jwks_url.as_str(),
            p.token_url.as_deref().unwrap_or(""),
            "",
            "",
        ),
    };
    PlatformPage {
        version: ASSET_VERSION,
        csrf: &session.csrf,
        section: "platforms",
        p,
        lms_name: p.lms.display_name(),
        modules: p.modules,
        policy: p.deployment_policy.as_str(),
        deployments: deployments
            .iter()
            .map(|d| DeploymentView {
                id: d.deployment_id.clone(),
                added: long_date(d.created_at),
                added_by: d.added_by.clone(),
            })
            .collect(),
        error_field,
        error,
        form_name,
        form_auth_url,
        form_jwks_url,
        form_token_url,
    }
}

async fn platform_page(
    tool: web::Data<Tool>,
    session: AdminSession,
    path: web::Path<String>,
) -> Result<HttpResponse, Denied> {
    let id = platform_id(&path)?;
    let (platform, deployments) = load_platform(&tool, id).await?;
    Ok(html(
        StatusCode::OK,
        &platform_view(&session, &platform, &deployments, None),
    ))
}

fn platform_id(raw: &str) -> Result<i64, Denied> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| Denied::Page(PageError::not_found()))
}

#[derive(Deserialize)]
pub struct EditFields {
    #[serde(default)]
    name: String,
    #[serde(default)]
    auth_url: String,
    #[serde(default)]
    jwks_url: String,
    #[serde(default)]
    token_url: String,
}

async fn edit_platform(
    tool: web::Data<Tool>,
    path: web::Path<String>,
    form: AdminForm<EditFields>,
) -> Result<HttpResponse, Denied> {
    let id = platform_id(&path)?;
    let (platform, deployments) = load_platform(&tool, id).await?;
    let f = &form.fields;
    // The same rules as `platform add`, with the identity kept as it is.
    let token_url = Some(f.token_url.trim()).filter(|t| !t.is_empty());
    let checked = NewPlatform::parse(
        &f.name,
        platform.lms.as_str(),
        &platform.issuer,
        &platform.client_id,
        &f.auth_url,
        &f.jwks_url,
        token_url,
        &["unchanged".to_string()],
    );
    let checked = match checked {
        Ok(c) => c,
        Err((field, problem)) => {
            let problem = capitalised(&problem);
            return Ok(html(
                StatusCode::UNPROCESSABLE_ENTITY,
                &platform_view(
                    &form.session,
                    &platform,
                    &deployments,
                    Some((f, form_field(field), &problem)),
                ),
            ));
        }
    };
    let pid = PlatformId(id);
    tool.db
        .write(move |conn| {
            platform_store::update_details(
                conn,
                pid,
                &Details {
                    name: &checked.name,
                    auth_url: &checked.auth_url,
                    jwks_url: &checked.jwks_url,
                    token_url: checked.token_url.as_deref(),
                },
            )
        })
        .await
        .map_err(|e| service_error(e.into(), tool.settings.public_url.as_str()))?;
    changed(&tool, id, "details")
}

/// After a change: forget cached registrations, log it, back to the platform.
fn changed(tool: &Tool, id: i64, what: &'static str) -> Result<HttpResponse, Denied> {
    tool.registrations.forget_all();
    tracing::info!(
        platform_id = id,
        what,
        "platform changed in the admin console"
    );
    Ok(see_other(&format!("/admin/platforms/{id}")))
}

#[derive(Deserialize)]
pub struct ModuleFields {
    invite_to_media: Option<String>,
    media_page: Option<String>,
}

async fn set_modules(
    tool: web::Data<Tool>,
    path: web::Path<String>,
    form: AdminForm<ModuleFields>,
) -> Result<HttpResponse, Denied> {
    let id = platform_id(&path)?;
    // An unticked checkbox is not sent: absent means off.
    let modules = Modules {
        invite_to_media: form.fields.invite_to_media.is_some(),
        media_page: form.fields.media_page.is_some(),
    };
    let found = tool
        .db
        .write(move |conn| platform_store::set_modules(conn, PlatformId(id), modules))
        .await
        .map_err(|e| service_error(e.into(), tool.settings.public_url.as_str()))?;
    if !found {
        return Err(Denied::Page(PageError::not_found()));
    }
    changed(&tool, id, "modules")
}

#[derive(Deserialize)]
pub struct PolicyFields {
    #[serde(default)]
    policy: String,
}

async fn set_deployment_policy(
    tool: web::Data<Tool>,
    path: web::Path<String>,
    form: AdminForm<PolicyFields>,
) -> Result<HttpResponse, Denied> {
    let id = platform_id(&path)?;
    let policy = form.fields.policy.clone();
    tool.db
        .write(move |conn| {
            Ok(platform_service::set_deployment_policy(
                conn,
                PlatformId(id),
                &policy,
            ))
        })
        .await
        .map_err(|e| service_error(e.into(), tool.settings.public_url.as_str()))?
        .map_err(|e| service_error(e, tool.settings.public_url.as_str()))?;
    changed(&tool, id, "deployment policy")
}

#[derive(Deserialize)]
pub struct DeploymentFields {
    #[serde(default)]
    deployment_id: String,
}

async fn add_deployment(
    tool: web::Data<Tool>,
    path: web::Path<String>,
    form: AdminForm<DeploymentFields>,
) -> Result<HttpResponse, Denied> {
    let id = platform_id(&path)?;
    let deployment = vec![form.fields.deployment_id.clone()];
    let now = tool.clock.unix();
    tool.db
        .write(move |conn| {
            Ok(platform_service::add_deployments(
                conn,
                PlatformId(id),
                &deployment,
                now,
            ))
        })
        .await
        .map_err(|e| service_error(e.into(), tool.settings.public_url.as_str()))?
        .map_err(|e| service_error(e, tool.settings.public_url.as_str()))?;
    changed(&tool, id, "deployment added")
}

async fn activate(
    tool: web::Data<Tool>,
    path: web::Path<String>,
    form: AdminForm<NoFields>,
) -> Result<HttpResponse, Denied> {
    let _ = form;
    let id = platform_id(&path)?;
    let done = tool
        .db
        .write(move |conn| Ok(platform_service::activate(conn, PlatformId(id))))
        .await
        .map_err(|e| service_error(e.into(), tool.settings.public_url.as_str()))?
        .map_err(|e| service_error(e, tool.settings.public_url.as_str()))?;
    if done == Activation::Activated {
        tracing::info!(platform_id = id, "platform activated in the admin console");
    }
    changed(&tool, id, "activated")
}

#[derive(Deserialize)]
pub struct RemoveFields {
    force: Option<String>,
}

async fn remove(
    tool: web::Data<Tool>,
    path: web::Path<String>,
    form: AdminForm<RemoveFields>,
) -> Result<HttpResponse, Denied> {
    let id = platform_id(&path)?;
    let force = form.fields.force.is_some();
    let data_dir = tool.settings.data_dir.clone();
    let now = tool.clock.unix();
    let base = tool.settings.public_url.as_str();
    let removal = tool
        .db
        .write(move |conn| {
            Ok(platform_service::remove(
                conn,
                &data_dir,
                PlatformId(id),
                force,
                now,
            ))
        })
        .await
        .map_err(|e| service_error(e.into(), base))?
        .map_err(|e| service_error(e, base))?;
    match removal {
        Removal::Removed { media_deleted } => {
            tool.registrations.forget_all();
            tracing::info!(
                platform_id = id,
                media_deleted,
                "platform removed in the admin console"
            );
            Ok(see_other("/admin"))
        }
        Removal::HoldsMedia(count) => Err(Denied::Page(page_error(
            StatusCode::CONFLICT,
            "platform_holds_media",
            "This platform's courses hold media",
            &format!(
                "Platform {id} holds {count} media item(s). Tick “Also delete its media” to remove them with it."
            ),
        ))),
        Removal::NotFound => Err(Denied::Page(PageError::not_found())),
    }
}

// ---- Registration and guides -----------------------------------------------

/// The per-LMS guides of `lti-config/`, compiled in.
const GUIDES: [(&str, &str); 4] = [
    ("moodle", include_str!("../../lti-config/moodle.md")),
    ("canvas", include_str!("../../lti-config/canvas.md")),
    ("sakai", include_str!("../../lti-config/sakai.md")),
    (
        "brightspace",
        include_str!("../../lti-config/brightspace.md"),
    ),
];

#[derive(Template)]
#[template(path = "admin/register.html")]
struct RegisterPage<'a> {
    version: &'a str,
    csrf: &'a str,
    section: &'a str,
    base: &'a str,
    allowed_hosts: String,
    guides: Vec<(&'static str, &'static str)>,
}

fn guide_links() -> Vec<(&'static str, &'static str)> {
    GUIDES
        .iter()
        .map(|(lms, _)| {
            let name = lms.parse::<Lms>().map(Lms::display_name).unwrap_or("LMS");
            (*lms, name)
        })
        .collect()
}

async fn register_page(tool: web::Data<Tool>, session: AdminSession) -> HttpResponse {
    html(
        StatusCode::OK,
        &RegisterPage {
            version: ASSET_VERSION,
            csrf: &session.csrf,
            section: "register",
            base: tool.settings.public_url.as_str(),
            allowed_hosts: tool.settings.registration_allowed_hosts.join(", "),
            guides: guide_links(),
        },
    )
}

#[derive(Template)]
#[template(path = "admin/guide.html")]
struct GuidePage<'a> {
    version: &'a str,
    csrf: &'a str,
    section: &'a str,
    lms_name: &'a str,
    body: String,
}

async fn guide_page(
    tool: web::Data<Tool>,
    session: AdminSession,
    path: web::Path<String>,
) -> Result<HttpResponse, Denied> {
    let wanted = path.into_inner();
    let (lms, text) = GUIDES
        .iter()
        .find(|(lms, _)| *lms == wanted)
        .ok_or_else(|| Denied::Page(PageError::not_found()))?;
    let base = tool.settings.public_url.as_str();
    // {base} is replaced after rendering, with the URL escaped.
    // The page has its own title: the guide's first heading is left out.
    let text = match text.split_once('\n') {
        Some((first, rest)) if first.starts_with("# ") => rest,
        _ => text,
    };
    let body = markdown::to_html(text).replace("{base}", &markdown::escape(base));
    let lms_name = lms.parse::<Lms>().map(Lms::display_name).unwrap_or("LMS");
    Ok(html(
        StatusCode::OK,
        &GuidePage {
            version: ASSET_VERSION,
            csrf: &session.csrf,
            section: "register",
            lms_name,
            body,
        },
    ))
}

// ---- Keys -------------------------------------------------------------------

struct KeyView {
    kid: String,
    created: String,
    state: &'static str,
    retired: String,
}

#[derive(Template)]
#[template(path = "admin/keys.html")]
struct KeysPage<'a> {
    version: &'a str,
    csrf: &'a str,
    section: &'a str,
    keys: Vec<KeyView>,
    grace_days: i64,
}

async fn keys_page(tool: web::Data<Tool>, session: AdminSession) -> Result<HttpResponse, Denied> {
    let list = tool
        .db
        .read(crate::store::keys::summaries)
        .await
        .map_err(|e| service_error(e.into(), tool.settings.public_url.as_str()))?;
    let keys = list
        .into_iter()
        .map(|k| KeyView {
            kid: k.kid,
            created: readable_time(k.created_at),
            state: if k.retired_at.is_some() {
                "retired"
            } else {
                "current"
            },
            retired: k.retired_at.map(readable_time).unwrap_or_default(),
        })
        .collect();
    Ok(html(
        StatusCode::OK,
        &KeysPage {
            version: ASSET_VERSION,
            csrf: &session.csrf,
            section: "keys",
            keys,
            grace_days: tool.settings.key_grace_days,
        },
    ))
}

async fn rotate_keys(
    tool: web::Data<Tool>,
    form: AdminForm<NoFields>,
) -> Result<HttpResponse, Denied> {
    let _ = form;
    let now = tool.clock.unix();
    let grace = tool.settings.key_grace_days;
    let key = tool
        .db
        .write(move |conn| Ok(keys::rotate(conn, now, grace)))
        .await
        .map_err(|e| service_error(e.into(), tool.settings.public_url.as_str()))?
        .map_err(|e| service_error(e, tool.settings.public_url.as_str()))?;
    tracing::info!(kid = %key.kid, "tool key rotated in the admin console");
    Ok(see_other("/admin/keys"))
}

// ---- Diagnostics ------------------------------------------------------------

struct AttemptView {
    when: String,
    platform_id: Option<i64>,
    platform: String,
    issuer: String,
    client_id: String,
    deployment_id: String,
    stage: String,
    outcome: &'static str,
    code: String,
    reason: String,
    hint: String,
    claims: String,
}

#[derive(Template)]
#[template(path = "admin/diagnostics.html")]
struct DiagnosticsPage<'a> {
    version: &'a str,
    csrf: &'a str,
    section: &'a str,
    attempts: Vec<AttemptView>,
    filters: Vec<(String, String, bool)>,
    days: i64,
    keep: i64,
}

#[derive(Deserialize)]
pub struct DiagnosticsQuery {
    platform: Option<String>,
}

async fn diagnostics_page(
    tool: web::Data<Tool>,
    session: AdminSession,
    query: web::Query<DiagnosticsQuery>,
) -> Result<HttpResponse, Denied> {
    let base = tool.settings.public_url.as_str();
    let wanted = query.platform.as_deref().unwrap_or("");
    let scope = match wanted {
        "" => Scope::All,
        "unknown" => Scope::Unknown,
        id => Scope::Platform(PlatformId(platform_id(id)?)),
    };
    let limit = match scope {
        Scope::All => 200,
        _ => launch_attempts::KEEP_PER_PLATFORM,
    };
    let (attempts, platforms) = tool
        .db
        .read(move |conn| {
            Ok((
                launch_attempts::recent(conn, scope, limit)?,
                platform_store::list(conn)?,
            ))
        })
        .await
        .map_err(|e| service_error(e.into(), base))?;
    let name_of = |id: Option<i64>| match id {
        Some(id) => platforms
            .iter()
            .find(|p| p.id.0 == id)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| format!("platform {id}")),
        None => "Unknown issuer".to_string(),
    };
    let views = attempts
        .into_iter()
        .map(|a: Attempt| {
            let (reason, hint) = a
                .reason
                .as_deref()
                .map(|r| match r.split_once('\n') {
                    Some((reason, hint)) => (capitalised(reason), hint.to_string()),
                    None => (capitalised(r), String::new()),
                })
                .unwrap_or_default();
            AttemptView {
                when: readable_time(a.created_at),
                platform: name_of(a.platform_id),
                platform_id: a.platform_id,
                issuer: a.issuer,
                client_id: a.client_id.unwrap_or_default(),
                deployment_id: a.deployment_id.unwrap_or_default(),
                stage: a.stage,
                outcome: if a.error_code.is_some() {
                    "failed"
                } else {
                    "ok"
                },
                code: a.error_code.unwrap_or_default(),
                reason,
                hint,
                claims: a.claims.unwrap_or_default(),
            }
        })
        .collect();
    let mut filters = vec![(
        "".to_string(),
        "All platforms".to_string(),
        wanted.is_empty(),
    )];
    for p in &platforms {
        let id = p.id.0.to_string();
        let selected = wanted == id;
        filters.push((id, p.name.clone(), selected));
    }
    filters.push((
        "unknown".into(),
        "Unknown issuers".into(),
        wanted == "unknown",
    ));
    Ok(html(
        StatusCode::OK,
        &DiagnosticsPage {
            version: ASSET_VERSION,
            csrf: &session.csrf,
            section: "diagnostics",
            attempts: views,
            filters,
            days: tool.settings.diagnostics_days,
            keep: launch_attempts::KEEP_PER_PLATFORM,
        },
    ))
}
