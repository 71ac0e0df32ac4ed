//! The course home: who you are, the course, what you may do.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;

use super::render::{ASSET_VERSION, html};
use super::session::PageSession;
use crate::domain::session::LaunchSession;

#[derive(Template)]
#[template(path = "pages/course.html")]
struct CoursePage<'a> {
    version: &'a str,
    token: &'a str,
    user_name: &'a str,
    user_email: Option<&'a str>,
    platform_name: &'a str,
    lms: &'a str,
    course_title: &'a str,
    course_label: Option<&'a str>,
    can_manage: bool,
}

#[derive(Template)]
#[template(path = "pages/no_context.html")]
struct NoContextPage<'a> {
    version: &'a str,
    token: &'a str,
    user_name: &'a str,
    platform_name: &'a str,
}

#[derive(Template)]
#[template(path = "pages/index.html")]
struct IndexPage<'a> {
    version: &'a str,
}

/// The page a launch lands on.
pub fn render_home(session: &LaunchSession, token: &str) -> HttpResponse {
    let user_name = session.user_name.as_deref().unwrap_or("Anonymous user");
    match &session.course {
        Some(course) => html(
            StatusCode::OK,
            &CoursePage {
                version: ASSET_VERSION,
                token,
                user_name,
                user_email: session.user_email.as_deref(),
                platform_name: &session.platform_name,
                lms: session.lms.display_name(),
                course_title: course.display_name(),
                course_label: course
                    .label
                    .as_deref()
                    .filter(|l| Some(*l) != course.title.as_deref()),
                can_manage: session.can_manage(),
            },
        ),
        None => html(
            StatusCode::OK,
            &NoContextPage {
                version: ASSET_VERSION,
                token,
                user_name,
                platform_name: &session.platform_name,
            },
        ),
    }
}

pub async fn course_page(page: PageSession) -> HttpResponse {
    render_home(&page.session, &page.token)
}

pub async fn index() -> HttpResponse {
    html(
        StatusCode::OK,
        &IndexPage {
            version: ASSET_VERSION,
        },
    )
}
