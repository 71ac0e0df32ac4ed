//! Keeping every sealed secret under the operator's current key: rows written
//! before secrets were sealed are sealed at start, and a change of the key
//! re-seals everything in one transaction, so a failure leaves the old key
//! working.
//!
//! What is sealed: the tool's private keys (`tool_keys.private_key`), the
//! tool's own secrets (`tool_secrets.value`) and guest-link tokens
//! (`guest_links.token_sealed`, found by the keyed hash in `token_hash`).

use diesel::prelude::*;

use super::schema::{guest_links, tool_keys, tool_secrets};
use super::{Conn, StoreError, StoreResult, keys, secrets};
use crate::crypto::{SEALED_PREFIX, Sealer};
use crate::domain::time::Timestamp;
use crate::write_tx;

/// A tool secret whose only use is to tell whether a key is the one this
/// database's secrets were sealed with.
const KEY_CHECK: &str = "secret_key_check";
const KEY_CHECK_TEXT: &str = "guestlink";

/// What a sealed guest-link token is bound to: its own link.
pub fn link_context(link_id: &str) -> String {
    format!("guest_links.token/{link_id}")
}

/// How many rows were (re)sealed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Resealed {
    pub keys: usize,
    pub secrets: usize,
    pub links: usize,
}

impl Resealed {
    pub fn total(&self) -> usize {
        self.keys + self.secrets + self.links
    }
}

/// Whether `sealer`'s key is the one this database was sealed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyCheck {
    Matches,
    /// Nothing was sealed yet: the key is now recorded as the one in use.
    Recorded,
    Mismatch,
}

pub fn check_key(conn: &mut Conn, sealer: &Sealer, now: Timestamp) -> StoreResult<KeyCheck> {
    let stored: Option<String> = crate::with_conn!(conn, c => tool_secrets::table
        .find(KEY_CHECK)
        .select(tool_secrets::value)
        .first(c)
        .optional()?);
    match stored {
        Some(sealed) => Ok(
            match sealer.open_text(&secrets::seal_context(KEY_CHECK), &sealed) {
                Ok(text) if text == KEY_CHECK_TEXT => KeyCheck::Matches,
                _ => KeyCheck::Mismatch,
            },
        ),
        None => {
            secrets::get_or_create(conn, sealer, KEY_CHECK, || KEY_CHECK_TEXT.into(), now)?;
            Ok(KeyCheck::Recorded)
        }
    }
}

/// Where the secrets being (re)sealed are read from.
enum Reading<'a> {
    /// Rows an older guestlink left in the clear; sealed rows stay as they are.
    Plain,
    /// Every row, sealed under this (the old) key.
    SealedUnder(&'a Sealer),
}

impl Reading<'_> {
    /// A stored value in the clear, or None when this reading leaves it be.
    fn read(&self, context: &str, stored: &str) -> StoreResult<Option<String>> {
        match self {
            Reading::Plain if stored.starts_with(SEALED_PREFIX) => Ok(None),
            Reading::Plain => Ok(Some(stored.to_string())),
            Reading::SealedUnder(old) => {
                old.open_text(context, stored).map(Some).map_err(unsealable)
            }
        }
    }

    /// A guest link's token, from its lookup hash (which held the plain
    /// token before sealing) or its sealed copy.
    fn read_link(&self, id: &str, hash: &str, sealed: Option<&str>) -> StoreResult<Option<String>> {
        match (self, sealed) {
            (Reading::Plain, None) => Ok(Some(hash.to_string())),
            (Reading::Plain, Some(_)) => Ok(None),
            (Reading::SealedUnder(_), Some(sealed)) => self.read(&link_context(id), sealed),
            (Reading::SealedUnder(_), None) => Err(StoreError::Other(anyhow::anyhow!(
                "guest link {id} has no sealed token; start guestlink once before changing the key"
            ))),
        }
    }
}

fn unsealable(e: crate::crypto::Unsealable) -> StoreError {
    StoreError::Other(e.into())
}

/// Seals what an older guestlink stored in the clear.
pub fn seal_plain_rows(conn: &mut Conn, sealer: &Sealer) -> StoreResult<Resealed> {
    reseal(conn, Reading::Plain, sealer)
}

/// Opens every sealed secret with `old` and seals it with `new`; guest-link
/// lookup hashes are recomputed, so every link already sent keeps working.
pub fn reseal_all(conn: &mut Conn, old: &Sealer, new: &Sealer) -> StoreResult<Resealed> {
    reseal(conn, Reading::SealedUnder(old), new)
}

/// Reads each secret as `from` says and seals it under `to`, all or nothing.
fn reseal(conn: &mut Conn, from: Reading<'_>, to: &Sealer) -> StoreResult<Resealed> {
    write_tx!(conn, c => {
        let mut done = Resealed::default();
        let rows: Vec<(String, String)> = tool_keys::table
            .select((tool_keys::kid, tool_keys::private_key))
            .load(c)?;
        for (kid, stored) in rows {
            let context = keys::seal_context(&kid);
            if let Some(private) = from.read(&context, &stored)? {
                diesel::update(tool_keys::table.find(&kid))
                    .set(tool_keys::private_key.eq(to.seal_text(&context, &private)))
                    .execute(c)?;
                done.keys += 1;
            }
        }
        let rows: Vec<(String, String)> = tool_secrets::table
            .select((tool_secrets::name, tool_secrets::value))
            .load(c)?;
        for (name, stored) in rows {
            let context = secrets::seal_context(&name);
            if let Some(value) = from.read(&context, &stored)? {
                diesel::update(tool_secrets::table.find(&name))
                    .set(tool_secrets::value.eq(to.seal_text(&context, &value)))
                    .execute(c)?;
                done.secrets += 1;
            }
        }
        let rows: Vec<(String, String, Option<String>)> = guest_links::table
            .select((guest_links::id, guest_links::token_hash, guest_links::token_sealed))
            .load(c)?;
        for (id, hash, sealed) in rows {
            if let Some(token) = from.read_link(&id, &hash, sealed.as_deref())? {
                diesel::update(guest_links::table.find(&id))
                    .set((
                        guest_links::token_hash.eq(to.lookup_hash(&token)),
                        guest_links::token_sealed.eq(to.seal_text(&link_context(&id), &token)),
                    ))
                    .execute(c)?;
                done.links += 1;
            }
        }
        Ok::<_, StoreError>(done)
    })
}
