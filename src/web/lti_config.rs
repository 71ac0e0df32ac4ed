//! Registration documents an LMS administrator pastes: the Canvas developer
//! key JSON (docs/lms-platforms.md, Canvas, "Developer key JSON"; the steps
//! are in lti-config/canvas.md), built from the public URL.

use actix_web::http::header::CACHE_CONTROL;
use actix_web::{HttpResponse, web};
use serde_json::{Value, json};

use crate::service::Tool;

/// The tool's name in LMS menus.
pub const TOOL_TITLE: &str = "guestlink";
const TOOL_DESCRIPTION: &str = "Course media with a media page per item, shared with people outside the LMS through named guest links.";

/// The Canvas developer key configuration ("Paste JSON").
pub fn canvas_configuration(base: &str, domain: &str) -> Value {
    let launch = format!("{base}/lti/launch");
    let icon = format!("{base}/static/img/icon.svg");
    json!({
        "title": TOOL_TITLE,
        "description": TOOL_DESCRIPTION,
        "oidc_initiation_url": format!("{base}/lti/login"),
        "target_link_uri": launch,
        "public_jwk_url": format!("{base}/.well-known/jwks.json"),
        // No LTI Advantage services are used.
        "scopes": [],
        "extensions": [{
            "domain": domain,
            "tool_id": "guestlink",
            "platform": "canvas.instructure.com",
            // Names and emails let the library greet people and the owner
            // see who manages links; "public" shares both.
            "privacy_level": "public",
            "settings": {
                "text": TOOL_TITLE,
                "icon_url": icon,
                "placements": [
                    {
                        "placement": "course_navigation",
                        "message_type": "LtiResourceLinkRequest",
                        "target_link_uri": launch,
                        "text": "Media",
                        "default": "enabled",
                        "visibility": "members"
                    },
                    {
                        "placement": "link_selection",
                        "message_type": "LtiDeepLinkingRequest",
                        "target_link_uri": launch,
                        "text": "guestlink media",
                        "icon_url": icon
                    },
                    {
                        "placement": "editor_button",
                        "message_type": "LtiDeepLinkingRequest",
                        "target_link_uri": launch,
                        "text": "guestlink media",
                        "icon_url": icon
                    }
                ]
            }
        }],
        "custom_fields": {}
    })
}

/// GET /lti/config/canvas.json
pub async fn canvas_json(tool: web::Data<Tool>) -> HttpResponse {
    let base = tool.settings.server.public_url.as_str();
    let domain = tool.settings.server.public_url.domain();
    HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-cache"))
        .json(canvas_configuration(base, &domain))
}
