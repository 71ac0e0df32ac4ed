//! Registering and removing platforms (the command line and, later, the admin console).

use std::path::Path;

use super::{ServiceError, ServiceResult};
use crate::domain::ids::PlatformId;
use crate::domain::platform::{
    DeploymentPolicy, Modules, NewPlatform, Platform, parse_deployment_id,
};
use crate::lti::Registration;
use crate::store::{Conn, media, platforms};

pub fn add(conn: &mut Conn, new: &NewPlatform, now: i64) -> ServiceResult<PlatformId> {
    Ok(platforms::insert(conn, new, now)?)
}

pub fn list(conn: &mut Conn) -> ServiceResult<Vec<Platform>> {
    Ok(platforms::list(conn)?)
}

/// Adds deployments that the LMS created after registration (Canvas and
/// Brightspace create one per installation). Ids are checked like `add`'s.
pub fn add_deployments(
    conn: &mut Conn,
    id: PlatformId,
    deployment_ids: &[String],
    now: i64,
) -> ServiceResult<usize> {
    let clean = deployment_ids
        .iter()
        .map(|d| parse_deployment_id(d))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|problem| ServiceError::Invalid {
            field: "add-deployment",
            problem,
        })?;
    match platforms::add_deployments(conn, id, &clean, now) {
        Err(crate::store::StoreError::NotFound) => Err(ServiceError::NotFound),
        other => Ok(other?),
    }
}

/// What `remove` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Removal {
    Removed {
        media_deleted: usize,
    },
    /// Refused: the platform's courses hold this many media items.
    HoldsMedia(i64),
    NotFound,
}

/// Removes a platform and everything of it. A platform whose courses hold
/// media is only removed with `force`, which deletes the media as DELETE
/// does (files included) first.
pub fn remove(
    conn: &mut Conn,
    data_dir: &Path,
    id: PlatformId,
    force: bool,
    now: i64,
) -> ServiceResult<Removal> {
    if platforms::find(conn, id)?.is_none() {
        return Ok(Removal::NotFound);
    }
    let held = media::count_for_platform(conn, id)?;
    if held > 0 && !force {
        return Ok(Removal::HoldsMedia(held));
    }
    let files = media::mark_platform_deleted(conn, id, now)?;
    let dir = data_dir.join("media");
    for name in &files {
        if let Err(e) = std::fs::remove_file(dir.join(name))
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(file = %name, error = %e, "could not remove a media file");
        }
    }
    if !platforms::remove(conn, id)? {
        return Ok(Removal::NotFound);
    }
    Ok(Removal::Removed {
        media_deleted: held as usize,
    })
}

/// Applies `name=on|off` module switches and returns the platform's switches.
pub fn set_modules(conn: &mut Conn, id: PlatformId, switches: &[String]) -> ServiceResult<Modules> {
    let platform = platforms::find(conn, id)?.ok_or(ServiceError::NotFound)?;
    let mut modules = platform.modules;
    for switch in switches {
        modules
            .apply(switch)
            .map_err(|problem| ServiceError::Invalid {
                field: "module",
                problem,
            })?;
    }
    platforms::set_modules(conn, id, modules)?;
    Ok(modules)
}

/// The LTI view of a platform.
pub fn registration(platform: &Platform) -> Registration {
    Registration {
        platform_id: platform.id.0,
        issuer: platform.issuer.clone(),
        client_id: platform.client_id.clone(),
        auth_url: platform.auth_url.clone(),
        jwks_url: platform.jwks_url.clone(),
        deployment_ids: platform.deployment_ids.clone(),
        register_new_deployments: platform.deployment_policy
            == DeploymentPolicy::RegisterOnFirstLaunch,
    }
}

/// Sets the deployment policy; `NotFound` for an unknown platform.
pub fn set_deployment_policy(
    conn: &mut Conn,
    id: PlatformId,
    policy: &str,
) -> ServiceResult<DeploymentPolicy> {
    let policy = DeploymentPolicy::parse(policy).map_err(|problem| ServiceError::Invalid {
        field: "deployments",
        problem,
    })?;
    if !platforms::set_deployment_policy(conn, id, policy)? {
        return Err(ServiceError::NotFound);
    }
    Ok(policy)
}
