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
