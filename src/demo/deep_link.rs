//! The demo LMS's side of deep linking: it sends a deep-linking request,
//! receives the tool's signed response like an LMS would (signature, issuer,
//! audience and message type checked against the tool's published keys),
//! shows the links it got, and launches them with their custom parameter.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use serde_json::{Value, json};

use super::claims::{self, LaunchClaims};
use super::{DemoLms, demo_error};
use crate::domain::platform::Lms;
use crate::lti::claims as c;
use crate::service::deep_linking::MEDIA_ID_PARAMETER;
use crate::service::{Tool, keys};
use crate::web::error::PageError;
use crate::web::render::{ASSET_VERSION, html};

/// The message hint suffix that asks the demo LMS for a deep-linking request.
pub const HINT: &str = "deeplink";
/// `LMS-ROLE-link-MEDIAID` launches a link the tool returned.
const LINK: &str = "-link-";

/// What a login's message hint asks the demo LMS to send.
pub enum Request {
    /// A deep-linking request (the content picker).
    Picker,
    /// A resource link made by deep linking, to this media.
    Link { media_id: String },
    /// A plain resource link (the tool's home).
    None,
}

impl Request {
    pub fn from_hint(hint: Option<&str>) -> Request {
        let Some(hint) = hint else {
            return Request::None;
        };
        if hint.ends_with(&format!("-{HINT}")) {
            return Request::Picker;
        }
        match hint.split_once(LINK) {
            Some((_, id)) if !id.is_empty() => Request::Link {
                media_id: id.to_string(),
            },
            _ => Request::None,
        }
    }
}

pub fn return_url(base: &str, lms: Lms) -> String {
    format!("{base}/demo/{lms}/deep-link-return")
}

/// A resource-link launch of a link the tool returned: its URL as the
/// target, its custom parameter in the custom claim.
pub fn link_launch(launch: &LaunchClaims<'_>, base: &str, media_id: &str) -> Value {
    let target = format!("{base}/media/{media_id}");
    let mut payload = claims::resource_link(&LaunchClaims {
        target_link_uri: &target,
        ..launch.clone()
    });
    payload[c::CUSTOM] = json!({ MEDIA_ID_PARAMETER: media_id });
    payload
}

#[derive(Deserialize)]
pub struct ReturnForm {
    #[serde(rename = "JWT", default)]
    jwt: String,
}

pub struct ReturnedLink {
    title: String,
    media_id: String,
    url: String,
}

pub struct LinkButton {
    role: &'static str,
    label: &'static str,
}

#[derive(Template)]
#[template(path = "demo/deep_link_return.html")]
struct ReturnPage<'a> {
    version: &'a str,
    lms: &'a str,
    lms_name: &'a str,
    issuer: &'a str,
    client_id: &'a str,
    deployment_id: &'a str,
    method: &'a str,
    links: Vec<ReturnedLink>,
    buttons: [LinkButton; 2],
}

/// Where the tool posts its deep-linking response.
pub async fn returned(
    tool: web::Data<Tool>,
    demo: web::Data<DemoLms>,
    lms: web::Path<String>,
    form: web::Form<ReturnForm>,
) -> Result<HttpResponse, PageError> {
    let platform = demo.platform(&lms).ok_or_else(PageError::not_found)?;
    let published = keys::published_jwks(&tool)
        .await
        .map_err(|e| PageError::of(&e, ""))?;
    let header = jsonwebtoken::decode_header(&form.jwt)
        .map_err(|_| demo_error("The deep-linking response is not a JWT."))?;
    let key = published
        .keys
        .iter()
        .find(|k| Some(&k.kid) == header.kid.as_ref())
        .ok_or_else(|| {
            demo_error("The response is signed with a key the tool does not publish.")
        })?;
    let decoding = jsonwebtoken::DecodingKey::from_rsa_components(&key.n, &key.e)
        .map_err(|_| demo_error("The tool publishes a damaged key."))?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[&platform.issuer]);
    validation.set_issuer(&[&platform.client_id]);
    let data = jsonwebtoken::decode::<Value>(&form.jwt, &decoding, &validation)
        .map_err(|e| demo_error(&format!("The deep-linking response did not verify: {e}.")))?;
    let response = data.claims;
    if response[c::MESSAGE_TYPE] != c::DEEP_LINKING_RESPONSE {
        return Err(demo_error("The response is not an LtiDeepLinkingResponse."));
    }
    let links = response[c::DL_CONTENT_ITEMS]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| {
                    Some(ReturnedLink {
                        title: item["title"].as_str().unwrap_or("Untitled").to_string(),
                        media_id: item["custom"][MEDIA_ID_PARAMETER].as_str()?.to_string(),
                        url: item["url"].as_str().unwrap_or_default().to_string(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(html(
        StatusCode::OK,
        &ReturnPage {
            version: ASSET_VERSION,
            lms: platform.lms.as_str(),
            lms_name: platform.lms.display_name(),
            issuer: &platform.issuer,
            client_id: &platform.client_id,
            deployment_id: &platform.deployment_id,
            method: if platform.lms == Lms::Sakai {
                "get"
            } else {
                "post"
            },
            links,
            buttons: [
                LinkButton {
                    role: "instructor",
                    label: "Open as instructor",
                },
                LinkButton {
                    role: "student",
                    label: "Open as student",
                },
            ],
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_hints_name_what_to_send() {
        assert!(matches!(
            Request::from_hint(Some("moodle-deeplink")),
            Request::Picker
        ));
        assert!(matches!(
            Request::from_hint(Some("canvas-student-link-abc_D")),
            Request::Link { media_id } if media_id == "abc_D"
        ));
        assert!(matches!(
            Request::from_hint(Some("sakai-student")),
            Request::None
        ));
        assert!(matches!(Request::from_hint(None), Request::None));
    }
}
