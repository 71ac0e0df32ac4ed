//! The tool's front page, for someone who opens its address directly.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;

use super::render::{ASSET_VERSION, html};

#[derive(Template)]
#[template(path = "pages/index.html")]
struct IndexPage<'a> {
    version: &'a str,
}

pub async fn index() -> HttpResponse {
    html(
        StatusCode::OK,
        &IndexPage {
            version: ASSET_VERSION,
        },
    )
}
