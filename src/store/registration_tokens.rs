//! Registration tokens already spent (stored as hashes): a token is used once.

use diesel::prelude::*;

use super::schema::used_registration_tokens as used;
use super::{Conn, StoreResult};
use crate::domain::time::Timestamp;
use crate::with_conn;

pub fn is_used(conn: &mut Conn, key_hash: &str) -> StoreResult<bool> {
    let count: i64 = with_conn!(conn, c => used::table
        .filter(used::token_hash.eq(key_hash))
        .count()
        .get_result(c)?);
    Ok(count > 0)
}

/// Marks a token used; false if it already was (two tabs, or a replay).
pub fn claim(conn: &mut Conn, key_hash: &str, now: Timestamp) -> StoreResult<bool> {
    let inserted = with_conn!(conn, c => diesel::insert_into(used::table)
        .values((used::token_hash.eq(key_hash), used::used_at.eq(now)))
        .on_conflict_do_nothing()
        .execute(c)?);
    Ok(inserted == 1)
}

/// Gives a claimed token back (the LMS certainly did not use it).
pub fn release(conn: &mut Conn, key_hash: &str) -> StoreResult<()> {
    with_conn!(conn, c => diesel::delete(used::table.filter(used::token_hash.eq(key_hash))).execute(c)?);
    Ok(())
}

/// Forgets spent tokens older than `before`: LMS registration tokens live
/// an hour, so a day later none could be replayed anyway.
pub fn purge(conn: &mut Conn, before: Timestamp) -> StoreResult<usize> {
    Ok(
        with_conn!(conn, c => diesel::delete(used::table.filter(used::used_at.lt(before))).execute(c)?),
    )
}
