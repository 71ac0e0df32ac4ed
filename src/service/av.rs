//! Audio and video in live rooms, on Janus (README.md "Audio and video"):
//! each running session gets a private VideoRoom room on one of the
//! configured media servers, made when the session starts and destroyed
//! when it ends. Without media servers, or while the session's server does
//! not answer, rooms keep their stage and chat and say so.
//!
//! A room's secret is not stored: it is the tool's MAC of the session, so
//! every instance (they share the URL key) can act on the room, and a copy
//! of the database does not hold it.

use super::Tool;
use super::failure::{Failure, Fault, Kind};
use super::live::RoomSnapshot;
use super::rooms::{GuestInRoom, MemberRoom};
use crate::crypto::random_u64;
use crate::domain::media::MediaId;
use crate::domain::room::{EntryStatus, RoomAction, RoomRole};
use crate::janus::{JanusError, RoomSpec};
use crate::store::rooms as store;

/// The most people publishing at once in one session's room.
pub const MOST_PUBLISHERS: u32 = 16;

/// How often every instance holds the media rooms to the rules.
pub const ENFORCE_EVERY: std::time::Duration = std::time::Duration::from_secs(3);

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

/// A session's room number: derived from the session by the tool's key, so
/// every instance that makes the session's room makes the same one (Janus
/// answers "exists" to the second); below 2^53, so browsers keep it exact,
/// and never 0.
pub fn room_number(tool: &Tool, session: &str) -> u64 {
    let tag = tool.url_key.sign(&format!("janus-room-number|{session}"));
    let n = tag.bytes().fold(0u64, |n, b| {
        n.wrapping_mul(1_099_511_628_211).wrapping_add(u64::from(b))
    });
    (n % ((1 << 53) - 1)) + 1
}

/// Gives a running session its media room, on one of the media servers
/// (tried in turn from one the session picks): recorded with the session,
/// or, if none answers, the session runs without one (a warning is logged,
/// and the rooms' check tries again). A room made for a session that ended
/// meanwhile is destroyed again.
pub async fn open_room(tool: &Tool, media: &MediaId, session: &str) {
    let servers = &tool.settings.janus.servers;
    if servers.is_empty() {
        return;
    }
    let spec = RoomSpec {
        room: room_number(tool, session),
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
                        store::set_media_room(conn, &media_id, &session_id, (&api, number))
                    })
                    .await;
                super::live::changed_here(tool, media);
                match recorded {
                    Ok(true) => {
                        tracing::info!(media = %media, session = %session, server = i, "media room created")
                    }
                    // Another instance recorded this room first, or the
                    // session ended: a room not recorded must not live on.
                    Ok(false) => {
                        let id = session.to_string();
                        let now = tool
                            .db
                            .read(move |conn| store::media_room_of(conn, &id))
                            .await;
                        let ours = matches!(&now, Ok(Some((api, room, true))) if *api == server.api && *room == number);
                        if !ours {
                            destroy(tool, &server.api, spec.room, session).await;
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "a media room could not be recorded"),
                }
                return;
            }
            Err(e) => log_problem(&e, "creating a media room"),
        }
    }
    tracing::warn!(media = %media, session = %session, "no media server answered: the session runs without audio and video for now");
}

async fn destroy(tool: &Tool, api: &str, room: u64, session: &str) {
    match tool
        .janus
        .destroy_room(api, room, &room_secret(tool, session))
        .await
    {
        Ok(()) => tracing::info!(session = %session, "media room destroyed"),
        Err(e) => log_problem(&e, "destroying a media room"),
    }
}

/// Destroys an ended session's media room, as recorded now (best effort:
/// a server that lost it, by a restart, has nothing to destroy).
pub async fn close_room(tool: &Tool, session: &str) {
    let id = session.to_string();
    match tool
        .db
        .read(move |conn| store::media_room_of(conn, &id))
        .await
    {
        Ok(Some((api, room, _))) => destroy(tool, &api, room as u64, session).await,
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "a media room could not be read"),
    }
}

/// The media rooms of a room's running sessions: (session, api, number).
/// Nothing is read without media servers.
pub async fn media_rooms_of(tool: &Tool, media: &MediaId) -> Vec<(String, String, i64)> {
    if !configured(tool) {
        return Vec::new();
    }
    let id = media.clone();
    tool.db
        .read(move |conn| store::running_media_rooms_of(conn, &id))
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "media rooms could not be read");
            Vec::new()
        })
}

/// Destroys media rooms read by [`media_rooms_of`] (their room was deleted).
pub async fn close_media_rooms(tool: &Tool, rooms: Vec<(String, String, i64)>) {
    for (session, api, room) in rooms {
        destroy(tool, &api, room as u64, &session).await;
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

// ---- Passes: who may join the media room, and who may publish ----------

/// Why a pass into the media room was refused.
#[derive(Debug, thiserror::Error)]
pub enum AvError {
    #[error("Audio and video are not set up for this tool.")]
    NotSetUp,
    #[error("Audio and video are unavailable: the media server did not answer.")]
    Unavailable,
    #[error("Join the session first.")]
    NotInSession,
    #[error("You were removed from this session's audio and video.")]
    Barred,
    #[error("Only a moderator may do this.")]
    Forbidden,
    #[error("There is no such person in this session's audio and video.")]
    NoSuchParticipant,
    #[error(transparent)]
    Fault(#[from] Fault),
}

crate::faults_from_store!(AvError);

impl Failure for AvError {
    fn code(&self) -> &'static str {
        match self {
            AvError::NotSetUp => "av_not_set_up",
            AvError::Unavailable => "av_unavailable",
            AvError::NotInSession => "not_in_session",
            AvError::Barred => "av_barred",
            AvError::Forbidden => "forbidden",
            AvError::NoSuchParticipant => "not_found",
            AvError::Fault(f) => f.code(),
        }
    }

    fn kind(&self) -> Kind {
        match self {
            AvError::NotSetUp | AvError::NotInSession => Kind::Conflict,
            AvError::Barred | AvError::Forbidden => Kind::Forbidden,
            AvError::NoSuchParticipant => Kind::NotFound,
            AvError::Unavailable => Kind::Unavailable,
            AvError::Fault(f) => f.kind(),
        }
    }

    fn message(&self) -> String {
        self.to_string()
    }
}

/// What a page joins the media room with: the server (as browsers reach
/// it), the room, its own participant id and token, and whether it may
/// publish its camera and microphone.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Pass {
    pub server: String,
    pub room: i64,
    pub participant_id: i64,
    pub token: String,
    pub publish: bool,
    /// The name the page shows the room (the tool's record of the person).
    pub display: String,
}

/// A person's token for the media room: the tool's MAC of the session, the
/// person and their pass's participant id (never stored).
fn token_for(tool: &Tool, session: &str, person: &str, participant_id: i64) -> String {
    tool.url_key
        .sign(&format!("janus-token|{session}|{person}|{participant_id}"))
}

/// A running session's media room as a pass names it.
struct SessionMediaRoom {
    session: String,
    api: String,
    number: i64,
    /// The server as browsers reach it.
    public: String,
}

/// The room as it is now, and its running session's media room.
async fn with_media_room(
    tool: &Tool,
    media: &MediaId,
) -> Result<(RoomSnapshot, SessionMediaRoom), AvError> {
    let room = super::live::load(tool, media).await.map_err(Fault::from)?;
    let session = room.running().ok_or(AvError::NotInSession)?;
    let found = match (&room.av, &session.janus_api) {
        (AvState::NotSetUp, _) => return Err(AvError::NotSetUp),
        (
            AvState::Ready {
                public,
                room: number,
            },
            Some(api),
        ) => SessionMediaRoom {
            session: session.id.clone(),
            api: api.clone(),
            number: *number,
            public: public.clone(),
        },
        _ => return Err(AvError::Unavailable),
    };
    Ok((room, found))
}

/// A member in the session (they joined, and their page is there): a pass;
/// moderators and speakers may publish.
pub async fn member_pass(tool: &Tool, member: &MemberRoom) -> Result<Pass, AvError> {
    let (room, at) = with_media_room(tool, &member.media.id).await?;
    let user = member.user_id().ok_or(AvError::NotInSession)?;
    let participant = room
        .present()
        .find(|p| p.user_id == user)
        .ok_or(AvError::NotInSession)?;
    let who = Holder {
        person: format!("m{user}"),
        display: participant.name.clone(),
        may_publish: may_publish(participant.role()),
    };
    issue(tool, at, who).await
}

/// An admitted guest: a pass to watch and listen.
pub async fn guest_pass(tool: &Tool, guest: &GuestInRoom) -> Result<Pass, AvError> {
    let (room, at) = with_media_room(tool, &guest.media.id).await?;
    let entry = room
        .entries()
        .find(|(e, status)| {
            e.guest_session_hash == guest.session_hash && *status == EntryStatus::Admitted
        })
        .map(|(e, _)| e)
        .ok_or(AvError::NotInSession)?;
    let who = Holder {
        person: format!("g{}", entry.id),
        display: entry.name.clone(),
        may_publish: false,
    };
    issue(tool, at, who).await
}

/// Who a pass is for.
struct Holder {
    /// `m` and a member's user id, or `g` and a guest's lobby entry id.
    person: String,
    display: String,
    may_publish: bool,
}

// ---- A moderator's controls ------------------------------------------------

/// Mute all: every publishing page but the moderator's own mutes its
/// microphone (each may unmute again, as in any meeting).
pub async fn mute_all(tool: &Tool, member: &MemberRoom) -> Result<(), AvError> {
    if !crate::domain::room::may(member.role, RoomAction::ModerateMedia) {
        return Err(AvError::Forbidden);
    }
    let (room, _) = with_media_room(tool, &member.media.id).await?;
    let session = room.running().ok_or(AvError::NotInSession)?.id.clone();
    let media = member.media.id.clone();
    tool.db
        .write(move |conn| store::mute_all(conn, &media, &session))
        .await
        .map_err(Fault::from)?;
    super::live::changed_here(tool, &member.media.id);
    Ok(())
}

/// Puts the holder of `participant_id` out of the session's audio and
/// video for the rest of the session (they keep the stage and the chat).
pub async fn remove_participant(
    tool: &Tool,
    member: &MemberRoom,
    participant_id: i64,
) -> Result<(), AvError> {
    if !crate::domain::room::may(member.role, RoomAction::ModerateMedia) {
        return Err(AvError::Forbidden);
    }
    let (_, at) = with_media_room(tool, &member.media.id).await?;
    let session = at.session.clone();
    let pass = tool
        .db
        .read(move |conn| store::pass_of_participant(conn, &session, participant_id))
        .await
        .map_err(Fault::from)?
        .ok_or(AvError::NoSuchParticipant)?;
    bar(tool, &at.session, (&at.api, at.number), &pass).await?;
    tracing::info!(session = %at.session, "a moderator removed someone from a media room");
    Ok(())
}

/// Withdraws `person`'s pass at once (they left, or were removed): the
/// rooms' check would within seconds, this is so nobody waits for it.
pub async fn withdraw_person(tool: &Tool, session: &store::SessionRow, person: &str) {
    let (Some(api), Some(number)) = (session.janus_api.as_deref(), session.janus_room) else {
        return;
    };
    let id = session.id.clone();
    let Ok(passes) = tool.db.read(move |conn| store::passes(conn, &id)).await else {
        return;
    };
    for pass in passes.iter().filter(|p| p.person == person) {
        if let Err(e) = withdraw(tool, &session.id, api, number, pass).await {
            tracing::warn!(error = %e, "a media pass could not be withdrawn");
        }
    }
}

// ---- What the media server reports (its event handler) -------------------

/// One thing a media server reported about a room's participant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reported {
    /// Joined as participant `id` with `token` (Janus's VideoRoom `joined`
    /// event).
    Joined { room: u64, id: u64, token: String },
    /// Participant `id` started publishing.
    Published { room: u64, id: u64 },
}

/// Holds a reported join or publication to the rules at once (the rooms'
/// check would only within seconds, and could not tell whose token was
/// used): a participant must have joined with the token of the pass that
/// holds its id, and publish only if that pass may. Anyone else is put
/// out; a pass whose token was used under another id, or that published
/// without the right, is barred for the session.
pub async fn vet(tool: &Tool, reported: Reported) -> Result<(), AvError> {
    let (number, id) = match &reported {
        Reported::Joined { room, id, .. } | Reported::Published { room, id } => (*room, *id),
    };
    let Ok(number_db) = i64::try_from(number) else {
        return Ok(());
    };
    // A running session's room (another tool's, or an ended one's, is not
    // ours to police).
    let Some((session, api)) = tool
        .db
        .read(move |conn| store::session_of_media_room(conn, number_db))
        .await
        .map_err(Fault::from)?
    else {
        return Ok(());
    };
    let at = (api.as_str(), number_db);
    let id_session = session.clone();
    let passes = tool
        .db
        .read(move |conn| store::passes(conn, &id_session))
        .await
        .map_err(Fault::from)?;
    let holder = passes.iter().find(|p| p.participant_id as u64 == id);
    let rightful = match (&reported, holder) {
        (Reported::Joined { token, .. }, Some(pass)) => crate::crypto::secrets_equal(
            token,
            &token_for(tool, &session, &pass.person, pass.participant_id),
        ),
        (Reported::Published { .. }, Some(pass)) => pass.may_publish,
        (_, None) => false,
    };
    if rightful {
        return Ok(());
    }
    // Whose pass was misused: the one holding the id (publishing without
    // the right), or the one whose token joined under another id.
    let misused = match &reported {
        Reported::Published { .. } => holder,
        Reported::Joined { token, .. } => passes.iter().find(|p| {
            crate::crypto::secrets_equal(
                token,
                &token_for(tool, &session, &p.person, p.participant_id),
            )
        }),
    };
    if let Some(pass) = misused {
        bar(tool, &session, at, pass).await?;
        tracing::warn!(session = %session, "a pass was misused in a media room; its holder is barred for the session");
    }
    kick(tool, &session, at, id).await;
    Ok(())
}

fn may_publish(role: RoomRole) -> bool {
    matches!(role, RoomRole::Moderator | RoomRole::Speaker)
}

/// Issues `person` a new pass: their token joins the room's allowed list,
/// and the pass it replaces is withdrawn (its token removed, its
/// participant put out).
async fn issue(tool: &Tool, at: SessionMediaRoom, who: Holder) -> Result<Pass, AvError> {
    let SessionMediaRoom {
        session,
        api,
        number,
        public,
    } = at;
    let (session, api) = (session.as_str(), api.as_str());
    let pass = store::PassRow {
        person: who.person,
        participant_id: ((random_u64() % ((1 << 53) - 1)) + 1) as i64,
        may_publish: who.may_publish,
        issued_at: tool.clock.now(),
        seen: false,
    };
    // Recorded first, so the rooms' check never takes the new holder for a
    // stranger; then its token goes on the room's list.
    let (session_id, row) = (session.to_string(), pass.clone());
    let issued = tool
        .db
        .write(move |conn| store::issue_pass(conn, &session_id, &row))
        .await
        .map_err(Fault::from)?;
    let replaced = match issued {
        store::Issued::Barred => return Err(AvError::Barred),
        store::Issued::Replacing(old) => old,
    };
    let token = token_for(tool, session, &pass.person, pass.participant_id);
    if let Err(e) = allow_token(tool, session, (api, number), &token, true).await {
        log_problem(&e, "allowing a token");
        let (session_id, row) = (session.to_string(), pass.clone());
        let _ = tool
            .db
            .write(move |conn| store::drop_pass(conn, &session_id, &row))
            .await;
        return Err(AvError::Unavailable);
    }
    if let Some(old) = replaced.filter(|old| *old != pass.participant_id) {
        let stale = store::PassRow {
            participant_id: old,
            ..pass.clone()
        };
        withdraw_in_janus(tool, session, api, number, &stale).await;
    }
    Ok(Pass {
        server: public,
        room: number,
        participant_id: pass.participant_id,
        token,
        publish: pass.may_publish,
        display: who.display,
    })
}

/// Puts one token on the session's media room's list, or takes it off.
async fn allow_token(
    tool: &Tool,
    session: &str,
    (api, number): (&str, i64),
    token: &str,
    add: bool,
) -> Result<(), JanusError> {
    let secret = room_secret(tool, session);
    tool.janus
        .allow(api, number as u64, &secret, add, &[token.to_string()])
        .await
}

/// Takes a pass's token off the room's list and puts its participant out.
async fn withdraw_in_janus(
    tool: &Tool,
    session: &str,
    api: &str,
    number: i64,
    pass: &store::PassRow,
) {
    let token = token_for(tool, session, &pass.person, pass.participant_id);
    if let Err(e) = allow_token(tool, session, (api, number), &token, false).await {
        log_problem(&e, "withdrawing a token");
    }
    kick(tool, session, (api, number), pass.participant_id as u64).await;
}

/// Puts participant `id` out of the session's media room; whether it was
/// there (one not in the room, never joined or gone, needs nothing).
async fn kick(tool: &Tool, session: &str, (api, number): (&str, i64), id: u64) -> bool {
    let secret = room_secret(tool, session);
    match tool.janus.kick(api, number as u64, &secret, id).await {
        Ok(()) => true,
        Err(JanusError::Refused { code: 428, .. }) => false,
        Err(e) => {
            log_problem(&e, "kicking a participant");
            false
        }
    }
}

/// Bars `pass`'s holder for the session (recorded first, so no new pass
/// is issued), then withdraws the pass in the media room.
async fn bar(
    tool: &Tool,
    session: &str,
    (api, number): (&str, i64),
    pass: &store::PassRow,
) -> Result<(), AvError> {
    let (id, row) = (session.to_string(), pass.clone());
    tool.db
        .write(move |conn| store::bar(conn, &id, &row))
        .await
        .map_err(Fault::from)?;
    withdraw_in_janus(tool, session, api, number, pass).await;
    Ok(())
}

/// Holds every running media room to the tool's rules (every instance does
/// this every few seconds; the calls are idempotent): a session without a
/// media room gets one once a server answers, a room its server lost is
/// made again, passes of people no longer in the session (or no longer
/// allowed to publish) are withdrawn, and anyone in the room without a
/// valid pass, or publishing without the right to, is put out.
pub async fn enforce_all(tool: &Tool) {
    if !configured(tool) {
        return;
    }
    // Sessions that started while no media server answered get their room
    // as soon as one does.
    match tool.db.read(store::running_without_media_room).await {
        Ok(waiting) => {
            for (media, session) in waiting {
                if let Some(media) = MediaId::parse(&media) {
                    open_room(tool, &media, &session).await;
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "sessions without a media room could not be read"),
    }
    let rooms = match tool.db.read(store::running_media_rooms).await {
        Ok(rooms) => rooms,
        Err(e) => {
            tracing::warn!(error = %e, "media rooms could not be read");
            return;
        }
    };
    for (media, session, api, number) in rooms {
        let Some(media) = MediaId::parse(&media) else {
            continue;
        };
        // One slow server holds up its own room's check only so long.
        match tokio::time::timeout(
            ROOM_CHECK_LIMIT,
            enforce(tool, &media, &session, &api, number),
        )
        .await
        {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(error = %e, session = %session, "a media room could not be checked")
            }
            Err(_) => tracing::warn!(session = %session, "checking a media room took too long"),
        }
    }
}

/// The longest one room's check may take.
const ROOM_CHECK_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Passes issued this recently are left alone: their holder may have come
/// after the room was read.
const NEW_PASS: crate::domain::time::Duration = crate::domain::time::Duration::seconds(5);

/// Whether `session` still runs with the media room `number` on `api`.
async fn still_ours(tool: &Tool, session: &str, api: &str, number: i64) -> bool {
    let id = session.to_string();
    matches!(
        tool.db.read(move |conn| store::media_room_of(conn, &id)).await,
        Ok(Some((at, room, true))) if at == api && room == number
    )
}

async fn enforce(
    tool: &Tool,
    media: &MediaId,
    session: &str,
    api: &str,
    number: i64,
) -> Result<(), AvError> {
    let secret = room_secret(tool, session);
    // A media server that restarted lost its rooms: the room is made again
    // with its number and secret, and the valid passes' tokens put back
    // (pages reconnect with the passes they hold). Never for a session
    // that ended meanwhile: checked before and after.
    if let Ok(false) = tool.janus.room_exists(api, number as u64).await {
        if !still_ours(tool, session, api, number).await {
            return Ok(());
        }
        let id = session.to_string();
        let kept = tool
            .db
            .read(move |conn| store::passes(conn, &id))
            .await
            .map_err(Fault::from)?;
        let spec = RoomSpec {
            room: number as u64,
            secret: secret.clone(),
            publishers: MOST_PUBLISHERS,
        };
        let tokens: Vec<String> = kept
            .iter()
            .map(|p| token_for(tool, session, &p.person, p.participant_id))
            .collect();
        let remade = async {
            tool.janus.create_room(api, &spec).await?;
            tool.janus
                .allow(api, spec.room, &secret, true, &tokens)
                .await
        }
        .await;
        match remade {
            Ok(()) if still_ours(tool, session, api, number).await => {
                tracing::warn!(session = %session, "a media room lost by its server was made again")
            }
            Ok(()) => destroy(tool, api, spec.room, session).await,
            Err(e) => log_problem(&e, "making a lost media room again"),
        }
        return Ok(());
    }
    // Who is in the media room: listed before the passes are read, so a
    // pass issued meanwhile is seen.
    let participants = match tool.janus.participants(api, number as u64).await {
        Ok(participants) => participants,
        Err(e) => {
            log_problem(&e, "listing a media room's participants");
            return Ok(());
        }
    };
    let room = super::live::load(tool, media).await.map_err(Fault::from)?;
    if room.running().is_none_or(|s| s.id != session) {
        return Ok(());
    }
    // Who may hold a pass now, and whether they may publish.
    let mut rightful: std::collections::HashMap<String, bool> = room
        .present()
        .map(|p| (format!("m{}", p.user_id), may_publish(p.role())))
        .collect();
    for entry in room.guests_present() {
        rightful.insert(format!("g{}", entry.id), false);
    }
    let id = session.to_string();
    let passes = tool
        .db
        .read(move |conn| store::passes(conn, &id))
        .await
        .map_err(Fault::from)?;
    let mut valid: std::collections::HashMap<u64, store::PassRow> =
        std::collections::HashMap::new();
    for pass in passes {
        let rightful_now = match rightful.get(&pass.person) {
            Some(&publish) => publish || !pass.may_publish,
            None => false,
        };
        if rightful_now || pass.issued_at >= room.at - NEW_PASS {
            valid.insert(pass.participant_id as u64, pass);
            continue;
        }
        // Gone from the session, or no longer allowed to publish: the pass
        // is withdrawn (a page still there asks for a new one).
        withdraw(tool, session, api, number, &pass).await?;
        tracing::info!(session = %session, "a media pass was withdrawn");
    }
    let in_room: std::collections::HashSet<u64> = participants.iter().map(|p| p.id).collect();
    // A publishing pass's holder who was in the room and has gone: the
    // pass is withdrawn, so nobody else can take its id (which the room
    // showed everyone); their page asks for a new one when it reconnects.
    for pass in valid.values() {
        let id = pass.participant_id as u64;
        if !pass.may_publish {
            continue;
        }
        if in_room.contains(&id) && !pass.seen {
            let (session_id, row) = (session.to_string(), pass.clone());
            tool.db
                .write(move |conn| store::mark_seen(conn, &session_id, &row))
                .await
                .map_err(Fault::from)?;
        } else if !in_room.contains(&id) && pass.seen {
            withdraw(tool, session, api, number, pass).await?;
            tracing::info!(session = %session, "a publisher left the media room; their pass was withdrawn");
        }
    }
    for p in participants {
        match valid.get(&p.id) {
            Some(pass) if pass.may_publish || !p.publisher => {}
            // Publishing without the right, with a pass of their own: the
            // pass is spent and its holder barred for the session.
            Some(pass) => {
                bar(tool, session, (api, number), pass).await?;
                tracing::warn!(session = %session, "a participant published without the right and was barred from the media room");
            }
            None => {
                if kick(tool, session, (api, number), p.id).await {
                    tracing::warn!(session = %session, publisher = p.publisher, "a participant without a valid pass was put out of a media room")
                }
            }
        }
    }
    Ok(())
}

/// Withdraws a pass: off the room's list, its participant out, its row gone.
async fn withdraw(
    tool: &Tool,
    session: &str,
    api: &str,
    number: i64,
    pass: &store::PassRow,
) -> Result<(), AvError> {
    withdraw_in_janus(tool, session, api, number, pass).await;
    let (id, row) = (session.to_string(), pass.clone());
    tool.db
        .write(move |conn| store::drop_pass(conn, &id, &row))
        .await
        .map_err(Fault::from)?;
    Ok(())
}
