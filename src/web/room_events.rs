//! The live pages' event streams (server-sent events): a member's at
//! `/media/{id}/events?ticket=`, a guest's at `/g/{token}/events`.
//!
//! A member's page lives in an LMS frame where cookies are often blocked and
//! `EventSource` cannot send a header, so its stream is opened with a
//! ticket: the session's hash and the room, sealed by the tool. The ticket
//! is not the session token (it opens this one stream and nothing else),
//! stays good for reconnects while the session lives, and is refused once
//! it ends. A guest's stream is under their link's path, where their cookie
//! goes.
//!
//! Each event is the viewer's whole view of the room, with the chat
//! messages they have not had yet. Its id is `{session}.{last message}`, so
//! a reconnect (`Last-Event-ID`, or `last_event_id` in the query for a
//! page that reopens its stream itself) gets the messages it missed, once.

use std::collections::VecDeque;
use std::time::Duration as StdDuration;

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::stream;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::cookies::GUEST_COOKIE;
use super::error::ApiError;
use super::room_api::{ChatJson, StageJson, member_view_json, stage_json_of};
use crate::crypto::{hex, hex_decode, is_token_shaped};
use crate::domain::media::{Media, MediaId};
use crate::domain::room::{EntryStatus, GuestLobby, HEARTBEAT};
use crate::domain::time::Timestamp;
use crate::service::Tool;
use crate::service::failure::Kind;
use crate::service::guest_links::{self, GuestPage};
use crate::service::live::{FeedState, RoomSnapshot, StreamSlot};
use crate::service::media_files;
use crate::service::rooms::{self, GuestInRoom, MemberRoom};
use crate::store::rooms::ChatRow;

/// What a ticket is sealed for.
const TICKET_CONTEXT: &str = "guestlink room stream ticket v1";

/// The address of a member's event stream for `media`, with a ticket for
/// the session whose hash is `session_hash`.
pub fn member_events_url(tool: &Tool, media: &Media, session_hash: &str) -> String {
    let mut plain = hex_decode(session_hash).unwrap_or_default();
    plain.extend_from_slice(media.id.as_str().as_bytes());
    let ticket = tool.sealer.seal_token(TICKET_CONTEXT, &plain);
    format!("/media/{}/events?ticket={ticket}", media.id)
}

/// The session hash a ticket for `media` carries, if it is one the tool made.
fn open_ticket(tool: &Tool, ticket: &str, media: &str) -> Option<String> {
    if ticket.len() > 300 {
        return None;
    }
    let plain = tool.sealer.open_token(TICKET_CONTEXT, ticket).ok()?;
    if plain.len() <= 32 || &plain[32..] != media.as_bytes() {
        return None;
    }
    Some(hex(&plain[..32]))
}

#[derive(Deserialize)]
pub struct StreamQuery {
    ticket: Option<String>,
    last_event_id: Option<String>,
}

/// Where a stream's chat stands: the session and the last message sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Cursor {
    session: String,
    seq: i64,
}

impl Cursor {
    /// `{session}.{seq}`, or `-.0` before any session. None when malformed.
    fn parse(raw: &str) -> Option<Cursor> {
        let (session, seq) = raw.split_once('.')?;
        let seq: i64 = seq.parse().ok().filter(|s| *s >= 0)?;
        if session == "-" {
            return Some(Cursor::default());
        }
        is_token_shaped(session).then(|| Cursor {
            session: session.to_string(),
            seq,
        })
    }

    fn id(&self) -> String {
        if self.session.is_empty() {
            "-.0".into()
        } else {
            format!("{}.{}", self.session, self.seq)
        }
    }
}

fn bad_event_id() -> ApiError {
    ApiError::new(
        Kind::Malformed,
        "bad_event_id",
        "The event id to resume from is not one this tool sent.",
    )
}

/// The cursor a (re)connecting stream resumes from.
fn resume_cursor(req: &HttpRequest, query: &StreamQuery) -> Result<Cursor, ApiError> {
    let header = req
        .headers()
        .get("last-event-id")
        .map(|v| v.to_str().map_err(|_| bad_event_id()))
        .transpose()?;
    match header.or(query.last_event_id.as_deref()) {
        None | Some("") => Ok(Cursor::default()),
        Some(raw) => Cursor::parse(raw).ok_or_else(bad_event_id),
    }
}

/// Who a stream is for.
enum Viewer {
    Member {
        room: MemberRoom,
        session_hash: String,
    },
    Guest {
        guest: GuestInRoom,
        link_token: String,
        /// The guest session's token (their cookie), to check at every
        /// heartbeat that the link still admits a guest still in line.
        session_token: String,
    },
}

/// What a guest's page is sent.
#[derive(Serialize)]
struct GuestJson<'a> {
    lobby: LobbyJson,
    session_running: bool,
    guests_may_chat: bool,
    stage: Option<GuestStageJson<'a>>,
    /// Audio and video, once admitted.
    #[serde(skip_serializing_if = "Option::is_none")]
    av: Option<super::room_api::AvJson<'a>>,
    chat: Vec<ChatJson<'a>>,
    server_now_ms: i64,
}

#[derive(Serialize)]
struct LobbyJson {
    status: &'static str,
    place: usize,
    moderator_present: bool,
    message: &'static str,
}

impl LobbyJson {
    fn of(lobby: GuestLobby, moderator_present: bool) -> LobbyJson {
        LobbyJson {
            status: lobby.as_str(),
            place: match lobby {
                GuestLobby::Waiting { place, .. } => place,
                _ => 0,
            },
            moderator_present,
            message: lobby.message(),
        }
    }
}

#[derive(Serialize)]
struct GuestStageJson<'a> {
    #[serde(flatten)]
    stage: StageJson<'a>,
    url: Option<String>,
}

/// A guest's view of `room`: their place in line, and once admitted the
/// stage (with their own URL for its item) and the chat.
fn guest_view_json(
    tool: &Tool,
    room: &RoomSnapshot,
    (guest, link_token): (&GuestInRoom, &str),
    lobby: GuestLobby,
    chat: &[ChatRow],
) -> String {
    let admitted = lobby == GuestLobby::Admitted;
    let stage = admitted
        .then(|| stage_json_of(room))
        .flatten()
        .map(|stage| GuestStageJson {
            stage,
            url: room.presented.as_ref().and_then(|item| {
                media_files::url_for_guest(tool, item, link_token, &guest.session_hash)
                    .map(|u| u.url)
            }),
        });
    let json = GuestJson {
        lobby: LobbyJson::of(lobby, room.moderator_present()),
        session_running: room.running().is_some(),
        guests_may_chat: room.record.settings.guests_may_chat,
        stage,
        av: admitted.then(|| super::room_api::av_json(room)),
        chat: if admitted {
            chat.iter().map(ChatJson::of).collect()
        } else {
            Vec::new()
        },
        server_now_ms: room.at_ms,
    };
    serde_json::to_string(&json).unwrap_or_default()
}

/// A stream's state between events.
struct Streaming {
    tool: Tool,
    viewer: Viewer,
    feed: watch::Receiver<FeedState>,
    cursor: Cursor,
    /// No event sent yet.
    first: bool,
    /// The feed has a state this stream has not shown.
    pending: bool,
    heartbeat: tokio::time::Interval,
    latest: Option<std::sync::Arc<RoomSnapshot>>,
    /// Who leaves when the stream ends, found out while it runs: the room
    /// session a member is in, or a guest's lobby entry.
    departure: Option<String>,
    /// When this page last said its person is here: their leaving is
    /// recorded only if no other page of theirs spoke since.
    last_heard: Timestamp,
    /// A knock found this guest session denied (in this session or an
    /// earlier one of the room).
    denied: bool,
    /// Which participants list this page has (see `RoomSnapshot::participants_key`).
    participants_sent: Option<u64>,
    /// This stream's place among its person's streams.
    _slot: StreamSlot,
}

impl Drop for Streaming {
    /// The page closed (or its stream was cut): its person leaves, now
    /// rather than when their presence runs out.
    fn drop(&mut self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (Some(left), tool, heard) =
            (self.departure.clone(), self.tool.clone(), self.last_heard)
        else {
            return;
        };
        match &self.viewer {
            Viewer::Member { room, .. } => {
                let member = room.clone();
                runtime.spawn(async move {
                    let _ = rooms::member_left(&tool, &member, &left, heard).await;
                });
            }
            Viewer::Guest { guest, .. } => {
                let media = guest.media.id.clone();
                runtime.spawn(async move {
                    let _ = rooms::guest_away(&tool, &media, &left, heard).await;
                });
            }
        }
    }
}

/// The most bytes a stream hands the server at once. The server flushes
/// its write buffer once it holds [`crate::startup::WRITE_BUFFER_FLUSH`];
/// a piece no larger than its first allocation (8 KiB) never makes it grow,
/// so an open stream keeps only that buffer however large a room's event
/// (a long participants list) is.
const PIECE: usize = 6 * 1024;

/// `bytes` in pieces of at most [`PIECE`] (views of one buffer, not copies).
fn in_pieces(mut bytes: Bytes) -> VecDeque<Bytes> {
    let mut pieces = VecDeque::with_capacity(bytes.len() / PIECE + 1);
    while bytes.len() > PIECE {
        pieces.push_back(bytes.split_to(PIECE));
    }
    pieces.push_back(bytes);
    pieces
}

/// One SSE event.
fn event(id: &str, data: &str) -> Bytes {
    Bytes::from(format!("id: {id}\nevent: room\ndata: {data}\n\n"))
}

impl Streaming {
    /// The chat messages of `room` this stream has not sent, reading past
    /// the snapshot's tail when a reconnect missed more than it holds.
    async fn unsent_chat(&mut self, room: &RoomSnapshot) -> Vec<ChatRow> {
        let Some(session) = room.record.session.as_ref() else {
            self.cursor = Cursor::default();
            return Vec::new();
        };
        if self.cursor.session != session.id {
            self.cursor = Cursor {
                session: session.id.clone(),
                seq: 0,
            };
        }
        let after = self.cursor.seq;
        let tail_starts = room.record.chat.first().map_or(i64::MAX, |m| m.seq);
        let unsent: Vec<ChatRow> = if after > 0 && tail_starts > after.saturating_add(1) {
            rooms::chat_after(&self.tool, &session.id, after)
                .await
                .unwrap_or_default()
        } else {
            room.record
                .chat
                .iter()
                .filter(|m| m.seq > after)
                .cloned()
                .collect()
        };
        if let Some(last) = unsent.last() {
            self.cursor.seq = last.seq;
        }
        unsent
    }

    /// The event for the snapshot `room`.
    async fn render(&mut self, room: std::sync::Arc<RoomSnapshot>) -> Bytes {
        let chat = self.unsent_chat(&room).await;
        let data = match &self.viewer {
            Viewer::Member {
                room: member,
                session_hash,
            } => {
                // The participants list goes only to a page that does not
                // have this one: in a large room it is most of an event.
                let key = room.participants_key();
                let with_participants = self.participants_sent != Some(key);
                self.participants_sent = Some(key);
                member_view_json(
                    &self.tool,
                    &room,
                    (member, session_hash),
                    with_participants,
                    &chat,
                )
            }
            Viewer::Guest {
                guest, link_token, ..
            } => {
                let lobby = if self.denied {
                    GuestLobby::Denied
                } else {
                    rooms::guest_sees(&room, &guest.session_hash)
                };
                guest_view_json(&self.tool, &room, (guest, link_token), lobby, &chat)
            }
        };
        self.latest = Some(room);
        event(&self.cursor.id(), &data)
    }

    /// The page is still open: its person stays present (a waiting guest
    /// keeps their place, a member stays among the participants).
    async fn beat(&mut self) {
        let Some(room) = self.latest.clone() else {
            return;
        };
        let Some(session) = room.running() else {
            return;
        };
        match &self.viewer {
            Viewer::Member { room: member, .. } => {
                if let Ok(true) = rooms::member_present(&self.tool, member, &session.id).await {
                    self.departure = Some(session.id.clone());
                    self.last_heard = self.tool.clock.now();
                }
            }
            Viewer::Guest { guest, .. } => {
                let policy = room.record.settings.lobby_policy;
                if let Ok(entry) =
                    rooms::knock_on(&self.tool, guest, &session.id, policy, false).await
                {
                    self.denied = entry.status == EntryStatus::Denied.as_str();
                    self.departure = Some(entry.id);
                    self.last_heard = self.tool.clock.now();
                }
            }
        }
    }

    /// Whether the stream's credential still holds: a member's launch
    /// session lives; a guest still in line (or not yet in it) has a guest
    /// session on a link that admits. An admitted guest stays until they
    /// reload or leave, whatever the link (as the guest-link rules say).
    async fn still_allowed(&self) -> bool {
        match &self.viewer {
            // A database that is away ends the stream too: the page reconnects.
            Viewer::Member { session_hash, .. } => {
                matches!(
                    rooms::member_session_lives(&self.tool, session_hash).await,
                    Ok(true)
                )
            }
            Viewer::Guest {
                guest,
                link_token,
                session_token,
            } => {
                let admitted = self.latest.as_ref().is_some_and(|room| {
                    rooms::guest_sees(room, &guest.session_hash) == GuestLobby::Admitted
                });
                admitted
                    || matches!(
                        guest_links::view(&self.tool, link_token, Some(session_token)).await,
                        Ok(GuestPage::View { .. })
                    )
            }
        }
    }

    /// Whether this page should say it is here before showing `room`: a
    /// guest not (or no longer) in the running session's line knocks as
    /// soon as it runs; a member's reloaded page takes them back in.
    fn needs_knock(&self, room: &RoomSnapshot, first: bool) -> bool {
        if room.running().is_none() {
            return false;
        }
        match &self.viewer {
            Viewer::Member { .. } => first,
            Viewer::Guest { guest, .. } => rooms::entry_of(room, &guest.session_hash)
                .is_none_or(|e| e.status_at(room.limits, room.at) == EntryStatus::Left),
        }
    }

    fn feed_media(&self) -> &str {
        match &self.viewer {
            Viewer::Member { room, .. } => room.media.id.as_str(),
            Viewer::Guest { guest, .. } => guest.media.id.as_str(),
        }
    }

    /// Notes who would leave if the stream ended now (a knock or a join
    /// this stream made itself may not be in `room` yet: it is kept).
    fn note_presence(&mut self, room: &RoomSnapshot) {
        let Some(session) = room.running() else {
            self.departure = None;
            return;
        };
        match &self.viewer {
            Viewer::Member { room: member, .. } => {
                let joined = member
                    .user_id()
                    .is_some_and(|u| room.present().any(|p| p.user_id == u));
                if joined {
                    self.departure = Some(session.id.clone());
                }
            }
            Viewer::Guest { guest, .. } => {
                if let Some(entry) = rooms::entry_of(room, &guest.session_hash) {
                    self.departure = Some(entry.id.clone());
                }
            }
        }
    }

    /// The next bytes of the stream, or None to end it.
    async fn next(&mut self) -> Option<Bytes> {
        loop {
            if std::mem::take(&mut self.pending) {
                let state = self.feed.borrow_and_update().clone();
                match state {
                    FeedState::Ready(room) => {
                        let was_first = std::mem::replace(&mut self.first, false);
                        self.latest = Some(room.clone());
                        if self.needs_knock(&room, was_first) {
                            // A knock puts a guest in line: only while their
                            // link admits them.
                            if !self.still_allowed().await {
                                return None;
                            }
                            self.beat().await;
                            // This snapshot is from before the knock (and on
                            // PostgreSQL a knock that found its entry already
                            // made announces nothing): read the room again.
                            self.tool.rooms.changed(room.media.as_str());
                        }
                        self.note_presence(&room);
                        let mut bytes = self.render(room).await;
                        if was_first {
                            bytes = [Bytes::from_static(b"retry: 2000\n\n"), bytes]
                                .concat()
                                .into();
                        }
                        return Some(bytes);
                    }
                    // The database is away: the page says it is
                    // reconnecting and opens the stream again; the feed
                    // tries again for it.
                    FeedState::Unavailable => {
                        self.tool.rooms.changed(self.feed_media());
                        return None;
                    }
                    FeedState::Loading => {}
                }
            }
            tokio::select! {
                changed = self.feed.changed() => {
                    if changed.is_err() {
                        return None;
                    }
                    // `changed` marked the new state seen: take it.
                    self.pending = true;
                }
                _ = self.heartbeat.tick() => {
                    if !self.still_allowed().await {
                        return None;
                    }
                    self.beat().await;
                    return Some(Bytes::from_static(b": still here\n\n"));
                }
            }
        }
    }
}

/// The most event streams one person (a launch session, a guest session)
/// may have open on an instance: a few tabs, not a flood.
const MOST_STREAMS_PER_PERSON: usize = 8;

fn sse(
    tool: &Tool,
    viewer: Viewer,
    media: &MediaId,
    cursor: Cursor,
) -> Result<HttpResponse, ApiError> {
    let person = match &viewer {
        Viewer::Member { session_hash, .. } => format!("member:{session_hash}"),
        Viewer::Guest { guest, .. } => format!("guest:{}", guest.session_hash),
    };
    let slot = tool
        .rooms
        .open_stream(&person, MOST_STREAMS_PER_PERSON)
        .ok_or_else(|| {
            ApiError::new(
                Kind::TooMany,
                "too_many_streams",
                "This room is open in too many tabs. Close some and reload.",
            )
        })?;
    let feed = tool.rooms.follow(tool, media);
    let period = StdDuration::from_secs(HEARTBEAT.whole_seconds() as u64);
    let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let state = Streaming {
        tool: tool.clone(),
        viewer,
        feed,
        cursor,
        first: true,
        pending: true,
        heartbeat,
        latest: None,
        departure: None,
        last_heard: tool.clock.now(),
        denied: false,
        participants_sent: None,
        _slot: slot,
    };
    let body = stream::unfold(
        (state, VecDeque::new()),
        |(mut state, mut pieces)| async move {
            if pieces.is_empty() {
                pieces = in_pieces(state.next().await?);
            }
            let piece = pieces.pop_front()?;
            Some((Ok::<_, actix_web::Error>(piece), (state, pieces)))
        },
    );
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/event-stream"))
        .insert_header((CACHE_CONTROL, "no-store"))
        // Proxies (nginx) would otherwise hold events back in their buffers.
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body))
}

fn ticket_refused() -> ApiError {
    ApiError::new(
        Kind::Forbidden,
        "ticket_invalid",
        "This event stream's ticket is not valid for this room; reload the page.",
    )
}

/// GET /media/{id}/events?ticket=: a member's stream of the room.
pub async fn member_events(
    tool: web::Data<Tool>,
    req: HttpRequest,
    id: web::Path<String>,
    query: web::Query<StreamQuery>,
) -> Result<HttpResponse, ApiError> {
    let cursor = resume_cursor(&req, &query)?;
    let ticket = query.ticket.as_deref().unwrap_or_default();
    let session_hash = open_ticket(&tool, ticket, &id).ok_or_else(ticket_refused)?;
    let room = rooms::member_room_by_hash(&tool, &session_hash, &id)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                Kind::Unauthenticated,
                "session_ended",
                "Your session has ended. Open the tool again from your course.",
            )
        })?;
    let media = room.media.id.clone();
    let viewer = Viewer::Member { room, session_hash };
    sse(&tool, viewer, &media, cursor)
}

/// GET /g/{token}/events: a guest's stream of the room their link opens.
pub async fn guest_events(
    tool: web::Data<Tool>,
    req: HttpRequest,
    token: web::Path<String>,
    query: web::Query<StreamQuery>,
) -> Result<HttpResponse, ApiError> {
    let cursor = resume_cursor(&req, &query)?;
    let session = req.cookie(GUEST_COOKIE).map(|c| c.value().to_string());
    let page = guest_links::view(&tool, &token, session.as_deref())
        .await
        .map_err(|e| ApiError::of(&e))?;
    let GuestPage::View { media, guest } = page else {
        return Err(ApiError::new(
            Kind::Forbidden,
            "guest_session_required",
            "Open the guest link again to follow this room.",
        ));
    };
    let id = media.id.clone();
    let guest = GuestInRoom::new(media, guest)?;
    let viewer = Viewer::Guest {
        guest,
        link_token: token.into_inner(),
        session_token: session.unwrap_or_default(),
    };
    sse(&tool, viewer, &id, cursor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_event_goes_out_in_pieces_that_join_back() {
        let event = Bytes::from(vec![b'x'; PIECE * 2 + 10]);
        let pieces = in_pieces(event.clone());
        assert_eq!(pieces.len(), 3);
        assert!(pieces.iter().all(|p| p.len() <= PIECE));
        let joined: Vec<u8> = pieces.iter().flat_map(|p| p.iter().copied()).collect();
        assert_eq!(joined, event.to_vec());
        assert_eq!(in_pieces(Bytes::from_static(b"small")).len(), 1);
    }

    #[test]
    fn event_ids_read_back_and_malformed_ones_are_refused() {
        let cursor = Cursor {
            session: "abcdefghijklmnopqrstuv".into(),
            seq: 42,
        };
        assert_eq!(Cursor::parse(&cursor.id()), Some(cursor));
        assert_eq!(Cursor::parse("-.0"), Some(Cursor::default()));
        for bad in ["", "42", "x.y", "abc.-1", "a b.1", "-.", ".5"] {
            assert_eq!(Cursor::parse(bad), None, "{bad}");
        }
    }
}
