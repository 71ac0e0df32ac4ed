//! The tool's signing keys: created on first start, published as a JWKS,
//! rotated on demand with a grace period for platforms that cached the old one.

use super::{ServiceResult, Tool};
use crate::crypto::Sealer;
use crate::lti::keys::{JwkSet, ToolKey};
use crate::store::{Conn, keys};

pub fn ensure_current(conn: &mut Conn, sealer: &Sealer, now: i64) -> ServiceResult<ToolKey> {
    Ok(keys::ensure_current(conn, sealer, now, || {
        ToolKey::generate().expect("RSA key generation failed")
    })?)
}

pub fn rotate(
    conn: &mut Conn,
    sealer: &Sealer,
    now: i64,
    grace_days: i64,
) -> ServiceResult<ToolKey> {
    let key = ToolKey::generate().map_err(|e| super::ServiceError::Internal(e.into()))?;
    keys::rotate(conn, sealer, &key, now, grace_days * 86_400)?;
    Ok(key)
}

/// The current signing key, opened.
pub async fn current(tool: &Tool) -> ServiceResult<Option<ToolKey>> {
    let sealer = tool.sealer.clone();
    Ok(tool
        .db
        .read(move |conn| keys::current(conn, &sealer))
        .await?)
}

pub async fn published_jwks(tool: &Tool) -> ServiceResult<JwkSet> {
    let now = tool.clock.unix();
    let grace = tool.settings.key_grace_days * 86_400;
    let stored = tool
        .db
        .read(move |conn| keys::published(conn, now, grace))
        .await?;
    Ok(JwkSet {
        keys: stored.into_iter().map(|k| k.jwk).collect(),
    })
}
