//! id_token payloads in the claim shapes each LMS really sends (each LMS's
//! "Launch claims" in docs/lms-platforms.md). The demo LMS signs these, and
//! the integration tests use them as their test platform.

use serde_json::{Value, json};

use crate::domain::platform::Lms;
use crate::domain::time::Timestamp;
use crate::lti::claims as c;

const MEM: &str = "http://purl.imsglobal.org/vocab/lis/v2/membership#";
const INST: &str = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#";
const SYS: &str = "http://purl.imsglobal.org/vocab/lis/v2/system/person#";
const COURSE_OFFERING: &str = "http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Instructor,
    TeachingAssistant,
    Student,
    /// A launch whose roles claim is present but empty.
    NoRoles,
}

impl Role {
    pub fn parse(hint: &str) -> Option<Role> {
        match hint {
            "instructor" => Some(Role::Instructor),
            "ta" => Some(Role::TeachingAssistant),
            "student" => Some(Role::Student),
            "noroles" => Some(Role::NoRoles),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Instructor => "instructor",
            Role::TeachingAssistant => "ta",
            Role::Student => "student",
            Role::NoRoles => "noroles",
        }
    }
}

/// Everything that varies between launches of one platform.
#[derive(Clone, Debug)]
pub struct LaunchClaims<'a> {
    pub lms: Lms,
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub deployment_id: &'a str,
    pub nonce: &'a str,
    pub role: Role,
    pub now: Timestamp,
    pub target_link_uri: &'a str,
    /// The course's context id; the course's title follows from it.
    pub context_id: &'a str,
}

/// The demo course's label, the same in every flavour.
pub const COURSE_LABEL: &str = "BIO101";

/// The demo course's title in `lms`.
pub fn course_title(lms: Lms) -> String {
    format!("Biology 101 ({})", lms.display_name())
}

/// The demo course's context id in `lms`.
pub fn course_context_id(lms: Lms) -> String {
    format!("demo-course-{lms}")
}

/// A resource link launch in the shape `lms` sends.
pub fn resource_link(input: &LaunchClaims<'_>) -> Value {
    let mut claims = base(input);
    claims[c::MESSAGE_TYPE] = json!(c::RESOURCE_LINK_REQUEST);
    claims[c::RESOURCE_LINK] = match input.lms {
        Lms::Moodle => json!({"id": "8", "title": "Lecture recordings", "description": ""}),
        Lms::Sakai => json!({"id": "content:42", "title": "Guest links"}),
        _ => {
            json!({"id": "0c7f5b1e-6f55-4b3b-9f3e-1d2a9c8e7f60", "title": "Guest links", "description": ""})
        }
    };
    claims
}

/// A deep linking request in the shape `lms` sends.
pub fn deep_linking(input: &LaunchClaims<'_>, return_url: &str) -> Value {
    let mut claims = base(input);
    claims[c::MESSAGE_TYPE] = json!(c::DEEP_LINKING_REQUEST);
    claims[c::DEEP_LINKING_SETTINGS] = json!({
        "deep_link_return_url": return_url,
        "accept_types": ["ltiResourceLink"],
        "accept_presentation_document_targets": ["iframe", "window"],
        "accept_multiple": input.lms != Lms::Moodle,
        "auto_create": false,
        "data": "opaque-platform-data-123",
    });
    claims
}

fn person(input: &LaunchClaims<'_>) -> (&'static str, &'static str, &'static str, &'static str) {
    match input.role {
        Role::Instructor => ("57", "Ada", "Lovelace", "ada@example.edu"),
        Role::TeachingAssistant => ("61", "Alan", "Turing", "alan@example.edu"),
        Role::Student => ("73", "Grace", "Hopper", "grace@example.edu"),
        Role::NoRoles => ("99", "Edsger", "Dijkstra", "edsger@example.edu"),
    }
}

fn roles(input: &LaunchClaims<'_>) -> Value {
    let mem = |r: &str| format!("{MEM}{r}");
    let inst = |r: &str| format!("{INST}{r}");
    let sys = |r: &str| format!("{SYS}{r}");
    let ta_uri = "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"
        .to_string();
    let list: Vec<String> = match (input.lms, input.role) {
        (_, Role::NoRoles) => vec![],
        (Lms::Canvas, Role::Instructor) => vec![
            inst("Instructor"),
            inst("Student"),
            mem("Instructor"),
            sys("User"),
        ],
        // A student here who teaches elsewhere: Canvas sends account-wide institution roles.
        (Lms::Canvas, Role::Student) => vec![
            inst("Instructor"),
            inst("Student"),
            mem("Learner"),
            sys("User"),
        ],
        (Lms::Canvas, Role::TeachingAssistant) => vec![mem("Instructor"), ta_uri, sys("User")],
        (Lms::Sakai, Role::TeachingAssistant) => {
            vec![
                "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor#TeachingAssistant"
                    .into(),
            ]
        }
        (Lms::Brightspace, Role::Instructor) => vec![inst("Instructor"), mem("Instructor")],
        (Lms::Brightspace, Role::Student) => vec![inst("Staff"), mem("Learner")],
        (_, Role::Instructor) => vec![mem("Instructor")],
        (_, Role::TeachingAssistant) => vec![ta_uri],
        (_, Role::Student) => vec![mem("Learner")],
    };
    json!(list)
}

fn base(input: &LaunchClaims<'_>) -> Value {
    let (user_id, given, family, email) = person(input);
    let name = format!("{given} {family}");
    let (sub, lifetime) = match input.lms {
        Lms::Moodle => (user_id.to_string(), 60),
        Lms::Canvas => (format!("5b2c1a58-9e0c-4e4f-8c0f-2a1f3e7d9b{user_id}"), 3600),
        Lms::Sakai => (
            format!(
                "{}/user/8a5d1c2e-77aa-4d0e-9a1b-3c4d5e6f7a{user_id}",
                input.issuer
            ),
            3600,
        ),
        Lms::Brightspace => (
            format!("15495cdc-4a00-43e0-b28c-042523bad957_{user_id}"),
            1800,
        ),
        Lms::Generic => (user_id.to_string(), 300),
    };
    let title = course_title(input.lms);
    let context_type = if input.lms == Lms::Moodle {
        json!(["CourseSection"])
    } else {
        json!([COURSE_OFFERING])
    };
    let mut claims = json!({
        "iss": input.issuer,
        "aud": input.client_id,
        "sub": sub,
        "iat": input.now.unix(),
        "exp": input.now.unix() + lifetime,
        "nonce": input.nonce,
        "name": name,
        "given_name": given,
        "family_name": family,
        "email": email,
        (c::VERSION): c::LTI_VERSION,
        (c::DEPLOYMENT_ID): input.deployment_id,
        (c::TARGET_LINK_URI): input.target_link_uri,
        (c::ROLES): roles(input),
        (c::CONTEXT): {"id": input.context_id, "label": COURSE_LABEL, "title": title, "type": context_type},
        (c::LAUNCH_PRESENTATION): {"document_target": "iframe", "locale": "en"},
    });
    match input.lms {
        Lms::Moodle => {
            claims[c::TOOL_PLATFORM] = json!({"product_family_code": "moodle", "version": "2024042200", "guid": "lms.example.edu", "name": "EXU"});
            claims["https://purl.imsglobal.org/spec/lti/claim/ext"] =
                json!({"lms": "moodle-2", "user_username": "demo"});
            claims[c::LIS] =
                json!({"person_sourcedid": "S1234567", "course_section_sourcedid": ""});
        }
        Lms::Canvas => {
            claims["azp"] = json!(input.client_id);
            claims[c::TOOL_PLATFORM] = json!({"guid": "hYx2Qe:canvas-lms", "name": "Example University", "version": "cloud", "product_family_code": "canvas"});
            claims[c::CUSTOM] = json!({"canvas_course_id": 12});
            claims[c::LIS] = json!({"person_sourcedid": "$Person.sourcedId", "course_offering_sourcedid": "BIO101-F24"});
            claims["https://purl.imsglobal.org/spec/lti/claim/lti11_legacy_user_id"] =
                json!("535fa085f22b4655f48cd5a36a9215f64c062838");
            claims["https://www.instructure.com/placement"] = json!("course_navigation");
        }
        Lms::Sakai => {
            claims[c::TOOL_PLATFORM] = json!({"name": "Sakai", "product_family_code": "sakai", "version": "23.1", "guid": "sakai.example.edu"});
            claims["https://www.sakailms.org/spec/lti/claim/extension"] =
                json!({"sakai_role": "maintain", "sakai_eid": "demo"});
            claims[c::LAUNCH_PRESENTATION] =
                json!({"document_target": "iframe", "locale": "en_US"});
        }
        Lms::Brightspace => {
            claims["nbf"] = json!(input.now.unix());
            claims[c::TOOL_PLATFORM] = json!({"guid": "15495cdc", "name": "Example University", "version": "20.24.6", "product_family_code": "desire2learn"});
            claims[c::CUSTOM] = json!({"user_id": "$User.Id"});
            claims["http://www.brightspace.com"] =
                json!({"org_defined_id": "S1234567", "username": "demo", "user_id": 169});
            // Brightspace sends an empty email when security settings hide it.
            if input.role == Role::Student {
                claims["email"] = json!("");
            }
        }
        Lms::Generic => {}
    }
    claims
}
