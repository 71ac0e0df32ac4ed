//! The admin console (`/admin`), for guestlink's own administrators: sign-in
//! by one-time link or admin token, platforms (add, edit, modules,
//! deployment policy, deployments, activate, remove), the registration URL
//! and guides, tool keys, and launch diagnostics.
//!
//! Every page needs an admin session (cookie `guestlink_admin`, Path=/admin,
//! SameSite=Strict); every POST also a CSRF token derived from it. Pages
//! cannot be framed.

mod diagnostics;
mod guides;
mod keys;
mod platforms;
mod sign_in;

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::error::PageError;
use super::render::rfc3339;
use crate::service::failure::Failure;
use crate::service::failure::Kind;
use crate::service::{Tool, admin};

pub const ADMIN_COOKIE: &str = "guestlink_admin";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/admin")
            .app_data(
                web::FormConfig::default()
                    .limit(64 * 1024)
                    .error_handler(|_, _| PageError::bad_request().into()),
            )
            .wrap(actix_web::middleware::from_fn(no_framing))
            .route("", web::get().to(platforms::list))
            .route("/", web::get().to(platforms::list))
            .route("/login", web::get().to(sign_in::page))
            .route("/login", web::post().to(sign_in::sign_in))
            .route("/logout", web::post().to(sign_in::sign_out))
            .route("/platforms/new", web::get().to(platforms::new_form))
            .route("/platforms", web::post().to(platforms::add))
            .route("/platforms/{id}", web::get().to(platforms::show))
            .route("/platforms/{id}", web::post().to(platforms::edit))
            .route(
                "/platforms/{id}/modules",
                web::post().to(platforms::set_modules),
            )
            .route(
                "/platforms/{id}/deployment-policy",
                web::post().to(platforms::set_deployment_policy),
            )
            .route(
                "/platforms/{id}/deployments",
                web::post().to(platforms::add_deployment),
            )
            .route(
                "/platforms/{id}/activate",
                web::post().to(platforms::activate),
            )
            .route("/platforms/{id}/remove", web::post().to(platforms::remove))
            .route("/register", web::get().to(guides::register_page))
            .route("/guides/{lms}", web::get().to(guides::guide))
            .route("/keys", web::get().to(keys::page))
            .route("/keys/rotate", web::post().to(keys::rotate))
            .route("/diagnostics", web::get().to(diagnostics::page))
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
            Denied::Page(page) => page.status(),
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

fn page_error(kind: Kind, code: &'static str, title: &'static str, message: &str) -> PageError {
    PageError::new(kind, code, title, message)
}

fn session_required() -> PageError {
    page_error(
        Kind::Unauthenticated,
        "admin_session_required",
        "Sign in to the admin console",
        "This needs an admin session. Run `guestlink admin login-link` on the server and open the link it prints.",
    )
}

fn csrf_refused() -> PageError {
    page_error(
        Kind::Forbidden,
        "admin_csrf",
        "This form has expired",
        "The form did not carry this session's security token. Reload the page and try again.",
    )
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
        .map_err(failed(&tool))?;
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

/// A form with nothing but its CSRF token (a button).
#[derive(Deserialize)]
struct NoFields {}

/// A platform id from the path; anything else is a page that does not exist.
fn platform_id(raw: &str) -> Result<crate::domain::ids::PlatformId, Denied> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .map(crate::domain::ids::PlatformId)
        .ok_or_else(|| Denied::Page(PageError::not_found()))
}

/// "2026-12-02 06:22:21" (UTC), for tables people scan.
fn readable_time(at: crate::domain::time::Timestamp) -> String {
    rfc3339(at)
        .replacen('T', " ", 1)
        .trim_end_matches('Z')
        .to_string()
}

/// A use case's refusal as the console shows it.
fn failed<E: Failure>(tool: &Tool) -> impl Fn(E) -> Denied + '_ {
    move |err| {
        Denied::Page(PageError::of(
            &err,
            tool.settings.server.public_url.as_str(),
        ))
    }
}
