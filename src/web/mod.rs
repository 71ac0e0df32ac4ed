//! actix-web only: routes, extractors, rendering and error mapping. Handlers
//! stay thin: extract, call one service function, render.

pub mod admin;
pub mod cookies;
pub mod course;
pub mod deep_linking;
pub mod error;
pub mod file_delivery;
pub mod guest;
pub mod guest_access_api;
pub mod health;
pub mod invitee;
pub mod invites_api;
pub mod json_body;
pub mod lti;
pub mod lti_config;
pub mod markdown;
pub mod media_api;
pub mod media_pages;
pub mod media_server_events;
pub mod middleware;
pub mod registration;
pub mod render;
pub mod room_api;
pub mod room_csrf;
pub mod room_events;
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
        // What the media servers report (Janus's event handler).
        .service(
            web::resource("/media-server/events")
                .app_data(web::PayloadConfig::new(media_server_events::MOST_BYTES))
                .route(web::post().to(media_server_events::receive)),
        )
        .route("/.well-known/jwks.json", web::get().to(lti::jwks))
        .route("/lti/login", web::get().to(lti::login_get))
        .route("/lti/login", web::post().to(lti::login_post))
        .route("/lti/launch", web::post().to(lti::launch))
        .route("/lti/launch", web::get().to(lti::launch_get))
        .route(
            "/lti/config/canvas.json",
            web::get().to(lti_config::canvas_json),
        )
        .service(
            web::resource("/lti/register")
                .app_data(registration::register_form_config())
                .route(web::get().to(registration::start))
                .route(web::post().to(registration::finish)),
        )
        .configure(admin::routes)
        .route("/lti/deep-link", web::get().to(deep_linking::picker_page))
        .route("/lti/deep-link", web::post().to(deep_linking::respond))
        // Tool pages answer GET (with a cookie) and the same-origin POST the
        // tool's own links and session recovery send (the token in the body).
        .route("/course", web::get().to(media_pages::library))
        .route("/course", web::post().to(media_pages::library))
        .route("/media/{id}", web::get().to(media_pages::media_page))
        .route("/media/{id}", web::post().to(media_pages::media_page))
        .route("/media/{id}/file", web::get().to(file_delivery::file))
        .route(
            "/media/{id}/events",
            web::get().to(room_events::member_events),
        )
        .service(
            web::scope("/api")
                .route("/media", web::get().to(media_api::list))
                .route("/media", web::post().to(media_api::create))
                .route("/media/{id}", web::get().to(media_api::get))
                .route("/media/{id}", web::patch().to(media_api::edit))
                .route("/media/{id}", web::delete().to(media_api::delete))
                .route("/media/{id}/file-url", web::get().to(media_api::file_url))
                .route(
                    "/media/{id}/guest-access",
                    web::get().to(guest_access_api::get),
                )
                .route(
                    "/media/{id}/guest-access",
                    web::put().to(guest_access_api::put),
                )
                .route(
                    "/media/{id}/guest-links",
                    web::post().to(guest_access_api::create_link),
                )
                .route(
                    "/media/{id}/guest-links/{link_id}",
                    web::delete().to(guest_access_api::delete_link),
                )
                .route(
                    "/media/{id}/guest-links/{link_id}/visits",
                    web::get().to(guest_access_api::visits),
                )
                .route("/media/{id}/invites", web::get().to(invites_api::list))
                .route("/media/{id}/invites", web::post().to(invites_api::create))
                .route(
                    "/media/{id}/invites/{invite_id}",
                    web::patch().to(invites_api::patch),
                )
                .route(
                    "/media/{id}/invites/{invite_id}",
                    web::delete().to(invites_api::revoke),
                )
                .route(
                    "/media/{id}/invites/{invite_id}/resend",
                    web::post().to(invites_api::resend),
                )
                .configure(|cfg| room_routes(cfg, "/media/{id}/room"))
                .default_service(web::to(|| async {
                    Err::<actix_web::HttpResponse, _>(error::ApiError::new(
                        crate::service::failure::Kind::NotFound,
                        "not_found",
                        "There is no such API route or method.",
                    ))
                })),
        )
        .service(
            web::resource("/g/{token}")
                .app_data(guest_form_config())
                .route(web::get().to(guest::entry))
                .route(web::post().to(guest::enter)),
        )
        .route("/g/{token}/view", web::get().to(guest::view))
        .route("/g/{token}/file", web::get().to(guest::file))
        .route("/g/{token}/file-url", web::get().to(guest::file_url))
        .route(
            "/g/{token}/events",
            web::get().to(room_events::guest_events),
        )
        .route("/g/{token}/chat", web::post().to(guest::chat))
        .route("/g/{token}/av", web::post().to(guest::av_pass))
        .service(
            web::resource("/i/{token}")
                .app_data(guest_form_config())
                .route(web::get().to(invitee::invitation))
                .route(web::post().to(invitee::confirm)),
        )
        .route("/i/{token}/view", web::get().to(invitee::view))
        .route("/i/{token}/file-url", web::get().to(invitee::file_url))
        // An invitee's room actions: the API's, under the invitation's path.
        .configure(|cfg| room_routes(cfg, "/i/{token}/room"))
        .route("/static/vendor/{file}", web::get().to(static_files::vendor))
        .route("/static/{file:.*}", web::get().to(static_files::serve));
}

/// A room's routes under `base`: `/api/media/{id}/room` for members
/// ("Live rooms" in README.md), `/i/{token}/room` for invitees.
fn room_routes(cfg: &mut web::ServiceConfig, base: &str) {
    let at = |path: &str| format!("{base}{path}");
    cfg.route(&at(""), web::get().to(room_api::get))
        .route(&at("/start"), web::post().to(room_api::start))
        .route(&at("/end"), web::post().to(room_api::end))
        .route(&at("/join"), web::post().to(room_api::join))
        .route(&at("/lobby"), web::put().to(room_api::lobby_policy))
        .route(&at("/lobby/admit-all"), web::post().to(room_api::admit_all))
        .route(
            &at("/lobby/{entry_id}/admit"),
            web::post().to(room_api::admit),
        )
        .route(
            &at("/lobby/{entry_id}/deny"),
            web::post().to(room_api::deny),
        )
        .route(&at("/present"), web::post().to(room_api::present))
        .route(&at("/playback"), web::post().to(room_api::playback))
        .route(&at("/chat"), web::post().to(room_api::chat))
        .route(
            &at("/lobby/{entry_id}/remove"),
            web::post().to(room_api::remove_guest),
        )
        .route(&at("/av"), web::post().to(room_api::av_pass))
        .route(&at("/av/mute-all"), web::post().to(room_api::av_mute_all))
        .route(&at("/av/remove"), web::post().to(room_api::av_remove))
        .route(&at("/chat"), web::put().to(room_api::guest_chat_switch));
}

/// The guest entry form is two short fields and a token.
fn guest_form_config() -> web::FormConfig {
    web::FormConfig::default()
        .limit(16 * 1024)
        .error_handler(|_, _| error::PageError::bad_request().into())
}
