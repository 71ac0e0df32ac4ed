//! Key sets: the platform's (cached, refetched on rotation, down or slow
//! handled) and the tool's own (published, rotated with a grace period).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use guestlink::demo::claims::Role;
use guestlink::domain::platform::Lms;

use crate::helpers::{Backend, PLATFORM_KEY_B, platform_key, spawn_app, spawn_app_with};
use crate::on_both_backends;

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

async fn unknown_kids_refetch_at_most_once_per_interval(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.jwks_refetch_seconds = 3600).await;
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

async fn a_platform_jwks_that_is_down_or_hangs_gives_a_clear_error(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.jwks_timeout_seconds = 1).await;
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

async fn the_tool_publishes_its_key_and_keeps_a_rotated_one_for_the_grace_period(backend: Backend) {
    let app = spawn_app(backend).await;
    let jwks = app.published_jwks().await;
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["kid"], "tool-key-1");
    assert_eq!(keys[0]["alg"], "RS256");
    assert_eq!(keys[0]["use"], "sig");
    assert_eq!(keys[0]["kty"], "RSA");

    let new_key = guestlink::service::keys::rotate(
        &mut app.db.get_write().unwrap(),
        &crate::helpers::test_sealer(),
        app.clock.unix(),
        14,
    )
    .unwrap();
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

on_both_backends!(
    a_platform_key_rotation_is_picked_up_without_a_restart,
    unknown_kids_refetch_at_most_once_per_interval,
    a_platform_jwks_that_is_down_or_hangs_gives_a_clear_error,
    the_tool_publishes_its_key_and_keeps_a_rotated_one_for_the_grace_period,
);
