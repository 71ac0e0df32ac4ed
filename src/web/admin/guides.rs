//! Registering an LMS: the URL to paste, and the per-LMS guides of
//! `lti-config/` with this installation's address filled in.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::{AdminSession, Denied};
use crate::domain::platform::Lms;
use crate::service::Tool;
use crate::web::error::PageError;
use crate::web::markdown;
use crate::web::render::{ASSET_VERSION, html};

/// The per-LMS guides of `lti-config/`, compiled in.
const GUIDES: [(&str, &str); 4] = [
    ("moodle", include_str!("../../../lti-config/moodle.md")),
    ("canvas", include_str!("../../../lti-config/canvas.md")),
    ("sakai", include_str!("../../../lti-config/sakai.md")),
    (
        "brightspace",
        include_str!("../../../lti-config/brightspace.md"),
    ),
];

#[derive(Template)]
#[template(path = "admin/register.html")]
struct RegisterPage<'a> {
    version: &'a str,
    csrf: &'a str,
    section: &'a str,
    base: &'a str,
    allowed_hosts: String,
    guides: Vec<(&'static str, &'static str)>,
}

fn guide_links() -> Vec<(&'static str, &'static str)> {
    GUIDES
        .iter()
        .map(|(lms, _)| {
            let name = lms.parse::<Lms>().map(Lms::display_name).unwrap_or("LMS");
            (*lms, name)
        })
        .collect()
}

pub async fn register_page(tool: web::Data<Tool>, session: AdminSession) -> HttpResponse {
    html(
        StatusCode::OK,
        &RegisterPage {
            version: ASSET_VERSION,
            csrf: &session.csrf,
            section: "register",
            base: tool.settings.server.public_url.as_str(),
            allowed_hosts: tool
                .settings
                .lti
                .registration_allowed_hosts
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            guides: guide_links(),
        },
    )
}

#[derive(Template)]
#[template(path = "admin/guide.html")]
struct GuidePage<'a> {
    version: &'a str,
    csrf: &'a str,
    section: &'a str,
    lms_name: &'a str,
    body: String,
}

pub async fn guide(
    tool: web::Data<Tool>,
    session: AdminSession,
    path: web::Path<String>,
) -> Result<HttpResponse, Denied> {
    let wanted = path.into_inner();
    let (lms, text) = GUIDES
        .iter()
        .find(|(lms, _)| *lms == wanted)
        .ok_or_else(|| Denied::Page(PageError::not_found()))?;
    let base = tool.settings.server.public_url.as_str();
    // {base} is replaced after rendering, with the URL escaped.
    // The page has its own title: the guide's first heading is left out.
    let text = match text.split_once('\n') {
        Some((first, rest)) if first.starts_with("# ") => rest,
        _ => text,
    };
    let body = markdown::to_html(text).replace("{base}", &markdown::escape(base));
    let lms_name = lms.parse::<Lms>().map(Lms::display_name).unwrap_or("LMS");
    Ok(html(
        StatusCode::OK,
        &GuidePage {
            version: ASSET_VERSION,
            csrf: &session.csrf,
            section: "register",
            lms_name,
            body,
        },
    ))
}
