//! Signing in to the console (a one-time link, or the admin token) and out.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{ADMIN_COOKIE, AdminForm, Denied, NoFields, failed, page_error, see_other};
use crate::service::failure::Kind;
use crate::service::{Tool, admin};
use crate::web::middleware::client_ip;
use crate::web::render::{ASSET_VERSION, html};

/// Sign-in attempts per minute per client address.
const SIGN_INS_PER_MINUTE: u32 = 10;

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
pub async fn page(tool: web::Data<Tool>, query: web::Query<LoginQuery>) -> HttpResponse {
    let token = query
        .token
        .as_deref()
        .filter(|t| !t.is_empty() && t.len() <= 200);
    html(
        StatusCode::OK,
        &LoginPage {
            version: ASSET_VERSION,
            login_token: token,
            admin_token_enabled: tool.settings.admin.token.is_some(),
            error: None,
        },
    )
}

#[derive(Deserialize)]
pub struct SignInForm {
    login_token: Option<String>,
    admin_token: Option<String>,
}

pub async fn sign_in(
    tool: web::Data<Tool>,
    req: HttpRequest,
    form: web::Form<SignInForm>,
) -> Result<HttpResponse, Denied> {
    let client = client_ip(&req);
    if !tool
        .admin_login_limiter
        .allow_client(client, tool.clock.now(), SIGN_INS_PER_MINUTE)
    {
        return Err(Denied::Page(page_error(
            Kind::TooMany,
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
    .map_err(failed(&tool))?;
    let Some(session) = session else {
        tracing::info!(client = ?client, "admin sign-in refused");
        let mut page = page_error(
            Kind::Unauthenticated,
            "admin_login_invalid",
            "This sign-in did not work",
            "The sign-in link is unknown, was used already or has expired (links work once, for 10 minutes), or the admin token is wrong. Run `guestlink admin login-link` on the server for a new link.",
        );
        page.hint = None;
        return Err(Denied::Page(page));
    };
    tracing::info!(client = ?client, "admin signed in");
    let secure = if tool.settings.server.public_url.is_https() {
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
                admin::SESSION_LIFETIME.whole_seconds()
            ),
        ))
        .finish())
}

pub async fn sign_out(
    tool: web::Data<Tool>,
    form: AdminForm<NoFields>,
) -> Result<HttpResponse, Denied> {
    admin::sign_out(&tool, &form.session.token)
        .await
        .map_err(failed(&tool))?;
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
