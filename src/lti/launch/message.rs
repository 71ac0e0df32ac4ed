//! Step 7: the LTI message. Version 1.3.0; exactly one of the message types
//! the tool handles; the claims every launch needs (roles, which may be
//! empty) checked once; then the claims each type needs.
//!
//! A resource-link launch may leave out `sub`: LTI 1.3 Core §5.3.6.1
//! (https://www.imsglobal.org/spec/lti/v1p3#anonymous-launch-case) makes it
//! an anonymous launch. A deep-linking request needs it (Deep Linking 2.0
//! §4.4, https://www.imsglobal.org/spec/lti-dl/v2p0#deep-linking-request-message).

use serde_json::Value;

use crate::lti::claims::{self, VerifiedClaims};
use crate::lti::{LaunchError, Registration};

/// The course the launch came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Context {
    pub id: String,
    pub label: Option<String>,
    pub title: Option<String>,
}

/// Who launched, from where, with which roles.
#[derive(Clone, Debug)]
pub struct Launcher {
    pub platform_id: i64,
    pub deployment_id: String,
    /// The platform had not listed this deployment (it registers new ones
    /// on their first launch): the service records it.
    pub new_deployment: bool,
    /// The platform's id for the user; None for an anonymous launch.
    pub sub: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub roles: Vec<String>,
    /// Absent when the tool was launched outside a course.
    pub context: Option<Context>,
    pub target_link_uri: Option<String>,
    pub custom: serde_json::Map<String, Value>,
}

/// What a deep-linking request asked for; kept with its session until the
/// picker answers.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct DeepLinkingSettings {
    pub return_url: String,
    pub accept_types: Vec<String>,
    pub accept_multiple: bool,
    pub auto_create: bool,
    /// Opaque to the tool: sent back exactly as it came, whatever its JSON type.
    pub data: Option<Value>,
}

/// A launch every check has passed, by message type.
#[derive(Clone, Debug)]
pub enum ValidatedLaunch {
    ResourceLink {
        launcher: Launcher,
        resource_link_id: String,
        resource_link_title: Option<String>,
    },
    DeepLinking {
        launcher: Launcher,
        settings: DeepLinkingSettings,
    },
}

impl ValidatedLaunch {
    pub fn launcher(&self) -> &Launcher {
        match self {
            ValidatedLaunch::ResourceLink { launcher, .. }
            | ValidatedLaunch::DeepLinking { launcher, .. } => launcher,
        }
    }
}

pub(super) fn validate(
    claims: &VerifiedClaims,
    registration: &Registration,
    deployment: super::deployment::Deployment,
    return_urls: super::ReturnUrls,
) -> Result<ValidatedLaunch, LaunchError> {
    check_version(claims)?;
    let message_type = claims
        .string(claims::MESSAGE_TYPE)
        .map_err(|_| LaunchError::UnsupportedMessageType)?
        .ok_or(LaunchError::MissingMessageType)?;
    if message_type != claims::RESOURCE_LINK_REQUEST && message_type != claims::DEEP_LINKING_REQUEST
    {
        return Err(LaunchError::UnsupportedMessageType);
    }
    let mut launcher = launcher(claims, registration, deployment.id)?;
    launcher.new_deployment = deployment.new;
    if message_type == claims::RESOURCE_LINK_REQUEST {
        let resource_link_id = claims
            .member(claims::RESOURCE_LINK, "id")
            .ok_or(LaunchError::MissingResourceLink)?;
        let resource_link_title = claims.member(claims::RESOURCE_LINK, "title");
        Ok(ValidatedLaunch::ResourceLink {
            launcher,
            resource_link_id,
            resource_link_title,
        })
    } else {
        if launcher.sub.is_none() {
            return Err(LaunchError::MissingSub);
        }
        Ok(ValidatedLaunch::DeepLinking {
            launcher,
            settings: deep_linking_settings(claims, return_urls)?,
        })
    }
}

fn check_version(claims: &VerifiedClaims) -> Result<(), LaunchError> {
    match claims.get(claims::VERSION) {
        None => Err(LaunchError::MissingLtiVersion),
        Some(Value::String(v)) if v == claims::LTI_VERSION => Ok(()),
        Some(_) => Err(LaunchError::UnsupportedLtiVersion),
    }
}

fn launcher(
    claims: &VerifiedClaims,
    registration: &Registration,
    deployment_id: String,
) -> Result<Launcher, LaunchError> {
    // An empty `sub` names no one: it is read as absent (anonymous), not
    // as one user every such launch would share.
    let sub = claims
        .string("sub")?
        .filter(|sub| !sub.is_empty())
        .map(str::to_string);
    let roles = claims.roles()?;
    let context = claims.member(claims::CONTEXT, "id").map(|id| Context {
        id,
        label: claims.member(claims::CONTEXT, "label"),
        title: claims.member(claims::CONTEXT, "title"),
    });
    let name = claims.personal("name").or_else(|| {
        let given = claims.personal("given_name");
        let family = claims.personal("family_name");
        match (given, family) {
            (Some(g), Some(f)) => Some(format!("{g} {f}")),
            (g, f) => g.or(f),
        }
    });
    Ok(Launcher {
        platform_id: registration.platform_id,
        deployment_id,
        new_deployment: false,
        sub,
        name,
        email: claims.personal("email"),
        roles,
        context,
        target_link_uri: claims
            .string(claims::TARGET_LINK_URI)
            .ok()
            .flatten()
            .map(str::to_string),
        custom: claims
            .get(claims::CUSTOM)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
    })
}

/// Whether the tool may post a deep-linking response to `raw`.
fn acceptable_return_url(raw: &str, return_urls: super::ReturnUrls) -> Result<(), LaunchError> {
    let url = url::Url::parse(raw).map_err(|_| LaunchError::MissingDeepLinkingSettings)?;
    let loopback = crate::outbound::is_loopback_host(&url);
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback && return_urls == super::ReturnUrls::AlsoLoopbackHttp => Ok(()),
        "http" => Err(LaunchError::InsecureReturnUrl),
        _ => Err(LaunchError::MissingDeepLinkingSettings),
    }
}

fn deep_linking_settings(
    claims: &VerifiedClaims,
    return_urls: super::ReturnUrls,
) -> Result<DeepLinkingSettings, LaunchError> {
    let settings = claims
        .get(claims::DEEP_LINKING_SETTINGS)
        .and_then(Value::as_object)
        .ok_or(LaunchError::MissingDeepLinkingSettings)?;
    let return_url = settings
        .get("deep_link_return_url")
        .and_then(Value::as_str)
        .ok_or(LaunchError::MissingDeepLinkingSettings)?
        .to_string();
    acceptable_return_url(&return_url, return_urls)?;
    let strings = |name: &str| -> Vec<String> {
        settings
            .get(name)
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    Ok(DeepLinkingSettings {
        return_url,
        accept_types: strings("accept_types"),
        accept_multiple: settings
            .get("accept_multiple")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        auto_create: settings
            .get("auto_create")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        data: settings.get("data").cloned(),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::ReturnUrls::{AlsoLoopbackHttp, HttpsOnly};
    use super::super::deployment::Deployment;
    use super::super::fakes::{
        DEPLOYMENT, deep_linking_claims, registration, resource_link_claims,
    };
    use super::*;

    fn validated(claims: Value) -> Result<ValidatedLaunch, LaunchError> {
        let deployment = Deployment {
            id: DEPLOYMENT.into(),
            new: false,
        };
        validate(
            &VerifiedClaims(claims),
            &registration(),
            deployment,
            HttpsOnly,
        )
    }

    fn without(mut claims: Value, name: &str) -> Value {
        claims.as_object_mut().unwrap().remove(name);
        claims
    }

    fn with(mut claims: Value, name: &str, value: Value) -> Value {
        claims[name] = value;
        claims
    }

    #[test]
    fn a_resource_link_launch_reads_who_where_and_what() {
        let ValidatedLaunch::ResourceLink {
            launcher,
            resource_link_id,
            resource_link_title,
        } = validated(resource_link_claims()).unwrap()
        else {
            panic!("a resource link launch");
        };
        assert_eq!(resource_link_id, "link-1");
        assert_eq!(resource_link_title.as_deref(), Some("Week 1"));
        assert_eq!(launcher.sub.as_deref(), Some("user-1"));
        assert_eq!(launcher.name.as_deref(), Some("Ada Lovelace"));
        assert_eq!(launcher.context.unwrap().label.as_deref(), Some("BIO101"));
        assert_eq!(launcher.roles.len(), 1);
    }

    #[test]
    fn a_resource_link_launch_without_sub_is_anonymous() {
        let launch = validated(without(resource_link_claims(), "sub")).unwrap();
        assert_eq!(launch.launcher().sub, None);
        let empty = validated(with(resource_link_claims(), "sub", json!(""))).unwrap();
        assert_eq!(empty.launcher().sub, None, "an empty sub names no one");
    }

    #[test]
    fn a_deep_linking_request_needs_sub() {
        assert!(validated(deep_linking_claims()).is_ok());
        assert_eq!(
            validated(without(deep_linking_claims(), "sub")).unwrap_err(),
            LaunchError::MissingSub
        );
    }

    #[test]
    fn the_name_is_built_from_its_parts_when_it_is_not_sent_whole() {
        let claims = with(
            with(
                without(resource_link_claims(), "name"),
                "given_name",
                json!("Ada"),
            ),
            "family_name",
            json!("Lovelace"),
        );
        assert_eq!(
            validated(claims).unwrap().launcher().name.as_deref(),
            Some("Ada Lovelace")
        );
    }

    #[test]
    fn the_version_and_message_type_have_their_codes() {
        let cases = [
            (
                without(resource_link_claims(), claims::VERSION),
                LaunchError::MissingLtiVersion,
            ),
            (
                with(resource_link_claims(), claims::VERSION, json!("1.1")),
                LaunchError::UnsupportedLtiVersion,
            ),
            (
                without(resource_link_claims(), claims::MESSAGE_TYPE),
                LaunchError::MissingMessageType,
            ),
            (
                with(
                    resource_link_claims(),
                    claims::MESSAGE_TYPE,
                    json!("LtiSubmissionReviewRequest"),
                ),
                LaunchError::UnsupportedMessageType,
            ),
            (
                without(resource_link_claims(), claims::RESOURCE_LINK),
                LaunchError::MissingResourceLink,
            ),
            (
                with(resource_link_claims(), claims::ROLES, json!(7)),
                LaunchError::InvalidClaim("roles"),
            ),
            (
                without(deep_linking_claims(), claims::DEEP_LINKING_SETTINGS),
                LaunchError::MissingDeepLinkingSettings,
            ),
        ];
        for (claims, expected) in cases {
            assert_eq!(validated(claims).unwrap_err(), expected);
        }
    }

    #[test]
    fn deep_linking_data_comes_back_as_it_was_sent() {
        for data in [
            json!("opaque"),
            json!({"state": [1, 2]}),
            json!(42),
            json!(null),
        ] {
            let mut claims = deep_linking_claims();
            claims[claims::DEEP_LINKING_SETTINGS]["data"] = data.clone();
            let ValidatedLaunch::DeepLinking { settings, .. } = validated(claims).unwrap() else {
                panic!("a deep-linking request");
            };
            assert_eq!(settings.data, Some(data));
            assert!(settings.accept_multiple);
            assert_eq!(settings.accept_types, ["ltiResourceLink"]);
        }
    }

    #[test]
    fn deep_linking_return_urls_must_be_https_except_loopback_in_the_demo() {
        assert!(acceptable_return_url("https://lms.example.edu/dl", HttpsOnly).is_ok());
        assert_eq!(
            acceptable_return_url("http://lms.example.edu/dl", HttpsOnly),
            Err(LaunchError::InsecureReturnUrl)
        );
        assert_eq!(
            acceptable_return_url("http://127.0.0.1:8080/demo/moodle/dl", HttpsOnly),
            Err(LaunchError::InsecureReturnUrl)
        );
        assert!(
            acceptable_return_url("http://127.0.0.1:8080/demo/moodle/dl", AlsoLoopbackHttp).is_ok()
        );
        assert!(acceptable_return_url("http://localhost/dl", AlsoLoopbackHttp).is_ok());
        assert_eq!(
            acceptable_return_url("http://lms.example.edu/dl", AlsoLoopbackHttp),
            Err(LaunchError::InsecureReturnUrl)
        );
        assert_eq!(
            acceptable_return_url("javascript:alert(1)", AlsoLoopbackHttp),
            Err(LaunchError::MissingDeepLinkingSettings)
        );
    }
}
