//! Login initiation (OIDC third-party initiated login): choosing the
//! platform and building the authentication request back to it.

use super::{LaunchError, Registration};

/// The login initiation parameters, GET query or POST form: LTI Security
/// Framework §5.1.1.1, Step 1: Third-party Initiated Login
/// (https://www.imsglobal.org/spec/security/v1p0/#step-1-third-party-initiated-login),
/// LTI 1.3 Core §4.1, Additional login parameters
/// (https://www.imsglobal.org/spec/lti/v1p3#additional-login-parameters), and
/// `lti_storage_target` of LTI platform storage
/// (https://www.imsglobal.org/spec/lti-pm-s/v0p1).
#[derive(Debug, Default, serde::Deserialize)]
pub struct LoginParams {
    pub iss: Option<String>,
    pub login_hint: Option<String>,
    pub target_link_uri: Option<String>,
    pub lti_message_hint: Option<String>,
    pub client_id: Option<String>,
    pub lti_deployment_id: Option<String>,
    pub lti_storage_target: Option<String>,
}

/// Login parameters that were present and well-formed.
#[derive(Debug)]
pub struct LoginRequest {
    pub iss: String,
    pub login_hint: String,
    pub target_link_uri: String,
    pub lti_message_hint: Option<String>,
    pub client_id: Option<String>,
    pub lti_storage_target: Option<String>,
}

const LONGEST_PARAMETER: usize = 8 * 1024;

impl LoginParams {
    pub fn parse(self) -> Result<LoginRequest, LaunchError> {
        fn required(value: Option<String>, name: &'static str) -> Result<String, LaunchError> {
            let value = value
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty());
            let value = value.ok_or(LaunchError::MissingParameter(name))?;
            if value.len() > LONGEST_PARAMETER {
                return Err(LaunchError::MalformedParameter(name));
            }
            Ok(value)
        }
        fn optional(
            value: Option<String>,
            name: &'static str,
        ) -> Result<Option<String>, LaunchError> {
            match value
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
            {
                Some(v) if v.len() > LONGEST_PARAMETER => {
                    Err(LaunchError::MalformedParameter(name))
                }
                other => Ok(other),
            }
        }
        let storage_target = optional(self.lti_storage_target, "lti_storage_target")?;
        if storage_target.as_ref().is_some_and(|t| !is_frame_name(t)) {
            return Err(LaunchError::MalformedParameter("lti_storage_target"));
        }
        Ok(LoginRequest {
            iss: required(self.iss, "iss")?,
            login_hint: required(self.login_hint, "login_hint")?,
            target_link_uri: required(self.target_link_uri, "target_link_uri")?,
            lti_message_hint: optional(self.lti_message_hint, "lti_message_hint")?,
            client_id: optional(self.client_id, "client_id")?,
            lti_storage_target: storage_target,
        })
    }
}

/// A frame name as platforms send it (`_parent`, `post_message_forwarding`).
fn is_frame_name(name: &str) -> bool {
    name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Picks the registration a login is for: by issuer and client id, or by
/// issuer alone when the platform sent no client id and only one is registered.
pub fn choose_registration(
    candidates: Vec<Registration>,
    client_id: Option<&str>,
) -> Result<Registration, LaunchError> {
    if candidates.is_empty() {
        return Err(LaunchError::UnknownIssuer);
    }
    match client_id {
        Some(client) => candidates
            .into_iter()
            .find(|r| r.client_id == client)
            .ok_or(LaunchError::UnknownClient),
        None if candidates.len() == 1 => Ok(candidates.into_iter().next().expect("one candidate")),
        None => Err(LaunchError::AmbiguousClient),
    }
}

/// The authentication request URL at the platform (sent as a GET redirect,
/// which avoids Moodle's SameSite=Lax session problem with POSTs).
pub fn authentication_url(
    registration: &Registration,
    request: &LoginRequest,
    redirect_uri: &str,
    state: &str,
    nonce: &str,
) -> Result<String, LaunchError> {
    let mut url =
        url::Url::parse(&registration.auth_url).map_err(|_| LaunchError::UnknownIssuer)?;
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("scope", "openid")
            .append_pair("response_type", "id_token")
            .append_pair("response_mode", "form_post")
            .append_pair("prompt", "none")
            .append_pair("client_id", &registration.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("login_hint", &request.login_hint)
            .append_pair("state", state)
            .append_pair("nonce", nonce);
        if let Some(hint) = &request.lti_message_hint {
            query.append_pair("lti_message_hint", hint);
        }
    }
    Ok(url.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> LoginParams {
        LoginParams {
            iss: Some(" https://lms.example.edu ".into()),
            login_hint: Some("u1".into()),
            target_link_uri: Some("https://tool.example.edu/lti/launch".into()),
            lti_message_hint: Some("m1".into()),
            client_id: Some("c1".into()),
            lti_deployment_id: Some("d1".into()),
            lti_storage_target: Some("_parent".into()),
        }
    }

    fn registration(client_id: &str) -> Registration {
        Registration {
            platform_id: 1,
            issuer: "https://lms.example.edu".into(),
            client_id: client_id.into(),
            auth_url: "https://lms.example.edu/auth".into(),
            jwks_url: "https://lms.example.edu/jwks".into(),
            deployment_ids: vec!["d1".into()],
            register_new_deployments: false,
        }
    }

    fn request(message_hint: Option<&str>) -> LoginRequest {
        LoginRequest {
            iss: "https://lms.example.edu".into(),
            login_hint: "user 1&2".into(),
            target_link_uri: "https://tool.example.edu/lti/launch".into(),
            lti_message_hint: message_hint.map(str::to_string),
            client_id: None,
            lti_storage_target: None,
        }
    }

    fn query(url: &str) -> Vec<(String, String)> {
        url::Url::parse(url)
            .unwrap()
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    #[test]
    fn a_complete_login_is_read_trimmed() {
        let request = params().parse().unwrap();
        assert_eq!(request.iss, "https://lms.example.edu");
        assert_eq!(request.login_hint, "u1");
        assert_eq!(request.lti_message_hint.as_deref(), Some("m1"));
        assert_eq!(request.client_id.as_deref(), Some("c1"));
        assert_eq!(request.lti_storage_target.as_deref(), Some("_parent"));
    }

    #[test]
    fn each_missing_or_blank_required_parameter_is_named() {
        type Change = fn(&mut LoginParams);
        let cases: [(Change, &str); 4] = [
            (|p| p.iss = None, "iss"),
            (|p| p.login_hint = Some("  ".into()), "login_hint"),
            (|p| p.target_link_uri = None, "target_link_uri"),
            (
                |p| p.target_link_uri = Some(String::new()),
                "target_link_uri",
            ),
        ];
        for (change, name) in cases {
            let mut p = params();
            change(&mut p);
            assert_eq!(p.parse().unwrap_err(), LaunchError::MissingParameter(name));
        }
    }

    #[test]
    fn blank_optional_parameters_are_absent() {
        let request = LoginParams {
            lti_message_hint: Some(" ".into()),
            client_id: Some(String::new()),
            lti_storage_target: Some("  ".into()),
            ..params()
        }
        .parse()
        .unwrap();
        assert_eq!(request.lti_message_hint, None);
        assert_eq!(request.client_id, None);
        assert_eq!(request.lti_storage_target, None);
    }

    #[test]
    fn a_parameter_may_be_8_kb_long_and_no_longer() {
        let at_most = "h".repeat(8 * 1024);
        let ok = LoginParams {
            login_hint: Some(at_most.clone()),
            lti_message_hint: Some(at_most.clone()),
            ..params()
        };
        assert!(ok.parse().is_ok());
        let too_long = format!("{at_most}h");
        assert_eq!(
            LoginParams {
                login_hint: Some(too_long.clone()),
                ..params()
            }
            .parse()
            .unwrap_err(),
            LaunchError::MalformedParameter("login_hint")
        );
        assert_eq!(
            LoginParams {
                lti_message_hint: Some(too_long),
                ..params()
            }
            .parse()
            .unwrap_err(),
            LaunchError::MalformedParameter("lti_message_hint")
        );
    }

    #[test]
    fn the_storage_target_must_be_a_frame_name() {
        for good in [
            "_parent",
            "post_message_forwarding",
            "frame-1",
            &"f".repeat(100),
        ] {
            let p = LoginParams {
                lti_storage_target: Some(good.to_string()),
                ..params()
            };
            assert!(p.parse().is_ok(), "{good}");
        }
        for bad in ["javascript:alert(1)", "a b", "x.y", "<x>", &"f".repeat(101)] {
            let p = LoginParams {
                lti_storage_target: Some(bad.to_string()),
                ..params()
            };
            assert_eq!(
                p.parse().unwrap_err(),
                LaunchError::MalformedParameter("lti_storage_target"),
                "{bad}"
            );
        }
    }

    #[test]
    fn an_issuer_without_registrations_is_unknown() {
        assert_eq!(
            choose_registration(vec![], Some("c1")).unwrap_err(),
            LaunchError::UnknownIssuer
        );
        assert_eq!(
            choose_registration(vec![], None).unwrap_err(),
            LaunchError::UnknownIssuer
        );
    }

    #[test]
    fn a_named_client_id_picks_its_registration() {
        let chosen =
            choose_registration(vec![registration("a"), registration("b")], Some("b")).unwrap();
        assert_eq!(chosen.client_id, "b");
    }

    #[test]
    fn a_named_client_id_no_registration_has_is_an_unknown_client() {
        assert_eq!(
            choose_registration(vec![registration("a")], Some("z")).unwrap_err(),
            LaunchError::UnknownClient
        );
    }

    #[test]
    fn without_a_client_id_only_a_single_registration_is_chosen() {
        let chosen = choose_registration(vec![registration("a")], None).unwrap();
        assert_eq!(chosen.client_id, "a");
        assert_eq!(
            choose_registration(vec![registration("a"), registration("b")], None).unwrap_err(),
            LaunchError::AmbiguousClient
        );
    }

    #[test]
    fn the_authentication_request_carries_every_oidc_parameter() {
        let url = authentication_url(
            &registration("c1"),
            &request(Some("hint-9")),
            "https://tool.example.edu/lti/launch",
            "st",
            "no",
        )
        .unwrap();
        assert!(url.starts_with("https://lms.example.edu/auth?"), "{url}");
        let expected: Vec<(String, String)> = [
            ("scope", "openid"),
            ("response_type", "id_token"),
            ("response_mode", "form_post"),
            ("prompt", "none"),
            ("client_id", "c1"),
            ("redirect_uri", "https://tool.example.edu/lti/launch"),
            ("login_hint", "user 1&2"),
            ("state", "st"),
            ("nonce", "no"),
            ("lti_message_hint", "hint-9"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(query(&url), expected);
    }

    #[test]
    fn the_message_hint_is_sent_back_only_when_the_platform_gave_one() {
        let url = authentication_url(&registration("c1"), &request(None), "https://t/l", "s", "n")
            .unwrap();
        assert!(query(&url).iter().all(|(k, _)| k != "lti_message_hint"));
    }

    #[test]
    fn an_authentication_url_keeps_the_query_the_platform_registered() {
        let mut with_query = registration("c1");
        with_query.auth_url = "https://lms.example.edu/auth.php?tenant=7".into();
        let url = authentication_url(&with_query, &request(None), "https://t/l", "s", "n").unwrap();
        assert_eq!(query(&url)[0], ("tenant".to_string(), "7".to_string()));
    }

    #[test]
    fn an_unparseable_authentication_url_refuses_the_login() {
        let mut broken = registration("c1");
        broken.auth_url = "not a url".into();
        assert!(authentication_url(&broken, &request(None), "https://t/l", "s", "n").is_err());
    }
}
