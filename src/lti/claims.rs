//! The LTI 1.3 claim names and typed read access to a verified payload.
//!
//! Payloads stay `serde_json::Value` until each launch step has read what it
//! needs, so a missing or oddly typed claim becomes its own coded error
//! instead of one opaque deserialisation failure. LMSs send many extras
//! (Canvas' lti1p1, Sakai's extension claim, Brightspace's vendor claim);
//! they are ignored.

use serde_json::Value;

use super::LaunchError;

pub const MESSAGE_TYPE: &str = "https://purl.imsglobal.org/spec/lti/claim/message_type";
pub const VERSION: &str = "https://purl.imsglobal.org/spec/lti/claim/version";
pub const DEPLOYMENT_ID: &str = "https://purl.imsglobal.org/spec/lti/claim/deployment_id";
pub const TARGET_LINK_URI: &str = "https://purl.imsglobal.org/spec/lti/claim/target_link_uri";
pub const ROLES: &str = "https://purl.imsglobal.org/spec/lti/claim/roles";
pub const CONTEXT: &str = "https://purl.imsglobal.org/spec/lti/claim/context";
pub const RESOURCE_LINK: &str = "https://purl.imsglobal.org/spec/lti/claim/resource_link";
pub const TOOL_PLATFORM: &str = "https://purl.imsglobal.org/spec/lti/claim/tool_platform";
pub const LAUNCH_PRESENTATION: &str =
    "https://purl.imsglobal.org/spec/lti/claim/launch_presentation";
pub const CUSTOM: &str = "https://purl.imsglobal.org/spec/lti/claim/custom";
pub const LIS: &str = "https://purl.imsglobal.org/spec/lti/claim/lis";
pub const DEEP_LINKING_SETTINGS: &str =
    "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings";
pub const DL_DATA: &str = "https://purl.imsglobal.org/spec/lti-dl/claim/data";
pub const DL_CONTENT_ITEMS: &str = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items";

pub const LTI_VERSION: &str = "1.3.0";
pub const RESOURCE_LINK_REQUEST: &str = "LtiResourceLinkRequest";
pub const DEEP_LINKING_REQUEST: &str = "LtiDeepLinkingRequest";
pub const DEEP_LINKING_RESPONSE: &str = "LtiDeepLinkingResponse";

/// A payload whose signature has been verified.
#[derive(Clone, Debug)]
pub struct VerifiedClaims(pub Value);

/// A JWT's payload read without verifying it: for showing an admin what
/// came and for sparing a platform a request it would refuse, never for
/// deciding who gets in.
pub fn unverified_payload(token: &str) -> Option<Value> {
    let payload = token.split('.').nth(1)?;
    let bytes = crate::crypto::b64url_decode(payload.trim_end_matches('='))?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims.is_object().then_some(claims)
}

impl VerifiedClaims {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    /// A string claim; absent or empty is `None`, another type an error.
    pub fn string(&self, name: &'static str) -> Result<Option<&str>, LaunchError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(LaunchError::InvalidClaim(name)),
        }
    }

    /// An optional personal string (name, email): empty or oddly typed is absent,
    /// since platforms send `""` for "not shared".
    pub fn personal(&self, name: &str) -> Option<String> {
        self.get(name)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    }

    /// A numeric date claim (seconds since the epoch).
    pub fn date(&self, name: &'static str) -> Result<Option<i64>, LaunchError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .or_else(|| v.as_f64().map(|f| f as i64))
                .map(Some)
                .ok_or(LaunchError::InvalidClaim(name)),
        }
    }

    /// `aud` as a list, whether sent as a string or an array.
    pub fn audiences(&self) -> Result<Vec<&str>, LaunchError> {
        match self.get("aud") {
            None => Err(LaunchError::MissingClaim("aud")),
            Some(Value::String(s)) => Ok(vec![s.as_str()]),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().ok_or(LaunchError::InvalidClaim("aud")))
                .collect(),
            Some(_) => Err(LaunchError::InvalidClaim("aud")),
        }
    }

    /// Roles as sent: an array of strings (it may be empty or hold `""`).
    pub fn roles(&self) -> Result<Vec<String>, LaunchError> {
        match self.0.get(ROLES) {
            None | Some(Value::Null) => Err(LaunchError::MissingRoles),
            Some(Value::Array(items)) => Ok(items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()),
            Some(Value::String(s)) => Ok(s.split(',').map(|r| r.trim().to_string()).collect()),
            Some(_) => Err(LaunchError::InvalidClaim("roles")),
        }
    }

    /// A member of an object claim, as a string (numbers are read as text,
    /// since Moodle and Brightspace send numeric ids).
    pub fn member(&self, claim: &str, member: &str) -> Option<String> {
        match self.get(claim)?.get(member)? {
            Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
}
