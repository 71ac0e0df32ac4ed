//! The tool's signing keys: one current key and recently retired ones.

use diesel::prelude::*;

use super::schema::tool_keys;
use super::{Conn, StoreError, StoreResult};
use crate::lti::keys::{KeySummary, ToolKey};
use crate::{with_conn, write_tx};

#[derive(Queryable, Selectable)]
#[diesel(table_name = tool_keys)]
struct KeyRow {
    kid: String,
    private_key: String,
    public_n: String,
    public_e: String,
    created_at: i64,
    retired_at: Option<i64>,
}

/// A stored key with its dates.
#[derive(Clone, Debug)]
pub struct StoredKey {
    pub key: ToolKey,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

impl From<KeyRow> for StoredKey {
    fn from(row: KeyRow) -> Self {
        StoredKey {
            key: ToolKey {
                kid: row.kid,
                private_pkcs8_b64: row.private_key,
                n: row.public_n,
                e: row.public_e,
            },
            created_at: row.created_at,
            retired_at: row.retired_at,
        }
    }
}

pub fn current(conn: &mut Conn) -> StoreResult<Option<ToolKey>> {
    let row: Option<KeyRow> = with_conn!(conn, c => tool_keys::table
        .filter(tool_keys::retired_at.is_null())
        .select(KeyRow::as_select())
        .first(c)
        .optional()?);
    Ok(row.map(|r| StoredKey::from(r).key))
}

/// The current key and keys retired less than `grace_seconds` ago, newest first.
pub fn published(conn: &mut Conn, now: i64, grace_seconds: i64) -> StoreResult<Vec<StoredKey>> {
    let rows: Vec<KeyRow> = with_conn!(conn, c => tool_keys::table
        .filter(tool_keys::retired_at.is_null().or(tool_keys::retired_at.gt(now - grace_seconds)))
        .order(tool_keys::created_at.desc())
        .select(KeyRow::as_select())
        .load(c)?);
    let mut keys: Vec<StoredKey> = rows.into_iter().map(StoredKey::from).collect();
    // The current key first: some platforms take the first key they see.
    keys.sort_by_key(|k| k.retired_at.is_some());
    Ok(keys)
}

fn insert(conn: &mut Conn, key: &ToolKey, now: i64) -> StoreResult<()> {
    with_conn!(conn, c => diesel::insert_into(tool_keys::table)
        .values((
            tool_keys::kid.eq(&key.kid),
            tool_keys::private_key.eq(&key.private_pkcs8_b64),
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
    now: i64,
    generate: impl FnOnce() -> ToolKey,
) -> StoreResult<ToolKey> {
    if let Some(key) = current(conn)? {
        return Ok(key);
    }
    match insert(conn, &generate(), now) {
        Ok(()) | Err(StoreError::Conflict(_)) => current(conn)?.ok_or(StoreError::NotFound),
        Err(other) => Err(other),
    }
}

/// Makes `new_key` current, retires the old one, and forgets keys retired
/// longer ago than the grace period.
pub fn rotate(conn: &mut Conn, new_key: &ToolKey, now: i64, grace_seconds: i64) -> StoreResult<()> {
    write_tx!(conn, c => {
        diesel::update(tool_keys::table.filter(tool_keys::retired_at.is_null()))
            .set(tool_keys::retired_at.eq(now))
            .execute(c)?;
        diesel::insert_into(tool_keys::table)
            .values((
                tool_keys::kid.eq(&new_key.kid),
                tool_keys::private_key.eq(&new_key.private_pkcs8_b64),
                tool_keys::public_n.eq(&new_key.n),
                tool_keys::public_e.eq(&new_key.e),
                tool_keys::created_at.eq(now),
            ))
            .execute(c)?;
        diesel::delete(tool_keys::table.filter(tool_keys::retired_at.lt(now - grace_seconds))).execute(c)?;
        Ok::<_, StoreError>(())
    })
}

/// Every key, newest first.
pub fn summaries(conn: &mut Conn) -> StoreResult<Vec<KeySummary>> {
    let rows: Vec<(String, i64, Option<i64>)> = with_conn!(conn, c => tool_keys::table
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
