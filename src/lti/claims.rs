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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(value: Value) -> VerifiedClaims {
        VerifiedClaims(value)
    }

    #[test]
    fn an_absent_null_or_blank_string_claim_is_none() {
        let c = claims(json!({"a": null, "b": "", "c": "   "}));
        for name in ["a", "b", "c", "missing"] {
            assert_eq!(c.string(name), Ok(None), "{name}");
        }
    }

    #[test]
    fn a_string_claim_is_given_as_sent() {
        let c = claims(json!({"sub": " 42 "}));
        assert_eq!(c.string("sub"), Ok(Some(" 42 ")));
    }

    #[test]
    fn a_string_claim_of_another_type_is_an_invalid_claim_naming_it() {
        for value in [json!(42), json!(true), json!(["x"]), json!({"x": 1})] {
            let c = claims(json!({ "sub": value }));
            assert_eq!(c.string("sub"), Err(LaunchError::InvalidClaim("sub")));
        }
    }

    #[test]
    fn a_personal_claim_is_trimmed_and_absent_when_empty_or_not_text() {
        let c = claims(json!({
            "name": "  Ada Lovelace ",
            "email": "",
            "given_name": 7,
            "family_name": null,
        }));
        assert_eq!(c.personal("name").as_deref(), Some("Ada Lovelace"));
        for name in ["email", "given_name", "family_name", "missing"] {
            assert_eq!(c.personal(name), None, "{name}");
        }
    }

    #[test]
    fn a_date_is_read_from_whole_or_fractional_seconds() {
        let c = claims(json!({"exp": 1_700_000_000, "iat": 1_700_000_000.9}));
        assert_eq!(c.date("exp"), Ok(Some(1_700_000_000)));
        assert_eq!(c.date("iat"), Ok(Some(1_700_000_000)));
        assert_eq!(c.date("nbf"), Ok(None));
    }

    #[test]
    fn a_date_sent_as_text_is_an_invalid_claim() {
        let c = claims(json!({"exp": "1700000000"}));
        assert_eq!(c.date("exp"), Err(LaunchError::InvalidClaim("exp")));
    }

    #[test]
    fn the_audience_may_be_one_string_or_a_list_of_strings() {
        assert_eq!(claims(json!({"aud": "c1"})).audiences(), Ok(vec!["c1"]));
        assert_eq!(
            claims(json!({"aud": ["c1", "c2"]})).audiences(),
            Ok(vec!["c1", "c2"])
        );
    }

    #[test]
    fn a_missing_or_null_audience_is_a_missing_claim() {
        for c in [claims(json!({})), claims(json!({"aud": null}))] {
            assert_eq!(c.audiences(), Err(LaunchError::MissingClaim("aud")));
        }
    }

    #[test]
    fn an_audience_that_is_not_text_is_an_invalid_claim() {
        for aud in [json!(5), json!(["c1", 5]), json!({"c": 1})] {
            assert_eq!(
                claims(json!({ "aud": aud })).audiences(),
                Err(LaunchError::InvalidClaim("aud"))
            );
        }
    }

    #[test]
    fn roles_missing_or_null_are_missing_roles() {
        assert_eq!(claims(json!({})).roles(), Err(LaunchError::MissingRoles));
        assert_eq!(
            claims(json!({ (ROLES): null })).roles(),
            Err(LaunchError::MissingRoles)
        );
    }

    #[test]
    fn roles_are_read_from_a_list_skipping_what_is_not_text() {
        let c = claims(json!({ (ROLES): ["Instructor", 3, "", null, "Learner"] }));
        assert_eq!(c.roles().unwrap(), ["Instructor", "", "Learner"]);
        assert_eq!(
            claims(json!({ (ROLES): [] })).roles(),
            Ok(vec![]),
            "an empty list is a launch without roles, not a missing claim"
        );
    }

    #[test]
    fn roles_sent_as_one_comma_separated_string_are_split_and_trimmed() {
        let c = claims(json!({ (ROLES): "Instructor, Learner ,Mentor" }));
        assert_eq!(c.roles().unwrap(), ["Instructor", "Learner", "Mentor"]);
    }

    #[test]
    fn roles_of_another_type_are_an_invalid_claim() {
        assert_eq!(
            claims(json!({ (ROLES): {"Instructor": true} })).roles(),
            Err(LaunchError::InvalidClaim("roles"))
        );
    }

    #[test]
    fn a_member_is_read_as_text_and_numbers_as_their_digits() {
        let c = claims(json!({ (CONTEXT): {"id": 42, "title": "Biology", "label": "  "} }));
        assert_eq!(c.member(CONTEXT, "id").as_deref(), Some("42"));
        assert_eq!(c.member(CONTEXT, "title").as_deref(), Some("Biology"));
        assert_eq!(c.member(CONTEXT, "label"), None, "blank is absent");
    }

    #[test]
    fn a_member_of_a_missing_or_oddly_typed_claim_is_absent() {
        let c = claims(json!({
            (CONTEXT): "not an object",
            (RESOURCE_LINK): {"id": true, "title": ["x"]},
        }));
        assert_eq!(c.member(CONTEXT, "id"), None);
        assert_eq!(c.member(RESOURCE_LINK, "id"), None);
        assert_eq!(c.member(RESOURCE_LINK, "title"), None);
        assert_eq!(c.member(LIS, "id"), None);
    }

    #[test]
    fn an_unverified_payload_is_the_middle_part_when_it_is_a_json_object() {
        let payload = crate::crypto::b64url(br#"{"iss":"https://lms.example.edu"}"#);
        assert_eq!(
            unverified_payload(&format!("h.{payload}.s")),
            Some(json!({"iss": "https://lms.example.edu"}))
        );
        assert_eq!(
            unverified_payload(&format!("h.{payload}==.s")),
            Some(json!({"iss": "https://lms.example.edu"})),
            "padding is tolerated"
        );
    }

    #[test]
    fn an_unverified_payload_that_is_not_a_json_object_is_none() {
        let array = crate::crypto::b64url(b"[1,2]");
        for token in [
            "no-dots".to_string(),
            "h.!!!.s".to_string(),
            format!("h.{array}.s"),
            format!("h.{}.s", crate::crypto::b64url(b"not json")),
        ] {
            assert_eq!(unverified_payload(&token), None, "{token}");
        }
    }
}
