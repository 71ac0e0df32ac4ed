//! The guest's way in (`/g/{token}`, "Guest links" in README.md): the
//! entry page, the admission, the view, and the page that says why a link
//! no longer works.
//! Guests have no LMS session; a first-party cookie bound to the one link
//! that admitted them is all they carry.

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, LOCATION, SET_COOKIE};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::cookies::{GUEST_COOKIE, GUEST_CSRF_COOKIE, guest_cookie, guest_csrf_cookie};
use super::error::{ApiError, PageError};
use super::file_delivery::{continues_stream, range_header, send};
use super::media_pages::{Player, player_for};
use super::middleware::client_ip;
use super::render::{ASSET_VERSION, html, rfc3339};
use super::room_csrf::{self, Holder};
use crate::crypto::{is_token_shaped, random_token};
use crate::domain::field::{Field, FieldError};
use crate::domain::guest_access::{GuestIdentity, Unavailable};
use crate::domain::media::Media;
use crate::domain::room::GuestLobby;
use crate::service::Tool;
use crate::service::failure::Failure;
use crate::service::failure::Kind;
use crate::service::guest_links::{self, GuestPage};
use crate::service::media_files::{self, GrantQuery};
use crate::service::rooms::{self, GuestInRoom};

#[derive(Template)]
#[template(path = "pages/unavailable.html")]
struct UnavailablePage<'a> {
    version: &'a str,
    code: &'a str,
    title: &'a str,
    message: &'a str,
    /// Where the guest may ask again (a room's denied guest: a new entry).
    again: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/guest_entry.html")]
struct EntryPage<'a> {
    version: &'a str,
    token: &'a str,
    title: &'a str,
    csrf: &'a str,
    name: &'a str,
    email: &'a str,
    name_error: Option<String>,
    email_error: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/guest_view.html")]
struct ViewPage<'a> {
    version: &'a str,
    media: &'a Media,
    kind_label: &'static str,
    player: Player,
    renew_after_seconds: i64,
    renew_url: String,
}

#[derive(Template)]
#[template(path = "pages/guest_room.html")]
struct RoomPage<'a> {
    version: &'a str,
    media: &'a Media,
    token: &'a str,
    status: &'static str,
    message: &'static str,
    place: usize,
    csrf: &'a str,
    /// Media servers are set up: the page carries audio and video.
    av: bool,
}

#[derive(Deserialize)]
pub struct EntryForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    csrf: String,
}

/// The page that says why the link does not let the guest in.
pub(super) fn unavailable(reason: Unavailable) -> HttpResponse {
    unavailable_with(reason, None)
}

/// That page, with where the guest may ask again if they may.
fn unavailable_with(reason: Unavailable, again: Option<String>) -> HttpResponse {
    let status = super::error::status_of(Failure::kind(&reason));
    html(
        status,
        &UnavailablePage {
            version: ASSET_VERSION,
            code: reason.code(),
            title: reason.title(),
            message: reason.message(),
            again,
        },
    )
}

/// That page for a guest whose session for the link just ended: its
/// cookie goes too.
fn ended(tool: &Tool, token: &str, reason: Unavailable) -> HttpResponse {
    let mut response = unavailable(reason);
    clear_guest_cookie(tool, token, &mut response);
    response
}

fn clear_guest_cookie(tool: &Tool, token: &str, response: &mut HttpResponse) {
    let https = tool.settings.server.public_url.is_https();
    if is_token_shaped(token)
        && let Ok(value) =
            guest_cookie(token, "", crate::domain::time::Duration::ZERO, https).parse()
    {
        response.headers_mut().append(SET_COOKIE, value);
    }
}

pub(super) fn see_other(location: String) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, location))
        .insert_header((CACHE_CONTROL, "no-store"))
        .finish()
}

/// The same, setting `cookie` (a new guest's or invitee's session).
pub(super) fn see_other_setting(location: String, cookie: String) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, location))
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header((SET_COOKIE, cookie))
        .finish()
}

/// Whether another entry (a guest's, or an invitee's address check) from
/// this client address is allowed this minute.
pub(super) fn entry_allowed(tool: &Tool, req: &HttpRequest) -> bool {
    tool.guest_limiter.allow_client(
        client_ip(req),
        tool.clock.now(),
        tool.settings.guests.rate_limit,
    )
}

fn view_path(token: &str) -> String {
    format!("/g/{token}/view")
}

/// The form's CSRF field: a MAC of the link and the browser's CSRF cookie,
/// so a form fetched by one browser cannot be posted from another.
fn csrf_field(tool: &Tool, token: &str, browser: &str) -> String {
    tool.url_key.sign(&format!("guest-entry|{token}|{browser}"))
}

fn csrf_ok(tool: &Tool, token: &str, browser: Option<&str>, field: &str) -> bool {
    match browser {
        Some(browser) if !browser.is_empty() && !field.is_empty() => tool
            .url_key
            .verify(&format!("guest-entry|{token}|{browser}"), field),
        _ => false,
    }
}

fn cookie(req: &HttpRequest, name: &str) -> Option<String> {
    req.cookie(name).map(|c| c.value().to_string())
}

/// The entry page, with the CSRF cookie it needs (the browser's existing one
/// is kept, so two open tabs both work).
fn entry_page(
    tool: &Tool,
    req: &HttpRequest,
    status: StatusCode,
    token: &str,
    title: &str,
    form: Option<(&EntryForm, Vec<FieldError>)>,
) -> HttpResponse {
    // Only a value this tool could have made is kept: it goes back out in a
    // Set-Cookie header.
    let browser = cookie(req, GUEST_CSRF_COOKIE)
        .filter(|c| is_token_shaped(c))
        .unwrap_or_else(|| random_token(16));
    let (name, email, problems) = match form {
        Some((form, problems)) => (form.name.as_str(), form.email.as_str(), problems),
        None => ("", "", Vec::new()),
    };
    let error_for = |field: Field| {
        problems
            .iter()
            .find(|p| p.field == field)
            .map(|p| p.problem.clone())
    };
    let mut response = html(
        status,
        &EntryPage {
            version: ASSET_VERSION,
            token,
            title,
            csrf: &csrf_field(tool, token, &browser),
            name,
            email,
            name_error: error_for(Field::Name),
            email_error: error_for(Field::Email),
        },
    );
    let https = tool.settings.server.public_url.is_https();
    if let Ok(value) = guest_csrf_cookie(&browser, https).parse() {
        response.headers_mut().append(SET_COOKIE, value);
    }
    response
}

/// GET /g/{token}: the entry page; never counts a click. A browser already
/// admitted through this link goes straight to the view.
pub async fn entry(
    tool: web::Data<Tool>,
    req: HttpRequest,
    token: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let session = cookie(&req, GUEST_COOKIE);
    match guest_links::view(&tool, &token, session.as_deref()).await? {
        GuestPage::View { .. } => Ok(see_other(view_path(&token))),
        GuestPage::Unavailable(reason) => Ok(unavailable(reason)),
        GuestPage::Ended(reason) => Ok(ended(&tool, &token, reason)),
        GuestPage::Entry { media } => Ok(entry_page(
            &tool,
            &req,
            StatusCode::OK,
            &token,
            &media.title,
            None,
        )),
    }
}

fn rate_limited() -> PageError {
    PageError::rate_limited(
        "Too many guest entries came from your network in the last minute. Please wait a minute and try again.",
    )
}

fn csrf_failed() -> PageError {
    PageError::new(
        Kind::Forbidden,
        "csrf_failed",
        "This form has expired",
        "The form could not be accepted from this browser. Open the guest link again and fill in the form once more.",
    )
}

/// POST /g/{token}: admits the guest (one click), sets the guest cookie and
/// sends them to the view.
pub async fn enter(
    tool: web::Data<Tool>,
    req: HttpRequest,
    token: web::Path<String>,
    form: web::Form<EntryForm>,
) -> Result<HttpResponse, PageError> {
    if !entry_allowed(&tool, &req) {
        tracing::info!("guest entry rate-limited");
        return Err(rate_limited());
    }
    let browser = cookie(&req, GUEST_CSRF_COOKIE);
    if !csrf_ok(&tool, &token, browser.as_deref(), &form.csrf) {
        return Err(csrf_failed());
    }
    // A good form goes straight to the admission, which checks the link in
    // the same step; a bad one needs the link's state and title for the page.
    let identity = match GuestIdentity::parse(&form.name, &form.email) {
        Ok(identity) => identity,
        Err(problems) => {
            return match guest_links::open_link(&tool, &token).await? {
                Ok(open) => Ok(entry_page(
                    &tool,
                    &req,
                    super::error::status_of(crate::service::failure::Kind::Invalid),
                    &token,
                    &open.media.title,
                    Some((&form, problems)),
                )),
                Err(reason) => Ok(unavailable(reason)),
            };
        }
    };
    match guest_links::admit(&tool, &token, identity).await? {
        Ok(admitted) => {
            let max_age = admitted.expires_at - tool.clock.now();
            let https = tool.settings.server.public_url.is_https();
            Ok(see_other_setting(
                view_path(&token),
                guest_cookie(&token, &admitted.session_token, max_age, https),
            ))
        }
        Err(reason) => Ok(unavailable(reason)),
    }
}

/// GET /g/{token}/view: the item, re-checked on every load.
pub async fn view(
    tool: web::Data<Tool>,
    req: HttpRequest,
    token: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let session = cookie(&req, GUEST_COOKIE);
    match guest_links::view(&tool, &token, session.as_deref()).await? {
        GuestPage::View { media, guest } if rooms::kind_has_sessions(media.kind) => {
            let guest = GuestInRoom::new(media, guest)
                .map_err(|e| PageError::of(&e, tool.settings.server.public_url.as_str()))?;
            room_view(&tool, &token, guest).await
        }
        GuestPage::View { media, guest } => {
            let src = media_files::url_for_guest(&tool, &media, &token, &guest.session_hash)
                .map(|u| u.url);
            Ok(html(
                StatusCode::OK,
                &ViewPage {
                    version: ASSET_VERSION,
                    kind_label: media.kind.label(),
                    player: player_for(&media, src),
                    // The open page keeps its player going; a reload
                    // re-checks the link.
                    renew_after_seconds: tool.settings.media.url_start_window.whole_seconds() / 2,
                    renew_url: format!("/g/{token}/file-url"),
                    media: &media,
                },
            ))
        }
        GuestPage::Entry { .. } => Ok(see_other(format!("/g/{token}"))),
        GuestPage::Unavailable(reason) => Ok(unavailable(reason)),
        GuestPage::Ended(reason) => Ok(ended(&tool, &token, reason)),
    }
}

/// A room's guest view: the lobby until a moderator admits them, then the
/// stage and the chat; the page follows the room itself. A denied guest,
/// or one who waited too long, ends their guest session here.
async fn room_view(
    tool: &Tool,
    token: &str,
    guest: GuestInRoom,
) -> Result<HttpResponse, PageError> {
    let base = tool.settings.server.public_url.as_str();
    let (lobby, _) = rooms::guest_knock(tool, &guest)
        .await
        .map_err(|e| PageError::of(&e, base))?;
    match lobby {
        GuestLobby::Denied => {
            guest_links::end_guest_session(tool, &guest.session_hash).await?;
            // A deny is not a ban: a new guest session may knock again.
            let mut response = unavailable_with(Unavailable::Denied, Some(format!("/g/{token}")));
            clear_guest_cookie(tool, token, &mut response);
            return Ok(response);
        }
        GuestLobby::TimedOut => {
            guest_links::end_guest_session(tool, &guest.session_hash).await?;
        }
        _ => {}
    }
    let place = match lobby {
        GuestLobby::Waiting { place, .. } => place,
        _ => 0,
    };
    let mut response = html(
        StatusCode::OK,
        &RoomPage {
            version: ASSET_VERSION,
            media: &guest.media,
            token,
            status: lobby.as_str(),
            message: lobby.message(),
            place,
            csrf: &room_csrf::token(tool, Holder::Guest, token, &guest.session_hash),
            av: crate::service::av::configured(tool),
        },
    );
    if lobby == GuestLobby::TimedOut {
        clear_guest_cookie(tool, token, &mut response);
    }
    Ok(response)
}

/// POST /g/{token}/chat `{"text"}` with the page's CSRF token in
/// `X-CSRF-Token`: an admitted guest's chat message.
pub async fn chat(
    tool: web::Data<Tool>,
    req: HttpRequest,
    token: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let guest = acting_guest(&tool, &req, &token).await?;
    let text = match super::json_body::parse(&body)?.required_text(Field::Text) {
        Ok(text) => text.to_string(),
        Err(e) => return Err(e.into()),
    };
    let row = rooms::guest_chat(&tool, &guest, &text).await?;
    Ok(HttpResponse::Created()
        .insert_header((CACHE_CONTROL, "no-store"))
        .json(super::room_api::ChatJson::of(&row)))
}

/// POST /g/{token}/av with the page's CSRF token: an admitted guest's pass
/// into the session's media room, to watch and listen.
pub async fn av_pass(
    tool: web::Data<Tool>,
    req: HttpRequest,
    token: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let guest = acting_guest(&tool, &req, &token).await?;
    let pass = crate::service::av::guest_pass(&tool, &guest).await?;
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .json(pass))
}

/// The guest behind a room action: their guest session (cookie) for the
/// link, and the page's CSRF token made for it.
async fn acting_guest(
    tool: &Tool,
    req: &HttpRequest,
    token: &str,
) -> Result<GuestInRoom, ApiError> {
    let session = cookie(req, GUEST_COOKIE);
    let GuestPage::View { media, guest } = guest_links::view(tool, token, session.as_deref())
        .await
        .map_err(|e| ApiError::of(&e))?
    else {
        return Err(ApiError::new(
            Kind::Forbidden,
            "guest_session_required",
            "Open the guest link again to take part.",
        ));
    };
    room_csrf::check(tool, req, Holder::Guest, token, &guest.session_hash)?;
    Ok(GuestInRoom::new(media, guest)?)
}

/// GET /g/{token}/file?grant=: the file of the guest's page, for the guest
/// session it was handed to (their cookie), whatever the link's state: an
/// open page keeps working until the guest reloads or leaves.
pub async fn file(
    tool: web::Data<Tool>,
    req: HttpRequest,
    token: web::Path<String>,
    query: web::Query<GrantQuery>,
) -> Result<HttpResponse, PageError> {
    let session = cookie(&req, GUEST_COOKIE);
    let range = range_header(&req);
    let deliverable = media_files::by_guest_grant(
        &tool,
        &token,
        session.as_deref(),
        query.grant.as_deref().unwrap_or_default(),
        continues_stream(range.clone()),
    )
    .await?;
    send(&tool, deliverable, range.as_deref()).await
}

/// GET /g/{token}/file-url?grant=: a fresh URL for the guest page's player.
pub async fn file_url(
    tool: web::Data<Tool>,
    req: HttpRequest,
    token: web::Path<String>,
    query: web::Query<GrantQuery>,
) -> Result<HttpResponse, ApiError> {
    let session = cookie(&req, GUEST_COOKIE);
    let url =
        media_files::renew_for_guest(&tool, &token, session.as_deref(), query.grant.as_deref())
            .await
            .map_err(|e| ApiError::of(&e))?;
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({
            "url": url.url,
            "expires_at": rfc3339(url.expires_at),
        })))
}
