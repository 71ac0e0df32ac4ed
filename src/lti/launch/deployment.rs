//! Step 6: the deployment id is one registered for this platform, or the
//! platform registers new ones on their first launch. Ids are compared byte
//! for byte (Brightspace's are upper-case GUIDs).

use crate::lti::claims::{DEPLOYMENT_ID, VerifiedClaims};
use crate::lti::{LaunchError, Registration};

/// The launch's deployment, and whether the platform listed it already.
pub(super) struct Deployment {
    pub id: String,
    pub new: bool,
}

pub(super) fn check(
    claims: &VerifiedClaims,
    registration: &Registration,
) -> Result<Deployment, LaunchError> {
    let deployment = claims
        .string(DEPLOYMENT_ID)
        .map_err(|_| LaunchError::InvalidClaim("deployment_id"))?
        .ok_or(LaunchError::MissingDeploymentId)?;
    let known = registration.deployment_ids.iter().any(|d| d == deployment);
    if known {
        return Ok(Deployment {
            id: deployment.to_string(),
            new: false,
        });
    }
    if !registration.register_new_deployments {
        return Err(LaunchError::UnknownDeployment);
    }
    // A new id is stored: it must look like one.
    if deployment.is_empty() || deployment.len() > 255 || deployment.chars().any(char::is_control) {
        return Err(LaunchError::InvalidClaim("deployment_id"));
    }
    Ok(Deployment {
        id: deployment.to_string(),
        new: true,
    })
}
