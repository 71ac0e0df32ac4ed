//! The invitee's way in (`/i/{token}`, "Invite links" in README.md): the
//! invitation page, which spends nothing (mail scanners open links); the
//! address confirmation, which binds the invitation to this browser; the
//! item or room at `/i/{token}/view`; and the room's actions under
//! `/i/{token}/room/...` (see `room_api::RoomCaller`).
//!
//! An invitee carries a first-party cookie on the invitation's own path,
//! holding the token of a session that opens this one item only.

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, SET_COOKIE};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::cookies::{INVITE_CSRF_COOKIE, INVITEE_COOKIE, invite_csrf_cookie, invitee_cookie};
use super::error::{ApiError, PageError};
use super::guest::{entry_allowed, see_other, see_other_setting, unavailable};
use super::media_pages::{Player, RoomPanel, player_for, room_panel_for};
use super::render::{ASSET_VERSION, html, rfc3339};
use super::room_csrf::{self, Holder};
use crate::crypto::{is_token_shaped, random_token};
use crate::domain::media::Media;
use crate::domain::session::LaunchSession;
use crate::service::Tool;
use crate::service::failure::Kind;
use crate::service::invites::{
    self, BrowserCookies, Invitation, Invitee, InviteePage, NotConfirmed, long_time,
};
use crate::service::media_files::{self, GrantQuery};
use crate::service::rooms;

#[derive(Template)]
#[template(path = "pages/invitation.html")]
struct InvitationPage<'a> {
    version: &'a str,
    token: &'a str,
    invitation: &'a Invitation,
    kind_label: &'static str,
    role: &'static str,
    allows: &'static str,
    until: String,
    csrf: &'a str,
    email: &'a str,
    email_error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "pages/invitee_view.html")]
struct ViewPage<'a> {
    version: &'a str,
    media: &'a Media,
    kind_label: &'static str,
    role: &'static str,
    name: &'a str,
    player: Player,
    renew_after_seconds: i64,
    renew_url: String,
}

#[derive(Template)]
#[template(path = "pages/invitee_room.html")]
struct RoomPage<'a> {
    version: &'a str,
    media: &'a Media,
    token: &'a str,
    name: &'a str,
    role_label: &'static str,
    csrf: &'a str,
    room: RoomPanel,
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    csrf: String,
}

fn cookie(req: &HttpRequest, name: &str) -> Option<String> {
    req.cookie(name)
        .map(|c| c.value().to_string())
        .filter(|v| !v.is_empty())
}

/// The cookies an invitation's pages read, owned.
struct OwnedCookies {
    session: Option<String>,
    browser: Option<String>,
}

impl OwnedCookies {
    fn as_ref(&self) -> BrowserCookies<'_> {
        BrowserCookies {
            session: self.session.as_deref(),
            browser: self.browser.as_deref(),
        }
    }
}

fn browser_cookies(req: &HttpRequest) -> OwnedCookies {
    OwnedCookies {
        session: cookie(req, INVITEE_COOKIE),
        browser: cookie(req, INVITE_CSRF_COOKIE),
    }
}

fn view_path(token: &str) -> String {
    format!("/i/{token}/view")
}

/// The confirmation form's CSRF field: a MAC of the invitation and the
/// browser's CSRF cookie.
fn form_csrf(tool: &Tool, token: &str, browser: &str) -> String {
    tool.url_key
        .sign(&format!("invite-confirm|{token}|{browser}"))
}

fn form_csrf_ok(tool: &Tool, token: &str, browser: Option<&str>, sent: &str) -> bool {
    match browser {
        Some(browser) if !sent.is_empty() => tool
            .url_key
            .verify(&format!("invite-confirm|{token}|{browser}"), sent),
        _ => false,
    }
}

/// The invitation page (with the CSRF cookie its form needs).
fn invitation_page(
    tool: &Tool,
    req: &HttpRequest,
    status: StatusCode,
    token: &str,
    invitation: &Invitation,
    typed: Option<(&str, &str)>,
) -> HttpResponse {
    let browser = cookie(req, INVITE_CSRF_COOKIE)
        .filter(|c| is_token_shaped(c))
        .unwrap_or_else(|| random_token(16));
    let role = invitation.row.role();
    let (email, email_error) = typed.map_or(("", None), |(email, error)| (email, Some(error)));
    let mut response = html(
        status,
        &InvitationPage {
            version: ASSET_VERSION,
            token,
            invitation,
            kind_label: invitation.media.kind.label(),
            role: role.label(),
            allows: role.allows(invitation.media.kind),
            until: long_time(invitation.row.expires_at),
            csrf: &form_csrf(tool, token, &browser),
            email,
            email_error,
        },
    );
    let https = tool.settings.server.public_url.is_https();
    if let Ok(value) = invite_csrf_cookie(&browser, https).parse() {
        response.headers_mut().append(SET_COOKIE, value);
    }
    response
}

fn page_error(tool: &Tool, e: impl crate::service::failure::Failure) -> PageError {
    PageError::of(&e, tool.settings.server.public_url.as_str())
}

/// GET /i/{token}: the invitation; never spends anything. An invitation a
/// browser confirmed goes to its view, which lets in that browser only.
pub async fn invitation(
    tool: web::Data<Tool>,
    req: HttpRequest,
    token: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    match invites::open(&tool, &token)
        .await
        .map_err(|e| page_error(&tool, e))?
    {
        Err(reason) => Ok(unavailable(reason)),
        Ok(invitation) if invitation.row.access.bound_session_hash.is_some() => {
            Ok(see_other(view_path(&token)))
        }
        Ok(invitation) => Ok(invitation_page(
            &tool,
            &req,
            StatusCode::OK,
            &token,
            &invitation,
            None,
        )),
    }
}

/// POST /i/{token}: the invitee confirms their address; the first browser
/// that does gets the invitation, and goes to the view.
pub async fn confirm(
    tool: web::Data<Tool>,
    req: HttpRequest,
    token: web::Path<String>,
    form: web::Form<ConfirmForm>,
) -> Result<HttpResponse, PageError> {
    if !entry_allowed(&tool, &req) {
        return Err(PageError::rate_limited(
            "Too many tries came from your network in the last minute. Please wait a minute and try again.",
        ));
    }
    let browser = cookie(&req, INVITE_CSRF_COOKIE);
    let Some(browser) = browser.filter(|b| form_csrf_ok(&tool, &token, Some(b), &form.csrf)) else {
        return Err(PageError::new(
            Kind::Forbidden,
            "csrf_failed",
            "This form has expired",
            "The form could not be accepted from this browser. Open your invitation link again and confirm once more.",
        ));
    };
    let confirmed = invites::confirm(&tool, &token, &form.email, &browser)
        .await
        .map_err(|e| page_error(&tool, e))?;
    match confirmed {
        Ok(confirmed) => {
            let https = tool.settings.server.public_url.is_https();
            let max_age = confirmed.expires_at - tool.clock.now();
            Ok(see_other_setting(
                view_path(&token),
                invitee_cookie(&token, &confirmed.session_token, max_age, https),
            ))
        }
        Err(NotConfirmed::WrongEmail(invitation)) => Ok(invitation_page(
            &tool,
            &req,
            StatusCode::UNPROCESSABLE_ENTITY,
            &token,
            &invitation,
            Some((
                form.email.trim(),
                "This is not the address this invitation was sent to. Enter the address the invitation email came to.",
            )),
        )),
        Err(NotConfirmed::TooManyTries) => Err(PageError::rate_limited(
            "Too many addresses were tried for this invitation in the last hour. Please wait an hour, or ask the person who invited you to send it again.",
        )),
        Err(NotConfirmed::Unavailable(reason)) => Ok(unavailable(reason)),
    }
}

/// GET /i/{token}/view: the item, or the room, as the invitee, re-checked
/// on every load.
pub async fn view(
    tool: web::Data<Tool>,
    req: HttpRequest,
    token: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let page = invites::invitee(&tool, &token, browser_cookies(&req).as_ref())
        .await
        .map_err(|e| page_error(&tool, e))?;
    match page {
        InviteePage::Unavailable(reason) => Ok(unavailable(reason)),
        // The browser that confirmed, without its session: confirm again here.
        InviteePage::Confirm(invitation) if invitation.row.access.bound_session_hash.is_some() => {
            Ok(invitation_page(
                &tool,
                &req,
                StatusCode::OK,
                &token,
                &invitation,
                None,
            ))
        }
        InviteePage::Confirm(_) => Ok(see_other(format!("/i/{token}"))),
        InviteePage::In(invitee) if rooms::kind_has_sessions(invitee.media.kind) => {
            room_view(&tool, &token, invitee).await
        }
        InviteePage::In(invitee) => {
            let src =
                media_files::url_for_member_session(&tool, &invitee.media, &invitee.session_hash)
                    .map(|u| u.url);
            Ok(html(
                StatusCode::OK,
                &ViewPage {
                    version: ASSET_VERSION,
                    kind_label: invitee.media.kind.label(),
                    role: invitee.row.role().label(),
                    name: &invitee.row.name,
                    player: player_for(&invitee.media, src),
                    renew_after_seconds: tool.settings.media.url_start_window.whole_seconds() / 2,
                    renew_url: format!("/i/{token}/file-url"),
                    media: &invitee.media,
                },
            ))
        }
    }
}

/// The room as the invitee takes part: the member's room panel with the
/// invitation's role, acting under `/i/{token}/room`.
async fn room_view(tool: &Tool, token: &str, invitee: Invitee) -> Result<HttpResponse, PageError> {
    let role = invitee.row.role();
    let panel = room_panel_for(
        tool,
        &invitee.session,
        &invitee.session_hash,
        &invitee.media,
        role.in_room(),
    )
    .await?;
    let csrf = room_csrf::token(tool, Holder::Invitee, token, &invitee.session_hash);
    Ok(html(
        StatusCode::OK,
        &RoomPage {
            version: ASSET_VERSION,
            media: &invitee.media,
            token,
            name: &invitee.row.name,
            role_label: role.label(),
            csrf: &csrf,
            room: panel,
        },
    ))
}

/// The invitee behind a room action under `/i/{token}/room`: their cookie
/// and the page's `X-CSRF-Token`; their session and item, as stored now.
pub async fn acting_invitee(
    tool: &Tool,
    req: &HttpRequest,
    token: &str,
) -> Result<(LaunchSession, Media, String), ApiError> {
    let page = invites::invitee(tool, token, browser_cookies(req).as_ref())
        .await
        .map_err(|e| ApiError::of(&e))?;
    let invitee = match page {
        InviteePage::In(invitee) => invitee,
        InviteePage::Unavailable(reason) => return Err(ApiError::of(&reason)),
        InviteePage::Confirm(_) => {
            return Err(ApiError::new(
                Kind::Forbidden,
                "invitee_session_required",
                "Open your invitation link and confirm your email address to take part.",
            ));
        }
    };
    room_csrf::check(tool, req, Holder::Invitee, token, &invitee.session_hash)?;
    Ok((invitee.session, invitee.media, invitee.session_hash))
}

/// GET /i/{token}/file-url?grant=: a fresh URL for the invitee page's player.
pub async fn file_url(
    tool: web::Data<Tool>,
    req: HttpRequest,
    token: web::Path<String>,
    query: web::Query<GrantQuery>,
) -> Result<HttpResponse, ApiError> {
    let cookies = browser_cookies(&req);
    let page = invites::invitee(&tool, &token, cookies.as_ref())
        .await
        .map_err(|e| ApiError::of(&e))?;
    let InviteePage::In(invitee) = page else {
        return Err(ApiError::new(
            Kind::Forbidden,
            "invitee_session_required",
            "Open your invitation link again to go on watching.",
        ));
    };
    let url = media_files::renew_for_member(
        &tool,
        &invitee.session,
        cookies.session.as_deref().unwrap_or_default(),
        invitee.media.id.as_str(),
        query.grant.as_deref(),
    )
    .await
    .map_err(|e| ApiError::of(&e))?;
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({
            "url": url.url,
            "expires_at": rfc3339(url.expires_at),
        })))
}
