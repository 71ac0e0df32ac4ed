//! Secrets the tool makes for itself and every instance must share.

use diesel::prelude::*;

use super::schema::tool_secrets;
use super::{Conn, StoreError, StoreResult};
use crate::write_tx;

/// The secret called `name`, made by `make` the first time it is asked for.
/// Instances starting together agree: the first insert wins, the rest read it.
pub fn get_or_create(
    conn: &mut Conn,
    name: &str,
    make: impl FnOnce() -> String,
    now: i64,
) -> StoreResult<String> {
    let fresh = make();
    write_tx!(conn, c => {
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
    })
}
