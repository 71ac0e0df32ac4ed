//! The tool's signing keys: one current key and recently retired ones. The
//! private half is stored sealed under the operator's secret key.

use diesel::prelude::*;

use super::schema::tool_keys;
use super::{Conn, StoreError, StoreResult};
use crate::crypto::Sealer;
use crate::domain::time::{Duration, Timestamp};
use crate::lti::keys::{Jwk, KeySummary, ToolKey};
use crate::{with_conn, write_tx};

#[derive(Queryable, Selectable)]
#[diesel(table_name = tool_keys)]
struct KeyRow {
    kid: String,
    private_key: String,
    public_n: String,
    public_e: String,
}

/// What a sealed private key is bound to: its own row.
pub fn seal_context(kid: &str) -> String {
    format!("tool_keys.private_key/{kid}")
}

fn open(sealer: &Sealer, row: KeyRow) -> StoreResult<ToolKey> {
    let private = sealer
        .open_text(&seal_context(&row.kid), &row.private_key)
        .map_err(|e| StoreError::Other(e.into()))?;
    Ok(ToolKey {
        kid: row.kid,
        private_pkcs8_b64: private,
        n: row.public_n,
        e: row.public_e,
    })
}

/// A published key: its public half and dates.
#[derive(Clone, Debug)]
pub struct PublishedKey {
    pub jwk: Jwk,
    pub created_at: Timestamp,
    pub retired_at: Option<Timestamp>,
}

pub fn current(conn: &mut Conn, sealer: &Sealer) -> StoreResult<Option<ToolKey>> {
    let row: Option<KeyRow> = with_conn!(conn, c => tool_keys::table
        .filter(tool_keys::retired_at.is_null())
        .select(KeyRow::as_select())
        .first(c)
        .optional()?);
    row.map(|r| open(sealer, r)).transpose()
}

/// The current key and keys retired less than `grace` ago, newest first.
pub fn published(
    conn: &mut Conn,
    now: Timestamp,
    grace: Duration,
) -> StoreResult<Vec<PublishedKey>> {
    let rows: Vec<(String, String, String, Timestamp, Option<Timestamp>)> = with_conn!(conn, c => tool_keys::table
        .filter(tool_keys::retired_at.is_null().or(tool_keys::retired_at.gt(now - grace)))
        .order(tool_keys::created_at.desc())
        .select((tool_keys::kid, tool_keys::public_n, tool_keys::public_e, tool_keys::created_at, tool_keys::retired_at))
        .load(c)?);
    let mut keys: Vec<PublishedKey> = rows
        .into_iter()
        .map(|(kid, n, e, created_at, retired_at)| PublishedKey {
            jwk: Jwk::rs256(&kid, &n, &e),
            created_at,
            retired_at,
        })
        .collect();
    // The current key first: some platforms take the first key they see.
    keys.sort_by_key(|k| k.retired_at.is_some());
    Ok(keys)
}

fn insert(conn: &mut Conn, sealer: &Sealer, key: &ToolKey, now: Timestamp) -> StoreResult<()> {
    let sealed = sealer.seal_text(&seal_context(&key.kid), &key.private_pkcs8_b64);
    with_conn!(conn, c => diesel::insert_into(tool_keys::table)
        .values((
            tool_keys::kid.eq(&key.kid),
            tool_keys::private_key.eq(&sealed),
            tool_keys::public_n.eq(&key.n),
            tool_keys::public_e.eq(&key.e),
            tool_keys::created_at.eq(now),
        ))
        .execute(c)?);
    Ok(())
}

/// The current key, creating one with `generate` if there is none. Safe when
/// several instances start at once: a unique index allows one current key,
/// and the loser reads the winner's.
pub fn ensure_current(
    conn: &mut Conn,
    sealer: &Sealer,
    now: Timestamp,
    generate: impl FnOnce() -> ToolKey,
) -> StoreResult<ToolKey> {
    if let Some(key) = current(conn, sealer)? {
        return Ok(key);
    }
    match insert(conn, sealer, &generate(), now) {
        Ok(()) | Err(StoreError::Conflict(_)) => current(conn, sealer)?.ok_or(StoreError::NotFound),
        Err(other) => Err(other),
    }
}

/// Makes `new_key` current, retires the old one, and forgets keys retired
/// longer ago than the grace period.
pub fn rotate(
    conn: &mut Conn,
    sealer: &Sealer,
    new_key: &ToolKey,
    now: Timestamp,
    grace: Duration,
) -> StoreResult<()> {
    let sealed = sealer.seal_text(&seal_context(&new_key.kid), &new_key.private_pkcs8_b64);
    write_tx!(conn, c => {
        diesel::update(tool_keys::table.filter(tool_keys::retired_at.is_null()))
            .set(tool_keys::retired_at.eq(now))
            .execute(c)?;
        diesel::insert_into(tool_keys::table)
            .values((
                tool_keys::kid.eq(&new_key.kid),
                tool_keys::private_key.eq(&sealed),
                tool_keys::public_n.eq(&new_key.n),
                tool_keys::public_e.eq(&new_key.e),
                tool_keys::created_at.eq(now),
            ))
            .execute(c)?;
        diesel::delete(tool_keys::table.filter(tool_keys::retired_at.lt(now - grace))).execute(c)?;
        Ok::<_, StoreError>(())
    })
}

/// Every key, newest first.
pub fn summaries(conn: &mut Conn) -> StoreResult<Vec<KeySummary>> {
    let rows: Vec<(String, Timestamp, Option<Timestamp>)> = with_conn!(conn, c => tool_keys::table
        .select((tool_keys::kid, tool_keys::created_at, tool_keys::retired_at))
        .order(tool_keys::created_at.desc())
        .load(c)?);
    Ok(rows
        .into_iter()
        .map(|(kid, created_at, retired_at)| KeySummary {
            kid,
            created_at,
            retired_at,
        })
        .collect())
}
