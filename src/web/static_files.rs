//! Static assets, compiled into the binary so one file is the whole tool.

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::{HttpResponse, web};

use super::error::PageError;

const FILES: &[(&str, &str, &str)] = &[
    (
        "img/icon.svg",
        "image/svg+xml",
        include_str!("../../static/img/icon.svg"),
    ),
    (
        "css/guestlink.css",
        "text/css; charset=utf-8",
        include_str!("../../static/css/guestlink.css"),
    ),
    (
        "js/lti_storage.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/js/lti_storage.js"),
    ),
    (
        "js/session.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/js/session.js"),
    ),
    (
        "js/player.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/js/player.js"),
    ),
    (
        "js/forms.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/js/forms.js"),
    ),
    (
        "js/guest_access.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/js/guest_access.js"),
    ),
    (
        "js/library.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/js/library.js"),
    ),
    (
        "js/media_page.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/js/media_page.js"),
    ),
    (
        "js/registration.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/js/registration.js"),
    ),
    (
        "js/admin.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/js/admin.js"),
    ),
    (
        "js/room.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/js/room.js"),
    ),
    (
        "js/av.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/js/av.js"),
    ),
    (
        "js/invites.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/js/invites.js"),
    ),
    (
        "js/autosubmit.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/js/autosubmit.js"),
    ),
];

pub async fn serve(path: web::Path<String>) -> Result<HttpResponse, PageError> {
    let wanted = path.into_inner();
    let (_, content_type, body) = FILES
        .iter()
        .find(|(name, _, _)| *name == wanted)
        .ok_or_else(PageError::not_found)?;
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, *content_type))
        // URLs carry the release version, so a file never changes under its URL.
        .insert_header((CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(*body))
}

/// GET /static/vendor/{janus.js,adapter.js}: Janus's browser library and
/// the WebRTC adapter, as installed on the tool's host (read at start), for
/// the room pages' audio and video. Not found while no media server is set.
pub async fn vendor(
    tool: web::Data<crate::service::Tool>,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let scripts = tool
        .settings
        .janus
        .scripts
        .as_ref()
        .ok_or_else(PageError::not_found)?;
    let body = match path.as_str() {
        "janus.js" => scripts.janus_js.clone(),
        "adapter.js" => scripts.adapter_js.clone(),
        _ => return Err(PageError::not_found()),
    };
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/javascript; charset=utf-8"))
        .insert_header((CACHE_CONTROL, "public, max-age=86400"))
        .body(body))
}
