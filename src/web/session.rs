//! Finding the launch session of a request.
//!
//! Inside an LMS iframe the session cookie is often blocked, so a token can
//! arrive three ways: `Authorization: Bearer` (the page's scripts, from the
//! `guestlink-session` meta tag), the `session` field of a same-origin POST
//! (the tool's own links and the page that resumes a session after a Reload;
//! see `static/js/session.js`), or the cookie. An explicit token wins over the
//! cookie, so two courses open in two tabs never swap sessions. A token is
//! never read from a URL: addresses end up in history, copied links and logs.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, web};
use serde::Deserialize;

use super::cookies::SESSION_COOKIE;
use super::error::{ApiError, PageError};
use crate::domain::session::LaunchSession;
use crate::service::{Tool, sessions};

/// The session of a page request, with the token that found it (pages put it
/// into their meta tag).
pub struct PageSession {
    pub session: LaunchSession,
    pub token: String,
}

/// The session of an API request: Bearer only, so a cross-site form can never
/// act through the cookie.
pub struct ApiSession {
    pub session: LaunchSession,
    pub token: String,
}

pub fn bearer_token(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

pub fn cookie_token(req: &HttpRequest) -> Option<String> {
    req.cookie(SESSION_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|t| !t.is_empty())
}

/// Whether a POST comes from one of the tool's own pages. Browsers send
/// `Sec-Fetch-Site`; without it (older browsers) the `Origin` must be the
/// tool's. Tool pages have `Referrer-Policy: no-referrer`, under which a
/// browser sends `Origin: null`: that is refused too, which is why the check
/// reads `Sec-Fetch-Site` first.
pub fn is_same_origin_post(req: &HttpRequest, public_url: &str) -> bool {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    match header("sec-fetch-site") {
        Some(site) => site.eq_ignore_ascii_case("same-origin"),
        None => header("origin").is_some_and(|origin| origin == public_url),
    }
}

/// The body of a POST that opens a tool page.
#[derive(Deserialize)]
pub struct NavigationForm {
    #[serde(default)]
    session: String,
}

/// Navigation forms carry a token and a marker, nothing more.
const LARGEST_NAVIGATION_FORM: usize = 4 * 1024;

async fn read_navigation_form(mut payload: Payload) -> Result<NavigationForm, PageError> {
    use futures_util::StreamExt;
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| PageError::bad_request())?;
        if body.len() + chunk.len() > LARGEST_NAVIGATION_FORM {
            return Err(PageError::bad_request());
        }
        body.extend_from_slice(&chunk);
    }
    serde_urlencoded::from_bytes(&body).map_err(|_| PageError::bad_request())
}

/// The token a page request brought (before its session is looked up), and
/// how: a page whose reads go with the session's use it to read everything
/// in one trip to the database.
pub struct PageToken {
    pub token: String,
    posted: bool,
}

impl PageToken {
    /// The refusal when the token finds no live session: a posted token the
    /// tab kept is stale, and the tab should forget it.
    pub fn no_session(&self) -> PageError {
        if self.posted {
            PageError::session_ended()
        } else {
            PageError::session_required()
        }
    }
}

impl FromRequest for PageToken {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let tool = req.app_data::<web::Data<Tool>>().cloned();
        let req = req.clone();
        let form = (req.method() == Method::POST).then(|| payload.take());
        Box::pin(async move {
            let tool = tool.ok_or_else(PageError::internal)?;
            let base = tool.settings.server.public_url.as_str();
            let (token, posted) = match form {
                Some(payload) => {
                    if !is_same_origin_post(&req, base) {
                        return Err(PageError::cross_site());
                    }
                    (Some(read_navigation_form(payload).await?.session), true)
                }
                None => (bearer_token(&req).or_else(|| cookie_token(&req)), false),
            };
            let token = token
                .filter(|t| !t.is_empty())
                .ok_or_else(PageError::session_required)?;
            Ok(PageToken { token, posted })
        })
    }
}

impl FromRequest for PageSession {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let tool = req.app_data::<web::Data<Tool>>().cloned();
        let token = PageToken::from_request(req, payload);
        Box::pin(async move {
            let tool = tool.ok_or_else(PageError::internal)?;
            let page = token.await?;
            match sessions::find(&tool, &page.token)
                .await
                .map_err(|e| PageError::of(&e, tool.settings.server.public_url.as_str()))?
            {
                Some(session) => Ok(PageSession {
                    session,
                    token: page.token,
                }),
                None => Err(page.no_session()),
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
                .map_err(|e| ApiError::of(&e))?
            {
                Some(session) => Ok(ApiSession { session, token }),
                None => Err(ApiError::unauthorized()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn with(headers: &[(&str, &str)]) -> HttpRequest {
        headers
            .iter()
            .fold(TestRequest::post(), |req, (name, value)| {
                req.insert_header((name.to_string(), value.to_string()))
            })
            .to_http_request()
    }

    #[test]
    fn a_bearer_token_is_read_whatever_the_schemes_case() {
        for header in ["Bearer abc", "bearer abc", "BEARER   abc  "] {
            assert_eq!(
                bearer_token(&with(&[("authorization", header)])).as_deref(),
                Some("abc"),
                "{header:?}"
            );
        }
    }

    #[test]
    fn another_authorization_scheme_or_none_gives_no_bearer_token() {
        assert_eq!(
            bearer_token(&with(&[("authorization", "Basic YTpi")])),
            None
        );
        assert_eq!(bearer_token(&with(&[("authorization", "Bearer")])), None);
        assert_eq!(bearer_token(&with(&[])), None);
    }

    #[test]
    fn the_session_cookie_gives_its_token_unless_empty() {
        let req = with(&[("cookie", "other=1; guestlink_session=tok")]);
        assert_eq!(cookie_token(&req).as_deref(), Some("tok"));
        assert_eq!(
            cookie_token(&with(&[("cookie", "guestlink_session=")])),
            None
        );
        assert_eq!(cookie_token(&with(&[])), None);
    }

    #[test]
    fn a_post_the_browser_calls_same_origin_is_the_tools_own() {
        let req = with(&[("sec-fetch-site", "Same-Origin")]);
        assert!(is_same_origin_post(&req, "https://tool.example.edu"));
    }

    #[test]
    fn a_post_the_browser_calls_cross_or_same_site_is_refused_whatever_its_origin() {
        for site in ["cross-site", "same-site", "none"] {
            let req = with(&[
                ("sec-fetch-site", site),
                ("origin", "https://tool.example.edu"),
            ]);
            assert!(
                !is_same_origin_post(&req, "https://tool.example.edu"),
                "{site}"
            );
        }
    }

    #[test]
    fn without_fetch_metadata_the_origin_must_be_the_tools_exactly() {
        let base = "https://tool.example.edu";
        assert!(is_same_origin_post(&with(&[("origin", base)]), base));
        for origin in [
            "null",
            "https://tool.example.edu.evil.com",
            "http://tool.example.edu",
        ] {
            assert!(
                !is_same_origin_post(&with(&[("origin", origin)]), base),
                "{origin}"
            );
        }
        assert!(!is_same_origin_post(&with(&[]), base), "no header at all");
    }
}
