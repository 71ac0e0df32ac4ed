//! Guest links, their visits and guest sessions.
//!
//! Two rules are held by the database itself, so that concurrent requests
//! and several app instances cannot break them: an item's live links hold
//! distinct places 1 to 3 (a partial unique index), and an admission counts
//! its click only while the link, its item, the switch and the platform's
//! modules allow it, in the same statement (PostgreSQL) or write transaction
//! (SQLite) that records the visit.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::schema::{guest_links, guest_sessions, guest_visits, media_items, platforms};
use super::{Conn, StoreError, StoreResult};
use crate::domain::guest_access::{
    GuestLink, ItemFacts, MAX_LINKS, NewLink, Visit, kind_supports_guest_access,
};
use crate::domain::media::{MediaId, MediaKind};
use crate::domain::time::Timestamp;
use crate::{with_conn, write_tx};

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = guest_links)]
struct LinkRow {
    pub id: String,
    pub media_id: String,
    pub name: String,
    pub click_limit: Option<i64>,
    pub clicks: i64,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub deleted_at: Option<Timestamp>,
    /// The token itself, sealed, for the owner's Copy.
    pub token_sealed: Option<String>,
}

/// A link with its sealed token, for the owner's Copy.
#[derive(Clone, Debug)]
pub struct StoredLink {
    pub link: GuestLink,
    pub token_sealed: String,
}

impl From<LinkRow> for StoredLink {
    fn from(row: LinkRow) -> StoredLink {
        StoredLink {
            token_sealed: row.token_sealed.clone().unwrap_or_default(),
            link: row.into(),
        }
    }
}

impl From<LinkRow> for GuestLink {
    fn from(row: LinkRow) -> GuestLink {
        GuestLink {
            id: row.id,
            name: row.name,
            click_limit: row.click_limit,
            clicks: row.clicks,
            created_at: row.created_at,
            expires_at: row.expires_at,
            deleted_at: row.deleted_at,
        }
    }
}

/// A link with what its item and platform say about guest access.
#[derive(Clone, Debug)]
pub struct FoundLink {
    pub link: GuestLink,
    pub item: ItemFacts,
    pub media_id: MediaId,
}

/// The item's live links, oldest first.
pub fn live_links(conn: &mut Conn, media: &MediaId) -> StoreResult<Vec<StoredLink>> {
    let rows: Vec<LinkRow> = with_conn!(conn, c => guest_links::table
        .filter(guest_links::media_id.eq(media.as_str()))
        .filter(guest_links::deleted_at.is_null())
        .order(guest_links::seq)
        .select(LinkRow::as_select())
        .load(c)?);
    Ok(rows.into_iter().map(StoredLink::from).collect())
}

pub fn set_enabled(conn: &mut Conn, media: &MediaId, enabled: bool) -> StoreResult<()> {
    write_tx!(conn, c => {
        diesel::update(media_items::table.find(media.as_str()))
            .set(media_items::guest_access_enabled.eq(enabled))
            .execute(c)?;
        Ok::<_, StoreError>(())
    })
}

/// The outcome of adding a link.
pub enum Added {
    Link(GuestLink),
    /// The item has its three links already.
    Full,
}

/// Adds a link in the item's lowest free place. Two requests that pick the
/// same place meet at the unique index; the loser looks again.
/// A new link's token as it is stored: its lookup hash and sealed copy.
pub struct StoredToken {
    pub hash: String,
    pub sealed: String,
}

pub fn insert(
    conn: &mut Conn,
    media: &MediaId,
    id: &str,
    token: &StoredToken,
    new: &NewLink,
    now: Timestamp,
) -> StoreResult<Added> {
    const ATTEMPTS: usize = 2 * MAX_LINKS + 2;
    let mut last = None;
    for _ in 0..ATTEMPTS {
        match insert_once(conn, media, id, token, new, now) {
            Err(StoreError::Conflict(what)) => last = Some(what),
            other => return other,
        }
    }
    Err(StoreError::Conflict(last.unwrap_or_default()))
}

fn insert_once(
    conn: &mut Conn,
    media: &MediaId,
    id: &str,
    token: &StoredToken,
    new: &NewLink,
    now: Timestamp,
) -> StoreResult<Added> {
    write_tx!(conn, c => {
        let taken: Vec<i64> = guest_links::table
            .filter(guest_links::media_id.eq(media.as_str()))
            .filter(guest_links::deleted_at.is_null())
            .select(guest_links::slot)
            .load(c)?;
        let Some(slot) = (1..=MAX_LINKS as i64).find(|s| !taken.contains(s)) else {
            return Ok(Added::Full);
        };
        let last: Option<i64> = guest_links::table
            .filter(guest_links::media_id.eq(media.as_str()))
            .select(diesel::dsl::max(guest_links::seq))
            .first(c)?;
        let row = diesel::insert_into(guest_links::table)
            .values((
                guest_links::id.eq(id),
                guest_links::media_id.eq(media.as_str()),
                guest_links::slot.eq(slot),
                guest_links::seq.eq(last.unwrap_or(0) + 1),
                guest_links::token_hash.eq(&token.hash),
                guest_links::token_sealed.eq(&token.sealed),
                guest_links::name.eq(&new.name),
                guest_links::click_limit.eq(new.click_limit),
                guest_links::clicks.eq(0i64),
                guest_links::created_at.eq(now),
                guest_links::expires_at.eq(new.expires_at(now)),
            ))
            .returning(LinkRow::as_returning())
            .get_result::<LinkRow>(c)?;
        Ok::<_, StoreError>(Added::Link(row.into()))
    })
}

/// Deletes a live link of the item (it stays as a tombstone); false if
/// there was none.
pub fn mark_deleted(
    conn: &mut Conn,
    media: &MediaId,
    link_id: &str,
    now: Timestamp,
) -> StoreResult<bool> {
    let updated = write_tx!(conn, c => {
        Ok::<_, StoreError>(diesel::update(
            guest_links::table
                .filter(guest_links::id.eq(link_id))
                .filter(guest_links::media_id.eq(media.as_str()))
                .filter(guest_links::deleted_at.is_null()),
        )
        .set(guest_links::deleted_at.eq(now))
        .execute(c)?)
    })?;
    Ok(updated > 0)
}

/// A link of the item, deleted or not (its visits outlive it).
pub fn find_of_media(
    conn: &mut Conn,
    media: &MediaId,
    link_id: &str,
) -> StoreResult<Option<GuestLink>> {
    let row: Option<LinkRow> = with_conn!(conn, c => guest_links::table
        .filter(guest_links::id.eq(link_id))
        .filter(guest_links::media_id.eq(media.as_str()))
        .select(LinkRow::as_select())
        .first(c)
        .optional()?);
    Ok(row.map(GuestLink::from))
}

type ItemColumns = (String, Option<i64>, bool, bool, bool);

fn item_facts((kind, deleted_at, enabled, invite, page): ItemColumns) -> ItemFacts {
    let supported = kind
        .parse::<MediaKind>()
        .map(kind_supports_guest_access)
        .unwrap_or(false);
    ItemFacts {
        available: deleted_at.is_none(),
        enabled,
        offered: supported && invite && page,
    }
}

/// The link whose token has this lookup hash (deleted ones too) and its
/// item's facts.
pub fn find_by_token(conn: &mut Conn, token_hash: &str) -> StoreResult<Option<FoundLink>> {
    let row: Option<(LinkRow, ItemColumns)> = with_conn!(conn, c => guest_links::table
        .inner_join(media_items::table.inner_join(platforms::table))
        .filter(guest_links::token_hash.eq(token_hash))
        .select((
            LinkRow::as_select(),
            (
                media_items::kind,
                media_items::deleted_at,
                media_items::guest_access_enabled,
                platforms::invite_to_media,
                platforms::media_page,
            ),
        ))
        .first(c)
        .optional()?);
    Ok(row.map(|(link, item)| FoundLink {
        media_id: MediaId(link.media_id.clone()),
        item: item_facts(item),
        link: link.into(),
    }))
}

#[derive(QueryableByName)]
struct CountedLink {
    #[diesel(sql_type = Text)]
    id: String,
}

#[derive(QueryableByName)]
struct Admitted {
    #[diesel(sql_type = BigInt)]
    visit_id: i64,
}

/// Kinds without guest access, as SQL (kept beside
/// `kind_supports_guest_access`, which a test holds to the same list).
const UNSUPPORTED_KINDS_SQL: &str = "('channel_room', 'gallery_room')";

/// The conditions under which a link admits a guest, on `guest_links`.
fn admissible(now: &str) -> String {
    format!(
        "deleted_at IS NULL \
         AND (click_limit IS NULL OR clicks < click_limit) \
         AND (expires_at IS NULL OR expires_at > {now}) \
         AND EXISTS (SELECT 1 FROM media_items m JOIN platforms p ON p.id = m.platform_id \
             WHERE m.id = guest_links.media_id AND m.deleted_at IS NULL AND m.guest_access_enabled \
             AND p.invite_to_media AND p.media_page AND m.kind NOT IN {UNSUPPORTED_KINDS_SQL})"
    )
}

/// What an admission writes.
pub struct Admission<'a> {
    /// The lookup hash of the token the guest's URL carries.
    pub token_hash: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub session_hash: &'a str,
    pub now: Timestamp,
    pub session_expires_at: Timestamp,
}

/// Admits a guest if the link may admit one now: one click counted, the
/// visit recorded and a guest session opened, all or nothing. Returns the
/// visit's id, or None when the link may not admit (the caller finds out why).
pub fn admit(conn: &mut Conn, a: &Admission<'_>) -> StoreResult<Option<i64>> {
    match conn {
        // One statement: the row lock of the click update is held for the
        // shortest time, which is what one hot link's throughput depends on.
        Conn::Pg(pooled) => {
            let sql = format!(
                "WITH admitted AS ( \
                   UPDATE guest_links SET clicks = clicks + 1 WHERE token_hash = $1 AND {} RETURNING id \
                 ), visit AS ( \
                   INSERT INTO guest_visits (link_id, name, email, created_at) \
                   SELECT id, $3, $4, $2 FROM admitted RETURNING id, link_id \
                 ) \
                 INSERT INTO guest_sessions (token_hash, link_id, visit_id, created_at, expires_at) \
                 SELECT $5, link_id, id, $2, $6 FROM visit RETURNING visit_id",
                admissible("$2")
            );
            let admitted: Option<Admitted> = crate::prepared!(
                diesel::sql_query(sql)
                    .bind::<Text, _>(a.token_hash)
                    .bind::<BigInt, _>(a.now)
                    .bind::<Text, _>(a.name)
                    .bind::<Text, _>(a.email)
                    .bind::<Text, _>(a.session_hash)
                    .bind::<BigInt, _>(a.session_expires_at)
            )
            .get_result(&mut pooled.conn)
            .optional()?;
            Ok(admitted.map(|r| r.visit_id))
        }
        // SQLite has one writer, so the transaction is as atomic.
        Conn::Sqlite(pooled) => {
            let c: &mut diesel::SqliteConnection = &mut *pooled;
            super::sqlite_write_transaction(c, |c| {
                let counted: Option<CountedLink> = crate::prepared!(
                    diesel::sql_query(format!(
                        "UPDATE guest_links SET clicks = clicks + 1 WHERE token_hash = ?1 AND {} RETURNING id",
                        admissible("?2")
                    ))
                    .bind::<Text, _>(a.token_hash)
                    .bind::<BigInt, _>(a.now)
                )
                .get_result(c)
                .optional()?;
                let Some(CountedLink { id: link_id }) = counted else {
                    return Ok(None);
                };
                let visit_id: i64 = crate::prepared!(
                    diesel::insert_into(guest_visits::table)
                        .values((
                            guest_visits::link_id.eq(&link_id),
                            guest_visits::name.eq(a.name),
                            guest_visits::email.eq(a.email),
                            guest_visits::created_at.eq(a.now),
                        ))
                        .returning(guest_visits::id)
                )
                .get_result(c)?;
                crate::prepared!(diesel::insert_into(guest_sessions::table).values((
                    guest_sessions::token_hash.eq(a.session_hash),
                    guest_sessions::link_id.eq(&link_id),
                    guest_sessions::visit_id.eq(visit_id),
                    guest_sessions::created_at.eq(a.now),
                    guest_sessions::expires_at.eq(a.session_expires_at),
                )))
                .execute(c)?;
                Ok::<_, StoreError>(Some(visit_id))
            })
        }
    }
}

/// A live guest session: which link admitted it, and its visit (who the
/// guest said they were).
#[derive(Clone, Debug)]
pub struct GuestSession {
    pub token_hash: String,
    pub link_id: String,
    pub visit_id: i64,
    pub name: String,
    pub email: String,
    pub expires_at: Timestamp,
}

pub fn find_session(
    conn: &mut Conn,
    token_hash: &str,
    now: Timestamp,
) -> StoreResult<Option<GuestSession>> {
    let row: Option<(String, i64, String, String, Timestamp)> = with_conn!(conn, c => guest_sessions::table
        .inner_join(guest_visits::table.on(guest_visits::id.eq(guest_sessions::visit_id)))
        .filter(guest_sessions::token_hash.eq(token_hash))
        .filter(guest_sessions::expires_at.gt(now))
        .select((
            guest_sessions::link_id,
            guest_sessions::visit_id,
            guest_visits::name,
            guest_visits::email,
            guest_sessions::expires_at,
        ))
        .first(c)
        .optional()?);
    Ok(row.map(
        |(link_id, visit_id, name, email, expires_at)| GuestSession {
            token_hash: token_hash.to_string(),
            link_id,
            visit_id,
            name,
            email,
            expires_at,
        },
    ))
}

/// Ends a guest session (its file URLs go with it).
pub fn end_session(conn: &mut Conn, token_hash: &str) -> StoreResult<()> {
    with_conn!(conn, c => diesel::delete(guest_sessions::table.find(token_hash)).execute(c)?);
    Ok(())
}

type VisitColumns = (i64, String, String, Timestamp);

/// Up to `limit` visits of a link after the visit `after`, in the order
/// they came (ids grow with each admission).
pub fn visits_page(
    conn: &mut Conn,
    link_id: &str,
    after: Option<i64>,
    limit: i64,
) -> StoreResult<Vec<Visit>> {
    let rows: Vec<VisitColumns> = with_conn!(conn, c => guest_visits::table
        .filter(guest_visits::link_id.eq(link_id))
        .filter(guest_visits::id.gt(after.unwrap_or(i64::MIN)))
        .order(guest_visits::id)
        .limit(limit)
        .select((guest_visits::id, guest_visits::name, guest_visits::email, guest_visits::created_at))
        .load(c)?);
    Ok(rows
        .into_iter()
        .map(|(id, name, email, at)| Visit {
            id,
            name,
            email,
            at,
        })
        .collect())
}

/// What the retention purge removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Purged {
    pub sessions: usize,
    pub visits: usize,
    pub links: usize,
}

/// Removes ended guest sessions, and visits and deleted links older than
/// `cutoff` (a deleted link's visits go with it).
pub fn purge(conn: &mut Conn, now: Timestamp, cutoff: Timestamp) -> StoreResult<Purged> {
    write_tx!(conn, c => {
        let sessions = diesel::delete(guest_sessions::table.filter(guest_sessions::expires_at.le(now)))
            .execute(c)?;
        let visits = diesel::delete(guest_visits::table.filter(guest_visits::created_at.lt(cutoff)))
            .execute(c)?;
        let links = diesel::delete(guest_links::table.filter(guest_links::deleted_at.lt(cutoff)))
            .execute(c)?;
        Ok::<_, StoreError>(Purged { sessions, visits, links })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sql_list_of_unsupported_kinds_matches_the_rule() {
        for kind in MediaKind::ALL {
            let listed = UNSUPPORTED_KINDS_SQL.contains(&format!("'{}'", kind.as_str()));
            assert_eq!(listed, !kind_supports_guest_access(kind), "{kind}");
        }
    }
}
