//! The CSRF token of a room page's actions under a link (a guest's
//! `/g/{token}/…`, an invitee's `/i/{token}/room/…`): a MAC of the link and
//! the person's session, which the page sends back as `X-CSRF-Token`, so
//! only a page this tool gave that session can act.

use actix_web::HttpRequest;

use super::error::ApiError;
use crate::service::Tool;
use crate::service::failure::Kind;

/// Whose room page it is (each has tokens of its own).
#[derive(Clone, Copy)]
pub enum Holder {
    Guest,
    Invitee,
}

fn message(holder: Holder, link: &str, session_hash: &str) -> String {
    let whose = match holder {
        Holder::Guest => "guest-room",
        Holder::Invitee => "invitee-room",
    };
    format!("{whose}|{link}|{session_hash}")
}

/// The token the page carries.
pub fn token(tool: &Tool, holder: Holder, link: &str, session_hash: &str) -> String {
    tool.url_key.sign(&message(holder, link, session_hash))
}

/// Refuses (403 `csrf_failed`) a request without the page's token.
pub fn check(
    tool: &Tool,
    req: &HttpRequest,
    holder: Holder,
    link: &str,
    session_hash: &str,
) -> Result<(), ApiError> {
    let sent = req
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if tool
        .url_key
        .verify(&message(holder, link, session_hash), sent)
    {
        Ok(())
    } else {
        Err(ApiError::new(
            Kind::Forbidden,
            "csrf_failed",
            "This page has expired. Reload it and try again.",
        ))
    }
}
