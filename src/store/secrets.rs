//! Secrets the tool makes for itself and every instance must share, stored
//! sealed under the operator's secret key.

use diesel::prelude::*;

use super::schema::tool_secrets;
use super::{Conn, StoreError, StoreResult};
use crate::crypto::Sealer;
use crate::domain::time::Timestamp;
use crate::write_tx;

/// What a sealed tool secret is bound to: its own name.
pub fn seal_context(name: &str) -> String {
    format!("tool_secrets.value/{name}")
}

/// The secret called `name`, made by `make` the first time it is asked for.
/// Instances starting together agree: the first insert wins, the rest read it.
pub fn get_or_create(
    conn: &mut Conn,
    sealer: &Sealer,
    name: &str,
    make: impl FnOnce() -> String,
    now: Timestamp,
) -> StoreResult<String> {
    let fresh = sealer.seal_text(&seal_context(name), &make());
    let stored = write_tx!(conn, c => {
        diesel::insert_into(tool_secrets::table)
            .values((
                tool_secrets::name.eq(name),
                tool_secrets::value.eq(&fresh),
                tool_secrets::created_at.eq(now),
            ))
            .on_conflict_do_nothing()
            .execute(c)?;
        tool_secrets::table
            .find(name)
            .select(tool_secrets::value)
            .first::<String>(c)
            .map_err(StoreError::from)
    })?;
    sealer
        .open_text(&seal_context(name), &stored)
        .map_err(|e| StoreError::Other(e.into()))
}
