//! Finding the launch session of a request.
//!
//! Inside an LMS iframe the session cookie is often blocked, so a token can
//! arrive three ways: `Authorization: Bearer` (the page's scripts, from the
//! `guestlink-session` meta tag), a `session` query parameter (plain links
//! and forms inside the tool), or the cookie. An explicit token wins over the
//! cookie, so two courses open in two tabs never swap sessions.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, web};

use super::cookies::SESSION_COOKIE;
use super::error::{ApiError, PageError};
use crate::domain::session::LaunchSession;
use crate::service::{Tool, sessions};

/// The session of a page request, with the token that found it (pages put it
/// into their links and meta tag).
pub struct PageSession {
    pub session: LaunchSession,
    pub token: String,
}

/// The session of an API request: Bearer only, so a cross-site form can never
/// act through the cookie.
pub struct ApiSession {
    pub session: LaunchSession,
}

pub fn bearer_token(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

fn query_token(req: &HttpRequest) -> Option<String> {
    web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .ok()?
        .into_inner()
        .into_iter()
        .find(|(k, _)| k == "session")
        .map(|(_, v)| v)
}

pub fn cookie_token(req: &HttpRequest) -> Option<String> {
    req.cookie(SESSION_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|t| !t.is_empty())
}

fn page_token(req: &HttpRequest) -> Option<String> {
    bearer_token(req)
        .or_else(|| query_token(req))
        .or_else(|| cookie_token(req))
        .filter(|t| !t.is_empty())
}

impl FromRequest for PageSession {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let tool = req.app_data::<web::Data<Tool>>().cloned();
        let token = page_token(req);
        Box::pin(async move {
            let tool = tool.ok_or_else(PageError::internal)?;
            let token = token.ok_or_else(PageError::session_required)?;
            let base = tool.settings.public_url.as_str().to_string();
            match sessions::find(&tool, &token)
                .await
                .map_err(|e| PageError::from_service(e, &base))?
            {
                Some(session) => Ok(PageSession { session, token }),
                None => Err(PageError::session_required()),
            }
        })
    }
}

impl FromRequest for ApiSession {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let tool = req.app_data::<web::Data<Tool>>().cloned();
        let token = bearer_token(req);
        Box::pin(async move {
            let tool = tool.ok_or_else(ApiError::unauthorized)?;
            let token = token.ok_or_else(ApiError::unauthorized)?;
            match sessions::find(&tool, &token)
                .await
                .map_err(ApiError::from_service)?
            {
                Some(session) => Ok(ApiSession { session }),
                None => Err(ApiError::unauthorized()),
            }
        })
    }
}
