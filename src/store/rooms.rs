//! Live rooms: settings, sessions, participants, the lobby and the chat.
//!
//! The rules concurrency could break are held here in one statement each:
//! one running session per room (a partial unique index: two Starts make
//! one session), one decision per lobby entry (a conditional `UPDATE`: the
//! second moderator's finds no waiting entry), and chat numbers taken under
//! the session row's lock (so messages commit in their numbers' order and a
//! stream that resumes after number n misses none).
//!
//! Every change ends with [`announce`], which on PostgreSQL is a `NOTIFY`
//! (sent when the surrounding transaction commits, or at once after a write
//! of one statement); every instance's listener passes it to the pages that
//! follow the room. SQLite has one instance, and the service tells its pages
//! itself.

use diesel::prelude::*;
use diesel::sql_types::Text;

use super::schema::{
    av_passes, chat_messages, guest_links, lobby_entries, room_participants, room_sessions,
    room_settings,
};
use super::{Conn, StoreResult};
use crate::domain::media::MediaId;
use crate::domain::room::{
    EntryStatus, EntryTimes, Knock, LobbyLimits, LobbyPolicy, PRESENCE_WINDOW, Playback, RoomRole,
    effective_status, knock,
};
use crate::domain::time::Timestamp;
use crate::{with_conn, write_tx};

/// The channel every instance listens on; the payload is the room's media id.
pub const CHANNEL: &str = "guestlink_rooms";

/// Tells every instance's pages that the room changed: on PostgreSQL a
/// `NOTIFY`, delivered when the surrounding transaction commits.
pub fn announce(conn: &mut Conn, media: &str) -> StoreResult<()> {
    if let Conn::Pg(pooled) = conn {
        diesel::sql_query("SELECT pg_notify($1, $2)")
            .bind::<Text, _>(CHANNEL)
            .bind::<Text, _>(media)
            .execute(&mut pooled.conn)?;
    }
    Ok(())
}

/// A room's settings (the defaults until a moderator changes one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoomSettings {
    pub lobby_policy: LobbyPolicy,
    pub guests_may_chat: bool,
}

impl Default for RoomSettings {
    fn default() -> Self {
        RoomSettings {
            lobby_policy: LobbyPolicy::AskModerator,
            guests_may_chat: true,
        }
    }
}

pub fn settings(conn: &mut Conn, media: &MediaId) -> StoreResult<RoomSettings> {
    let row: Option<(String, bool)> = with_conn!(conn, c => room_settings::table
        .find(media.as_str())
        .select((room_settings::lobby_policy, room_settings::guests_may_chat))
        .first(c)
        .optional()?);
    Ok(row
        .map(|(policy, chat)| RoomSettings {
            lobby_policy: LobbyPolicy::parse(&policy).unwrap_or_default(),
            guests_may_chat: chat,
        })
        .unwrap_or_default())
}

/// Sets the lobby's policy, leaving the room's other settings as they are
/// (two moderators changing two settings at once both count).
pub fn set_lobby_policy(conn: &mut Conn, media: &MediaId, policy: LobbyPolicy) -> StoreResult<()> {
    with_conn!(conn, c => diesel::insert_into(room_settings::table)
        .values((
            room_settings::media_id.eq(media.as_str()),
            room_settings::lobby_policy.eq(policy.as_str()),
        ))
        .on_conflict(room_settings::media_id)
        .do_update()
        .set(room_settings::lobby_policy.eq(policy.as_str()))
        .execute(c)?);
    announce(conn, media.as_str())
}

/// Turns guests' chat on or off, leaving the other settings as they are.
pub fn set_guests_may_chat(conn: &mut Conn, media: &MediaId, on: bool) -> StoreResult<()> {
    with_conn!(conn, c => diesel::insert_into(room_settings::table)
        .values((
            room_settings::media_id.eq(media.as_str()),
            room_settings::guests_may_chat.eq(on),
        ))
        .on_conflict(room_settings::media_id)
        .do_update()
        .set(room_settings::guests_may_chat.eq(on))
        .execute(c)?);
    announce(conn, media.as_str())
}

#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = room_sessions)]
pub struct SessionRow {
    pub id: String,
    pub media_id: String,
    pub started_at: Timestamp,
    pub started_by: Option<i64>,
    pub started_by_name: String,
    pub ended_at: Option<Timestamp>,
    pub presenting: Option<String>,
    pub presented_by: Option<i64>,
    pub playback_playing: bool,
    pub playback_position_ms: i64,
    pub playback_at_ms: i64,
    pub chat_seq: i64,
    /// The session's media room: its server's API address and number.
    pub janus_api: Option<String>,
    pub janus_room: Option<i64>,
    /// How many times a moderator used Mute all in this session.
    pub av_mute_all: i64,
}

impl SessionRow {
    pub fn running(&self) -> bool {
        self.ended_at.is_none()
    }

    pub fn playback(&self) -> Playback {
        Playback {
            playing: self.playback_playing,
            position_ms: self.playback_position_ms,
            at_ms: self.playback_at_ms,
        }
    }
}

/// Records the running session's media room (its server's API and the
/// room's number), unless it has one already or has ended: true when
/// recorded (the caller destroys a room that was not).
pub fn set_media_room(
    conn: &mut Conn,
    media: &MediaId,
    session: &str,
    (api, number): (&str, i64),
) -> StoreResult<bool> {
    let recorded = with_conn!(conn, c => diesel::update(
        room_sessions::table
            .find(session)
            .filter(room_sessions::janus_room.is_null())
            .filter(room_sessions::ended_at.is_null()),
    )
    .set((
        room_sessions::janus_api.eq(api),
        room_sessions::janus_room.eq(number),
    ))
    .execute(c)?);
    if recorded > 0 {
        announce(conn, media.as_str())?;
    }
    Ok(recorded > 0)
}

/// A session's media room (api, number) and whether the session still runs.
pub fn media_room_of(conn: &mut Conn, session: &str) -> StoreResult<Option<(String, i64, bool)>> {
    let found: Option<(Option<String>, Option<i64>, Option<Timestamp>)> = with_conn!(conn, c => room_sessions::table
        .find(session)
        .select((room_sessions::janus_api, room_sessions::janus_room, room_sessions::ended_at))
        .first(c)
        .optional()?);
    Ok(found.and_then(|(api, room, ended)| Some((api?, room?, ended.is_none()))))
}

/// The media rooms of a room's running sessions (before the room is deleted).
pub fn running_media_rooms_of(
    conn: &mut Conn,
    media: &MediaId,
) -> StoreResult<Vec<(String, String, i64)>> {
    let rows: Vec<(String, Option<String>, Option<i64>)> = with_conn!(conn, c => room_sessions::table
        .filter(room_sessions::media_id.eq(media.as_str()))
        .filter(room_sessions::ended_at.is_null())
        .select((room_sessions::id, room_sessions::janus_api, room_sessions::janus_room))
        .load(c)?);
    Ok(rows
        .into_iter()
        .filter_map(|(session, api, room)| Some((session, api?, room?)))
        .collect())
}

/// Who starts a session, and as what they join it.
pub struct Starter<'a> {
    pub user_id: i64,
    pub name: &'a str,
}

/// Starts a session unless one runs; its starter joins it as moderator.
/// None when a session already runs.
pub fn start(
    conn: &mut Conn,
    id: &str,
    media: &MediaId,
    by: Starter<'_>,
    now: Timestamp,
) -> StoreResult<Option<SessionRow>> {
    let started: Option<SessionRow> = write_tx!(conn, c => {
        let row: Option<SessionRow> = diesel::insert_into(room_sessions::table)
            .values((
                room_sessions::id.eq(id),
                room_sessions::media_id.eq(media.as_str()),
                room_sessions::started_at.eq(now),
                room_sessions::started_by.eq(by.user_id),
                room_sessions::started_by_name.eq(by.name),
            ))
            .on_conflict_do_nothing()
            .returning(SessionRow::as_returning())
            .get_result(c)
            .optional()?;
        if row.is_some() {
            diesel::insert_into(room_participants::table)
                .values((
                    room_participants::session_id.eq(id),
                    room_participants::user_id.eq(by.user_id),
                    room_participants::name.eq(by.name),
                    room_participants::role.eq(RoomRole::Moderator.as_str()),
                    room_participants::joined_at.eq(now),
                    room_participants::last_seen_at.eq(now),
                ))
                .execute(c)?;
        }
        Ok::<_, super::StoreError>(row)
    })?;
    if started.is_some() {
        announce(conn, media.as_str())?;
    }
    Ok(started)
}

/// Ends the running session; None when none runs.
pub fn end(
    conn: &mut Conn,
    media: &MediaId,
    by: i64,
    now: Timestamp,
) -> StoreResult<Option<String>> {
    let ended: Option<String> = with_conn!(conn, c => diesel::update(
        room_sessions::table
            .filter(room_sessions::media_id.eq(media.as_str()))
            .filter(room_sessions::ended_at.is_null()),
    )
    .set((
        room_sessions::ended_at.eq(now),
        room_sessions::ended_by.eq(by),
        room_sessions::presenting.eq(None::<String>),
        room_sessions::presented_by.eq(None::<i64>),
    ))
    .returning(room_sessions::id)
    .get_result(c)
    .optional()?);
    if ended.is_some() {
        announce(conn, media.as_str())?;
    }
    Ok(ended)
}

/// The running session, else the latest ended one.
pub fn latest(conn: &mut Conn, media: &MediaId) -> StoreResult<Option<SessionRow>> {
    Ok(with_conn!(conn, c => room_sessions::table
        .filter(room_sessions::media_id.eq(media.as_str()))
        // A running session first (NULL end), then the latest to end.
        .order((room_sessions::ended_at.is_not_null(), room_sessions::started_at.desc()))
        .select(SessionRow::as_select())
        .first(c)
        .optional()?))
}

pub fn running(conn: &mut Conn, media: &MediaId) -> StoreResult<Option<SessionRow>> {
    Ok(latest(conn, media)?.filter(SessionRow::running))
}

/// A course member in a session.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = room_participants)]
pub struct ParticipantRow {
    pub user_id: i64,
    pub name: String,
    pub role: String,
    pub last_seen_at: Timestamp,
    pub left_at: Option<Timestamp>,
    /// An invitee (listed with an "Invited" mark), not a course member.
    pub invited: bool,
}

impl ParticipantRow {
    pub fn role(&self) -> RoomRole {
        RoomRole::parse(&self.role).unwrap_or(RoomRole::Participant)
    }

    /// In the session now: not left, and their page spoke lately.
    pub fn present(&self, now: Timestamp) -> bool {
        self.left_at.is_none() && self.last_seen_at >= now - PRESENCE_WINDOW
    }
}

/// Who joins a session: a course member or an invitee, with their role.
pub struct Joiner<'a> {
    pub user_id: i64,
    pub name: &'a str,
    pub role: RoomRole,
    pub invited: bool,
}

/// A member joins (or comes back to) the running session `session` of `media`.
pub fn join(
    conn: &mut Conn,
    media: &MediaId,
    session: &str,
    who: Joiner<'_>,
    now: Timestamp,
) -> StoreResult<()> {
    let Joiner {
        user_id,
        name,
        role,
        invited,
    } = who;
    with_conn!(conn, c => diesel::insert_into(room_participants::table)
        .values((
            room_participants::session_id.eq(session),
            room_participants::user_id.eq(user_id),
            room_participants::name.eq(name),
            room_participants::role.eq(role.as_str()),
            room_participants::joined_at.eq(now),
            room_participants::last_seen_at.eq(now),
            room_participants::invited.eq(invited),
        ))
        .on_conflict((room_participants::session_id, room_participants::user_id))
        .do_update()
        .set((
            room_participants::name.eq(name),
            room_participants::role.eq(role.as_str()),
            room_participants::last_seen_at.eq(now),
            room_participants::left_at.eq(None::<Timestamp>),
        ))
        .execute(c)?);
    announce(conn, media.as_str())
}

/// An invitee's role changed: in the room's running session too, so their
/// open page (and everyone's participants list) follows.
pub fn set_participant_role(
    conn: &mut Conn,
    media: &MediaId,
    user_id: i64,
    role: RoomRole,
) -> StoreResult<()> {
    let Some(session) = running(conn, media)? else {
        return Ok(());
    };
    with_conn!(conn, c => diesel::update(
        room_participants::table
            .filter(room_participants::session_id.eq(&session.id))
            .filter(room_participants::user_id.eq(user_id)),
    )
    .set(room_participants::role.eq(role.as_str()))
    .execute(c)?);
    announce(conn, media.as_str())
}

/// A member's open page says they are still there. A member who was in
/// the session and left (their other tab closed, or the page reloaded) is
/// back. True when they are a participant of the session.
pub fn touch_participant(
    conn: &mut Conn,
    media: &MediaId,
    session: &str,
    user_id: i64,
    now: Timestamp,
) -> StoreResult<bool> {
    let (stayed, back) = with_conn!(conn, c => {
        let stayed = diesel::update(
            room_participants::table
                .find((session, user_id))
                .filter(room_participants::left_at.is_null()),
        )
        .set(room_participants::last_seen_at.eq(now))
        .execute(c)?;
        let back = diesel::update(
            room_participants::table
                .find((session, user_id))
                .filter(room_participants::left_at.is_not_null()),
        )
        .set((
            room_participants::last_seen_at.eq(now),
            room_participants::left_at.eq(None::<Timestamp>),
        ))
        .execute(c)?;
        (stayed, back)
    });
    if back > 0 {
        announce(conn, media.as_str())?;
    }
    Ok(stayed + back > 0)
}

/// A member's page closed: they leave the participants, unless another
/// page of theirs spoke after `last_heard` (this page's last word).
pub fn leave_participant(
    conn: &mut Conn,
    media: &MediaId,
    session: &str,
    user_id: i64,
    last_heard: Timestamp,
    now: Timestamp,
) -> StoreResult<()> {
    let n = with_conn!(conn, c => diesel::update(
        room_participants::table
            .find((session, user_id))
            .filter(room_participants::left_at.is_null())
            .filter(room_participants::last_seen_at.le(last_heard)),
    )
    .set(room_participants::left_at.eq(now))
    .execute(c)?);
    if n > 0 {
        announce(conn, media.as_str())?;
    }
    Ok(())
}

pub fn participants(conn: &mut Conn, session: &str) -> StoreResult<Vec<ParticipantRow>> {
    Ok(with_conn!(conn, c => room_participants::table
        .filter(room_participants::session_id.eq(session))
        .order((room_participants::joined_at, room_participants::user_id))
        .select(ParticipantRow::as_select())
        .load(c)?))
}

#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = lobby_entries)]
pub struct EntryRow {
    pub id: String,
    pub session_id: String,
    pub guest_session_hash: String,
    pub link_id: String,
    pub name: String,
    pub email: String,
    pub status: String,
    pub reason: Option<String>,
    pub waiting_since: Timestamp,
    pub queued_ms: i64,
    pub decided_at: Option<Timestamp>,
    pub last_seen_at: Timestamp,
}

impl EntryRow {
    /// The entry's status as it stands at `now` ([`effective_status`]).
    pub fn status_at(&self, limits: LobbyLimits, now: Timestamp) -> EntryStatus {
        let stored = EntryStatus::parse(&self.status).unwrap_or(EntryStatus::Left);
        effective_status(
            stored,
            EntryTimes {
                waiting_since: self.waiting_since,
                last_seen_at: self.last_seen_at,
            },
            limits,
            now,
        )
    }
}

/// Every entry of a session, in the order the guests came.
pub fn entries(conn: &mut Conn, session: &str) -> StoreResult<Vec<EntryRow>> {
    Ok(with_conn!(conn, c => lobby_entries::table
        .filter(lobby_entries::session_id.eq(session))
        .order((lobby_entries::queued_ms, lobby_entries::id))
        .select(EntryRow::as_select())
        .load(c)?))
}

pub fn entry(conn: &mut Conn, session: &str, id: &str) -> StoreResult<Option<EntryRow>> {
    Ok(with_conn!(conn, c => lobby_entries::table
        .find(id)
        .filter(lobby_entries::session_id.eq(session))
        .select(EntryRow::as_select())
        .first(c)
        .optional()?))
}

/// The entry of a guest session in a session.
pub fn entry_of_guest(
    conn: &mut Conn,
    session: &str,
    guest_session_hash: &str,
) -> StoreResult<Option<EntryRow>> {
    Ok(with_conn!(conn, c => lobby_entries::table
        .filter(lobby_entries::session_id.eq(session))
        .filter(lobby_entries::guest_session_hash.eq(guest_session_hash))
        .select(EntryRow::as_select())
        .first(c)
        .optional()?))
}

/// A guest knocking on the running session.
pub struct Knocking<'a> {
    pub media: &'a MediaId,
    pub session: &'a str,
    pub new_id: &'a str,
    pub guest_session_hash: &'a str,
    pub link_id: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    /// Now, in milliseconds: the place in line a new entry takes.
    pub now_ms: i64,
}

/// A guest session knocks (first arrival, page reload, or its open page
/// saying it is still there): the domain's [`knock`] decides, in one write
/// transaction. Returns the entry as it now is, and whether the room changed
/// (a heartbeat that only refreshes presence does not change it). A guest
/// session a moderator denied in any session of the room is refused in
/// every later one too: its denied entry comes back.
pub fn knock_on(
    conn: &mut Conn,
    k: &Knocking<'_>,
    policy: LobbyPolicy,
    limits: LobbyLimits,
    now: Timestamp,
    link_checked: bool,
) -> StoreResult<(EntryRow, bool)> {
    super::write_transaction(conn, |conn| {
        let existing = entry_of_guest(conn, k.session, k.guest_session_hash)?;
        if existing.is_none()
            && let Some(denied) = denied_before(conn, k.media, k.guest_session_hash)?
        {
            return Ok((denied, false));
        }
        // Someone a moderator denied or removed in this session waits for
        // a moderator next time, even where guests are let in by themselves.
        let policy = if policy == LobbyPolicy::AdmitAll
            && existing.is_none()
            && denied_address_in(conn, k.session, k.email)?
        {
            LobbyPolicy::AskModerator
        } else {
            policy
        };
        let decision = knock(
            existing
                .as_ref()
                .map(|e| (e.status_at(limits, now), e.last_seen_at)),
            policy,
            now,
            link_checked,
        );
        let changed = match (&existing, decision) {
            (_, Knock::Enter(status)) => {
                // Another page of the same guest session may knock at the
                // same moment: the first entry stands.
                let inserted = with_conn!(conn, c => diesel::insert_into(lobby_entries::table)
                    .values((
                        lobby_entries::id.eq(k.new_id),
                        lobby_entries::session_id.eq(k.session),
                        lobby_entries::guest_session_hash.eq(k.guest_session_hash),
                        lobby_entries::link_id.eq(k.link_id),
                        lobby_entries::name.eq(k.name),
                        lobby_entries::email.eq(k.email),
                        lobby_entries::status.eq(status.as_str()),
                        lobby_entries::waiting_since.eq(now),
                        lobby_entries::queued_ms.eq(k.now_ms),
                        lobby_entries::decided_at.eq((status == EntryStatus::Admitted).then_some(now)),
                        lobby_entries::last_seen_at.eq(now),
                    ))
                    .on_conflict_do_nothing()
                    .execute(c)?);
                inserted > 0
            }
            (Some(e), Knock::Rejoin { keep_place }) => {
                let (since, queued) = if keep_place {
                    (e.waiting_since, e.queued_ms)
                } else {
                    (now, k.now_ms)
                };
                // Back in line under the policy of now: "admit all" lets them in.
                let status = policy.first_status();
                with_conn!(conn, c => diesel::update(lobby_entries::table.find(&e.id))
                    .set((
                        lobby_entries::status.eq(status.as_str()),
                        lobby_entries::waiting_since.eq(since),
                        lobby_entries::queued_ms.eq(queued),
                        lobby_entries::last_seen_at.eq(now),
                    ))
                    .execute(c)?);
                true
            }
            (Some(e), Knock::Stay) => {
                with_conn!(conn, c => diesel::update(lobby_entries::table.find(&e.id))
                    .set(lobby_entries::last_seen_at.eq(now))
                    .execute(c)?);
                // An admitted guest whose page was away is back in the count.
                e.last_seen_at < now - PRESENCE_WINDOW
            }
            _ => false,
        };
        let row = entry_of_guest(conn, k.session, k.guest_session_hash)?
            .ok_or_else(|| super::StoreError::Other(anyhow::anyhow!("lobby entry vanished")))?;
        if changed {
            announce(conn, k.media.as_str())?;
        }
        Ok((row, changed))
    })
}

/// A denied entry of this guest session in any session of the room.
fn denied_before(
    conn: &mut Conn,
    media: &MediaId,
    guest_session_hash: &str,
) -> StoreResult<Option<EntryRow>> {
    Ok(with_conn!(conn, c => lobby_entries::table
        .inner_join(room_sessions::table)
        .filter(room_sessions::media_id.eq(media.as_str()))
        .filter(lobby_entries::guest_session_hash.eq(guest_session_hash))
        .filter(lobby_entries::status.eq(EntryStatus::Denied.as_str()))
        .select(EntryRow::as_select())
        .first(c)
        .optional()?))
}

/// A guest's page closed: a waiting guest leaves the line; an admitted one
/// stops counting as in the session (their page's last word is moved back
/// past the presence window) but stays admitted, so a reload goes back in.
/// Only if nothing was heard from them after `last_heard` (this page's last
/// word): a reload's new page may have knocked since.
pub fn guest_away(
    conn: &mut Conn,
    media: &MediaId,
    entry_id: &str,
    last_heard: Timestamp,
    now: Timestamp,
) -> StoreResult<()> {
    let away = now - PRESENCE_WINDOW - crate::domain::time::Duration::seconds(1);
    let n = with_conn!(conn, c => {
        let left = diesel::update(
            lobby_entries::table
                .find(entry_id)
                .filter(lobby_entries::status.eq(EntryStatus::Waiting.as_str()))
                .filter(lobby_entries::last_seen_at.le(last_heard)),
        )
        .set(lobby_entries::status.eq(EntryStatus::Left.as_str()))
        .execute(c)?;
        let gone = diesel::update(
            lobby_entries::table
                .find(entry_id)
                .filter(lobby_entries::status.eq(EntryStatus::Admitted.as_str()))
                .filter(lobby_entries::last_seen_at.le(last_heard)),
        )
        .set(lobby_entries::last_seen_at.eq(away))
        .execute(c)?;
        left + gone
    });
    if n > 0 {
        announce(conn, media.as_str())?;
    }
    Ok(())
}

/// Admits or denies an entry that is waiting at `now`; None when it is not
/// (another moderator decided first, the guest left, or waited too long).
pub fn decide(
    conn: &mut Conn,
    media: &MediaId,
    session: &str,
    entry_id: &str,
    to: EntryStatus,
    limits: LobbyLimits,
    now: Timestamp,
) -> StoreResult<Option<EntryRow>> {
    let (waiting_after, seen_since) = limits.waiting_bounds(now);
    let row: Option<EntryRow> = with_conn!(conn, c => diesel::update(
        lobby_entries::table
            .find(entry_id)
            .filter(lobby_entries::session_id.eq(session))
            .filter(lobby_entries::status.eq(EntryStatus::Waiting.as_str()))
            .filter(lobby_entries::waiting_since.gt(waiting_after))
            .filter(lobby_entries::last_seen_at.ge(seen_since)),
    )
    .set((
        lobby_entries::status.eq(to.as_str()),
        lobby_entries::decided_at.eq(now),
    ))
    .returning(EntryRow::as_returning())
    .get_result(c)
    .optional()?);
    if row.is_some() {
        announce(conn, media.as_str())?;
    }
    Ok(row)
}

/// Admits everyone waiting at `now`; how many.
pub fn admit_all(
    conn: &mut Conn,
    media: &MediaId,
    session: &str,
    limits: LobbyLimits,
    now: Timestamp,
) -> StoreResult<usize> {
    let (waiting_after, seen_since) = limits.waiting_bounds(now);
    let n = with_conn!(conn, c => diesel::update(
        lobby_entries::table
            .filter(lobby_entries::session_id.eq(session))
            .filter(lobby_entries::status.eq(EntryStatus::Waiting.as_str()))
            .filter(lobby_entries::waiting_since.gt(waiting_after))
            .filter(lobby_entries::last_seen_at.ge(seen_since)),
    )
    .set((
        lobby_entries::status.eq(EntryStatus::Admitted.as_str()),
        lobby_entries::decided_at.eq(now),
    ))
    .execute(c)?);
    if n > 0 {
        announce(conn, media.as_str())?;
    }
    Ok(n)
}

/// Withdraws the guests still waiting in `media`'s lobby through `link`
/// (None: through any of its links), because the link was deleted or guest
/// access switched off, saying why (`reason`); guests already in stay.
pub fn withdraw_waiting(
    conn: &mut Conn,
    media: &MediaId,
    link: Option<&str>,
    reason: &str,
    now: Timestamp,
) -> StoreResult<usize> {
    let waiting = [EntryStatus::Waiting.as_str(), EntryStatus::Left.as_str()];
    let set = (
        lobby_entries::status.eq(EntryStatus::Withdrawn.as_str()),
        lobby_entries::reason.eq(reason),
        lobby_entries::decided_at.eq(now),
    );
    let n = match link {
        Some(link) => with_conn!(conn, c => diesel::update(
            lobby_entries::table
                .filter(lobby_entries::link_id.eq(link))
                .filter(lobby_entries::status.eq_any(waiting)),
        )
        .set(set)
        .execute(c)?),
        None => with_conn!(conn, c => diesel::update(
            lobby_entries::table
                .filter(lobby_entries::link_id.eq_any(
                    guest_links::table
                        .filter(guest_links::media_id.eq(media.as_str()))
                        .select(guest_links::id),
                ))
                .filter(lobby_entries::status.eq_any(waiting)),
        )
        .set(set)
        .execute(c)?),
    };
    if n > 0 {
        announce(conn, media.as_str())?;
    }
    Ok(n)
}

/// Puts `presenting` on the running session's stage (None clears it), its
/// playback at the start and paused. False when no session runs.
pub fn present(
    conn: &mut Conn,
    media: &MediaId,
    presenting: Option<&str>,
    by: i64,
    now_ms: i64,
) -> StoreResult<bool> {
    let n = with_conn!(conn, c => diesel::update(
        room_sessions::table
            .filter(room_sessions::media_id.eq(media.as_str()))
            .filter(room_sessions::ended_at.is_null()),
    )
    .set((
        room_sessions::presenting.eq(presenting),
        room_sessions::presented_by.eq(presenting.map(|_| by)),
        room_sessions::playback_playing.eq(false),
        room_sessions::playback_position_ms.eq(0),
        room_sessions::playback_at_ms.eq(now_ms),
    ))
    .execute(c)?);
    if n > 0 {
        announce(conn, media.as_str())?;
    }
    Ok(n > 0)
}

/// The presenter's play, pause or seek. False unless `by` presents the
/// item on the stage of a running session.
pub fn set_playback(
    conn: &mut Conn,
    media: &MediaId,
    by: i64,
    playback: Playback,
) -> StoreResult<bool> {
    let n = with_conn!(conn, c => diesel::update(
        room_sessions::table
            .filter(room_sessions::media_id.eq(media.as_str()))
            .filter(room_sessions::ended_at.is_null())
            .filter(room_sessions::presenting.is_not_null())
            .filter(room_sessions::presented_by.eq(by)),
    )
    .set((
        room_sessions::playback_playing.eq(playback.playing),
        room_sessions::playback_position_ms.eq(playback.position_ms),
        room_sessions::playback_at_ms.eq(playback.at_ms),
    ))
    .execute(c)?);
    if n > 0 {
        announce(conn, media.as_str())?;
    }
    Ok(n > 0)
}

#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = chat_messages)]
pub struct ChatRow {
    pub seq: i64,
    pub author_name: String,
    pub author_kind: String,
    pub created_at: Timestamp,
    pub body: String,
}

/// Who wrote a message.
pub struct Author<'a> {
    pub name: &'a str,
    /// A guest (marked as one in the chat), or a member.
    pub guest: bool,
}

/// Posts a message to the running session `session`; None when it is no
/// longer running.
pub fn post_chat(
    conn: &mut Conn,
    media: &MediaId,
    session: &str,
    author: Author<'_>,
    body: &str,
    now: Timestamp,
) -> StoreResult<Option<ChatRow>> {
    let kind = if author.guest { "guest" } else { "member" };
    let row: Option<ChatRow> = write_tx!(conn, c => {
        // The session row's lock orders the numbers and the commits alike.
        let seq: Option<i64> = diesel::update(
            room_sessions::table
                .find(session)
                .filter(room_sessions::ended_at.is_null()),
        )
        .set(room_sessions::chat_seq.eq(room_sessions::chat_seq + 1))
        .returning(room_sessions::chat_seq)
        .get_result(c)
        .optional()?;
        let Some(seq) = seq else {
            return Ok::<_, super::StoreError>(None);
        };
        let row = diesel::insert_into(chat_messages::table)
            .values((
                chat_messages::session_id.eq(session),
                chat_messages::seq.eq(seq),
                chat_messages::author_name.eq(author.name),
                chat_messages::author_kind.eq(kind),
                chat_messages::created_at.eq(now),
                chat_messages::body.eq(body),
            ))
            .returning(ChatRow::as_returning())
            .get_result(c)?;
        Ok(Some(row))
    })?;
    if row.is_some() {
        announce(conn, media.as_str())?;
    }
    Ok(row)
}

/// The session's messages after number `after`, oldest first, at most `limit`.
pub fn chat_after(
    conn: &mut Conn,
    session: &str,
    after: i64,
    limit: i64,
) -> StoreResult<Vec<ChatRow>> {
    Ok(with_conn!(conn, c => chat_messages::table
        .filter(chat_messages::session_id.eq(session))
        .filter(chat_messages::seq.gt(after))
        .order(chat_messages::seq)
        .limit(limit)
        .select(ChatRow::as_select())
        .load(c)?))
}

/// The session's last `n` messages, oldest first.
pub fn chat_tail(conn: &mut Conn, session: &str, n: i64) -> StoreResult<Vec<ChatRow>> {
    let mut rows: Vec<ChatRow> = with_conn!(conn, c => chat_messages::table
        .filter(chat_messages::session_id.eq(session))
        .order(chat_messages::seq.desc())
        .limit(n)
        .select(ChatRow::as_select())
        .load(c)?);
    rows.reverse();
    Ok(rows)
}

/// A room and everything its pages show: its settings, the running session
/// (else the latest ended one) with its participants, lobby entries and the
/// tail of its chat. One read serves every page following the room.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoomRecord {
    pub settings: RoomSettings,
    pub session: Option<SessionRow>,
    pub participants: Vec<ParticipantRow>,
    pub entries: Vec<EntryRow>,
    pub chat: Vec<ChatRow>,
    /// The room's guest links (deleted ones too), id and name, for the
    /// lobby's "which link they used".
    pub links: Vec<(String, String)>,
}

/// How many of the last messages a room's pages are sent at a time.
pub const CHAT_TAIL: i64 = 100;

pub fn load(conn: &mut Conn, media: &MediaId) -> StoreResult<RoomRecord> {
    let settings = settings(conn, media)?;
    let Some(session) = latest(conn, media)? else {
        return Ok(RoomRecord {
            settings,
            ..RoomRecord::default()
        });
    };
    let links = with_conn!(conn, c => guest_links::table
        .filter(guest_links::media_id.eq(media.as_str()))
        .select((guest_links::id, guest_links::name))
        .load(c)?);
    Ok(RoomRecord {
        settings,
        links,
        participants: participants(conn, &session.id)?,
        entries: entries(conn, &session.id)?,
        chat: chat_tail(conn, &session.id, CHAT_TAIL)?,
        session: Some(session),
    })
}

/// Whether `item` is on the stage of `media`'s running session and the
/// guest session `guest_session_hash` is admitted to it: what a guest's
/// request for the item's file needs, in one read.
pub fn stage_admits(
    conn: &mut Conn,
    media: &MediaId,
    item: &MediaId,
    guest_session_hash: &str,
) -> StoreResult<bool> {
    let found: Option<String> = with_conn!(conn, c => lobby_entries::table
        .inner_join(room_sessions::table)
        .filter(room_sessions::media_id.eq(media.as_str()))
        .filter(room_sessions::ended_at.is_null())
        .filter(room_sessions::presenting.eq(item.as_str()))
        .filter(lobby_entries::guest_session_hash.eq(guest_session_hash))
        .filter(lobby_entries::status.eq(EntryStatus::Admitted.as_str()))
        .select(lobby_entries::id)
        .first(c)
        .optional()?);
    Ok(found.is_some())
}

/// Deletes sessions that ended before `cutoff`, with their participants,
/// lobby (guests' names and emails) and chat: kept as long as guest visits
/// are. How many sessions went.
pub fn purge(conn: &mut Conn, cutoff: Timestamp) -> StoreResult<usize> {
    Ok(with_conn!(conn, c => diesel::delete(
        room_sessions::table.filter(room_sessions::ended_at.lt(cutoff)),
    )
    .execute(c)?))
}

/// Deletes a room's sessions, with their participants, lobby and chat, and
/// its settings (the room itself was deleted).
pub fn forget(conn: &mut Conn, media: &MediaId) -> StoreResult<()> {
    with_conn!(conn, c => {
        diesel::delete(room_sessions::table.filter(room_sessions::media_id.eq(media.as_str())))
            .execute(c)?;
        diesel::delete(room_settings::table.find(media.as_str())).execute(c)?;
    });
    announce(conn, media.as_str())
}

/// A person's pass into a session's media room.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = av_passes)]
pub struct PassRow {
    pub person: String,
    pub participant_id: i64,
    pub may_publish: bool,
    pub issued_at: Timestamp,
    /// Its holder was seen in the media room (publishing passes only).
    pub seen: bool,
}

/// What issuing a pass found.
pub enum Issued {
    /// Issued; with the participant id of the pass it replaced, if any.
    Replacing(Option<i64>),
    /// The person was caught publishing without the right this session.
    Barred,
}

/// Gives `person` a new pass (a new participant id) into the session's
/// media room, under the old pass's row lock on PostgreSQL (SQLite's one
/// writer serializes anyway), so two issues at once each see the other.
pub fn issue_pass(conn: &mut Conn, session: &str, pass: &PassRow) -> StoreResult<Issued> {
    crate::store::write_transaction(conn, |conn| {
        let old: Option<(i64, bool)> = crate::first_locked!(
            conn,
            av_passes::table
                .find((session, &pass.person))
                .select((av_passes::participant_id, av_passes::barred))
        )?;
        if old.is_some_and(|(_, barred)| barred) {
            return Ok(Issued::Barred);
        }
        with_conn!(conn, c => diesel::insert_into(av_passes::table)
            .values((
                av_passes::session_id.eq(session),
                av_passes::person.eq(&pass.person),
                av_passes::participant_id.eq(pass.participant_id),
                av_passes::may_publish.eq(pass.may_publish),
                av_passes::issued_at.eq(pass.issued_at),
            ))
            .on_conflict((av_passes::session_id, av_passes::person))
            .do_update()
            .set((
                av_passes::participant_id.eq(pass.participant_id),
                av_passes::may_publish.eq(pass.may_publish),
                av_passes::issued_at.eq(pass.issued_at),
                av_passes::seen.eq(false),
            ))
            .execute(c)?);
        Ok(Issued::Replacing(old.map(|(id, _)| id)))
    })
}

/// Bars `pass`'s holder from the session's media room (their pass is
/// spent), even if the pass was withdrawn meanwhile.
pub fn bar(conn: &mut Conn, session: &str, pass: &PassRow) -> StoreResult<()> {
    with_conn!(conn, c => diesel::insert_into(av_passes::table)
        .values((
            av_passes::session_id.eq(session),
            av_passes::person.eq(&pass.person),
            av_passes::participant_id.eq(pass.participant_id),
            av_passes::may_publish.eq(false),
            av_passes::issued_at.eq(pass.issued_at),
            av_passes::barred.eq(true),
        ))
        .on_conflict((av_passes::session_id, av_passes::person))
        .do_update()
        .set(av_passes::barred.eq(true))
        .execute(c)?);
    Ok(())
}

/// The session's passes (not the barred).
pub fn passes(conn: &mut Conn, session: &str) -> StoreResult<Vec<PassRow>> {
    Ok(with_conn!(conn, c => av_passes::table
        .filter(av_passes::session_id.eq(session))
        .filter(av_passes::barred.eq(false))
        .select(PassRow::as_select())
        .load(c)?))
}

/// Withdraws a pass (only the one with this participant id: a newer one
/// issued meanwhile stays).
pub fn drop_pass(conn: &mut Conn, session: &str, pass: &PassRow) -> StoreResult<()> {
    with_conn!(conn, c => diesel::delete(
        av_passes::table
            .filter(av_passes::session_id.eq(session))
            .filter(av_passes::person.eq(&pass.person))
            .filter(av_passes::participant_id.eq(pass.participant_id)),
    )
    .execute(c)?);
    Ok(())
}

/// Running sessions that have a media room: (room's media, session, api, room).
pub fn running_media_rooms(conn: &mut Conn) -> StoreResult<Vec<(String, String, String, i64)>> {
    let rows: Vec<(String, String, Option<String>, Option<i64>)> = with_conn!(conn, c => room_sessions::table
        .filter(room_sessions::ended_at.is_null())
        .filter(room_sessions::janus_room.is_not_null())
        .select((room_sessions::media_id, room_sessions::id, room_sessions::janus_api, room_sessions::janus_room))
        .load(c)?);
    Ok(rows
        .into_iter()
        .filter_map(|(media, session, api, room)| Some((media, session, api?, room?)))
        .collect())
}

/// Running sessions without a media room: (room's media, session).
pub fn running_without_media_room(conn: &mut Conn) -> StoreResult<Vec<(String, String)>> {
    Ok(with_conn!(conn, c => room_sessions::table
        .filter(room_sessions::ended_at.is_null())
        .filter(room_sessions::janus_room.is_null())
        .select((room_sessions::media_id, room_sessions::id))
        .load(c)?))
}

/// Whether a moderator denied (or removed) a guest with `email` in `session`.
fn denied_address_in(conn: &mut Conn, session: &str, email: &str) -> StoreResult<bool> {
    let denied: Vec<String> = with_conn!(conn, c => lobby_entries::table
        .filter(lobby_entries::session_id.eq(session))
        .filter(lobby_entries::status.eq(EntryStatus::Denied.as_str()))
        .select(lobby_entries::email)
        .load(c)?);
    Ok(denied
        .iter()
        .any(|d| d.trim().eq_ignore_ascii_case(email.trim())))
}

/// A moderator's Mute all: the running session's count moves on (every
/// publishing page mutes its microphone when it does). False when no
/// session runs.
pub fn mute_all(conn: &mut Conn, media: &MediaId, session: &str) -> StoreResult<bool> {
    let n = with_conn!(conn, c => diesel::update(
        room_sessions::table
            .find(session)
            .filter(room_sessions::ended_at.is_null()),
    )
    .set(room_sessions::av_mute_all.eq(room_sessions::av_mute_all + 1))
    .execute(c)?);
    if n > 0 {
        announce(conn, media.as_str())?;
    }
    Ok(n > 0)
}

/// Puts an admitted guest out of the session: their entry becomes denied
/// (their page says so, and the guest session ends). None when the entry
/// is not admitted in this session.
pub fn remove_admitted(
    conn: &mut Conn,
    media: &MediaId,
    session: &str,
    entry_id: &str,
    now: Timestamp,
) -> StoreResult<Option<EntryRow>> {
    let row: Option<EntryRow> = with_conn!(conn, c => diesel::update(
        lobby_entries::table
            .find(entry_id)
            .filter(lobby_entries::session_id.eq(session))
            .filter(lobby_entries::status.eq(EntryStatus::Admitted.as_str())),
    )
    .set((
        lobby_entries::status.eq(EntryStatus::Denied.as_str()),
        lobby_entries::decided_at.eq(now),
    ))
    .returning(EntryRow::as_returning())
    .get_result(c)
    .optional()?);
    if row.is_some() {
        announce(conn, media.as_str())?;
    }
    Ok(row)
}

/// The pass (not barred) that holds `participant_id` in the session.
pub fn pass_of_participant(
    conn: &mut Conn,
    session: &str,
    participant_id: i64,
) -> StoreResult<Option<PassRow>> {
    Ok(with_conn!(conn, c => av_passes::table
        .filter(av_passes::session_id.eq(session))
        .filter(av_passes::participant_id.eq(participant_id))
        .filter(av_passes::barred.eq(false))
        .select(PassRow::as_select())
        .first(c)
        .optional()?))
}

/// Notes that a publishing pass's holder was seen in the media room.
pub fn mark_seen(conn: &mut Conn, session: &str, pass: &PassRow) -> StoreResult<()> {
    with_conn!(conn, c => diesel::update(
        av_passes::table
            .filter(av_passes::session_id.eq(session))
            .filter(av_passes::person.eq(&pass.person))
            .filter(av_passes::participant_id.eq(pass.participant_id)),
    )
    .set(av_passes::seen.eq(true))
    .execute(c)?);
    Ok(())
}

/// The running session whose media room is `number`: (session id, the
/// room's server as the tool reaches it).
pub fn session_of_media_room(
    conn: &mut Conn,
    number: i64,
) -> StoreResult<Option<(String, String)>> {
    let found: Option<(String, Option<String>)> = with_conn!(conn, c => room_sessions::table
        .filter(room_sessions::janus_room.eq(number))
        .filter(room_sessions::ended_at.is_null())
        .select((room_sessions::id, room_sessions::janus_api))
        .first(c)
        .optional()?);
    Ok(found.and_then(|(session, api)| Some((session, api?))))
}
