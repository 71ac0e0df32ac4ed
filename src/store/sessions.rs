//! Launch sessions: looked up by the hash of their token, kept alive while
//! used, forgotten after their idle expiry.

use diesel::prelude::*;

use super::media::{MEDIA_ROW_COLUMNS, MediaRow};
use super::schema::{courses, invites, media_items, platforms, sessions, users};
use super::{Conn, StoreError, StoreResult};
use crate::domain::ids::{CourseId, PlatformId, UserId};
use crate::domain::invite::InviteRole;
use crate::domain::media::{Media, MediaId};
use crate::domain::permissions::CourseRights;
use crate::domain::session::{Course, InviteeScope, LaunchSession};
use crate::domain::time::Timestamp;
use crate::with_conn;

type Row = (
    (
        i64,
        Option<i64>,
        String,
        bool,
        String,
        Timestamp,
        Timestamp,
        Timestamp,
    ),
    (String, String),
    Option<(Option<String>, Option<String>)>,
    Option<(i64, String, Option<String>, Option<String>)>,
    Option<(String, String, String)>,
);

/// What [`Row`] reads of a session and what it joins.
macro_rules! session_columns {
    () => {
        (
            (
                sessions::platform_id,
                sessions::user_id,
                sessions::deployment_id,
                sessions::can_manage,
                sessions::roles,
                sessions::created_at,
                sessions::last_seen_at,
                sessions::expires_at,
            ),
            (platforms::name, platforms::lms),
            (users::name, users::email).nullable(),
            (
                courses::id,
                courses::context_id,
                courses::label,
                courses::title,
            )
                .nullable(),
            (invites::id, invites::media_id, invites::role).nullable(),
        )
    };
}

/// Sessions with their user, platform and course.
macro_rules! sessions_joined {
    () => {
        sessions::table
            .left_join(users::table)
            .inner_join(platforms::table)
            .left_join(courses::table)
            .left_join(invites::table)
    };
}

/// The live launch session with this token hash, if any (never an
/// invitee's: those open only their item, under their invitation's path).
pub fn find(
    conn: &mut Conn,
    token_hash: &str,
    now: Timestamp,
) -> StoreResult<Option<LaunchSession>> {
    let row: Option<Row> = with_conn!(conn, c => sessions_joined!()
        .filter(sessions::token_hash.eq(token_hash))
        .filter(sessions::invite_id.is_null())
        .filter(sessions::expires_at.gt(now))
        .select(session_columns!())
        .first(c)
        .optional()?);
    row.map(into_session).transpose()
}

/// Whether the session with this token hash lives at `now` (an open event
/// stream's check at each heartbeat: one index lookup).
pub fn is_live(conn: &mut Conn, token_hash: &str, now: Timestamp) -> StoreResult<bool> {
    Ok(with_conn!(conn, c => diesel::select(diesel::dsl::exists(
        sessions::table
            .filter(sessions::token_hash.eq(token_hash))
            .filter(sessions::expires_at.gt(now)),
    ))
    .get_result::<bool>(c)?))
}

/// Which sessions a lookup accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holders {
    /// Launch sessions only (pages and the API).
    Launched,
    /// Invitees' sessions too (a room's event stream, whose ticket this
    /// tool sealed for its holder's item).
    AndInvitees,
}

/// The live session with this token hash and the live item `media` (of any
/// course: the caller checks it is the session's), in one statement: a
/// media page's reads.
pub fn find_with_media(
    conn: &mut Conn,
    token_hash: &str,
    now: Timestamp,
    media: &MediaId,
    holders: Holders,
) -> StoreResult<Option<(LaunchSession, Option<Media>)>> {
    let invitees = holders == Holders::AndInvitees;
    let row: Option<(Row, Option<MediaRow>)> = with_conn!(conn, c => sessions_joined!()
        .left_join(
            media_items::table.on(media_items::id
                .eq(media.as_str())
                .and(media_items::deleted_at.is_null())),
        )
        .filter(sessions::token_hash.eq(token_hash))
        .filter(sessions::invite_id.is_null().or(invitees.into_sql::<diesel::sql_types::Bool>()))
        .filter(sessions::expires_at.gt(now))
        .select((session_columns!(), MEDIA_ROW_COLUMNS.nullable()))
        .first(c)
        .optional()?);
    let Some((session, media)) = row else {
        return Ok(None);
    };
    Ok(Some((
        into_session(session)?,
        media.map(MediaRow::into_media).transpose()?,
    )))
}

fn into_session(row: Row) -> StoreResult<LaunchSession> {
    let (
        (
            platform_id,
            user_id,
            deployment_id,
            can_manage,
            roles,
            started_at,
            last_seen_at,
            expires_at,
        ),
        (platform_name, lms),
        user,
        course,
        invite,
    ) = row;
    Ok(LaunchSession {
        platform_id: PlatformId(platform_id),
        platform_name,
        lms: lms
            .parse()
            .map_err(|e: crate::domain::field::FieldError| StoreError::Other(anyhow::anyhow!(e)))?,
        user_id: user_id.map(UserId),
        user_name: user.as_ref().and_then(|(name, _)| name.clone()),
        user_email: user.and_then(|(_, email)| email),
        course: course.map(|(id, context_id, label, title)| Course {
            id: CourseId(id),
            context_id,
            label,
            title,
        }),
        rights: if can_manage {
            CourseRights::Manage
        } else {
            CourseRights::View
        },
        deployment_id,
        roles: roles
            .split('\n')
            .filter(|r| !r.is_empty())
            .map(str::to_string)
            .collect(),
        started_at,
        last_seen_at,
        expires_at,
        invitee: invite
            .map(|(invite_id, media_id, role)| {
                // An invitee's session that cannot be read is refused, never
                // taken for a course member's.
                let corrupt = || StoreError::Other(anyhow::anyhow!("invitation {invite_id}"));
                Ok::<_, StoreError>(InviteeScope {
                    media_id: MediaId::parse(&media_id).ok_or_else(corrupt)?,
                    role: InviteRole::parse(&role).ok_or_else(corrupt)?,
                    invite_id: invite_id.clone(),
                })
            })
            .transpose()?,
    })
}

/// Extends an idle expiry. Callers touch at most once a minute per session,
/// so reading pages does not turn into a write per request.
pub fn touch(
    conn: &mut Conn,
    token_hash: &str,
    now: Timestamp,
    expires_at: Timestamp,
) -> StoreResult<()> {
    with_conn!(conn, c => diesel::update(sessions::table.find(token_hash))
        .set((sessions::last_seen_at.eq(now), sessions::expires_at.eq(expires_at)))
        .execute(c)?);
    Ok(())
}

pub fn purge_expired(conn: &mut Conn, now: Timestamp) -> StoreResult<usize> {
    Ok(
        with_conn!(conn, c => diesel::delete(sessions::table.filter(sessions::expires_at.le(now))).execute(c)?),
    )
}

/// The deep-linking settings kept with a live session, if it came from a
/// deep-linking request.
pub fn deep_linking(
    conn: &mut Conn,
    token_hash: &str,
    now: Timestamp,
) -> StoreResult<Option<String>> {
    let found: Option<Option<String>> = with_conn!(conn, c => sessions::table
        .find(token_hash)
        .filter(sessions::expires_at.gt(now))
        .select(sessions::deep_linking)
        .first(c)
        .optional()?);
    Ok(found.flatten())
}
