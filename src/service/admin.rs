//! Who may use the admin console: a one-time sign-in link printed by
//! `guestlink admin login-link` (short-lived, used once) or the standing
//! admin token of the configuration; either opens an admin session. Every
//! form of the console carries a CSRF token derived from that session.

use super::Tool;
use super::failure::Fault;
use crate::crypto::{hash_secret, random_token};
use crate::domain::time::Duration;
use crate::store::admin;

/// How long a printed sign-in link works.
pub const LOGIN_LINK_LIFETIME: Duration = Duration::minutes(10);
/// How long an admin session lasts.
pub const SESSION_LIFETIME: Duration = Duration::hours(8);

/// 256 bits: admin secrets guard every registration.
fn admin_secret() -> String {
    random_token(32)
}

/// Makes a sign-in link and returns its URL (for the command line).
pub async fn create_login_link(tool: &Tool) -> Result<String, Fault> {
    let token = admin_secret();
    let hash = hash_secret(&token);
    let now = tool.clock.now();
    tool.db
        .write(move |conn| admin::insert_login_link(conn, &hash, now, now + LOGIN_LINK_LIFETIME))
        .await?;
    Ok(tool
        .settings
        .server
        .public_url
        .join(&format!("/admin/login?token={token}")))
}

/// Uses a sign-in link; the new session's token, or None when the link is
/// unknown, used or expired (one answer for all three).
pub async fn sign_in_with_link(tool: &Tool, link_token: &str) -> Result<Option<String>, Fault> {
    if link_token.is_empty() || link_token.len() > 200 {
        return Ok(None);
    }
    let session = admin_secret();
    let (link_hash, session_hash) = (hash_secret(link_token), hash_secret(&session));
    let now = tool.clock.now();
    let expires = now + SESSION_LIFETIME;
    let used = tool
        .db
        .write(move |conn| admin::use_login_link(conn, &link_hash, &session_hash, now, expires))
        .await?;
    Ok(used.then_some(session))
}

/// Signs in with the configured admin token; None if it is off or wrong.
pub async fn sign_in_with_admin_token(
    tool: &Tool,
    candidate: &str,
) -> Result<Option<String>, Fault> {
    let Some(expected) = tool.settings.admin.token.as_ref() else {
        return Ok(None);
    };
    if !expected.matches(candidate.trim()) {
        return Ok(None);
    }
    let session = admin_secret();
    let hash = hash_secret(&session);
    let now = tool.clock.now();
    tool.db
        .write(move |conn| admin::insert_session(conn, &hash, now, now + SESSION_LIFETIME))
        .await?;
    Ok(Some(session))
}

pub async fn session_valid(tool: &Tool, session: &str) -> Result<bool, Fault> {
    if session.is_empty() || session.len() > 200 {
        return Ok(false);
    }
    let hash = hash_secret(session);
    let now = tool.clock.now();
    Ok(tool
        .db
        .read(move |conn| admin::session_valid(conn, &hash, now))
        .await?)
}

pub async fn sign_out(tool: &Tool, session: &str) -> Result<(), Fault> {
    let hash = hash_secret(session);
    Ok(tool
        .db
        .write(move |conn| admin::end_session(conn, &hash))
        .await?)
}

/// The CSRF token of an admin session: a MAC of the session's hash, so it
/// needs no storage and dies with the session.
pub fn csrf_token(tool: &Tool, session: &str) -> String {
    tool.url_key
        .sign(&format!("admin-csrf\n{}", hash_secret(session)))
}

pub fn csrf_holds(tool: &Tool, session: &str, candidate: &str) -> bool {
    tool.url_key
        .verify(&format!("admin-csrf\n{}", hash_secret(session)), candidate)
}
