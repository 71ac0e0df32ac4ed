//! The admin console's one-time sign-in links and sessions (hashes only).

use diesel::prelude::*;

use super::schema::{admin_login_links as links, admin_sessions as sessions};
use super::{Conn, StoreError, StoreResult};
use crate::domain::time::Timestamp;
use crate::{with_conn, write_tx};

/// One admin session row (a macro so it runs inside either backend's transaction).
macro_rules! insert_session_in {
    ($c:expr, $hash:expr, $now:expr, $expires:expr) => {
        diesel::insert_into(sessions::table)
            .values((
                sessions::token_hash.eq($hash),
                sessions::created_at.eq($now),
                sessions::expires_at.eq($expires),
            ))
            .execute($c)?
    };
}

pub fn insert_login_link(
    conn: &mut Conn,
    token_hash: &str,
    now: Timestamp,
    expires_at: Timestamp,
) -> StoreResult<()> {
    with_conn!(conn, c => diesel::insert_into(links::table)
        .values((
            links::token_hash.eq(token_hash),
            links::created_at.eq(now),
            links::expires_at.eq(expires_at),
        ))
        .execute(c)?);
    Ok(())
}

/// Uses a sign-in link up and opens a session in one transaction; false if
/// the link is unknown, used or expired.
pub fn use_login_link(
    conn: &mut Conn,
    link_hash: &str,
    session_hash: &str,
    now: Timestamp,
    session_expires_at: Timestamp,
) -> StoreResult<bool> {
    write_tx!(conn, c => {
        let used = diesel::update(
            links::table
                .filter(links::token_hash.eq(link_hash))
                .filter(links::used_at.is_null())
                .filter(links::expires_at.gt(now)),
        )
        .set(links::used_at.eq(now))
        .execute(c)?;
        if used == 0 {
            return Ok::<_, StoreError>(false);
        }
        insert_session_in!(c, session_hash, now, session_expires_at);
        Ok(true)
    })
}

pub fn insert_session(
    conn: &mut Conn,
    session_hash: &str,
    now: Timestamp,
    expires_at: Timestamp,
) -> StoreResult<()> {
    with_conn!(conn, c => insert_session_in!(c, session_hash, now, expires_at));
    Ok(())
}

pub fn session_valid(conn: &mut Conn, session_hash: &str, now: Timestamp) -> StoreResult<bool> {
    let count: i64 = with_conn!(conn, c => sessions::table
        .filter(sessions::token_hash.eq(session_hash))
        .filter(sessions::expires_at.gt(now))
        .count()
        .get_result(c)?);
    Ok(count > 0)
}

pub fn end_session(conn: &mut Conn, session_hash: &str) -> StoreResult<()> {
    with_conn!(conn, c => diesel::delete(sessions::table.filter(sessions::token_hash.eq(session_hash))).execute(c)?);
    Ok(())
}

/// Removes ended sessions and sign-in links that can no longer be used.
pub fn purge(conn: &mut Conn, now: Timestamp) -> StoreResult<usize> {
    let (a, b) = with_conn!(conn, c => (
        diesel::delete(sessions::table.filter(sessions::expires_at.le(now))).execute(c)?,
        diesel::delete(links::table.filter(links::expires_at.le(now))).execute(c)?,
    ));
    Ok(a + b)
}
