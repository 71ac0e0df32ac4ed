//! The tool's signing keys: created on first start, published as a JWKS,
//! rotated on demand with a grace period for platforms that cached the old one.

use super::Tool;
use super::failure::Fault;
use crate::lti::keys::{JwkSet, KeySummary, ToolKey};
use crate::store::keys;

/// Makes the first signing key unless there is one.
pub async fn ensure_current(tool: &Tool) -> Result<ToolKey, Fault> {
    let now = tool.clock.now();
    let sealer = tool.sealer.clone();
    Ok(tool
        .db
        .write(move |conn| {
            keys::ensure_current(conn, &sealer, now, || {
                ToolKey::generate().expect("RSA key generation failed")
            })
        })
        .await?)
}

/// Makes a new current key; the old one stays published for the grace period.
pub async fn rotate(tool: &Tool) -> Result<ToolKey, Fault> {
    let key = ToolKey::generate().map_err(|e| Fault::Internal(e.into()))?;
    let now = tool.clock.now();
    let grace = tool.settings.lti.key_grace;
    let (sealer, stored) = (tool.sealer.clone(), key.clone());
    tool.db
        .write(move |conn| keys::rotate(conn, &sealer, &stored, now, grace))
        .await?;
    tracing::info!(kid = %key.kid, "tool key rotated");
    Ok(key)
}

/// The keys, current and retired, for the admin console.
pub async fn summaries(tool: &Tool) -> Result<Vec<KeySummary>, Fault> {
    Ok(tool.db.read(keys::summaries).await?)
}

/// The current signing key, opened.
pub async fn current(tool: &Tool) -> Result<Option<ToolKey>, Fault> {
    let sealer = tool.sealer.clone();
    Ok(tool
        .db
        .read(move |conn| keys::current(conn, &sealer))
        .await?)
}

pub async fn published_jwks(tool: &Tool) -> Result<JwkSet, Fault> {
    let now = tool.clock.now();
    let grace = tool.settings.lti.key_grace;
    let stored = tool
        .db
        .read(move |conn| keys::published(conn, now, grace))
        .await?;
    Ok(JwkSet {
        keys: stored.into_iter().map(|k| k.jwk).collect(),
    })
}
