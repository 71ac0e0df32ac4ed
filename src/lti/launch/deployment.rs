//! Step 6: the deployment id (LTI 1.3 Core §5.3.3,
//! https://www.imsglobal.org/spec/lti/v1p3#lti-deployment-id-claim) is one
//! registered for this platform, or the platform registers new ones on
//! their first launch. Ids are compared byte for byte (Brightspace's are
//! upper-case GUIDs).

use crate::lti::claims::{DEPLOYMENT_ID, VerifiedClaims};
use crate::lti::{LaunchError, Registration};

/// The launch's deployment, and whether the platform listed it already.
#[derive(Debug, PartialEq, Eq)]
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
    if !storable(deployment) {
        return Err(LaunchError::InvalidClaim("deployment_id"));
    }
    Ok(Deployment {
        id: deployment.to_string(),
        new: true,
    })
}

/// Whether a deployment id a launch names may be recorded as it is: 1 to 255
/// printable characters without surrounding spaces, so that it reads the
/// same through the administrator's tools (which trim what they are given).
pub fn storable(id: &str) -> bool {
    !id.is_empty()
        && id.trim() == id
        && id.chars().count() <= 255
        && !id.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::fakes::{DEPLOYMENT, registration};
    use super::*;

    fn checked(
        deployment: serde_json::Value,
        register_new: bool,
    ) -> Result<Deployment, LaunchError> {
        let registration = Registration {
            register_new_deployments: register_new,
            ..registration()
        };
        check(
            &VerifiedClaims(json!({ (DEPLOYMENT_ID): deployment })),
            &registration,
        )
    }

    #[test]
    fn a_listed_deployment_passes_as_known() {
        assert_eq!(
            checked(DEPLOYMENT.into(), false),
            Ok(Deployment {
                id: DEPLOYMENT.into(),
                new: false
            })
        );
    }

    #[test]
    fn an_unlisted_deployment_is_refused_unless_the_platform_records_new_ones() {
        assert_eq!(
            checked("99".into(), false),
            Err(LaunchError::UnknownDeployment)
        );
        assert_eq!(
            checked("99".into(), true),
            Ok(Deployment {
                id: "99".into(),
                new: true
            })
        );
        assert_eq!(
            checked(" 99".into(), true),
            Err(LaunchError::InvalidClaim("deployment_id")),
            "a new id is stored only as it would read back"
        );
    }

    #[test]
    fn ids_are_compared_byte_for_byte() {
        assert_eq!(
            checked("1 ".into(), false),
            Err(LaunchError::UnknownDeployment)
        );
    }

    #[test]
    fn a_missing_or_mistyped_deployment_has_its_code() {
        let registration = registration();
        assert_eq!(
            check(&VerifiedClaims(json!({})), &registration),
            Err(LaunchError::MissingDeploymentId)
        );
        assert_eq!(
            checked(json!(1), true),
            Err(LaunchError::InvalidClaim("deployment_id"))
        );
    }

    #[test]
    fn storable_ids_are_printable_and_bounded() {
        assert!(storable("327:a17deed8f179120345abd3e8b6e22a3d8ff68a63"));
        assert!(storable(&"é".repeat(255)), "characters, not bytes");
        assert!(!storable(&"x".repeat(256)));
        assert!(!storable(""));
        assert!(!storable(" 4"));
        assert!(!storable("4\n"));
    }

    proptest::proptest! {
        /// What a launch records, the admin console and `platform add` read back unchanged.
        #[test]
        fn a_recorded_deployment_id_reads_back_unchanged(id in "\\PC{0,300}|[ -~]{0,20}") {
            if storable(&id) {
                proptest::prop_assert_eq!(
                    crate::domain::platform::parse_deployment_id(&id),
                    Ok(id.clone())
                );
            }
        }

        #[test]
        fn any_text_is_judged_without_panicking(id in ".{0,400}") {
            let _ = storable(&id);
            let _ = crate::domain::platform::parse_deployment_id(&id);
        }
    }
}
