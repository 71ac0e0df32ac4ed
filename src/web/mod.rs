//! actix-web only: routes, extractors, rendering and error mapping. Handlers
//! stay thin: extract, call one service function, render.

pub mod cookies;
pub mod course;
pub mod error;
pub mod health;
pub mod lti;
pub mod middleware;
pub mod render;
pub mod session;
pub mod static_files;

use actix_web::web;

/// Every route of the tool, read top to bottom.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(lti::launch_form_config())
        .app_data(
            web::QueryConfig::default()
                .error_handler(|_, _| error::PageError::bad_request().into()),
        )
        .route("/", web::get().to(course::index))
        .route("/healthz", web::get().to(health::healthz))
        .route("/.well-known/jwks.json", web::get().to(lti::jwks))
        .route("/lti/login", web::get().to(lti::login_get))
        .route("/lti/login", web::post().to(lti::login_post))
        .route("/lti/launch", web::post().to(lti::launch))
        .route("/lti/launch", web::get().to(lti::launch_get))
        .route("/course", web::get().to(course::course_page))
        .route("/static/{file:.*}", web::get().to(static_files::serve));
}
