//! Live rooms ("Live rooms" in README.md): a `room` item's sessions, the
//! guests' lobby, who is in, the stage and the chat, for course members
//! (through their launch session) and for guests (through their guest
//! session). Who may do what is `domain::room`'s rule; what concurrency
//! could break is held by the store; live pages follow through
//! [`super::live`].

use super::Tool;
use super::failure::{Failure, Fault, Kind};
use super::guest_links::Guest;
use super::live::{self, RoomSnapshot};
use super::media::{self, MediaError};
use crate::crypto::random_token;
use crate::domain::field::{Field, FieldError};
use crate::domain::media::{Media, MediaId, MediaKind};
use crate::domain::room::{
    ChatText, EntryStatus, GuestLobby, LobbyLimits, LobbyPolicy, MAX_POSITION_MS, Playback,
    RoomAction, RoomRole, guest_lobby, may,
};
use crate::domain::session::LaunchSession;
use crate::domain::time::Timestamp;
use crate::store::rooms::{self as store, Author, ChatRow, EntryRow, Knocking, Starter};

/// Why a room action was refused.
#[derive(Debug, thiserror::Error)]
pub enum RoomError {
    #[error("This launch did not come from a course, so there is no course media.")]
    NoCourse,
    #[error("There is no such item in this course.")]
    NotFound,
    #[error("This item is not a room.")]
    NotARoom,
    #[error("Your role in this room does not allow this.")]
    Forbidden,
    #[error(
        "Your launch did not say who you are, so you cannot join a session. Launch the tool again from your course."
    )]
    Anonymous,
    #[error("A session of this room is already running.")]
    SessionRunning,
    #[error("No session of this room is running.")]
    NoSession,
    #[error("There is no such guest in this session's lobby.")]
    EntryNotFound,
    #[error("This guest is no longer waiting: someone decided already, or they left.")]
    EntryNotWaiting,
    #[error("This guest is not in the session: they left, or someone removed them already.")]
    EntryNotAdmitted,
    #[error("A moderator has turned chat off for guests.")]
    GuestChatOff,
    #[error("You are sending messages too fast. Please wait a moment.")]
    TooFast,
    #[error("Nothing is being presented.")]
    NothingPresented,
    #[error("Only the person presenting the item controls its playback.")]
    NotPresenter,
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error(transparent)]
    Fault(#[from] Fault),
}

crate::faults_from_store!(RoomError);

crate::media_refusals_into!(RoomError);

impl Failure for RoomError {
    fn code(&self) -> &'static str {
        match self {
            RoomError::NoCourse => "no_course",
            RoomError::NotFound | RoomError::EntryNotFound => "not_found",
            RoomError::NotARoom => "not_a_room",
            RoomError::Forbidden | RoomError::Anonymous => "forbidden",
            RoomError::SessionRunning => "session_running",
            RoomError::NoSession => "no_session",
            RoomError::EntryNotWaiting => "entry_not_waiting",
            RoomError::EntryNotAdmitted => "entry_not_admitted",
            RoomError::GuestChatOff => "guest_chat_off",
            RoomError::TooFast => "rate_limited",
            RoomError::NothingPresented => "nothing_presented",
            RoomError::NotPresenter => "not_presenter",
            RoomError::Invalid(e) => e.code(),
            RoomError::Fault(f) => f.code(),
        }
    }

    fn kind(&self) -> Kind {
        match self {
            RoomError::NoCourse | RoomError::NotFound | RoomError::EntryNotFound => Kind::NotFound,
            RoomError::Forbidden
            | RoomError::Anonymous
            | RoomError::GuestChatOff
            | RoomError::NotPresenter => Kind::Forbidden,
            RoomError::NotARoom
            | RoomError::SessionRunning
            | RoomError::NoSession
            | RoomError::EntryNotWaiting
            | RoomError::EntryNotAdmitted
            | RoomError::NothingPresented => Kind::Conflict,
            RoomError::TooFast => Kind::TooMany,
            RoomError::Invalid(e) => e.kind(),
            RoomError::Fault(f) => f.kind(),
        }
    }

    fn invalid(&self) -> Option<&FieldError> {
        match self {
            RoomError::Invalid(e) => Some(e),
            _ => None,
        }
    }
}

pub type RoomResult<T> = Result<T, RoomError>;

/// Whether a kind has live sessions here. Channel and media gallery rooms
/// have none yet; live events are broadcast elsewhere.
pub fn kind_has_sessions(kind: MediaKind) -> bool {
    kind == MediaKind::Room
}

/// A room as a course member acts on it: only [`member_room`] makes one,
/// after checking the item is a room of the member's course.
#[derive(Clone, Debug)]
pub struct MemberRoom {
    pub media: Media,
    pub role: RoomRole,
    user_id: Option<i64>,
    name: String,
    /// An invitee (their role is the invitation's), not a course member.
    invited: bool,
}

impl MemberRoom {
    pub fn user_id(&self) -> Option<i64> {
        self.user_id
    }

    /// Refuses what the member's role does not allow (handlers ask before
    /// reading a body, so a learner's malformed body is a 403, not a 422).
    pub fn require(&self, action: RoomAction) -> RoomResult<()> {
        if may(self.role, action) {
            Ok(())
        } else {
            Err(RoomError::Forbidden)
        }
    }

    fn member(&self) -> RoomResult<i64> {
        self.user_id.ok_or(RoomError::Anonymous)
    }

    /// The key this member's chat messages are counted under.
    fn chat_key(&self) -> String {
        format!("member:{}", self.user_id.unwrap_or_default())
    }
}

/// The room `id` of the session's course, with the member's role in it.
pub async fn member_room(tool: &Tool, session: &LaunchSession, id: &str) -> RoomResult<MemberRoom> {
    let media = media::get(tool, session, id).await?;
    member_room_of(session, media)
}

/// The room `id` for the session whose token hash is `session_hash` (an
/// event stream's ticket carries the hash, not the token), read with the
/// session in one trip; None when the session has ended.
pub async fn member_room_by_hash(
    tool: &Tool,
    session_hash: &str,
    id: &str,
) -> RoomResult<Option<MemberRoom>> {
    let id = MediaId::parse(id).ok_or(RoomError::NotFound)?;
    let (hash, now) = (session_hash.to_string(), tool.clock.now());
    let found = tool
        .db
        .read(move |conn| {
            crate::store::sessions::find_with_media(
                conn,
                &hash,
                now,
                &id,
                crate::store::sessions::Holders::AndInvitees,
            )
        })
        .await
        .map_err(Fault::from)?;
    let Some((session, media)) = found else {
        return Ok(None);
    };
    let course = session.course.as_ref().map(|c| c.id);
    let media = media
        .filter(|m| Some(m.course_id) == course)
        .ok_or(RoomError::NotFound)?;
    Ok(Some(member_room_of(&session, media)?))
}

/// Whether the session whose token hash is `session_hash` still lives.
pub async fn member_session_lives(tool: &Tool, session_hash: &str) -> Result<bool, Fault> {
    let (hash, now) = (session_hash.to_string(), tool.clock.now());
    Ok(tool
        .db
        .read(move |conn| crate::store::sessions::is_live(conn, &hash, now))
        .await?)
}

/// The same for an item already read with the session.
pub fn member_room_of(session: &LaunchSession, media: Media) -> RoomResult<MemberRoom> {
    // An invitee's session opens its one item, with the invitation's role.
    let role = match &session.invitee {
        Some(scope) if scope.media_id != media.id => return Err(RoomError::NotFound),
        Some(scope) => scope.role.in_room(),
        None => RoomRole::of_member(session.can_manage()),
    };
    if !kind_has_sessions(media.kind) {
        return Err(RoomError::NotARoom);
    }
    Ok(MemberRoom {
        role,
        invited: session.invitee.is_some(),
        user_id: session.user_id.map(|u| u.0),
        name: session
            .user_name
            .clone()
            .unwrap_or_else(|| "Course member".to_string()),
        media,
    })
}

fn limits(tool: &Tool) -> LobbyLimits {
    LobbyLimits {
        wait: tool.settings.guests.lobby_wait,
    }
}

/// The room as it is now (read afresh, not from a feed).
pub async fn snapshot(tool: &Tool, media: &MediaId) -> RoomResult<RoomSnapshot> {
    Ok(live::load(tool, media).await.map_err(Fault::from)?)
}

/// Runs `work` as one store write, then tells this instance's pages.
async fn write<T: Send + 'static>(
    tool: &Tool,
    media: &MediaId,
    work: impl FnOnce(&mut crate::store::Conn) -> crate::store::StoreResult<T> + Send + 'static,
) -> RoomResult<T> {
    let result = tool.db.write(work).await.map_err(Fault::from)?;
    live::changed_here(tool, media);
    Ok(result)
}

async fn running_session(tool: &Tool, media: &MediaId) -> RoomResult<store::SessionRow> {
    let id = media.clone();
    tool.db
        .read(move |conn| store::running(conn, &id))
        .await
        .map_err(Fault::from)?
        .ok_or(RoomError::NoSession)
}

/// Start session: one running session per room; the starter joins it as
/// its moderator.
pub async fn start(tool: &Tool, room: &MemberRoom) -> RoomResult<RoomSnapshot> {
    room.require(RoomAction::Start)?;
    let user_id = room.member()?;
    let (media, name, now) = (room.media.id.clone(), room.name.clone(), tool.clock.now());
    let id = random_token(16);
    let started = write(tool, &room.media.id, move |conn| {
        store::start(
            conn,
            &id,
            &media,
            Starter {
                user_id,
                name: &name,
            },
            now,
        )
    })
    .await?;
    let Some(session) = started else {
        return Err(RoomError::SessionRunning);
    };
    tracing::info!(media = %room.media.id, session = %session.id, "room session started");
    // Audio and video, if set up: a server that does not answer leaves the
    // session running with its stage and chat.
    super::av::open_room(tool, &room.media.id, &session.id).await;
    snapshot(tool, &room.media.id).await
}

/// End session: everyone in it, and every guest waiting, sees that it ended.
pub async fn end(tool: &Tool, room: &MemberRoom) -> RoomResult<RoomSnapshot> {
    room.require(RoomAction::End)?;
    let user_id = room.member()?;
    let (media, now) = (room.media.id.clone(), tool.clock.now());
    let ended = write(tool, &room.media.id, move |conn| {
        store::end(conn, &media, user_id, now)
    })
    .await?;
    let Some(session) = ended else {
        return Err(RoomError::NoSession);
    };
    tracing::info!(media = %room.media.id, session = %session, "room session ended");
    // Its media room goes with it (as recorded now that it has ended).
    super::av::close_room(tool, &session).await;
    snapshot(tool, &room.media.id).await
}

/// Join: the member is now a participant of the running session.
pub async fn join(tool: &Tool, room: &MemberRoom) -> RoomResult<RoomSnapshot> {
    let user_id = room.member()?;
    let session = running_session(tool, &room.media.id).await?;
    let (media, name, role, invited, now) = (
        room.media.id.clone(),
        room.name.clone(),
        room.role,
        room.invited,
        tool.clock.now(),
    );
    write(tool, &room.media.id, move |conn| {
        crate::store::write_transaction(conn, |conn| {
            // An invitee joins with their invitation's role as it is now,
            // read under its lock: a role change made meanwhile is not
            // overwritten by the role this request started with.
            let role = if invited {
                crate::store::invites::invitee_role_locked(conn, user_id)?
                    .map_or(role, |r| r.in_room())
            } else {
                role
            };
            let who = store::Joiner {
                user_id,
                name: &name,
                role,
                invited,
            };
            store::join(conn, &media, &session.id, who, now)
        })
    })
    .await?;
    snapshot(tool, &room.media.id).await
}

/// A member's open page is still there (its stream's heartbeat, and its
/// first event: a reload keeps a member in). True when they are in the
/// session.
pub async fn member_present(tool: &Tool, room: &MemberRoom, session: &str) -> RoomResult<bool> {
    let Some(user_id) = room.user_id else {
        return Ok(false);
    };
    let (media, session, now) = (room.media.id.clone(), session.to_string(), tool.clock.now());
    write(tool, &room.media.id, move |conn| {
        store::touch_participant(conn, &media, &session, user_id, now)
    })
    .await
}

/// A member's page closed: they leave the session's participants, unless
/// another page of theirs spoke after `last_heard` (this page's last word).
pub async fn member_left(
    tool: &Tool,
    room: &MemberRoom,
    session: &str,
    last_heard: Timestamp,
) -> RoomResult<()> {
    let Some(user_id) = room.user_id else {
        return Ok(());
    };
    let (media, session, now) = (room.media.id.clone(), session.to_string(), tool.clock.now());
    write(tool, &room.media.id, move |conn| {
        store::leave_participant(conn, &media, &session, user_id, last_heard, now)
    })
    .await
}

/// The lobby's policy: ask a moderator, or admit guests automatically
/// (which also lets in everyone waiting now).
pub async fn set_policy(
    tool: &Tool,
    room: &MemberRoom,
    policy: LobbyPolicy,
) -> RoomResult<RoomSnapshot> {
    room.require(RoomAction::DecideLobby)?;
    let (media, limits, now) = (room.media.id.clone(), limits(tool), tool.clock.now());
    write(tool, &room.media.id, move |conn| {
        store::set_lobby_policy(conn, &media, policy)?;
        if policy == LobbyPolicy::AdmitAll
            && let Some(session) = store::running(conn, &media)?
        {
            store::admit_all(conn, &media, &session.id, limits, now)?;
        }
        Ok(())
    })
    .await?;
    snapshot(tool, &room.media.id).await
}

/// Whether admitted guests may chat.
pub async fn set_guest_chat(tool: &Tool, room: &MemberRoom, on: bool) -> RoomResult<RoomSnapshot> {
    room.require(RoomAction::SetGuestChat)?;
    let media = room.media.id.clone();
    write(tool, &room.media.id, move |conn| {
        store::set_guests_may_chat(conn, &media, on)
    })
    .await?;
    snapshot(tool, &room.media.id).await
}

/// A lobby entry as decided, with the name of the link its guest came through.
pub struct Decided {
    pub entry: EntryRow,
    pub link_name: String,
}

/// What a moderator decides about a guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Let a waiting guest in.
    Admit,
    /// Turn a waiting guest away.
    Deny,
    /// Put an admitted guest out of the session (their entry is denied, and
    /// their audio and video stop at once).
    Remove,
}

/// Decides about one guest: exactly one decision counts.
pub async fn decide(
    tool: &Tool,
    room: &MemberRoom,
    entry_id: &str,
    decision: Decision,
) -> RoomResult<Decided> {
    room.require(RoomAction::DecideLobby)?;
    let session = running_session(tool, &room.media.id).await?;
    let (media, session_id, entry, limits, now) = (
        room.media.id.clone(),
        session.id.clone(),
        entry_id.to_string(),
        limits(tool),
        tool.clock.now(),
    );
    let decided = write(tool, &room.media.id, move |conn| {
        let row = match decision {
            Decision::Admit => store::decide(
                conn,
                &media,
                &session_id,
                &entry,
                EntryStatus::Admitted,
                limits,
                now,
            )?,
            Decision::Deny => store::decide(
                conn,
                &media,
                &session_id,
                &entry,
                EntryStatus::Denied,
                limits,
                now,
            )?,
            Decision::Remove => store::remove_admitted(conn, &media, &session_id, &entry, now)?,
        };
        let Some(row) = row else {
            return Ok(Err(store::entry(conn, &session_id, &entry)?.is_some()));
        };
        let link = crate::store::guest_links::find_of_media(conn, &media, &row.link_id)?;
        Ok(Ok(Decided {
            link_name: link.map(|l| l.name).unwrap_or_default(),
            entry: row,
        }))
    })
    .await?;
    match decided {
        Ok(decided) => {
            tracing::info!(media = %room.media.id, entry = %decided.entry.id, decision = ?decision, "lobby decision");
            if decision == Decision::Remove {
                super::av::withdraw_person(tool, &session, &format!("g{}", decided.entry.id)).await;
            }
            Ok(decided)
        }
        Err(true) if decision == Decision::Remove => Err(RoomError::EntryNotAdmitted),
        Err(true) => Err(RoomError::EntryNotWaiting),
        Err(false) => Err(RoomError::EntryNotFound),
    }
}

/// Admit all: everyone waiting now; how many.
pub async fn admit_all(tool: &Tool, room: &MemberRoom) -> RoomResult<usize> {
    room.require(RoomAction::DecideLobby)?;
    let session = running_session(tool, &room.media.id).await?;
    let (media, limits, now) = (room.media.id.clone(), limits(tool), tool.clock.now());
    write(tool, &room.media.id, move |conn| {
        store::admit_all(conn, &media, &session.id, limits, now)
    })
    .await
}

/// Present: an item of the course's library on the stage (None clears it).
pub async fn present(
    tool: &Tool,
    session: &LaunchSession,
    room: &MemberRoom,
    item: Option<&str>,
) -> RoomResult<RoomSnapshot> {
    room.require(RoomAction::Present)?;
    let by = room.member()?;
    if let Some(item) = item {
        // An invitee sees (and presents) only the items shared with guests.
        let not_presentable = || {
            FieldError::new(
                Field::MediaId,
                if session.invitee.is_some() {
                    "As an invited speaker you can present the course's items that are shared with guests (guest access on)."
                } else {
                    "Choose an item of this course's library (not a room or live event)."
                },
            )
        };
        let media = match media::get(tool, session, item).await {
            Ok(media) => media,
            Err(MediaError::NotFound) => return Err(not_presentable().into()),
            Err(e) => return Err(e.into()),
        };
        if media.kind.is_session() {
            return Err(not_presentable().into());
        }
    }
    let (media, item, now_ms) = (
        room.media.id.clone(),
        item.map(str::to_string),
        tool.clock.now_millis(),
    );
    let presented = write(tool, &room.media.id, move |conn| {
        store::present(conn, &media, item.as_deref(), by, now_ms)
    })
    .await?;
    if !presented {
        return Err(RoomError::NoSession);
    }
    snapshot(tool, &room.media.id).await
}

/// The presenter's play, pause or seek, followed by everyone's player.
/// Only the one who presented the item controls it.
pub async fn playback(
    tool: &Tool,
    room: &MemberRoom,
    playing: bool,
    position_ms: i64,
) -> RoomResult<()> {
    room.require(RoomAction::Present)?;
    let by = room.member()?;
    if !(0..=MAX_POSITION_MS).contains(&position_ms) {
        return Err(FieldError::new(
            Field::Position,
            "Send a position in seconds, from 0 to 86,400.",
        )
        .into());
    }
    let media = room.media.id.clone();
    let playback = Playback {
        playing,
        position_ms,
        at_ms: tool.clock.now_millis(),
    };
    let set = write(tool, &room.media.id, move |conn| {
        store::set_playback(conn, &media, by, playback)
    })
    .await?;
    if set {
        return Ok(());
    }
    match running_session(tool, &room.media.id).await?.presenting {
        Some(_) => Err(RoomError::NotPresenter),
        None => Err(RoomError::NothingPresented),
    }
}

async fn post(
    tool: &Tool,
    media: &MediaId,
    session: String,
    name: String,
    guest: bool,
    text: ChatText,
) -> RoomResult<ChatRow> {
    let (id, now) = (media.clone(), tool.clock.now());
    write(tool, media, move |conn| {
        let author = Author { name: &name, guest };
        store::post_chat(conn, &id, &session, author, text.as_str(), now)
    })
    .await?
    .ok_or(RoomError::NoSession)
}

/// A member's chat message in the running session.
pub async fn member_chat(tool: &Tool, room: &MemberRoom, raw: &str) -> RoomResult<ChatRow> {
    room.require(RoomAction::Chat)?;
    room.member()?;
    let text = ChatText::parse(raw)?;
    let session = running_session(tool, &room.media.id).await?;
    let now = tool.clock.now();
    if !tool
        .chat_limiter
        .allow(&room.chat_key(), now, tool.settings.guests.chat_rate_limit)
    {
        return Err(RoomError::TooFast);
    }
    post(
        tool,
        &room.media.id,
        session.id,
        room.name.clone(),
        false,
        text,
    )
    .await
}

/// The messages of `session` after number `after` (a stream that resumes
/// past what its snapshot holds), at most a thousand.
pub async fn chat_after(tool: &Tool, session: &str, after: i64) -> Result<Vec<ChatRow>, Fault> {
    let session = session.to_string();
    Ok(tool
        .db
        .read(move |conn| store::chat_after(conn, &session, after, 1_000))
        .await?)
}

/// A guest of a room as their guest session shows them.
#[derive(Clone, Debug)]
pub struct GuestInRoom {
    pub media: Media,
    pub session_hash: String,
    pub link_id: String,
    pub name: String,
    pub email: String,
}

impl GuestInRoom {
    /// The guest of `media`, a room (see [`kind_has_sessions`]).
    pub fn new(media: Media, guest: Guest) -> RoomResult<GuestInRoom> {
        if !kind_has_sessions(media.kind) {
            return Err(RoomError::NotARoom);
        }
        Ok(GuestInRoom {
            media,
            session_hash: guest.session_hash,
            link_id: guest.link_id,
            name: guest.name,
            email: guest.email,
        })
    }
}

/// The guest's knock on arriving or reloading: what the guest sees now,
/// with the room as it is after the knock.
pub async fn guest_knock(
    tool: &Tool,
    guest: &GuestInRoom,
) -> RoomResult<(GuestLobby, RoomSnapshot)> {
    let media = guest.media.id.clone();
    let running = tool
        .db
        .read(move |conn| {
            let Some(session) = store::running(conn, &media)? else {
                return Ok(None);
            };
            Ok(Some((
                session.id,
                store::settings(conn, &media)?.lobby_policy,
            )))
        })
        .await
        .map_err(Fault::from)?;
    let Some((session, policy)) = running else {
        let room = snapshot(tool, &guest.media.id).await?;
        return Ok((guest_sees(&room, &guest.session_hash), room));
    };
    let entry = knock_on(tool, guest, &session, policy, true).await?;
    let room = snapshot(tool, &guest.media.id).await?;
    if entry.status == EntryStatus::Denied.as_str() {
        // Denied in this session or an earlier one.
        return Ok((GuestLobby::Denied, room));
    }
    Ok((guest_sees(&room, &guest.session_hash), room))
}

/// The knock itself, into the running session `session` under `policy`:
/// also what a guest's open page sends as its heartbeat. `link_checked`:
/// the guest's link was just found to admit (see `domain::room::knock`).
pub async fn knock_on(
    tool: &Tool,
    guest: &GuestInRoom,
    session: &str,
    policy: LobbyPolicy,
    link_checked: bool,
) -> RoomResult<EntryRow> {
    let (guest, session, new_id) = (guest.clone(), session.to_string(), random_token(12));
    let (limits, now, now_ms) = (limits(tool), tool.clock.now(), tool.clock.now_millis());
    let media = guest.media.id.clone();
    let (entry, changed) = tool
        .db
        .write(move |conn| {
            let k = Knocking {
                now_ms,
                media: &guest.media.id,
                session: &session,
                new_id: &new_id,
                guest_session_hash: &guest.session_hash,
                link_id: &guest.link_id,
                name: &guest.name,
                email: &guest.email,
            };
            store::knock_on(conn, &k, policy, limits, now, link_checked)
        })
        .await
        .map_err(Fault::from)?;
    // A heartbeat that only says the page is still there changes nothing
    // the pages show.
    if changed {
        live::changed_here(tool, &media);
    }
    Ok(entry)
}

/// The guest's entry in the snapshot's session, if they knocked on it.
pub fn entry_of<'a>(room: &'a RoomSnapshot, guest_session_hash: &str) -> Option<&'a EntryRow> {
    room.record
        .entries
        .iter()
        .find(|e| e.guest_session_hash == guest_session_hash)
}

/// What the guest with `guest_session_hash` sees in `room`.
pub fn guest_sees(room: &RoomSnapshot, guest_session_hash: &str) -> GuestLobby {
    let entry = entry_of(room, guest_session_hash);
    let running = room.running().is_some();
    let status = entry.map(|e| e.status_at(room.limits, room.at));
    let place = entry.map_or(0, |e| room.place_of(&e.id));
    guest_lobby(running, status, place, room.moderator_present())
}

/// A guest's page closed: out of the line, or no longer counted as in,
/// unless another page of theirs spoke after `last_heard`.
pub async fn guest_away(
    tool: &Tool,
    media: &MediaId,
    entry_id: &str,
    last_heard: Timestamp,
) -> RoomResult<()> {
    let (id, entry, now) = (media.clone(), entry_id.to_string(), tool.clock.now());
    write(tool, media, move |conn| {
        store::guest_away(conn, &id, &entry, last_heard, now)
    })
    .await
}

/// An admitted guest's chat message.
pub async fn guest_chat(tool: &Tool, guest: &GuestInRoom, raw: &str) -> RoomResult<ChatRow> {
    let text = ChatText::parse(raw)?;
    let room = snapshot(tool, &guest.media.id).await?;
    let session = room.running().ok_or(RoomError::NoSession)?.id.clone();
    if guest_sees(&room, &guest.session_hash) != GuestLobby::Admitted {
        return Err(RoomError::Forbidden);
    }
    if !room.record.settings.guests_may_chat {
        return Err(RoomError::GuestChatOff);
    }
    let key = format!("guest:{}", guest.session_hash);
    if !tool
        .chat_limiter
        .allow(&key, tool.clock.now(), tool.settings.guests.chat_rate_limit)
    {
        return Err(RoomError::TooFast);
    }
    post(
        tool,
        &guest.media.id,
        session,
        guest.name.clone(),
        true,
        text,
    )
    .await
}

/// Whether the guest session `guest_session_hash`, admitted to `room`'s
/// running session, may fetch `item`: only while it is on the stage.
pub async fn guest_may_fetch(
    tool: &Tool,
    room: &MediaId,
    guest_session_hash: &str,
    item: &MediaId,
) -> Result<bool, Fault> {
    let (room, item, hash) = (room.clone(), item.clone(), guest_session_hash.to_string());
    Ok(tool
        .db
        .read(move |conn| store::stage_admits(conn, &room, &item, &hash))
        .await?)
}

/// Forgets sessions that ended longer ago than guest records are kept, with
/// their lobby (guests' names and emails), participants and chat.
pub async fn purge(tool: &Tool) -> Result<usize, Fault> {
    let cutoff = tool.clock.now() - tool.settings.guests.retention;
    Ok(tool
        .db
        .write(move |conn| store::purge(conn, cutoff))
        .await?)
}
