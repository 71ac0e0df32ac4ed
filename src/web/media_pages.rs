//! The pages of a launched user: the library (the course home) and an item's
//! media page with its player and three-dot menu.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;

use super::error::PageError;
use super::render::{ASSET_VERSION, html, long_date};
use super::room_events;
use super::session::{PageSession, PageToken};
use crate::crypto::hash_secret;
use crate::domain::guest_access::kind_supports_guest_access;
use crate::domain::invite::roles_for;
use crate::domain::media::{FileType, Media, MediaKind};
use crate::domain::room::RoomRole;
use crate::domain::session::LaunchSession;
use crate::service::media_files;
use crate::service::{Tool, media, rooms};

/// One entry of an item's three-dot menu: the action's name (for scripts
/// and tests), its label, and the `<dialog>` it opens.
///
/// The menu is built here and only here: a feature that adds an entry adds
/// it to [`media_menu`] and its dialog to `templates/pages/media.html`.
pub struct MenuItem {
    pub action: &'static str,
    pub label: &'static str,
    pub opens: &'static str,
}

/// The entries of an item's menu for this viewer. `guest_access_offered`
/// is the platform's answer (both modules on).
pub fn media_menu(
    session: &LaunchSession,
    media: &Media,
    guest_access_offered: bool,
) -> Vec<MenuItem> {
    let mut items = Vec::new();
    if session.can_manage() && guest_access_offered && !roles_for(media.kind).is_empty() {
        items.push(MenuItem {
            action: "invite-users",
            label: "Invite users",
            opens: "invite-users-dialog",
        });
    }
    if session.can_manage() && guest_access_offered {
        items.push(MenuItem {
            action: "guest-access",
            label: "Manage guest access",
            // Channel and gallery rooms get an explanation instead of the modal.
            opens: if kind_supports_guest_access(media.kind) {
                "guest-access-dialog"
            } else {
                "guest-access-unsupported-dialog"
            },
        });
    }
    if session.can_manage() {
        items.push(MenuItem {
            action: "edit",
            label: "Edit details",
            opens: "edit-dialog",
        });
        items.push(MenuItem {
            action: "delete",
            label: "Delete",
            opens: "delete-dialog",
        });
    }
    items
}

/// What sits in the player area.
pub enum Player {
    Video {
        src: String,
        content_type: &'static str,
    },
    Audio {
        src: String,
        content_type: &'static str,
    },
    Image {
        src: String,
    },
    Pdf {
        src: String,
    },
    /// Content that lives elsewhere (a quiz, a linked document).
    Link {
        href: String,
    },
    /// Rooms and live events: a panel for the session.
    Session,
}

/// The player for `media`, with `file_src` the signed URL of its file.
pub fn player_for(media: &Media, file_src: Option<String>) -> Player {
    if media.kind.is_session() {
        return Player::Session;
    }
    let file_type = media.file().map(|f| f.file_type);
    let src = file_src
        .or_else(|| media.source_url().map(str::to_string))
        .unwrap_or_default();
    let content_type = file_type.map(FileType::content_type).unwrap_or("");
    match media.kind {
        MediaKind::Video => Player::Video { src, content_type },
        MediaKind::Audio => Player::Audio { src, content_type },
        MediaKind::Image => Player::Image { src },
        MediaKind::Document if file_type == Some(FileType::Pdf) => Player::Pdf { src },
        _ => Player::Link { href: src },
    }
}

/// An item as lists show it (the library, the deep-linking picker).
pub struct LibraryItem {
    pub id: String,
    pub title: String,
    pub kind: &'static str,
    pub kind_label: &'static str,
    pub date: String,
}

impl LibraryItem {
    pub fn of(media: Media) -> LibraryItem {
        LibraryItem {
            id: media.id.to_string(),
            kind: media.kind.as_str(),
            kind_label: media.kind.label(),
            date: long_date(media.created_at),
            title: media.title,
        }
    }
}

pub struct KindOption {
    pub value: &'static str,
    pub label: &'static str,
}

pub fn kind_options() -> Vec<KindOption> {
    MediaKind::ALL
        .into_iter()
        .map(|k| KindOption {
            value: k.as_str(),
            label: k.label(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "pages/library.html")]
struct LibraryPage<'a> {
    version: &'a str,
    token: &'a str,
    user_name: &'a str,
    platform_name: &'a str,
    lms: &'a str,
    course_title: &'a str,
    course_label: Option<&'a str>,
    can_manage: bool,
    /// The roles would manage, but the launch was anonymous.
    anonymous_manager: bool,
    items: Vec<LibraryItem>,
    notice: Option<&'a str>,
    kinds: Vec<KindOption>,
    upload_limit_mb: u64,
    /// What the add form does after adding: open the new item's page.
    after_add: &'a str,
}

#[derive(Template)]
#[template(path = "pages/no_context.html")]
struct NoContextPage<'a> {
    version: &'a str,
    token: &'a str,
    user_name: &'a str,
    platform_name: &'a str,
}

#[derive(Template)]
#[template(path = "pages/media.html")]
struct MediaPage<'a> {
    version: &'a str,
    token: &'a str,
    user_name: &'a str,
    course_title: &'a str,
    can_manage: bool,
    anonymous_manager: bool,
    media: &'a Media,
    kind_label: &'static str,
    created: String,
    player: Player,
    renew_after_seconds: i64,
    /// Where the player asks for a fresh URL.
    renew_url: String,
    menu: Vec<MenuItem>,
    /// The Share button below the player opens the guest access modal.
    share: bool,
    /// A room's live panel, in the player's place.
    room: Option<RoomPanel>,
}

/// What a room's media page needs beside the item.
pub struct RoomPanel {
    /// The event stream, with a ticket for this page's session.
    pub(super) events_url: String,
    pub(super) role: &'static str,
    pub(super) moderator: bool,
    /// Moderators and speakers put items on the stage.
    pub(super) presents: bool,
    /// The items they may present.
    pub(super) library: Vec<LibraryItem>,
    /// Course members who manage the room invite people (invitees never do).
    pub(super) can_invite: bool,
    /// Invite users opens the Invite users dialog.
    pub(super) invites: bool,
    /// The viewer is an invitee (their library is the items shared with guests).
    pub(super) invitee: bool,
    /// Invite guests opens Manage guest access.
    pub(super) guest_access: bool,
    /// Media servers are set up: the page carries audio and video.
    pub(super) av: bool,
}

/// Why the library is shown instead of what was asked for.
pub const NOTICE_MEDIA_NOT_IN_COURSE: &str = "media_not_in_course";

fn user_name(session: &LaunchSession) -> &str {
    session.user_name.as_deref().unwrap_or("Anonymous user")
}

/// The course home: its media, and for managers the form to add more.
pub async fn render_library(
    tool: &Tool,
    session: &LaunchSession,
    token: &str,
    notice: Option<&str>,
) -> Result<HttpResponse, PageError> {
    let base = tool.settings.server.public_url.as_str();
    let Some(course) = &session.course else {
        return Ok(html(
            StatusCode::OK,
            &NoContextPage {
                version: ASSET_VERSION,
                token,
                user_name: user_name(session),
                platform_name: &session.platform_name,
            },
        ));
    };
    let items = media::list(tool, session)
        .await
        .map_err(|e| PageError::of(&e, base))?
        .into_iter()
        .map(LibraryItem::of)
        .collect();
    Ok(html(
        StatusCode::OK,
        &LibraryPage {
            version: ASSET_VERSION,
            token,
            user_name: user_name(session),
            platform_name: &session.platform_name,
            lms: session.lms.display_name(),
            course_title: course.display_name(),
            course_label: course
                .label
                .as_deref()
                .filter(|l| Some(*l) != course.title.as_deref()),
            can_manage: session.can_manage(),
            anonymous_manager: session.anonymous_manager(),
            items,
            notice,
            kinds: kind_options(),
            upload_limit_mb: tool.settings.media.upload_max_bytes / (1024 * 1024),
            after_add: "open",
        },
    ))
}

/// An item's media page; `NotFound` unless it is a live item of the course.
pub async fn render_media(
    tool: &Tool,
    session: &LaunchSession,
    token: &str,
    id: &str,
) -> Result<HttpResponse, PageError> {
    let item = media::get(tool, session, id).await;
    render_item(tool, session, token, item).await
}

/// The media page of `item`, as found for the session (or why not).
async fn render_item(
    tool: &Tool,
    session: &LaunchSession,
    token: &str,
    item: media::MediaResult<Media>,
) -> Result<HttpResponse, PageError> {
    let base = tool.settings.server.public_url.as_str();
    let item = item.map_err(|e| PageError::of(&e, base))?;
    let file_src = media_files::url_for_member(tool, &item, token).map(|u| u.url);
    let offered = media::guest_access_offered(tool, session)
        .await
        .map_err(|e| PageError::of(&e, base))?;
    let menu = media_menu(session, &item, offered);
    let share = session.can_manage() && offered && kind_supports_guest_access(item.kind);
    // Only a room's page has the live panel (and its library read).
    let room = if rooms::kind_has_sessions(item.kind) {
        Some(room_panel(tool, session, token, &item, share).await?)
    } else {
        None
    };
    let course_title = session
        .course
        .as_ref()
        .map(|c| c.display_name())
        .unwrap_or_default();
    Ok(html(
        StatusCode::OK,
        &MediaPage {
            version: ASSET_VERSION,
            token,
            user_name: user_name(session),
            course_title,
            can_manage: session.can_manage(),
            anonymous_manager: session.anonymous_manager(),
            kind_label: item.kind.label(),
            created: long_date(item.created_at),
            player: player_for(&item, file_src),
            // Renewed at half its life, so a slow network never meets an expired URL.
            renew_after_seconds: tool.settings.media.url_start_window.whole_seconds() / 2,
            renew_url: format!("/api/media/{}/file-url", item.id),
            menu,
            share,
            room,
            media: &item,
        },
    ))
}

/// A room's panel for this member: moderators get the library to present.
async fn room_panel(
    tool: &Tool,
    session: &LaunchSession,
    token: &str,
    room: &Media,
    guest_access: bool,
) -> Result<RoomPanel, PageError> {
    let role = RoomRole::of_member(session.can_manage());
    let mut panel = room_panel_for(tool, session, &hash_secret(token), room, role).await?;
    panel.can_invite = session.can_manage();
    // A room takes invitations wherever it takes guest links.
    panel.invites = guest_access;
    panel.guest_access = guest_access;
    Ok(panel)
}

/// A room's panel for a viewer with `role` whose session's token hash is
/// `session_hash` (a member, or an invitee, who never invites).
pub async fn room_panel_for(
    tool: &Tool,
    session: &LaunchSession,
    session_hash: &str,
    room: &Media,
    role: RoomRole,
) -> Result<RoomPanel, PageError> {
    let presents = crate::domain::room::may(role, crate::domain::room::RoomAction::Present);
    // An invitee's library is the items the course shares with guests
    // (`media::list` shows them no more).
    let invitee = session.invitee.is_some();
    let library = if presents {
        media::list(tool, session)
            .await
            .map_err(|e| PageError::of(&e, tool.settings.server.public_url.as_str()))?
            .into_iter()
            .filter(|m| !m.kind.is_session())
            .map(LibraryItem::of)
            .collect()
    } else {
        Vec::new()
    };
    Ok(RoomPanel {
        events_url: room_events::member_events_url(tool, room, session_hash),
        role: role.as_str(),
        moderator: role == RoomRole::Moderator,
        presents,
        library,
        can_invite: false,
        invites: false,
        invitee,
        guest_access: false,
        av: crate::service::av::configured(tool),
    })
}

pub async fn library(tool: web::Data<Tool>, page: PageSession) -> Result<HttpResponse, PageError> {
    render_library(&tool, &page.session, &page.token, None).await
}

/// A media page: the session and the item are read together.
pub async fn media_page(
    tool: web::Data<Tool>,
    page: PageToken,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let base = tool.settings.server.public_url.as_str();
    match media::with_session(&tool, &page.token, &id)
        .await
        .map_err(|e| PageError::of(&e, base))?
    {
        Some((session, item)) => render_item(&tool, &session, &page.token, item).await,
        None => Err(page.no_session()),
    }
}
