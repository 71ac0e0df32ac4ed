//! Sessions inside the LMS frame: found by Bearer token, by cookie, or by
//! the tool's own same-origin POST; never by a URL; idle sessions end, and
//! busy ones at their absolute lifetime.

use guestlink::demo::claims::Role;
use guestlink::domain::platform::Lms;

use crate::helpers::{Backend, spawn_app};
use guestlink_test_macros::{both_backends, one_backend};

#[one_backend]
async fn the_course_page_is_reachable_by_bearer_and_cookie_but_not_by_query(backend: Backend) {
    let app = spawn_app(backend).await;
    let reg = app.register(Lms::Moodle);
    let launched = app.launch_as(&reg, Role::Student).await;
    let token = launched.session_token().unwrap();

    let by_bearer = app.get_page("/course", Some(&token)).await;
    assert_eq!(
        by_bearer.attr("main", "data-page").as_deref(),
        Some("course")
    );
    let by_query = app
        .get_page(&format!("/course?session={token}"), None)
        .await;
    assert_eq!(by_query.status, 400, "a token in a URL is refused");
    assert_eq!(by_query.error_code().as_deref(), Some("session_in_url"));
    assert!(!by_query.body.contains(&token), "and not echoed");
    let by_cookie = app
        .http
        .get(app.url("/course"))
        .header("Cookie", format!("guestlink_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(by_cookie.status().as_u16(), 200);

    for (name, path, bearer) in [
        ("no token", "/course".to_string(), None),
        ("wrong bearer", "/course".to_string(), Some("nope")),
    ] {
        let page = app.get_page(&path, bearer).await;
        assert_eq!(page.status, 401, "{name}");
        assert_eq!(
            page.error_code().as_deref(),
            Some("session_required"),
            "{name}"
        );
    }
}

#[both_backends]
async fn an_idle_session_ends(backend: Backend) {
    let app = spawn_app(backend).await;
    let reg = app.register(Lms::Canvas);
    let token = app
        .launch_as(&reg, Role::Instructor)
        .await
        .session_token()
        .unwrap();
    app.clock.advance(time::Duration::minutes(100));
    assert_eq!(
        app.get_page("/course", Some(&token)).await.status,
        200,
        "used within the idle time: extended"
    );
    app.clock.advance(time::Duration::minutes(100));
    assert_eq!(
        app.get_page("/course", Some(&token)).await.status,
        200,
        "still within the extended idle time"
    );
    app.clock.advance(time::Duration::minutes(121));
    assert_eq!(
        app.get_page("/course", Some(&token)).await.status,
        401,
        "idle too long"
    );
}

#[one_backend]
async fn pages_carry_security_headers_and_escape_what_the_lms_sent(backend: Backend) {
    let app = spawn_app(backend).await;
    let reg = app.register(Lms::Canvas);
    let page = app
        .launch_with(&reg, Role::Instructor, |claims| {
            claims["name"] = serde_json::json!("<script>alert(1)</script>");
            claims[guestlink::lti::claims::CONTEXT]["title"] =
                serde_json::json!("<img src=x onerror=alert(2)>");
        })
        .await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("<script>alert(1)</script>"));
    assert!(!page.body.contains("<img src=x"));
    assert_eq!(
        page.text("[data-field=user-name]").as_deref(),
        Some("<script>alert(1)</script>")
    );
    let csp = page
        .headers
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(csp.contains("script-src 'self'"));
    assert_eq!(
        page.headers.get("x-content-type-options").unwrap(),
        "nosniff"
    );
}

#[one_backend]
async fn unknown_paths_get_an_html_404(backend: Backend) {
    let app = spawn_app(backend).await;
    let page = app.get_page("/no/such/page", None).await;
    assert_eq!(page.status, 404);
    assert_eq!(page.error_code().as_deref(), Some("not_found"));
}

/// However busy, a session ends `GUESTLINK_SESSION_MAX_HOURS` after its launch.
#[both_backends]
async fn a_busy_session_ends_at_its_absolute_lifetime(backend: Backend) {
    let app = spawn_app(backend).await;
    let reg = app.register(Lms::Sakai);
    let token = app
        .launch_as(&reg, Role::Instructor)
        .await
        .session_token()
        .unwrap();
    for hour in 1..12 {
        app.clock.advance(time::Duration::hours(1));
        assert_eq!(
            app.get_page("/course", Some(&token)).await.status,
            200,
            "used every hour: hour {hour}"
        );
    }
    app.clock.advance(time::Duration::minutes(61));
    let page = app.get_page("/course", Some(&token)).await;
    assert_eq!(page.status, 401, "twelve hours after the launch");
    assert_eq!(page.error_code().as_deref(), Some("session_required"));
}

/// Tool pages tell no other site where the browser came from, and give
/// their links no session.
#[one_backend]
async fn tool_pages_send_no_referrer_and_no_token_in_links(backend: Backend) {
    let app = spawn_app(backend).await;
    let reg = app.register(Lms::Moodle);
    let page = app.launch_as(&reg, Role::Instructor).await;
    let token = page.session_token().unwrap();
    assert_eq!(page.headers.get("referrer-policy").unwrap(), "no-referrer");
    assert_eq!(
        page.attr("meta[name=referrer]", "content").as_deref(),
        Some("no-referrer")
    );
    assert_eq!(
        page.attr("main", "data-page-url").as_deref(),
        Some("/course")
    );
    let html = page.body.replace(&format!("content=\"{token}\""), "");
    assert!(!html.contains(&token), "the token is only in the meta tag");
}
