//! Step 6: the deployment id is one registered for this platform. Ids are
//! compared byte for byte (Brightspace's are upper-case GUIDs).

use crate::lti::claims::{DEPLOYMENT_ID, VerifiedClaims};
use crate::lti::{LaunchError, Registration};

pub(super) fn check(
    claims: &VerifiedClaims,
    registration: &Registration,
) -> Result<String, LaunchError> {
    let deployment = claims
        .string(DEPLOYMENT_ID)
        .map_err(|_| LaunchError::InvalidClaim("deployment_id"))?
        .ok_or(LaunchError::MissingDeploymentId)?;
    if registration.deployment_ids.iter().any(|d| d == deployment) {
        Ok(deployment.to_string())
    } else {
        Err(LaunchError::UnknownDeployment)
    }
}
