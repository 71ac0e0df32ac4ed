//! The server-side half of each login: state, nonce and browser binding,
//! all stored as hashes, each used once.

use diesel::prelude::*;

use super::schema::login_states;
use super::{Conn, StoreResult};
use crate::domain::ids::PlatformId;
use crate::domain::time::{Duration, Timestamp};
use crate::lti::launch::StateRecord;
use crate::with_conn;

pub struct NewLoginState<'a> {
    pub state_hash: &'a str,
    pub platform_id: PlatformId,
    pub nonce_hash: &'a str,
    pub binding_hash: &'a str,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

pub fn insert(conn: &mut Conn, new: &NewLoginState<'_>) -> StoreResult<()> {
    with_conn!(conn, c => diesel::insert_into(login_states::table)
        .values((
            login_states::state_hash.eq(new.state_hash),
            login_states::platform_id.eq(new.platform_id.0),
            login_states::nonce_hash.eq(new.nonce_hash),
            login_states::binding_hash.eq(new.binding_hash),
            login_states::created_at.eq(new.created_at),
            login_states::expires_at.eq(new.expires_at),
        ))
        .execute(c)?);
    Ok(())
}

pub fn find(conn: &mut Conn, state_hash: &str) -> StoreResult<Option<StateRecord>> {
    let row: Option<(i64, String, String, Timestamp)> = with_conn!(conn, c => login_states::table
        .find(state_hash)
        .select((
            login_states::platform_id,
            login_states::nonce_hash,
            login_states::binding_hash,
            login_states::expires_at,
        ))
        .first(c)
        .optional()?);
    Ok(row.map(
        |(platform_id, nonce_hash, binding_hash, expires_at)| StateRecord {
            platform_id,
            nonce_hash,
            binding_hash,
            expires_at,
        },
    ))
}

/// Marks the state used. One conditional UPDATE, so of two concurrent
/// launches with the same state exactly one gets `true`.
pub fn consume(conn: &mut Conn, state_hash: &str, now: Timestamp) -> StoreResult<bool> {
    let updated = with_conn!(conn, c => crate::prepared!(diesel::update(
        login_states::table
            .filter(login_states::state_hash.eq(state_hash))
            .filter(login_states::used_at.is_null()),
    )
    .set(login_states::used_at.eq(now)))
    .execute(c)?);
    Ok(updated == 1)
}

/// Forgets login states soon after they expire. A used one is kept an hour
/// past its expiry, so that a late replay still reads as a replay rather than
/// an unknown state; one never used (anyone can start a login) goes a minute
/// after its expiry, so a flood of logins cannot pile up rows.
pub fn purge_expired(conn: &mut Conn, now: Timestamp) -> StoreResult<usize> {
    Ok(with_conn!(conn, c => diesel::delete(
        login_states::table.filter(
            diesel::BoolExpressionMethods::and(
                login_states::expires_at.lt(now - UNUSED_KEPT),
                login_states::used_at.is_null(),
            )
            .or(login_states::expires_at.lt(now - USED_KEPT)),
        ),
    )
    .execute(c)?))
}

/// How long after its expiry a state is kept: never used, and used.
pub const UNUSED_KEPT: Duration = Duration::minutes(1);
pub const USED_KEPT: Duration = Duration::hours(1);
