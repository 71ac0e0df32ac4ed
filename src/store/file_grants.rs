//! File grants: the URL a page got for its item's file, bound to one
//! viewer's session (a member's launch session or a guest's session). A
//! grant goes with its session (the foreign keys cascade), so ending a
//! session ends every URL it was given.

use diesel::prelude::*;

use super::schema::{file_grants, guest_links, guest_sessions, sessions};
use super::{Conn, StoreResult};
use crate::domain::file_access::GrantTimes;
use crate::domain::media::MediaId;
use crate::domain::time::Timestamp;
use crate::with_conn;

/// Whose page a grant was handed to, by the hash of their session token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Holder {
    Member(String),
    Guest(String),
}

/// For a guest's grant: the link that admitted its session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestLinkOf {
    /// The lookup hash of the link's token.
    pub token_hash: String,
    /// The link's item (a room, when the grant is for its stage).
    pub media_id: MediaId,
}

/// A grant as found, with whether its session still lives.
#[derive(Clone, Debug)]
pub struct Grant {
    pub media_id: MediaId,
    pub holder: Holder,
    pub times: GrantTimes,
    pub session_alive: bool,
    /// A guest's grant: the link the guest came through.
    pub link: Option<GuestLinkOf>,
}

/// Grants one holder keeps for one item: enough for every tab it has open;
/// a script reloading a page cannot pile up rows.
pub const MOST_PER_HOLDER_AND_ITEM: i64 = 20;

/// Adds a grant at its first use, unless its holder's session is gone (then
/// nothing is written) or a concurrent first use added it already; and
/// forgets the holder's oldest grants for the item beyond
/// [`MOST_PER_HOLDER_AND_ITEM`].
pub fn insert(
    conn: &mut Conn,
    grant_hash: &str,
    media: &MediaId,
    holder: &Holder,
    now: Timestamp,
    times: GrantTimes,
) -> StoreResult<()> {
    let (member, guest) = match holder {
        Holder::Member(hash) => (Some(hash.as_str()), None),
        Holder::Guest(hash) => (None, Some(hash.as_str())),
    };
    crate::write_tx!(conn, c => {
        let holder_lives = match holder {
            Holder::Member(hash) => diesel::select(diesel::dsl::exists(sessions::table.find(hash))).get_result::<bool>(c)?,
            Holder::Guest(hash) => diesel::select(diesel::dsl::exists(guest_sessions::table.find(hash))).get_result::<bool>(c)?,
        };
        if !holder_lives {
            return Ok(());
        }
        diesel::insert_into(file_grants::table)
            .values((
                file_grants::grant_hash.eq(grant_hash),
                file_grants::media_id.eq(media.as_str()),
                file_grants::session_hash.eq(member),
                file_grants::guest_session_hash.eq(guest),
                file_grants::created_at.eq(now),
                file_grants::starts_until.eq(times.starts_until),
                file_grants::last_used_at.eq(times.last_used_at),
                file_grants::ends_at.eq(times.ends_at),
            ))
            .on_conflict_do_nothing()
            .execute(c)?;
        let mut held = file_grants::table
            .filter(file_grants::media_id.eq(media.as_str()))
            .into_boxed();
        held = match holder {
            Holder::Member(hash) => held.filter(file_grants::session_hash.eq(hash)),
            Holder::Guest(hash) => held.filter(file_grants::guest_session_hash.eq(hash)),
        };
        let older: Vec<String> = held
            .order((file_grants::created_at.desc(), file_grants::grant_hash))
            .offset(MOST_PER_HOLDER_AND_ITEM)
            .select(file_grants::grant_hash)
            .load(c)?;
        if !older.is_empty() {
            diesel::delete(file_grants::table.filter(file_grants::grant_hash.eq_any(&older)))
                .execute(c)?;
        }
        Ok::<_, super::StoreError>(())
    })
}

type Row = (
    String,
    Option<String>,
    Option<String>,
    (Timestamp, Timestamp, Timestamp),
    Option<Timestamp>,
    Option<Timestamp>,
    Option<(String, String)>,
);

/// The grant with this hash, and whether its session lives at `now`.
pub fn find(conn: &mut Conn, grant_hash: &str, now: Timestamp) -> StoreResult<Option<Grant>> {
    let row: Option<Row> = with_conn!(conn, c => file_grants::table
        .left_join(sessions::table.on(sessions::token_hash.nullable().eq(file_grants::session_hash)))
        .left_join(guest_sessions::table.on(guest_sessions::token_hash.nullable().eq(file_grants::guest_session_hash)))
        .left_join(guest_links::table.on(guest_links::id.nullable().eq(guest_sessions::link_id.nullable())))
        .filter(file_grants::grant_hash.eq(grant_hash))
        .select((
            file_grants::media_id,
            file_grants::session_hash,
            file_grants::guest_session_hash,
            (file_grants::starts_until, file_grants::last_used_at, file_grants::ends_at),
            sessions::expires_at.nullable(),
            guest_sessions::expires_at.nullable(),
            (guest_links::token_hash, guest_links::media_id).nullable(),
        ))
        .first(c)
        .optional()?);
    Ok(row.and_then(
        |(
            media_id,
            member,
            guest,
            (starts_until, last_used_at, ends_at),
            member_until,
            guest_until,
            link,
        )| {
            let (holder, session_until) = match (member, guest) {
                (Some(hash), _) => (Holder::Member(hash), member_until),
                (None, Some(hash)) => (Holder::Guest(hash), guest_until),
                (None, None) => return None,
            };
            Some(Grant {
                media_id: MediaId(media_id),
                holder,
                times: GrantTimes {
                    starts_until,
                    last_used_at,
                    ends_at,
                },
                session_alive: session_until.is_some_and(|until| until > now),
                link: link.map(|(token_hash, media_id)| GuestLinkOf {
                    token_hash,
                    media_id: MediaId(media_id),
                }),
            })
        },
    ))
}

/// Records that the grant served (or its page vouched for it) at `now`.
pub fn touch(conn: &mut Conn, grant_hash: &str, now: Timestamp) -> StoreResult<()> {
    with_conn!(conn, c => diesel::update(file_grants::table.find(grant_hash))
        .set(file_grants::last_used_at.eq(now))
        .execute(c)?);
    Ok(())
}

/// Renews a grant in place for the page that holds it: used now, and able
/// to start streams until `starts_until`.
pub fn renew(
    conn: &mut Conn,
    grant_hash: &str,
    now: Timestamp,
    starts_until: Timestamp,
) -> StoreResult<()> {
    with_conn!(conn, c => diesel::update(file_grants::table.find(grant_hash))
        .set((
            file_grants::last_used_at.eq(now),
            file_grants::starts_until.eq(starts_until),
        ))
        .execute(c)?);
    Ok(())
}

/// Forgets grants that can no longer serve.
pub fn purge_expired(conn: &mut Conn, now: Timestamp) -> StoreResult<usize> {
    Ok(
        with_conn!(conn, c => diesel::delete(file_grants::table.filter(file_grants::ends_at.lt(now)))
        .execute(c)?),
    )
}
