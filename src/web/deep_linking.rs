//! The deep-linking picker and the auto-submitting response to the platform.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::error::PageError;
use super::media_pages::{KindOption, LibraryItem, kind_options};
use super::render::{ASSET_VERSION, html};
use super::session::is_same_origin_post;
use crate::domain::session::LaunchSession;
use crate::service::deep_linking::{self, Choice};
use crate::service::{Tool, sessions};

#[derive(Template)]
#[template(path = "pages/deep_link.html")]
struct PickerPage<'a> {
    version: &'a str,
    token: &'a str,
    user_name: &'a str,
    course_title: &'a str,
    items: Vec<LibraryItem>,
    multiple: bool,
    accepts: bool,
    auto_create: bool,
    accept_types: String,
    upload_limit_mb: u64,
    kinds: Vec<KindOption>,
    /// After an upload the picker reloads, showing the new item.
    after_add: &'a str,
}

#[derive(Template)]
#[template(path = "pages/deep_link_return.html")]
struct ReturnPage<'a> {
    version: &'a str,
    return_url: &'a str,
    jwt: &'a str,
    count: usize,
}

/// The page a deep-linking launch lands on.
pub async fn render_picker(
    tool: &Tool,
    session: &LaunchSession,
    token: &str,
) -> Result<HttpResponse, PageError> {
    let base = tool.settings.server.public_url.as_str();
    let picker = deep_linking::picker(tool, session, token)
        .await
        .map_err(|e| PageError::of(&e, base))?;
    let items = picker.media.into_iter().map(LibraryItem::of).collect();
    Ok(html(
        StatusCode::OK,
        &PickerPage {
            version: ASSET_VERSION,
            token,
            user_name: session.user_name.as_deref().unwrap_or("Anonymous user"),
            course_title: session
                .course
                .as_ref()
                .map(|c| c.display_name())
                .unwrap_or_default(),
            items,
            multiple: picker.settings.accept_multiple,
            accepts: picker.accepts,
            auto_create: picker.settings.auto_create,
            accept_types: picker.settings.accept_types.join(", "),
            upload_limit_mb: tool.settings.media.upload_max_bytes / (1024 * 1024),
            kinds: kind_options(),
            after_add: "reload",
        },
    ))
}

/// GET of the picker (after an upload from it, the page reloads itself).
pub async fn picker_page(
    tool: web::Data<Tool>,
    page: super::session::PageSession,
) -> Result<HttpResponse, PageError> {
    render_picker(&tool, &page.session, &page.token).await
}

/// POST /lti/deep-link: `session`, `action` (add or cancel), `media`
/// (repeatable); with `navigate` instead of an action, the picker again (the
/// tab resuming its session after a Reload).
pub async fn respond(
    tool: web::Data<Tool>,
    req: HttpRequest,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let base = tool.settings.server.public_url.as_str();
    let fields = form.into_inner();
    let value = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let token = value("session").unwrap_or_default().to_string();
    let session = sessions::find(&tool, &token)
        .await
        .map_err(|e| PageError::of(&e, base))?
        .ok_or_else(PageError::session_ended)?;
    if value("navigate").is_some() {
        // As every page opened by a POST: only from the tool's own pages.
        if !is_same_origin_post(&req, base) {
            return Err(PageError::cross_site());
        }
        return render_picker(&tool, &session, &token).await;
    }
    let choice = match value("action") {
        Some("cancel") => Choice::Cancel,
        _ => Choice::Add(
            fields
                .iter()
                .filter(|(k, _)| k == "media")
                .map(|(_, v)| v.clone())
                .collect(),
        ),
    };
    let count = match &choice {
        Choice::Add(ids) => ids.len(),
        Choice::Cancel => 0,
    };
    let response = deep_linking::respond(&tool, &session, &token, choice)
        .await
        .map_err(|e| PageError::of(&e, base))?;
    tracing::info!(
        platform_id = session.platform_id.0,
        user_id = session.user_id.map(|u| u.0),
        items = count,
        "deep-linking response sent"
    );
    Ok(html(
        StatusCode::OK,
        &ReturnPage {
            version: ASSET_VERSION,
            return_url: &response.return_url,
            jwt: &response.jwt,
            count,
        },
    ))
}
