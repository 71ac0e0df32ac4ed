//! The admin console's use cases: what a tool administrator reads and changes
//! about platforms, keys and launch diagnostics. Each change drops the
//! cached registrations, so it counts from the next request, and is logged.

use super::platforms::{self as platform_rules, Activation, Removal};
use super::{ServiceError, ServiceResult, Tool, keys};
use crate::domain::diagnostics::{AttemptScope, LaunchAttempt};
use crate::domain::ids::PlatformId;
use crate::domain::platform::{Deployment, Modules, NewPlatform, Platform};
use crate::lti::keys::KeySummary;
use crate::store::{launch_attempts, platforms};

/// At most this many attempts are listed for all platforms together.
const LISTED_FOR_ALL: i64 = 200;

pub async fn platforms(tool: &Tool) -> ServiceResult<Vec<Platform>> {
    Ok(tool.db.read(platforms::list).await?)
}

/// A platform and its deployments (with how each arrived).
pub async fn platform(tool: &Tool, id: PlatformId) -> ServiceResult<(Platform, Vec<Deployment>)> {
    tool.db
        .read(move |conn| {
            Ok(match platforms::find(conn, id)? {
                Some(p) => Some((p, platforms::deployments_of(conn, id)?)),
                None => None,
            })
        })
        .await?
        .ok_or(ServiceError::NotFound)
}

/// Registers a platform typed in by an administrator; `Conflict` if its
/// issuer and client id are registered already.
pub async fn add_platform(tool: &Tool, new: NewPlatform) -> ServiceResult<PlatformId> {
    let now = tool.clock.unix();
    let id = tool
        .db
        .write(move |conn| platforms::insert(conn, &new, now))
        .await?;
    changed(tool, id, "added");
    Ok(id)
}

/// What an administrator may change of a registration without registering
/// it again: the issuer and client id are its identity.
pub struct Details {
    pub name: String,
    pub auth_url: String,
    pub jwks_url: String,
    pub token_url: Option<String>,
}

pub async fn edit_platform(tool: &Tool, id: PlatformId, details: Details) -> ServiceResult<()> {
    let found = tool
        .db
        .write(move |conn| {
            platforms::update_details(
                conn,
                id,
                &platforms::Details {
                    name: &details.name,
                    auth_url: &details.auth_url,
                    jwks_url: &details.jwks_url,
                    token_url: details.token_url.as_deref(),
                },
            )
        })
        .await?;
    found_then(tool, id, found, "details")
}

pub async fn set_modules(tool: &Tool, id: PlatformId, modules: Modules) -> ServiceResult<()> {
    let found = tool
        .db
        .write(move |conn| platforms::set_modules(conn, id, modules))
        .await?;
    found_then(tool, id, found, "modules")
}

pub async fn set_deployment_policy(
    tool: &Tool,
    id: PlatformId,
    policy: String,
) -> ServiceResult<()> {
    tool.db
        .write(move |conn| Ok(platform_rules::set_deployment_policy(conn, id, &policy)))
        .await??;
    changed(tool, id, "deployment policy");
    Ok(())
}

pub async fn add_deployment(
    tool: &Tool,
    id: PlatformId,
    deployment_id: String,
) -> ServiceResult<()> {
    let now = tool.clock.unix();
    tool.db
        .write(move |conn| {
            Ok(platform_rules::add_deployments(
                conn,
                id,
                &[deployment_id],
                now,
            ))
        })
        .await??;
    changed(tool, id, "deployment added");
    Ok(())
}

pub async fn activate(tool: &Tool, id: PlatformId) -> ServiceResult<Activation> {
    let activation = tool
        .db
        .write(move |conn| Ok(platform_rules::activate(conn, id)))
        .await??;
    changed(tool, id, "activated");
    Ok(activation)
}

pub async fn remove(tool: &Tool, id: PlatformId, force: bool) -> ServiceResult<Removal> {
    let data_dir = tool.settings.data_dir.clone();
    let now = tool.clock.unix();
    let removal = tool
        .db
        .write(move |conn| Ok(platform_rules::remove(conn, &data_dir, id, force, now)))
        .await??;
    if let Removal::Removed { media_deleted } = removal {
        tracing::info!(media_deleted, "with its media");
        changed(tool, id, "removed");
    }
    Ok(removal)
}

pub async fn keys(tool: &Tool) -> ServiceResult<Vec<KeySummary>> {
    Ok(tool.db.read(crate::store::keys::summaries).await?)
}

/// Makes a new current key; the old one stays published for the grace period.
pub async fn rotate_key(tool: &Tool) -> ServiceResult<String> {
    let now = tool.clock.unix();
    let grace = tool.settings.key_grace_days;
    let sealer = tool.sealer.clone();
    let key = tool
        .db
        .write(move |conn| Ok(keys::rotate(conn, &sealer, now, grace)))
        .await??;
    tracing::info!(kid = %key.kid, "tool key rotated in the admin console");
    Ok(key.kid)
}

/// The newest attempts in `scope`, and the platforms (to name them).
pub async fn diagnostics(
    tool: &Tool,
    scope: AttemptScope,
) -> ServiceResult<(Vec<LaunchAttempt>, Vec<Platform>)> {
    let limit = match scope {
        AttemptScope::All => LISTED_FOR_ALL,
        _ => launch_attempts::KEEP_PER_PLATFORM,
    };
    Ok(tool
        .db
        .read(move |conn| {
            Ok((
                launch_attempts::recent(conn, scope, limit)?,
                platforms::list(conn)?,
            ))
        })
        .await?)
}

fn found_then(tool: &Tool, id: PlatformId, found: bool, what: &'static str) -> ServiceResult<()> {
    if !found {
        return Err(ServiceError::NotFound);
    }
    changed(tool, id, what);
    Ok(())
}

fn changed(tool: &Tool, id: PlatformId, what: &'static str) {
    tool.registrations.forget_all();
    tracing::info!(
        platform_id = id.0,
        what,
        "platform changed in the admin console"
    );
}
