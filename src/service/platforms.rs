//! Registering and removing platforms (the command line and, later, the admin console).

use super::ServiceResult;
use crate::domain::ids::PlatformId;
use crate::domain::platform::{NewPlatform, Platform, parse_deployment_id};
use crate::lti::Registration;
use crate::store::{Conn, platforms};

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
        .map_err(|problem| super::ServiceError::Invalid {
            field: "add-deployment",
            problem,
        })?;
    match platforms::add_deployments(conn, id, &clean, now) {
        Err(crate::store::StoreError::NotFound) => Err(super::ServiceError::NotFound),
        other => Ok(other?),
    }
}

pub fn remove(conn: &mut Conn, id: PlatformId) -> ServiceResult<bool> {
    Ok(platforms::remove(conn, id)?)
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
    }
}
