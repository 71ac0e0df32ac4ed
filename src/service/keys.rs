//! The tool's signing keys: created on first start, published as a JWKS,
//! rotated on demand with a grace period for platforms that cached the old one.

use super::{ServiceResult, Tool};
use crate::lti::keys::{JwkSet, ToolKey};
use crate::store::{Conn, keys};

pub fn ensure_current(conn: &mut Conn, now: i64) -> ServiceResult<ToolKey> {
    Ok(keys::ensure_current(conn, now, || {
        ToolKey::generate().expect("RSA key generation failed")
    })?)
}

pub fn rotate(conn: &mut Conn, now: i64, grace_days: i64) -> ServiceResult<ToolKey> {
    let key = ToolKey::generate().map_err(|e| super::ServiceError::Internal(e.into()))?;
    keys::rotate(conn, &key, now, grace_days * 86_400)?;
    Ok(key)
}

pub async fn published_jwks(tool: &Tool) -> ServiceResult<JwkSet> {
    let now = tool.clock.unix();
    let grace = tool.settings.key_grace_days * 86_400;
    let stored = tool
        .db
        .read(move |conn| keys::published(conn, now, grace))
        .await?;
    Ok(JwkSet {
        keys: stored.iter().map(|k| k.key.jwk()).collect(),
    })
}
