//! The operator's secret key and what it seals: checked and brought up to
//! date when the server starts, and changed by `guestlink secret-key change`.

use super::Tool;
use super::failure::Fault;
use crate::crypto::{Sealer, SecretKey};
use crate::domain::time::Timestamp;
use crate::store::sealed::{self, KeyCheck, Resealed};
use crate::store::{Conn, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error(
        "GUESTLINK_SECRET_KEY is not the key this database's secrets were sealed with: give the key it ran with before, or change keys with guestlink secret-key change"
    )]
    WrongKey,
    #[error(transparent)]
    Fault(#[from] Fault),
}

impl From<StoreError> for SecretsError {
    fn from(err: StoreError) -> Self {
        SecretsError::Fault(err.into())
    }
}

/// Makes sure `sealer` is the key this database's secrets are sealed with,
/// and seals what an older guestlink stored in the clear.
pub fn open_at_start(
    conn: &mut Conn,
    sealer: &Sealer,
    now: Timestamp,
) -> Result<Resealed, SecretsError> {
    if sealed::check_key(conn, sealer, now)? == KeyCheck::Mismatch {
        return Err(SecretsError::WrongKey);
    }
    let resealed = sealed::seal_plain_rows(conn, sealer)?;
    if resealed.total() > 0 {
        tracing::info!(
            keys = resealed.keys,
            secrets = resealed.secrets,
            guest_links = resealed.links,
            "sealed secrets an older guestlink stored in the clear"
        );
    }
    Ok(resealed)
}

/// Re-seals every secret under `new`; the tool was opened with the key in
/// use ([`Tool::open`] checked it). Guest links already sent keep working.
pub async fn change_key(tool: &Tool, new: &SecretKey) -> Result<Resealed, Fault> {
    let (old, new) = (tool.sealer.clone(), Sealer::new(new));
    Ok(tool
        .db
        .write(move |conn| sealed::reseal_all(conn, &old, &new))
        .await?)
}
