//! Key sets: the platform's (cached, refetched on rotation, down or slow
//! handled, fetched only by the outbound rules, backed off after a failure)
//! and the tool's own (published, rotated with a grace period).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use guestlink::demo::claims::Role;
use guestlink::domain::platform::Lms;

use crate::helpers::{
    Backend, ENDLESS_LIMIT, PLATFORM_KEY_B, column_values, platform_key, spawn_app, spawn_app_with,
};
use guestlink_test_macros::{both_backends, one_backend};

#[one_backend]
async fn a_platform_key_rotation_is_picked_up_without_a_restart(backend: Backend) {
    let app = spawn_app(backend).await;
    let reg = app.register(Lms::Sakai);
    assert_eq!(app.launch_as(&reg, Role::Instructor).await.status, 200);
    assert_eq!(app.platform.hits.load(Ordering::SeqCst), 1);
    // A second launch uses the cached key set.
    assert_eq!(app.launch_as(&reg, Role::Student).await.status, 200);
    assert_eq!(
        app.platform.hits.load(Ordering::SeqCst),
        1,
        "the key set is cached"
    );

    app.platform
        .rotate_to(platform_key(PLATFORM_KEY_B, "key-b"));
    let page = app.launch_as(&reg, Role::Instructor).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(
        app.platform.hits.load(Ordering::SeqCst),
        2,
        "one refetch for the new kid"
    );
}

#[one_backend]
async fn unknown_kids_refetch_at_most_once_per_interval(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.lti.jwks_refetch = guestlink::domain::time::Duration::seconds(3600)
    })
    .await;
    let reg = app.register(Lms::Canvas);
    assert_eq!(app.launch_as(&reg, Role::Instructor).await.status, 200);
    for _ in 0..5 {
        let login = app.login(&reg).await;
        let mut key = app.platform.signing_key();
        key.kid = "forged-kid".into();
        let token = key
            .sign(&app.claims(&reg, &login.nonce, Role::Instructor))
            .unwrap();
        let page = app.post_token(&login, &token).await;
        assert_eq!(page.error_code().as_deref(), Some("unknown_kid"));
    }
    assert_eq!(
        app.platform.hits.load(Ordering::SeqCst),
        1,
        "no refetch within the interval"
    );
}

#[one_backend]
async fn a_platform_jwks_that_is_down_or_hangs_gives_a_clear_error(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.lti.jwks_timeout = guestlink::domain::time::Duration::seconds(1)
    })
    .await;
    let reg = app.register(Lms::Brightspace);
    app.platform.down.store(true, Ordering::SeqCst);
    let page = app.launch_as(&reg, Role::Instructor).await;
    assert_eq!(page.error_code().as_deref(), Some("jwks_unavailable"));
    assert!((400..500).contains(&page.status));

    app.platform.down.store(false, Ordering::SeqCst);
    app.platform.hang.store(true, Ordering::SeqCst);
    let started = Instant::now();
    let page = app.launch_as(&reg, Role::Instructor).await;
    assert_eq!(page.error_code().as_deref(), Some("jwks_unavailable"));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "a hanging JWKS must time out, not hang the launch"
    );
}

#[both_backends]
async fn the_tool_publishes_its_key_and_keeps_a_rotated_one_for_the_grace_period(backend: Backend) {
    let app = spawn_app(backend).await;
    let jwks = app.published_jwks().await;
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["kid"], "tool-key-1");
    assert_eq!(keys[0]["alg"], "RS256");
    assert_eq!(keys[0]["use"], "sig");
    assert_eq!(keys[0]["kty"], "RSA");

    let tool = crate::helpers::tool(&app.db, &app.settings, &app.clock);
    let new_key = guestlink::service::keys::rotate(&tool).await.unwrap();
    let kids = app.published_kids().await;
    assert_eq!(
        kids,
        vec![new_key.kid.as_str(), "tool-key-1"],
        "current first, retired still published"
    );

    app.clock.advance(time::Duration::days(15));
    let jwks = app.published_jwks().await;
    assert_eq!(
        jwks["keys"].as_array().unwrap().len(),
        1,
        "past the grace period only the current key remains"
    );
}

/// A platform that is down costs one request per back-off, not one per
/// launch; when the back-off has passed, the next launch tries again.
#[one_backend]
async fn a_failed_key_set_fetch_backs_off_instead_of_refetching_on_every_launch(backend: Backend) {
    let app = spawn_app(backend).await;
    let reg = app.register(Lms::Moodle);
    app.platform.down.store(true, Ordering::SeqCst);
    for attempt in 0..5 {
        let page = app.launch_as(&reg, Role::Instructor).await;
        assert_eq!(
            page.error_code().as_deref(),
            Some("jwks_unavailable"),
            "attempt {attempt}"
        );
    }
    assert_eq!(
        app.platform.hits.load(Ordering::SeqCst),
        1,
        "one fetch for five launches"
    );

    app.clock.advance(time::Duration::seconds(6));
    let page = app.launch_as(&reg, Role::Instructor).await;
    assert_eq!(page.error_code().as_deref(), Some("jwks_unavailable"));
    assert_eq!(
        app.platform.hits.load(Ordering::SeqCst),
        2,
        "tried again after the back-off"
    );

    app.platform.down.store(false, Ordering::SeqCst);
    let page = app.launch_as(&reg, Role::Instructor).await;
    assert_eq!(
        page.error_code().as_deref(),
        Some("jwks_unavailable"),
        "the back-off doubled"
    );
    assert_eq!(app.platform.hits.load(Ordering::SeqCst), 2);
    app.clock.advance(time::Duration::seconds(11));
    assert_eq!(
        app.launch_as(&reg, Role::Instructor).await.status,
        200,
        "back up"
    );
    assert_eq!(app.platform.hits.load(Ordering::SeqCst), 3);
}

/// Keys the tool already has keep serving while the platform is down.
#[one_backend]
async fn stale_keys_keep_serving_while_the_platform_is_down(backend: Backend) {
    let app = spawn_app(backend).await;
    let reg = app.register(Lms::Canvas);
    assert_eq!(app.launch_as(&reg, Role::Instructor).await.status, 200);
    app.platform.down.store(true, Ordering::SeqCst);
    // Past the key set's max-age (300 s): the tool tries to refresh it.
    app.clock.advance(time::Duration::seconds(301));
    for attempt in 0..3 {
        let page = app.launch_as(&reg, Role::Student).await;
        assert_eq!(page.status, 200, "attempt {attempt}: {}", page.body);
    }
    assert_eq!(
        app.platform.hits.load(Ordering::SeqCst),
        2,
        "one refresh attempt"
    );
}

/// The launch page says only that the keys could not be fetched; what the
/// platform answered goes to the admin's diagnostics.
#[one_backend]
async fn the_upstream_status_goes_to_diagnostics_not_to_the_page(backend: Backend) {
    let app = spawn_app(backend).await;
    let reg = app.register(Lms::Sakai);
    app.platform.down.store(true, Ordering::SeqCst);
    let page = app.launch_as(&reg, Role::Instructor).await;
    assert_eq!(page.error_code().as_deref(), Some("jwks_unavailable"));
    assert!(
        !page.body.contains("503"),
        "no upstream status on the page: {}",
        page.body
    );
    let reasons = column_values(&app.db, "launch_attempts", "reason");
    assert!(
        reasons.iter().any(|r| r.contains("HTTP 503")),
        "the diagnostics have it: {reasons:?}"
    );
}

#[one_backend]
async fn a_key_set_redirect_is_not_followed(backend: Backend) {
    let app = spawn_app(backend).await;
    let reg = app.register(Lms::Brightspace);
    app.platform.redirect.store(true, Ordering::SeqCst);
    let page = app.launch_as(&reg, Role::Instructor).await;
    assert_eq!(
        page.error_code().as_deref(),
        Some("jwks_unavailable"),
        "{}",
        page.body
    );
    assert_eq!(
        app.platform.elsewhere_hits.load(Ordering::SeqCst),
        0,
        "not followed"
    );
    let reasons = column_values(&app.db, "launch_attempts", "reason");
    assert!(
        reasons.iter().any(|r| r.contains("redirect")),
        "{reasons:?}"
    );
}

/// A key set read as a stream and dropped past 256 KB: an endless answer
/// costs the tool no more than that.
#[one_backend]
async fn an_endless_key_set_is_cut_off_at_the_cap(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.lti.jwks_timeout = guestlink::domain::time::Duration::seconds(10)
    })
    .await;
    let reg = app.register(Lms::Moodle);
    app.platform.endless.store(true, Ordering::SeqCst);
    let started = Instant::now();
    let page = app.launch_as(&reg, Role::Instructor).await;
    assert_eq!(
        page.error_code().as_deref(),
        Some("jwks_unavailable"),
        "{}",
        page.body
    );
    let sent = app.platform.endless_bytes.load(Ordering::SeqCst);
    assert!(
        sent < 32 * 1024 * 1024 && sent < ENDLESS_LIMIT,
        "the tool stopped reading early ({sent} bytes produced)"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "and did not wait for the timeout"
    );
    let reasons = column_values(&app.db, "launch_attempts", "reason");
    assert!(
        reasons.iter().any(|r| r.contains("larger than 256 KB")),
        "{reasons:?}"
    );
}

/// The rules hold at every fetch, not only when a URL was registered: a
/// platform added by hand with a key set on a private address cannot make
/// the tool fetch it unless the operator listed the host.
#[one_backend]
async fn a_key_set_on_a_private_address_is_fetched_only_from_a_listed_host(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.lti.outbound_allowed_hosts.clear()).await;
    let reg = app.register(Lms::Canvas);
    let page = app.launch_as(&reg, Role::Instructor).await;
    assert_eq!(page.error_code().as_deref(), Some("jwks_unavailable"));
    assert_eq!(
        app.platform.hits.load(Ordering::SeqCst),
        0,
        "nothing was fetched"
    );
    let reasons = column_values(&app.db, "launch_attempts", "reason");
    assert!(reasons.iter().any(|r| r.contains("https")), "{reasons:?}");
}

/// A proxy from the environment would resolve the platform's host again and
/// defeat the address checks: the tool ignores every proxy variable.
#[one_backend]
async fn proxies_from_the_environment_are_not_used(backend: Backend) {
    let dead = format!("http://127.0.0.1:{}", crate::helpers::free_port());
    let (app, _server) = crate::helpers::spawn_binary(
        backend,
        &[
            ("GUESTLINK_OUTBOUND_ALLOWED_HOSTS", "127.0.0.1:*"),
            ("HTTP_PROXY", &dead),
            ("HTTPS_PROXY", &dead),
            ("ALL_PROXY", &dead),
            ("http_proxy", &dead),
            ("https_proxy", &dead),
            ("all_proxy", &dead),
        ],
    )
    .await;
    let reg = app.register(Lms::Moodle);
    let page = app.launch_as(&reg, Role::Instructor).await;
    assert_eq!(page.status, 200, "the key set came directly: {}", page.body);
    assert_eq!(app.platform.hits.load(Ordering::SeqCst), 1);
}
