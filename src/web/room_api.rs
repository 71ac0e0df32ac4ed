//! The live-room part of the JSON API (`/api/media/{id}/room...`, README.md
//! "Live rooms"), and the room's JSON shapes, which the live pages' event
//! streams send too.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::CACHE_CONTROL;
use actix_web::{FromRequest, HttpRequest, HttpResponse, HttpResponseBuilder, web};
use serde::Serialize;
use serde_json::Value;

use super::error::ApiError;
use super::json_body;
use super::render::rfc3339;
use super::session::ApiSession;
use crate::crypto::hash_secret;
use crate::domain::field::{Field, FieldError};
use crate::domain::media::Media;
use crate::domain::room::{LobbyPolicy, RoomAction, RoomRole};
use crate::domain::session::LaunchSession;
use crate::service::Tool;
use crate::service::av::AvState;
use crate::service::live::{RoomSnapshot, SharedPart};
use crate::service::media_files;
use crate::service::rooms::{self, Decision, MemberRoom};
use crate::store::rooms::{ChatRow, EntryRow};

#[derive(Serialize)]
struct SessionJson<'a> {
    id: &'a str,
    started_at: String,
    started_by: &'a str,
}

#[derive(Serialize)]
pub struct EntryJson<'a> {
    id: &'a str,
    name: &'a str,
    /// Entries go to moderators only, who see the email.
    email: &'a str,
    link_id: &'a str,
    link_name: &'a str,
    status: &'static str,
    waiting_since: String,
}

impl<'a> EntryJson<'a> {
    pub fn of(entry: &'a EntryRow, status: &'static str, link_name: &'a str) -> Self {
        EntryJson {
            id: &entry.id,
            name: &entry.name,
            email: &entry.email,
            link_id: &entry.link_id,
            link_name,
            status,
            waiting_since: rfc3339(entry.waiting_since),
        }
    }
}

#[derive(Serialize)]
struct ParticipantJson<'a> {
    name: &'a str,
    role: &'static str,
    invited: bool,
}

#[derive(Serialize)]
struct PlaybackJson {
    playing: bool,
    /// Seconds into the item at `at_ms`.
    position: f64,
    at_ms: i64,
}

/// The item on the stage, without its URL (each viewer gets their own).
#[derive(Serialize)]
pub struct StageJson<'a> {
    media_id: &'a str,
    title: &'a str,
    kind: &'static str,
    kind_label: &'static str,
    content_type: &'static str,
    /// Where a linked item (not a file) opens.
    source_url: Option<&'a str>,
    playback: PlaybackJson,
}

pub fn stage_json_of(room: &RoomSnapshot) -> Option<StageJson<'_>> {
    let item = room.presented.as_ref()?;
    let playback = room.running()?.playback();
    Some(StageJson {
        media_id: item.id.as_str(),
        title: &item.title,
        kind: item.kind.as_str(),
        kind_label: item.kind.label(),
        content_type: item.file().map_or("", |f| f.file_type.content_type()),
        source_url: item.source_url(),
        playback: PlaybackJson {
            playing: playback.playing,
            position: playback.position_ms as f64 / 1000.0,
            at_ms: playback.at_ms,
        },
    })
}

/// A room's JSON (README.md, "Live rooms"), without the viewer's own part.
#[derive(Serialize)]
struct RoomJson<'a> {
    session: Option<SessionJson<'a>>,
    lobby_policy: &'static str,
    guests_may_chat: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    lobby: Option<Vec<EntryJson<'a>>>,
    /// The guests in the session (moderators only, who may remove them).
    #[serde(skip_serializing_if = "Option::is_none")]
    guests: Option<Vec<GuestInJson<'a>>>,
    guests_in: usize,
    presenting: Option<&'a str>,
    moderator_present: bool,
    stage: Option<StageJson<'a>>,
    /// Audio and video: `not_set_up`, `unavailable` or `ready` (with the
    /// media server's address for browsers and the room's number).
    av: AvJson<'a>,
    server_now_ms: i64,
}

/// An admitted guest, as moderators see them.
#[derive(Serialize)]
struct GuestInJson<'a> {
    id: &'a str,
    name: &'a str,
}

#[derive(Serialize)]
pub struct AvJson<'a> {
    state: &'static str,
    #[serde(skip_serializing_if = "str::is_empty")]
    message: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    server: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    room: Option<i64>,
    /// Moves on at each Mute all of the running session.
    mute_all: i64,
}

pub fn av_json(room: &RoomSnapshot) -> AvJson<'_> {
    let av = &room.av;
    let (server, number) = match av {
        AvState::Ready { public, room } => (Some(public.as_str()), Some(*room)),
        _ => (None, None),
    };
    AvJson {
        state: av.as_str(),
        message: av.message(),
        server,
        room: number,
        mute_all: room.running().map_or(0, |s| s.av_mute_all),
    }
}

fn link_name<'a>(room: &'a RoomSnapshot, link_id: &str) -> &'a str {
    room.record
        .links
        .iter()
        .find(|(id, _)| id == link_id)
        .map_or("", |(_, name)| name.as_str())
}

fn room_json(room: &RoomSnapshot, moderator: bool) -> RoomJson<'_> {
    let running = room.running();
    RoomJson {
        session: running.map(|s| SessionJson {
            id: &s.id,
            started_at: rfc3339(s.started_at),
            started_by: &s.started_by_name,
        }),
        lobby_policy: room.record.settings.lobby_policy.as_str(),
        guests_may_chat: room.record.settings.guests_may_chat,
        lobby: moderator.then(|| {
            room.waiting()
                .map(|e| EntryJson::of(e, "waiting", link_name(room, &e.link_id)))
                .collect()
        }),
        guests: moderator.then(|| {
            room.guests_present()
                .map(|e| GuestInJson {
                    id: &e.id,
                    name: &e.name,
                })
                .collect()
        }),
        guests_in: room.guests_in(),
        presenting: running.and_then(|s| s.presenting.as_deref()),
        moderator_present: room.moderator_present(),
        stage: stage_json_of(room),
        av: av_json(room),
        server_now_ms: room.at_ms,
    }
}

/// The room's JSON as a member with `role` sees it, without its
/// participants, serialized once per snapshot for all members of that kind.
fn shared_core_json(room: &RoomSnapshot, role: RoomRole) -> &str {
    let moderator = role == RoomRole::Moderator;
    let part = if moderator {
        SharedPart::Moderator
    } else {
        SharedPart::Member
    };
    room.shared(part, || {
        serde_json::to_string(&room_json(room, moderator)).unwrap_or_default()
    })
}

/// The participants list, serialized once per snapshot.
fn shared_participants_json(room: &RoomSnapshot) -> &str {
    room.shared(SharedPart::Participants, || {
        let list: Vec<ParticipantJson<'_>> = room
            .present()
            .map(|p| ParticipantJson {
                name: &p.name,
                role: p.role().as_str(),
                invited: p.invited,
            })
            .collect();
        serde_json::to_string(&list).unwrap_or_default()
    })
}

/// The room's JSON as a member with `role` sees it; without
/// `participants` unless `with_participants` (an event stream sends the
/// list only when it changed).
pub fn room_json_for(room: &RoomSnapshot, role: RoomRole, with_participants: bool) -> String {
    let core = shared_core_json(room, role);
    if !with_participants {
        return core.to_string();
    }
    // The core is an object: the list goes in before its closing brace.
    let open = core.strip_suffix('}').unwrap_or(core);
    format!(
        r#"{open},"participants":{}}}"#,
        shared_participants_json(room)
    )
}

/// The viewer's own part: their role, whether they are in the session,
/// and their URL for the item on the stage.
#[derive(Serialize)]
pub struct MeJson {
    pub role: &'static str,
    pub joined: bool,
    /// They put the item on the stage: their player leads everyone's.
    pub presenter: bool,
    pub stage_url: Option<String>,
}

/// The member's role as the room holds it now: an invitee's role changed
/// by the owner reaches their open page through their participant row.
fn role_now(room: &RoomSnapshot, member: &MemberRoom) -> RoomRole {
    member
        .user_id()
        .and_then(|u| room.present().find(|p| p.user_id == u))
        .map_or(member.role, |p| p.role())
}

pub fn member_me(
    tool: &Tool,
    room: &RoomSnapshot,
    member: &MemberRoom,
    session_hash: &str,
) -> MeJson {
    let joined = member
        .user_id()
        .is_some_and(|u| room.present().any(|p| p.user_id == u));
    let presenter = member.user_id().is_some()
        && room.running().and_then(|s| s.presented_by) == member.user_id();
    MeJson {
        role: role_now(room, member).as_str(),
        joined,
        presenter,
        stage_url: room
            .presented
            .as_ref()
            .and_then(|item| stage_url_for_member(tool, item, session_hash)),
    }
}

fn stage_url_for_member(tool: &Tool, item: &Media, session_hash: &str) -> Option<String> {
    media_files::url_for_member_session(tool, item, session_hash).map(|u| u.url)
}

#[derive(Serialize)]
pub struct ChatJson<'a> {
    seq: i64,
    name: &'a str,
    guest: bool,
    at: String,
    text: &'a str,
}

impl<'a> ChatJson<'a> {
    pub fn of(row: &'a ChatRow) -> Self {
        ChatJson {
            seq: row.seq,
            name: &row.author_name,
            guest: row.author_kind == "guest",
            at: rfc3339(row.created_at),
            text: &row.body,
        }
    }
}

/// A member's view: the shared room JSON with their own part beside it.
pub fn member_view_json(
    tool: &Tool,
    room: &RoomSnapshot,
    (member, session_hash): (&MemberRoom, &str),
    with_participants: bool,
    chat: &[ChatRow],
) -> String {
    let me = member_me(tool, room, member, session_hash);
    let chat: Vec<ChatJson<'_>> = chat.iter().map(ChatJson::of).collect();
    format!(
        r#"{{"room":{},"me":{},"chat":{}}}"#,
        room_json_for(room, role_now(room, member), with_participants),
        serde_json::to_string(&me).unwrap_or_default(),
        serde_json::to_string(&chat).unwrap_or_default(),
    )
}

fn no_store(mut builder: HttpResponseBuilder) -> HttpResponseBuilder {
    builder.insert_header((CACHE_CONTROL, "no-store"));
    builder
}

/// Who acts on a room: a course member through the API (Bearer), or an
/// invitee through their invitation's path (`/i/{token}/room/...`, their
/// cookie and the page's `X-CSRF-Token`). Either way the room comes with
/// the caller's role as stored now.
pub struct RoomCaller {
    pub session: LaunchSession,
    pub session_hash: String,
    pub room: MemberRoom,
}

impl FromRequest for RoomCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let tool = req.app_data::<web::Data<Tool>>().cloned();
        let req = req.clone();
        let api = match req.match_info().get("token") {
            Some(_) => None,
            None => Some(ApiSession::from_request(&req, payload)),
        };
        Box::pin(async move {
            let tool = tool.ok_or_else(ApiError::unauthorized)?;
            match api {
                Some(api) => {
                    let api = api.await?;
                    let id = req.match_info().get("id").unwrap_or_default();
                    let room = rooms::member_room(&tool, &api.session, id).await?;
                    Ok(RoomCaller {
                        session_hash: hash_secret(&api.token),
                        session: api.session,
                        room,
                    })
                }
                None => {
                    let token = req.match_info().get("token").unwrap_or_default();
                    let (session, media, session_hash) =
                        super::invitee::acting_invitee(&tool, &req, token).await?;
                    let room = rooms::member_room_of(&session, media)?;
                    Ok(RoomCaller {
                        session,
                        session_hash,
                        room,
                    })
                }
            }
        })
    }
}

/// The `room` JSON for the API: the room's fields, plus the caller's
/// own part under `me` and their event stream's address.
fn room_reply(tool: &Tool, caller: &RoomCaller, room: &RoomSnapshot) -> HttpResponse {
    let member = &caller.room;
    let hash = &caller.session_hash;
    let mut value: Value = serde_json::from_str(&room_json_for(room, role_now(room, member), true))
        .unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.insert(
            "me".into(),
            serde_json::to_value(member_me(tool, room, member, hash)).unwrap_or(Value::Null),
        );
        map.insert(
            "events_url".into(),
            Value::String(super::room_events::member_events_url(
                tool,
                &member.media,
                hash,
            )),
        );
    }
    no_store(HttpResponse::Ok()).json(value)
}

pub async fn get(tool: web::Data<Tool>, caller: RoomCaller) -> Result<HttpResponse, ApiError> {
    let snapshot = rooms::snapshot(&tool, &caller.room.media.id).await?;
    Ok(room_reply(&tool, &caller, &snapshot))
}

pub async fn start(tool: web::Data<Tool>, caller: RoomCaller) -> Result<HttpResponse, ApiError> {
    let snapshot = rooms::start(&tool, &caller.room).await?;
    Ok(room_reply(&tool, &caller, &snapshot))
}

pub async fn end(tool: web::Data<Tool>, caller: RoomCaller) -> Result<HttpResponse, ApiError> {
    let snapshot = rooms::end(&tool, &caller.room).await?;
    Ok(room_reply(&tool, &caller, &snapshot))
}

pub async fn join(tool: web::Data<Tool>, caller: RoomCaller) -> Result<HttpResponse, ApiError> {
    let snapshot = rooms::join(&tool, &caller.room).await?;
    Ok(room_reply(&tool, &caller, &snapshot))
}

/// PUT `{"policy": "ask_moderator" | "admit_all"}`.
pub async fn lobby_policy(
    tool: web::Data<Tool>,
    caller: RoomCaller,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.room.require(RoomAction::DecideLobby)?;
    let body = json_body::object(payload).await?;
    let policy = body
        .optional_text(Field::Policy)?
        .and_then(LobbyPolicy::parse)
        .ok_or_else(|| {
            FieldError::new(
                Field::Policy,
                "Send {\"policy\": \"ask_moderator\"} or {\"policy\": \"admit_all\"}.",
            )
        })?;
    let snapshot = rooms::set_policy(&tool, &caller.room, policy).await?;
    Ok(room_reply(&tool, &caller, &snapshot))
}

async fn decide(
    tool: &Tool,
    caller: &RoomCaller,
    req: &HttpRequest,
    decision: Decision,
) -> Result<HttpResponse, ApiError> {
    let entry = req.match_info().get("entry_id").unwrap_or_default();
    let decided = rooms::decide(tool, &caller.room, entry, decision).await?;
    // A removed guest's entry is denied, as CONTRACT's statuses have it.
    let status = match decision {
        Decision::Admit => "admitted",
        Decision::Deny | Decision::Remove => "denied",
    };
    let json = EntryJson::of(&decided.entry, status, &decided.link_name);
    Ok(no_store(HttpResponse::Ok()).json(json))
}

pub async fn admit(
    tool: web::Data<Tool>,
    caller: RoomCaller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    decide(&tool, &caller, &req, Decision::Admit).await
}

pub async fn deny(
    tool: web::Data<Tool>,
    caller: RoomCaller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    decide(&tool, &caller, &req, Decision::Deny).await
}

pub async fn admit_all(
    tool: web::Data<Tool>,
    caller: RoomCaller,
) -> Result<HttpResponse, ApiError> {
    let admitted = rooms::admit_all(&tool, &caller.room).await?;
    Ok(no_store(HttpResponse::Ok()).json(serde_json::json!({ "admitted": admitted })))
}

/// POST `{"media_id": id or null}`.
pub async fn present(
    tool: web::Data<Tool>,
    caller: RoomCaller,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.room.require(RoomAction::Present)?;
    let body = json_body::object(payload).await?;
    if !body.has(Field::MediaId) {
        return Err(FieldError::new(
            Field::MediaId,
            "Send {\"media_id\": \"...\"} to present an item, or {\"media_id\": null} to stop.",
        )
        .into());
    }
    let item = body.optional_text(Field::MediaId)?.map(str::to_string);
    let snapshot = rooms::present(&tool, &caller.session, &caller.room, item.as_deref()).await?;
    Ok(room_reply(&tool, &caller, &snapshot))
}

/// POST `{"playing": bool, "position": seconds}`: the presenter's player.
pub async fn playback(
    tool: web::Data<Tool>,
    caller: RoomCaller,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.room.require(RoomAction::Present)?;
    let body = json_body::object(payload).await?;
    let playing = body.required_bool(Field::Playing, "Send {\"playing\": true} or false.")?;
    let position = body
        .seconds(Field::Position)
        .ok_or_else(|| FieldError::new(Field::Position, "Send a position in seconds, from 0."))?;
    rooms::playback(
        &tool,
        &caller.room,
        playing,
        (position * 1000.0).round() as i64,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// POST `{"text": str}`: 201 with the message.
pub async fn chat(
    tool: web::Data<Tool>,
    caller: RoomCaller,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = json_body::object(payload).await?;
    let text = body.required_text(Field::Text)?.to_string();
    let row = rooms::member_chat(&tool, &caller.room, &text).await?;
    Ok(no_store(HttpResponse::build(StatusCode::CREATED)).json(ChatJson::of(&row)))
}

/// POST: the caller's pass into the session's media room (a new one each
/// time; the previous one stops working).
pub async fn av_pass(tool: web::Data<Tool>, caller: RoomCaller) -> Result<HttpResponse, ApiError> {
    let pass = crate::service::av::member_pass(&tool, &caller.room).await?;
    Ok(no_store(HttpResponse::Ok()).json(pass))
}

/// POST: a moderator's Mute all (204).
pub async fn av_mute_all(
    tool: web::Data<Tool>,
    caller: RoomCaller,
) -> Result<HttpResponse, ApiError> {
    crate::service::av::mute_all(&tool, &caller.room).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// POST `{"participant_id": n}`: a moderator puts that person out of the
/// session's audio and video (204).
pub async fn av_remove(
    tool: web::Data<Tool>,
    caller: RoomCaller,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.room.require(RoomAction::ModerateMedia)?;
    let body = json_body::object(payload).await?;
    let id = match body.number(Field::ParticipantId) {
        crate::domain::guest_access::NumberField::Whole(n) if n > 0 => Some(n),
        _ => None,
    };
    let id = id.ok_or_else(|| {
        FieldError::new(
            Field::ParticipantId,
            "Send {\"participant_id\": n}, a participant of the session's audio and video.",
        )
    })?;
    crate::service::av::remove_participant(&tool, &caller.room, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// POST: a moderator removes an admitted guest from the session.
pub async fn remove_guest(
    tool: web::Data<Tool>,
    caller: RoomCaller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    decide(&tool, &caller, &req, Decision::Remove).await
}

/// PUT `{"guests_may_chat": bool}`.
pub async fn guest_chat_switch(
    tool: web::Data<Tool>,
    caller: RoomCaller,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.room.require(RoomAction::SetGuestChat)?;
    let body = json_body::object(payload).await?;
    let on = body.required_bool(
        Field::GuestsMayChat,
        "Send {\"guests_may_chat\": true} or false.",
    )?;
    let snapshot = rooms::set_guest_chat(&tool, &caller.room, on).await?;
    Ok(room_reply(&tool, &caller, &snapshot))
}
