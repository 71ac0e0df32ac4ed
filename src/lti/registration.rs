//! LTI Dynamic Registration, the protocol part: reading a platform's OpenID
//! configuration, the registration request guestlink sends, and the answers
//! platforms give. Fetching, address rules and storage are the service's.
//!
//! Each LMS bends the specification (LTI Dynamic Registration,
//! https://www.imsglobal.org/spec/lti-dr/v1p0) a little, as each LMS's
//! "Dynamic registration" in docs/lms-platforms.md records: Moodle lists
//! `messages_supported` as plain strings, Canvas wants a `claims` array and
//! its own placement names and answers errors as `{"errors": [...]}`,
//! Brightspace sends no registration token, Sakai and Moodle answer
//! OIDC-style or plain-text errors.

use serde_json::{Value, json};

/// The key of the LTI part of a platform's OpenID configuration.
const PLATFORM_CONFIGURATION: &str = "https://purl.imsglobal.org/spec/lti-platform-configuration";
/// The key of the LTI part of a tool registration.
pub const TOOL_CONFIGURATION: &str = "https://purl.imsglobal.org/spec/lti-tool-configuration";

pub const RESOURCE_LINK: &str = "LtiResourceLinkRequest";
pub const DEEP_LINKING: &str = "LtiDeepLinkingRequest";

/// Hosted Canvas uses one issuer for every school, on a host other than the
/// school's own: these issuers are accepted from any configuration host.
pub const SHARED_ISSUERS: [&str; 3] = [
    "https://canvas.instructure.com",
    "https://canvas.beta.instructure.com",
    "https://canvas.test.instructure.com",
];

/// The identity claims guestlink asks for: names and email are optional in
/// every LMS and only used to label the instructor's own records.
pub const CLAIMS: [&str; 6] = ["iss", "sub", "name", "given_name", "family_name", "email"];

/// The platform's OpenID configuration, the fields guestlink uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlatformConfiguration {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: Option<String>,
    pub jwks_uri: String,
    pub registration_endpoint: String,
    /// `product_family_code`, lower case ("moodle", "canvas", "desire2learn"...).
    pub product_family: Option<String>,
    /// The platform's version as it reports it (Moodle: the release string).
    pub version: Option<String>,
    /// The message types the platform says it supports; empty when it lists none.
    pub messages_supported: Vec<String>,
}

impl PlatformConfiguration {
    /// Reads the configuration document; the error names what is missing.
    pub fn parse(body: &[u8]) -> Result<PlatformConfiguration, String> {
        let doc: Value =
            serde_json::from_slice(body).map_err(|_| "the answer is not JSON".to_string())?;
        if !doc.is_object() {
            return Err("the answer is not a JSON object".into());
        }
        let text = |key: &str| doc.get(key).and_then(Value::as_str).map(str::to_string);
        let required = |key: &str| {
            text(key)
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| format!("it has no {key}"))
        };
        let lti = doc.get(PLATFORM_CONFIGURATION);
        let lti_text = |key: &str| lti.and_then(|l| l.get(key)).and_then(Value::as_str);
        Ok(PlatformConfiguration {
            issuer: required("issuer")?,
            authorization_endpoint: required("authorization_endpoint")?,
            token_endpoint: text("token_endpoint").filter(|v| !v.trim().is_empty()),
            jwks_uri: required("jwks_uri")?,
            registration_endpoint: required("registration_endpoint")?,
            product_family: lti_text("product_family_code").map(|c| c.trim().to_ascii_lowercase()),
            version: lti_text("version").map(str::to_string),
            messages_supported: lti
                .and_then(|l| l.get("messages_supported"))
                .and_then(Value::as_array)
                .map(|list| list.iter().filter_map(message_type).collect())
                .unwrap_or_default(),
        })
    }

    /// Whether the platform takes this message type. A platform that lists
    /// none is assumed to take both (the specification makes the list optional).
    pub fn supports(&self, message_type: &str) -> bool {
        self.messages_supported.is_empty()
            || self.messages_supported.iter().any(|m| m == message_type)
    }
}

/// One entry of `messages_supported`: `{"type": ...}` or, from Moodle, the
/// bare string.
fn message_type(entry: &Value) -> Option<String> {
    match entry {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("type").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

/// Where guestlink lives, for the registration request.
pub struct ToolUrls<'a> {
    pub base: &'a str,
    /// host[:port] of `base`, the `domain` of the registration.
    pub domain: &'a str,
}

/// Placement names differ by LMS: Canvas wants its own names, the others
/// take the IMS ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlacementStyle {
    Canvas,
    Ims,
}

/// What guestlink asks a platform to register, summarised for the page
/// the admin confirms.
pub struct Offer {
    pub messages: Vec<OfferedMessage>,
}

pub struct OfferedMessage {
    pub message_type: &'static str,
    pub label: &'static str,
    pub placements: Vec<&'static str>,
}

/// The messages guestlink offers a platform: a resource link and deep
/// linking, each only if the platform supports it.
pub fn offer(config: &PlatformConfiguration, style: PlacementStyle) -> Offer {
    let mut messages = Vec::new();
    if config.supports(RESOURCE_LINK) {
        messages.push(OfferedMessage {
            message_type: RESOURCE_LINK,
            // The same labels as the Canvas developer-key JSON.
            label: match style {
                PlacementStyle::Canvas => "Media",
                PlacementStyle::Ims => "guestlink",
            },
            placements: match style {
                PlacementStyle::Canvas => vec!["course_navigation"],
                PlacementStyle::Ims => vec![],
            },
        });
    }
    if config.supports(DEEP_LINKING) {
        messages.push(OfferedMessage {
            message_type: DEEP_LINKING,
            label: "guestlink media",
            placements: match style {
                PlacementStyle::Canvas => vec!["link_selection", "editor_button"],
                PlacementStyle::Ims => vec!["ContentArea", "RichTextEditor"],
            },
        });
    }
    Offer { messages }
}

/// The registration request (the JSON body POSTed to the platform's
/// registration endpoint). guestlink uses no LTI services, so its `scope` is
/// empty; it is still sent, because Canvas fails (500) on a registration
/// without one.
pub fn registration_request(tool: &ToolUrls<'_>, offer: &Offer, style: PlacementStyle) -> Value {
    let launch = format!("{}/lti/launch", tool.base);
    let messages: Vec<Value> = offer
        .messages
        .iter()
        .map(|m| {
            let mut message = json!({
                "type": m.message_type,
                "target_link_uri": launch,
                "label": m.label,
            });
            if !m.placements.is_empty() {
                message["placements"] = json!(m.placements);
            }
            message
        })
        .collect();
    let mut lti = json!({
        "domain": tool.domain,
        "target_link_uri": launch,
        "description": "Share one course media item with guests outside the LMS.",
        "claims": CLAIMS,
        "messages": messages,
    });
    if style == PlacementStyle::Canvas {
        // Without it Canvas sends anonymous launches (no name, no email).
        lti["https://canvas.instructure.com/lti/privacy_level"] = json!("public");
    }
    json!({
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": format!("{}/lti/login", tool.base),
        "redirect_uris": [launch],
        "client_name": "guestlink",
        "jwks_uri": format!("{}/.well-known/jwks.json", tool.base),
        "logo_uri": format!("{}/static/img/icon.svg", tool.base),
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": "",
        TOOL_CONFIGURATION: lti,
    })
}

/// What the platform assigned.
#[derive(Debug, PartialEq, Eq)]
pub struct Assigned {
    pub client_id: String,
    /// Moodle returns it inside the tool configuration, Sakai at the top
    /// level; Canvas and Brightspace create deployments later.
    pub deployment_id: Option<String>,
}

/// Reads the platform's answer to a successful registration.
pub fn assigned(body: &[u8]) -> Result<Assigned, String> {
    let doc: Value =
        serde_json::from_slice(body).map_err(|_| "the answer is not JSON".to_string())?;
    let id_text = |v: Option<&Value>| match v {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        // Some platforms write numeric ids as numbers.
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let client_id =
        id_text(doc.get("client_id")).ok_or_else(|| "it has no client_id".to_string())?;
    let deployment_id = id_text(
        doc.get(TOOL_CONFIGURATION)
            .and_then(|l| l.get("deployment_id")),
    )
    .or_else(|| id_text(doc.get("deployment_id")));
    Ok(Assigned {
        client_id,
        deployment_id,
    })
}

/// The platform's reasons for refusing a registration, as sentences:
/// Canvas's `{"errors": [...]}` (strings or objects), the OIDC
/// `error`/`error_description`, or a short plain-text body.
pub fn refusal_reasons(body: &[u8]) -> Vec<String> {
    const LONGEST: usize = 300;
    let clip = |s: &str| {
        let s = s.trim();
        match s.char_indices().nth(LONGEST) {
            Some((at, _)) => format!("{}…", &s[..at]),
            None => s.to_string(),
        }
    };
    let Ok(doc) = serde_json::from_slice::<Value>(body) else {
        let text = String::from_utf8_lossy(body);
        // An HTML error page says nothing an admin can use.
        if text.trim().is_empty() || text.trim_start().starts_with('<') {
            return vec![];
        }
        return vec![clip(&text)];
    };
    let mut reasons = Vec::new();
    if let Some(errors) = doc.get("errors") {
        let items = match errors {
            Value::Array(items) => items.clone(),
            other => vec![other.clone()],
        };
        for item in items.iter().take(10) {
            reasons.push(clip(&describe(item)));
        }
    }
    let error = doc.get("error").map(describe);
    let description = doc.get("error_description").and_then(Value::as_str);
    match (error, description) {
        (Some(e), Some(d)) => reasons.push(clip(&format!("{e}: {d}"))),
        (Some(e), None) => reasons.push(clip(&e)),
        (None, Some(d)) => reasons.push(clip(d)),
        (None, None) => {}
    }
    reasons
}

/// A JSON error item in words: a string as is, an object by its message
/// (and the field it names, when it names one).
fn describe(item: &Value) -> String {
    match item {
        Value::String(s) => s.clone(),
        Value::Object(o) => {
            let message = ["message", "errorMessage", "error", "description"]
                .iter()
                .find_map(|k| o.get(*k).and_then(Value::as_str));
            let field = ["field", "attribute", "path"]
                .iter()
                .find_map(|k| o.get(*k).and_then(Value::as_str));
            match (field, message) {
                (Some(f), Some(m)) => format!("{f}: {m}"),
                (None, Some(m)) => m.to_string(),
                _ => item.to_string(),
            }
        }
        other => other.to_string(),
    }
}

/// The `exp` of a registration token that is a JWT (Moodle's and Canvas's
/// are). Read without verifying: it only saves the admin a round trip that
/// the platform would refuse anyway.
pub fn token_expiry(token: &str) -> Option<i64> {
    super::claims::unverified_payload(token)?
        .get("exp")
        .and_then(Value::as_i64)
}

#[cfg(test)]
#[path = "registration_tests.rs"]
mod tests;
