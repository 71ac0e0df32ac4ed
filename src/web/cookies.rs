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

/// An invitee's session, on their invitation's own path only (first-party,
/// like a guest's).
pub const INVITEE_COOKIE: &str = "guestlink_invitee";
/// The browser half of the invitation form's CSRF token.
pub const INVITE_CSRF_COOKIE: &str = "guestlink_invite_csrf";

pub fn invitee_cookie(invite_token: &str, session: &str, max_age: Duration, https: bool) -> String {
    let max_age_seconds = max_age.whole_seconds().max(0);
    format!(
        "{INVITEE_COOKIE}={session}; Path=/i/{invite_token}/; Max-Age={max_age_seconds}; HttpOnly; SameSite=Lax{}",
        secure(https)
    )
}

pub fn invite_csrf_cookie(value: &str, https: bool) -> String {
    format!(
        "{INVITE_CSRF_COOKIE}={value}; Path=/i/; HttpOnly; SameSite=Lax{}",
        secure(https)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn attributes(cookie: &str) -> Vec<&str> {
        cookie.split("; ").skip(1).collect()
    }

    #[test]
    fn the_session_cookie_comes_back_inside_an_lms_frame_and_lasts_the_browser_session() {
        let cookie = session_cookie("tok");
        assert!(cookie.starts_with("guestlink_session=tok; "));
        assert_eq!(
            attributes(&cookie),
            [
                "Path=/",
                "HttpOnly",
                "Secure",
                "SameSite=None",
                "Partitioned"
            ]
        );
    }

    #[test]
    fn the_state_cookie_is_named_by_its_state_and_only_sent_to_lti_paths() {
        let cookie = state_cookie("st1", "bind", Duration::minutes(10));
        assert!(cookie.starts_with("guestlink_state_st1=bind; "));
        assert_eq!(
            attributes(&cookie),
            [
                "Path=/lti/",
                "Max-Age=600",
                "HttpOnly",
                "Secure",
                "SameSite=None",
                "Partitioned"
            ]
        );
    }

    #[test]
    fn a_used_state_cookie_is_removed_where_it_was_set() {
        let cookie = expired_state_cookie("st1");
        assert!(cookie.starts_with("guestlink_state_st1=; "));
        assert!(cookie.contains("; Path=/lti/;"));
        assert!(cookie.contains("; Max-Age=0;"));
        assert!(cookie.ends_with("SameSite=None; Partitioned"));
    }

    #[test]
    fn a_guests_cookie_is_first_party_lax_and_only_for_its_link() {
        let cookie = guest_cookie("LINK", "sess", Duration::hours(12), true);
        assert!(cookie.starts_with("guestlink_guest=sess; "));
        assert_eq!(
            attributes(&cookie),
            [
                "Path=/g/LINK",
                "Max-Age=43200",
                "HttpOnly",
                "SameSite=Lax",
                "Secure"
            ]
        );
        assert!(!cookie.contains("Partitioned"));
    }

    #[test]
    fn guest_cookies_are_secure_only_when_the_tool_is_served_over_https() {
        assert!(!guest_cookie("L", "s", Duration::hours(1), false).contains("Secure"));
        assert!(!guest_csrf_cookie("v", false).contains("Secure"));
        assert!(guest_csrf_cookie("v", true).ends_with("; Secure"));
    }

    #[test]
    fn the_guest_forms_csrf_cookie_covers_every_guest_link_path() {
        assert_eq!(
            guest_csrf_cookie("v1", true),
            "guestlink_guest_csrf=v1; Path=/g/; HttpOnly; SameSite=Lax; Secure"
        );
    }

    #[test]
    fn a_state_binding_is_read_from_the_cookie_of_that_state() {
        let req = TestRequest::default()
            .insert_header(("cookie", "guestlink_state_s1=b1; guestlink_state_s2=b2"))
            .to_http_request();
        assert_eq!(state_binding(&req, "s2").as_deref(), Some("b2"));
        assert_eq!(state_binding(&req, "s3"), None);
    }

    #[test]
    fn an_empty_or_overlong_state_has_no_binding() {
        let long = "s".repeat(101);
        let req = TestRequest::default()
            .insert_header((
                "cookie",
                format!("guestlink_state_={}; guestlink_state_{long}=b", "x"),
            ))
            .to_http_request();
        assert_eq!(state_binding(&req, ""), None);
        assert_eq!(state_binding(&req, &long), None);
    }
}
