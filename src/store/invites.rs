//! Invitations, and the sessions of the browsers they are bound to.
//!
//! Two rules are held by the database: one live invitation per address and
//! item (a partial unique index; an expired one is retired in the same
//! transaction that makes its successor), and an invitation binds to the
//! first browser that confirms it (a conditional `UPDATE`: of two browsers
//! confirming at once, one finds it bound).

use diesel::prelude::*;

use super::schema::{invite_access, invites, sessions, users};
use super::{Conn, StoreResult};
use crate::domain::invite::{EmailStatus, InviteFacts, InviteRole, WrongTries};
use crate::domain::media::{Media, MediaId};
use crate::domain::time::Timestamp;
use crate::{with_conn, write_tx};

/// An invitation as stored.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = invites)]
pub struct InviteRow {
    pub id: String,
    pub media_id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub invited_by_name: String,
    pub valid_days: i32,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    pub live: bool,
    pub email_status: String,
    #[diesel(embed)]
    pub access: AccessRow,
}

/// Who is behind an invitation.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = invite_access)]
pub struct AccessRow {
    pub bound_session_hash: Option<String>,
    pub bound_browser_hash: Option<String>,
    pub accepted_at: Option<Timestamp>,
    pub user_id: Option<i64>,
    pub wrong_tries: i32,
    pub wrong_since: Option<Timestamp>,
}

/// Invitations with who is behind them.
macro_rules! invites_joined {
    () => {
        invites::table.inner_join(invite_access::table)
    };
}

impl InviteRow {
    pub fn role(&self) -> InviteRole {
        InviteRole::parse(&self.role).unwrap_or(InviteRole::Viewer)
    }

    pub fn facts(&self) -> InviteFacts {
        InviteFacts {
            // A row retired by a newer invitation had expired first.
            revoked: self.revoked_at.is_some(),
            bound: self.access.bound_session_hash.is_some(),
            expires_at: self.expires_at,
        }
    }

    pub fn email_status(&self) -> EmailStatus {
        EmailStatus::parse(&self.email_status)
    }

    pub fn wrong_tries(&self) -> WrongTries {
        WrongTries {
            count: self.access.wrong_tries,
            since: self.access.wrong_since,
        }
    }
}

/// A new invitation's row.
pub struct NewInviteRow<'a> {
    pub id: &'a str,
    pub media: &'a MediaId,
    pub email: &'a str,
    pub email_key: &'a str,
    pub name: &'a str,
    pub role: InviteRole,
    pub token_hash: &'a str,
    pub invited_by: i64,
    pub invited_by_name: &'a str,
    pub deployment_id: &'a str,
    pub days: i64,
    pub expires_at: Timestamp,
}

/// Adds an invitation, unless the address has a live one for the item:
/// then that one is the error. An expired invitation no longer counts: it
/// is retired first, in the same transaction.
pub fn insert(
    conn: &mut Conn,
    new: NewInviteRow<'_>,
    now: Timestamp,
) -> StoreResult<Result<InviteRow, InviteRow>> {
    write_tx!(conn, c => {
        diesel::update(
            invites::table
                .filter(invites::media_id.eq(new.media.as_str()))
                .filter(invites::email_key.eq(new.email_key))
                .filter(invites::live.eq(true))
                .filter(invites::expires_at.le(now)),
        )
        .set(invites::live.eq(false))
        .execute(c)?;
        let added = diesel::insert_into(invites::table)
            .values((
                invites::id.eq(new.id),
                invites::media_id.eq(new.media.as_str()),
                invites::email.eq(new.email),
                invites::email_key.eq(new.email_key),
                invites::name.eq(new.name),
                invites::role.eq(new.role.as_str()),
                invites::token_hash.eq(new.token_hash),
                invites::invited_by.eq(new.invited_by),
                invites::invited_by_name.eq(new.invited_by_name),
                invites::deployment_id.eq(new.deployment_id),
                invites::valid_days.eq(new.days as i32),
                invites::created_at.eq(now),
                invites::expires_at.eq(new.expires_at),
            ))
            .on_conflict_do_nothing()
            .execute(c)?;
        if added > 0 {
            diesel::insert_into(invite_access::table)
                .values(invite_access::invite_id.eq(new.id))
                .execute(c)?;
        }
        let (filter_id, live_only) = (new.id, added == 0);
        let row = invites_joined!()
            .filter(invites::media_id.eq(new.media.as_str()))
            .filter(
                invites::id.eq(filter_id).or(live_only.into_sql::<diesel::sql_types::Bool>()
                    .and(invites::email_key.eq(new.email_key))
                    .and(invites::live.eq(true))),
            )
            .select(InviteRow::as_select())
            .first(c)?;
        Ok::<_, super::StoreError>(if added == 0 { Err(row) } else { Ok(row) })
    })
}

/// An item's invitations, the newest first (retired ones too: the owner
/// sees who was invited).
pub fn of_media(conn: &mut Conn, media: &MediaId) -> StoreResult<Vec<InviteRow>> {
    Ok(with_conn!(conn, c => invites_joined!()
        .filter(invites::media_id.eq(media.as_str()))
        .order((invites::created_at.desc(), invites::id))
        .select(InviteRow::as_select())
        .load(c)?))
}

pub fn find_of_media(conn: &mut Conn, media: &MediaId, id: &str) -> StoreResult<Option<InviteRow>> {
    Ok(with_conn!(conn, c => invites_joined!()
        .filter(invites::media_id.eq(media.as_str()))
        .filter(invites::id.eq(id))
        .select(InviteRow::as_select())
        .first(c)
        .optional()?))
}

/// The invitation whose current link has this token hash.
pub fn by_token(conn: &mut Conn, token_hash: &str) -> StoreResult<Option<InviteRow>> {
    Ok(with_conn!(conn, c => invites_joined!()
        .filter(invites::token_hash.eq(token_hash))
        .select(InviteRow::as_select())
        .first(c)
        .optional()?))
}

/// Ends every session bound to the invitation (its browser is out).
fn end_sessions(c: &mut Conn, id: &str) -> StoreResult<()> {
    with_conn!(c, c => diesel::delete(sessions::table.filter(sessions::invite_id.eq(id))).execute(c)?);
    Ok(())
}

/// What changing an invitation found.
pub enum Changed {
    Done(InviteRow),
    /// Revoked, or retired by a newer invitation for the address.
    NotLive,
    NotFound,
}

fn changed(conn: &mut Conn, media: &MediaId, id: &str, updated: usize) -> StoreResult<Changed> {
    Ok(match find_of_media(conn, media, id)? {
        Some(row) if updated > 0 => Changed::Done(row),
        Some(_) => Changed::NotLive,
        None => Changed::NotFound,
    })
}

/// A live invitation's new role; the invitee's place in the room's
/// running session follows in the same transaction.
pub fn set_role(
    conn: &mut Conn,
    media: &MediaId,
    id: &str,
    role: InviteRole,
) -> StoreResult<Changed> {
    crate::store::write_transaction(conn, |conn| {
        let updated = with_conn!(conn, c => diesel::update(
            invites::table
                .filter(invites::media_id.eq(media.as_str()))
                .filter(invites::id.eq(id))
                .filter(invites::live.eq(true)),
        )
        .set(invites::role.eq(role.as_str()))
        .execute(c)?);
        let found = changed(conn, media, id, updated)?;
        if let Changed::Done(row) = &found
            && let Some(user_id) = row.access.user_id
        {
            super::rooms::set_participant_role(conn, media, user_id, role.in_room())?;
        }
        Ok(found)
    })
}

/// Revokes an invitation: its link dies and its browser's session ends.
/// Revoking twice is the same as once.
pub fn revoke(conn: &mut Conn, media: &MediaId, id: &str, now: Timestamp) -> StoreResult<Changed> {
    crate::store::write_transaction(conn, |conn| {
        let Some(_) = find_of_media(conn, media, id)? else {
            return Ok(Changed::NotFound);
        };
        with_conn!(conn, c => diesel::update(
            invites::table
                .filter(invites::id.eq(id))
                .filter(invites::revoked_at.is_null()),
        )
        .set((invites::revoked_at.eq(now), invites::live.eq(false)))
        .execute(c)?);
        end_sessions(conn, id)?;
        super::rooms::announce(conn, media.as_str())?;
        changed(conn, media, id, 1)
    })
}

/// A live invitation's new link (Resend): the old link and the browser it
/// was bound to are out, and it lasts its days again from `now`.
pub fn renew(
    conn: &mut Conn,
    media: &MediaId,
    id: &str,
    token_hash: &str,
    now: Timestamp,
) -> StoreResult<Changed> {
    crate::store::write_transaction(conn, |conn| {
        let Some(row) = find_of_media(conn, media, id)? else {
            return Ok(Changed::NotFound);
        };
        let expires_at = now + crate::domain::time::Duration::days(i64::from(row.valid_days));
        let updated = with_conn!(conn, c => diesel::update(
            invites::table
                .filter(invites::id.eq(id))
                .filter(invites::live.eq(true)),
        )
        .set((
            invites::token_hash.eq(token_hash),
            invites::expires_at.eq(expires_at),
            invites::email_status.eq(EmailStatus::NotSent.as_str()),
        ))
        .execute(c)?);
        if updated > 0 {
            with_conn!(conn, c => diesel::update(invite_access::table.find(id))
                .set((
                    invite_access::bound_session_hash.eq(None::<String>),
                    invite_access::wrong_tries.eq(0),
                    invite_access::wrong_since.eq(None::<Timestamp>),
                ))
                .execute(c)?);
            end_sessions(conn, id)?;
            super::rooms::announce(conn, media.as_str())?;
        }
        changed(conn, media, id, updated)
    })
}

/// Records how the email of the link `token_hash` went; a Resend since
/// then has a status of its own, so an old link's outcome is dropped.
pub fn set_email_status(
    conn: &mut Conn,
    id: &str,
    token_hash: &str,
    status: EmailStatus,
) -> StoreResult<()> {
    with_conn!(conn, c => diesel::update(
        invites::table
            .filter(invites::id.eq(id))
            .filter(invites::token_hash.eq(token_hash)),
    )
    .set(invites::email_status.eq(status.as_str()))
    .execute(c)?);
    Ok(())
}

/// The invitation's row, locked until the transaction ends on PostgreSQL
/// (SQLite's one writer serializes anyway), if its link `token_hash` is
/// still live at `now`.
fn lock_open(
    conn: &mut Conn,
    id: &str,
    token_hash: &str,
    now: Timestamp,
) -> StoreResult<Option<InviteRow>> {
    Ok(crate::first_locked!(
        conn,
        invites_joined!()
            .filter(invites::id.eq(id))
            .filter(invites::token_hash.eq(token_hash))
            .filter(invites::live.eq(true))
            .filter(invites::revoked_at.is_null())
            .filter(invites::expires_at.gt(now))
            .select(InviteRow::as_select())
    )?)
}

/// Takes one of the hour's tries at the invitation page's address check,
/// under the invitation's lock, so tries made at once are all counted:
/// false when the hour's tries are used up (the check must not run).
/// A try is counted before its address is compared (so that tries made at
/// once cannot all slip under the limit); the right address binds the
/// invitation, and [`bind`] clears the count again.
pub fn take_try(conn: &mut Conn, id: &str, token_hash: &str, now: Timestamp) -> StoreResult<bool> {
    crate::store::write_transaction(conn, |conn| {
        let Some(row) = lock_open(conn, id, token_hash, now)? else {
            // The page itself says why; the try is not the problem.
            return Ok(true);
        };
        let tries = row.wrong_tries();
        if tries.locked(now) {
            return Ok(false);
        }
        let next = tries.after_wrong(now);
        with_conn!(conn, c => diesel::update(invite_access::table.find(id))
            .set((
                invite_access::wrong_tries.eq(next.count),
                invite_access::wrong_since.eq(next.since),
            ))
            .execute(c)?);
        Ok(true)
    })
}

/// The session a confirming browser gets.
pub struct Binding<'a> {
    pub invite: &'a InviteRow,
    /// The link the browser confirmed (a Resend since makes it dead).
    pub token_hash: &'a str,
    pub media: &'a Media,
    pub session_hash: &'a str,
    /// The confirming browser (the hash of its form cookie).
    pub browser_hash: &'a str,
    pub now: Timestamp,
}

/// Binds the invitation to the browser `browser_hash`, whose new session is
/// `session_hash`, if the link is live and no other browser has it (the
/// same browser confirming again gets a new session, its old one ends):
/// the invitee gets a person of their own (for the room's participants and
/// its chat) and a session that opens only this item, until the invitation
/// expires. False when another browser was first.
pub fn bind(conn: &mut Conn, binding: Binding<'_>) -> StoreResult<bool> {
    let Binding {
        invite,
        token_hash,
        media,
        session_hash,
        browser_hash,
        now,
    } = binding;
    crate::store::write_transaction(conn, |conn| {
        // Under the invitation's lock a Revoke or Resend is either done
        // (the link is no longer open) or waits until this session exists.
        let Some(row) = lock_open(conn, &invite.id, token_hash, now)? else {
            return Ok(false);
        };
        let bound = with_conn!(conn, c => diesel::update(
            invite_access::table
                .filter(invite_access::invite_id.eq(&row.id))
                .filter(
                    invite_access::bound_session_hash
                        .is_null()
                        .or(invite_access::bound_browser_hash.eq(browser_hash)),
                ),
        )
        .set((
            invite_access::bound_session_hash.eq(session_hash),
            invite_access::bound_browser_hash.eq(browser_hash),
            invite_access::accepted_at.eq(row.access.accepted_at.unwrap_or(now)),
            invite_access::wrong_tries.eq(0),
            invite_access::wrong_since.eq(None::<Timestamp>),
        ))
        .execute(c)?);
        if bound == 0 {
            return Ok(false);
        }
        // This browser's earlier session, if it confirmed before, ends.
        end_sessions(conn, &row.id)?;
        with_conn!(conn, c => {
            // Invitees are people of the item's platform under a subject of
            // their own: "invite:" and the invitation's random id.
            let user_id: i64 = diesel::insert_into(users::table)
                .values((
                    users::platform_id.eq(media.platform_id.0),
                    users::sub.eq(invitee_subject(&row.id)),
                    users::name.eq(&row.name),
                    users::email.eq(&row.email),
                    users::updated_at.eq(now),
                ))
                .on_conflict((users::platform_id, users::sub))
                .do_update()
                .set((users::name.eq(&row.name), users::updated_at.eq(now)))
                .returning(users::id)
                .get_result(c)?;
            diesel::update(invite_access::table.find(&row.id))
                .set(invite_access::user_id.eq(user_id))
                .execute(c)?;
            let deployment: String = invites::table
                .find(&row.id)
                .select(invites::deployment_id)
                .first(c)?;
            diesel::insert_into(sessions::table)
                .values((
                    sessions::token_hash.eq(session_hash),
                    sessions::platform_id.eq(media.platform_id.0),
                    sessions::user_id.eq(user_id),
                    sessions::course_id.eq(media.course_id.0),
                    sessions::deployment_id.eq(deployment),
                    sessions::can_manage.eq(false),
                    sessions::roles.eq(""),
                    sessions::created_at.eq(now),
                    sessions::last_seen_at.eq(now),
                    sessions::expires_at.eq(row.expires_at),
                    sessions::invite_id.eq(&row.id),
                ))
                .execute(c)?;
        });
        Ok(true)
    })
}

/// The subject an invitee's person has (with the item's platform).
fn invitee_subject(invite_id: &str) -> String {
    format!("invite:{invite_id}")
}

/// Deletes invitations revoked or expired before `cutoff`, with their
/// access rows and sessions, and the persons made for their invitees
/// (names and addresses); how many invitations.
pub fn purge(conn: &mut Conn, cutoff: Timestamp) -> StoreResult<usize> {
    crate::store::write_transaction(conn, |conn| {
        let gone: Vec<String> = with_conn!(conn, c => invites::table
            .filter(invites::expires_at.lt(cutoff).or(invites::revoked_at.lt(cutoff)))
            .select(invites::id)
            .load(c)?);
        if gone.is_empty() {
            return Ok(0);
        }
        let subjects: Vec<String> = gone.iter().map(|id| invitee_subject(id)).collect();
        with_conn!(conn, c => {
            let persons: Vec<i64> = invite_access::table
                .filter(invite_access::invite_id.eq_any(&gone))
                .filter(invite_access::user_id.is_not_null())
                .select(invite_access::user_id.assume_not_null())
                .load(c)?;
            diesel::delete(invites::table.filter(invites::id.eq_any(&gone))).execute(c)?;
            diesel::delete(
                users::table
                    .filter(users::id.eq_any(&persons))
                    .filter(users::sub.eq_any(&subjects)),
            )
            .execute(c)?;
        });
        Ok(gone.len())
    })
}

/// The role of the live invitation behind the invitee `user_id`, read
/// under the invitation's row lock on PostgreSQL (SQLite's one writer
/// serializes anyway): a role change either comes before this read or
/// waits for the caller's transaction, and then finds the row it wrote.
pub fn invitee_role_locked(conn: &mut Conn, user_id: i64) -> StoreResult<Option<InviteRole>> {
    let found: Option<String> = crate::first_locked!(
        conn,
        invites_joined!()
            .filter(invite_access::user_id.eq(user_id))
            .filter(invites::live.eq(true))
            .select(invites::role)
    )?;
    Ok(found.as_deref().and_then(InviteRole::parse))
}
