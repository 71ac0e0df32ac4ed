//! Cookies for a tool that lives in an LMS iframe.
//!
//! Inside a third-party frame a cookie only comes back if it is
//! `SameSite=None; Secure`, and browsers that partition third-party storage
//! want `Partitioned` too. Written by hand because the cookie crate actix-web
//! 4 uses predates `Partitioned`. Browsers accept `Secure` cookies from
//! http://localhost and http://127.0.0.1, so the demo works without TLS.

use actix_web::HttpRequest;

use crate::domain::time::Duration;

pub const SESSION_COOKIE: &str = "guestlink_session";
const STATE_COOKIE_PREFIX: &str = "guestlink_state_";

/// The cookie that binds a login's state to the browser that started it.
pub fn state_cookie(state: &str, binding: &str, max_age: Duration) -> String {
    let max_age_seconds = max_age.whole_seconds();
    format!(
        "{STATE_COOKIE_PREFIX}{state}={binding}; Path=/lti/; Max-Age={max_age_seconds}; HttpOnly; Secure; SameSite=None; Partitioned"
    )
}

/// Removes the state cookie once the launch used it.
pub fn expired_state_cookie(state: &str) -> String {
    format!(
        "{STATE_COOKIE_PREFIX}{state}=; Path=/lti/; Max-Age=0; HttpOnly; Secure; SameSite=None; Partitioned"
    )
}

pub fn session_cookie(token: &str) -> String {
    format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; Secure; SameSite=None; Partitioned")
}

/// The browser binding the state cookie holds for `state`, if it came back.
pub fn state_binding(req: &HttpRequest, state: &str) -> Option<String> {
    if state.is_empty() || state.len() > 100 {
        return None;
    }
    req.cookie(&format!("{STATE_COOKIE_PREFIX}{state}"))
        .map(|c| c.value().to_string())
}

/// A guest's session, for the one link that admitted them (first-party: the
/// guest opens the link in their own tab, so Lax is enough and safer).
pub const GUEST_COOKIE: &str = "guestlink_guest";
/// The browser half of the guest entry form's CSRF token.
pub const GUEST_CSRF_COOKIE: &str = "guestlink_guest_csrf";

fn secure(https: bool) -> &'static str {
    if https { "; Secure" } else { "" }
}

pub fn guest_cookie(link_token: &str, session: &str, max_age: Duration, https: bool) -> String {
    let max_age_seconds = max_age.whole_seconds();
    format!(
        "{GUEST_COOKIE}={session}; Path=/g/{link_token}; Max-Age={max_age_seconds}; HttpOnly; SameSite=Lax{}",
        secure(https)
    )
}

pub fn guest_csrf_cookie(value: &str, https: bool) -> String {
    format!(
        "{GUEST_CSRF_COOKIE}={value}; Path=/g/; HttpOnly; SameSite=Lax{}",
        secure(https)
    )
}
