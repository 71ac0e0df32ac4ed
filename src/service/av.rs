//! Audio and video in live rooms, on Janus (README.md "Audio and video"):
//! each running session gets a private VideoRoom room on one of the
//! configured media servers, made when the session starts and destroyed
//! when it ends. Without media servers, or while the session's server does
//! not answer, rooms keep their stage and chat and say so.
//!
//! A room's secret is not stored: it is the tool's MAC of the session, so
//! every instance (they share the URL key) can act on the room, and a copy
//! of the database does not hold it.

use crate::crypto::random_u64;
use crate::domain::media::MediaId;
use crate::janus::{JanusError, RoomSpec};
use crate::store::rooms as store;

use super::Tool;

/// The most people publishing at once in one session's room.
pub const MOST_PUBLISHERS: u32 = 16;

/// Where audio and video stand for a session, as its pages show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AvState {
    /// No media server is configured: rooms have stage and chat only.
    NotSetUp,
    /// Configured, but the session has no media room (no session runs, or
    /// its server did not answer when it started).
    Unavailable,
    /// The session's room, on the server browsers reach at `public`.
    Ready { public: String, room: i64 },
}

impl AvState {
    pub fn as_str(&self) -> &'static str {
        match self {
            AvState::NotSetUp => "not_set_up",
            AvState::Unavailable => "unavailable",
            AvState::Ready { .. } => "ready",
        }
    }

    pub fn message(&self) -> &'static str {
        match self {
            AvState::NotSetUp => {
                "Audio and video are not set up for this tool: the stage and the chat work."
            }
            AvState::Unavailable => {
                "Audio and video are unavailable: the media server did not answer. The stage and the chat work."
            }
            AvState::Ready { .. } => "",
        }
    }
}

/// Whether media servers are configured.
pub fn configured(tool: &Tool) -> bool {
    !tool.settings.janus.servers.is_empty()
}

/// The state of audio and video for a session row (None: no session).
pub fn state_of(tool: &Tool, session: Option<&store::SessionRow>) -> AvState {
    if !configured(tool) {
        return AvState::NotSetUp;
    }
    let placed = session.and_then(|s| Some((s.janus_api.as_deref()?, s.janus_room?)));
    let server = placed.and_then(|(api, room)| {
        tool.settings
            .janus
            .servers
            .iter()
            .find(|s| s.api == api)
            .map(|s| (s.public.clone(), room))
    });
    match server {
        Some((public, room)) => AvState::Ready { public, room },
        None => AvState::Unavailable,
    }
}

/// The secret of a session's media room: the tool's MAC of the session.
pub fn room_secret(tool: &Tool, session: &str) -> String {
    tool.url_key.sign(&format!("janus-room|{session}"))
}

/// A room number browsers keep exact (below 2^53), never 0.
fn room_number() -> u64 {
    (random_u64() % ((1 << 53) - 1)) + 1
}

/// Gives a session that just started its media room, on one of the media
/// servers (tried in turn from a random one): recorded with the session,
/// or, if none answers, the session runs without one (a warning is logged).
pub async fn open_room(tool: &Tool, media: &MediaId, session: &str) {
    let servers = &tool.settings.janus.servers;
    if servers.is_empty() {
        return;
    }
    let spec = RoomSpec {
        room: room_number(),
        secret: room_secret(tool, session),
        publishers: MOST_PUBLISHERS,
    };
    let first = (spec.room as usize) % servers.len();
    for i in 0..servers.len() {
        let server = &servers[(first + i) % servers.len()];
        match tool.janus.create_room(&server.api, &spec).await {
            Ok(()) => {
                let (media_id, session_id, api) =
                    (media.clone(), session.to_string(), server.api.clone());
                let number = spec.room as i64;
                let recorded = tool
                    .db
                    .write(move |conn| {
                        store::set_media_room(conn, &media_id, &session_id, Some((&api, number)))
                    })
                    .await;
                super::live::changed_here(tool, media);
                match recorded {
                    Ok(()) => {
                        tracing::info!(media = %media, session = %session, server = i, "media room created")
                    }
                    Err(e) => tracing::warn!(error = %e, "a media room could not be recorded"),
                }
                return;
            }
            Err(e) => log_problem(&e, "creating a media room"),
        }
    }
    tracing::warn!(media = %media, session = %session, "no media server answered: the session runs without audio and video");
}

/// Destroys an ended session's media room (best effort: a server that
/// lost it, by a restart, has nothing to destroy).
pub async fn close_room(tool: &Tool, session: &store::SessionRow) {
    let (Some(api), Some(room)) = (session.janus_api.as_deref(), session.janus_room) else {
        return;
    };
    let secret = room_secret(tool, &session.id);
    match tool.janus.destroy_room(api, room as u64, &secret).await {
        Ok(()) => tracing::info!(session = %session.id, "media room destroyed"),
        Err(e) => log_problem(&e, "destroying a media room"),
    }
}

fn log_problem(e: &JanusError, doing: &str) {
    tracing::warn!(problem = %e, "{doing} failed");
}

/// Checks at start that the media servers answer; one that does not is a
/// warning, never a reason not to start.
pub async fn check_servers(tool: &Tool) {
    for (i, server) in tool.settings.janus.servers.iter().enumerate() {
        if let Err(e) = tool.janus.ping(&server.api).await {
            tracing::warn!(server = i, problem = %e, "media server {i} ({}) does not answer: rooms show audio and video as unavailable until it does", server.api);
        }
    }
}
