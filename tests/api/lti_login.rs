//! Login initiation: GET and POST, every parameter LTI 1.3 login initiation carries, unknown
//! platforms and foreign target links refused, platform storage offered.

use guestlink::demo::claims::Role;
use guestlink::domain::platform::Lms;

use crate::helpers::{Backend, Page, count_rows, login_result, spawn_app, spawn_app_with, tool};
use guestlink_test_macros::{both_backends, one_backend};

#[both_backends]
async fn post_login_redirects_to_the_platform_with_every_parameter(backend: Backend) {
    let app = spawn_app(backend).await;
    let reg = app.register(Lms::Moodle);
    let login = app.login(&reg).await;
    let url = url::Url::parse(&login.location).unwrap();
    assert_eq!(
        format!("{}{}", url.origin().ascii_serialization(), url.path()),
        format!("{}/auth", app.platform.base)
    );
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.to_string())
    };
    assert_eq!(param("scope").as_deref(), Some("openid"));
    assert_eq!(param("response_type").as_deref(), Some("id_token"));
    assert_eq!(param("response_mode").as_deref(), Some("form_post"));
    assert_eq!(param("prompt").as_deref(), Some("none"));
    assert_eq!(param("client_id").as_deref(), Some(reg.client_id.as_str()));
    assert_eq!(param("redirect_uri"), Some(app.url("/lti/launch")));
    assert_eq!(param("login_hint").as_deref(), Some("user-hint"));
    assert_eq!(param("lti_message_hint").as_deref(), Some("message-hint"));
    // 128 bits or more, base64url: at least 22 characters each.
    assert!(login.state.len() >= 22 && login.nonce.len() >= 22);
    assert_ne!(login.state, login.nonce);
    for attribute in [
        "HttpOnly",
        "Secure",
        "SameSite=None",
        "Partitioned",
        "Path=/lti/",
    ] {
        assert!(
            login.set_cookie.contains(attribute),
            "state cookie lacks {attribute}: {}",
            login.set_cookie
        );
    }
}

#[one_backend]
async fn get_login_works_like_post(backend: Backend) {
    let app = spawn_app(backend).await;
    let reg = app.register(Lms::Sakai);
    let query = serde_urlencoded::to_string(app.login_form(&reg)).unwrap();
    let response = app
        .http
        .get(app.url(&format!("/lti/login?{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 302);
    let login = login_result(&response);
    let token = app.sign(&app.claims(&reg, &login.nonce, Role::Instructor));
    let page = app.post_token(&login, &token).await;
    assert_eq!(
        page.attr("main", "data-page").as_deref(),
        Some("course"),
        "{}",
        page.body
    );
}

#[both_backends]
async fn a_login_without_client_id_picks_the_only_registration_of_the_issuer(backend: Backend) {
    let app = spawn_app(backend).await;
    let reg = app.register(Lms::Brightspace);
    let form: Vec<_> = app
        .login_form(&reg)
        .into_iter()
        .filter(|(k, _)| k != "client_id")
        .collect();
    assert_eq!(app.post_login(&form).await.status().as_u16(), 302);
}

#[one_backend]
async fn bad_logins_get_an_error_page_with_their_code(backend: Backend) {
    let app = spawn_app(backend).await;
    let reg = app.register(Lms::Canvas);
    app.register_with(Lms::Canvas, &reg.issuer, "10000000000099", "9:zzz");
    type FormChange = Box<dyn Fn(&mut Vec<(String, String)>)>;
    let cases: Vec<(&str, &str, FormChange)> = vec![
        (
            "unknown issuer",
            "unknown_issuer",
            Box::new(|f| f[0].1 = "https://unknown.example.edu".into()),
        ),
        (
            "unknown client",
            "unknown_client",
            Box::new(|f| f[4].1 = "12345".into()),
        ),
        (
            "no client id, several registered",
            "ambiguous_client",
            Box::new(|f| {
                f.remove(4);
            }),
        ),
        (
            "target link outside the tool",
            "invalid_target_link_uri",
            Box::new(|f| f[2].1 = "https://evil.example.com/lti/launch".into()),
        ),
        (
            "missing iss",
            "missing_parameter",
            Box::new(|f| {
                f.remove(0);
            }),
        ),
        (
            "missing login_hint",
            "missing_parameter",
            Box::new(|f| {
                f.remove(1);
            }),
        ),
        (
            "missing target_link_uri",
            "missing_parameter",
            Box::new(|f| {
                f.remove(2);
            }),
        ),
        (
            "bad storage target",
            "malformed_parameter",
            Box::new(|f| f.push(("lti_storage_target".into(), "<script>".into()))),
        ),
    ];
    for (name, code, mutate) in cases {
        let mut form = app.login_form(&reg);
        mutate(&mut form);
        let page = Page::from(app.post_login(&form).await).await;
        assert_eq!(page.error_code().as_deref(), Some(code), "{name}");
        assert!(
            (400..500).contains(&page.status),
            "{name}: status {}",
            page.status
        );
    }
    assert_eq!(
        crate::helpers::count_rows(&app.db, "login_states"),
        0,
        "refused logins store nothing"
    );
}

#[one_backend]
async fn platform_storage_keeps_the_launch_working_without_cookies(backend: Backend) {
    let app = spawn_app(backend).await;
    let reg = app.register(Lms::Canvas);
    let mut form = app.login_form(&reg);
    form.push((
        "lti_storage_target".into(),
        "post_message_forwarding".into(),
    ));
    let response = app.post_login(&form).await;
    assert_eq!(
        response.status().as_u16(),
        200,
        "platform storage: a page that stores the binding first"
    );
    let set_cookie: Vec<String> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert!(
        set_cookie.iter().any(|c| c.starts_with("guestlink_state_")),
        "the cookie is still set as a fallback"
    );
    let page = Page::from(response).await;
    let storage = |attr: &str| page.attr("#lti-storage", attr).unwrap();
    assert_eq!(storage("data-mode"), "put");
    assert_eq!(storage("data-target"), "post_message_forwarding");
    assert_eq!(storage("data-origin"), app.platform.base);
    let next = url::Url::parse(&storage("data-next")).unwrap();
    let param = |name: &str| {
        next.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.to_string())
            .unwrap()
    };
    let (state, nonce, binding) = (param("state"), param("nonce"), storage("data-value"));
    assert_eq!(storage("data-key"), format!("guestlink_state_{state}"));

    // The launch comes back without the cookie: the tool asks the platform's storage.
    let token = app.sign(&app.claims(&reg, &nonce, Role::Instructor));
    let app = &app;
    // As the tool's own storage page posts: same-origin.
    let without_cookie = |extra: Vec<(&'static str, String)>| {
        let mut fields = vec![
            ("id_token", token.clone()),
            ("state", state.clone()),
            ("lti_storage_target", "post_message_forwarding".to_string()),
        ];
        fields.extend(extra);
        async move {
            let borrowed: Vec<(&str, &str)> =
                fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.post_launch_with(&borrowed, None, &[("Sec-Fetch-Site", "same-origin")])
                .await
        }
    };
    let checked = |binding: Option<&str>| {
        let mut extra = vec![("storage_checked", "1".to_string())];
        extra.extend(binding.map(|b| ("storage_binding", b.to_string())));
        extra
    };

    let first = without_cookie(vec![]).await;
    assert_eq!(
        first.attr("#lti-storage", "data-mode").as_deref(),
        Some("get"),
        "{}",
        first.body
    );
    assert_eq!(app.session_count(), 0);

    // A wrong binding from storage is another browser.
    let wrong = without_cookie(checked(Some("nope"))).await;
    assert_eq!(wrong.error_code().as_deref(), Some("state_mismatch"));

    // Storage answered nothing: the launch fails clearly instead of looping.
    let empty = without_cookie(checked(None)).await;
    assert_eq!(empty.error_code().as_deref(), Some("state_cookie_missing"));

    let page = without_cookie(checked(Some(&binding))).await;
    assert_eq!(
        page.attr("main", "data-page").as_deref(),
        Some("course"),
        "{}",
        page.body
    );
}

/// Login CSRF: an attacker's own login, finished by the victim's browser.
/// The attacker starts a login, reads its binding from the storage page, and
/// has the victim's browser post the launch with that binding from another
/// site: the victim would be signed in as the attacker.
#[one_backend]
async fn a_storage_binding_posted_by_another_site_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let reg = app.register(Lms::Canvas);
    let mut form = app.login_form(&reg);
    form.push(("lti_storage_target".into(), "_parent".into()));
    let page = Page::from(app.post_login(&form).await).await;
    let binding = page.attr("#lti-storage", "data-value").unwrap();
    let next = url::Url::parse(&page.attr("#lti-storage", "data-next").unwrap()).unwrap();
    let param = |name: &str| {
        next.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.to_string())
            .unwrap()
    };
    let (state, nonce) = (param("state"), param("nonce"));
    let token = app.sign(&app.claims(&reg, &nonce, Role::Instructor));
    let fields = [
        ("id_token", token.as_str()),
        ("state", state.as_str()),
        ("lti_storage_target", "_parent"),
        ("storage_binding", binding.as_str()),
        ("storage_checked", "1"),
    ];
    for (case, headers) in [
        (
            "cross-site fetch metadata",
            vec![("Sec-Fetch-Site", "cross-site")],
        ),
        (
            "same-site is not same-origin",
            vec![("Sec-Fetch-Site", "same-site")],
        ),
        (
            "no metadata, another origin",
            vec![("Origin", "https://evil.example.com")],
        ),
        ("no metadata, no origin", vec![]),
        ("no-referrer's null origin", vec![("Origin", "null")]),
    ] {
        let page = app.post_launch_with(&fields, None, &headers).await;
        assert_eq!(page.status, 403, "{case}: {}", page.body);
        assert_eq!(
            page.error_code().as_deref(),
            Some("storage_binding_cross_site"),
            "{case}"
        );
        assert_eq!(app.session_count(), 0, "{case}: nobody signed in");
    }
    // The tool's own page, from an older browser without fetch metadata.
    let page = app
        .post_launch_with(&fields, None, &[("Origin", app.address.as_str())])
        .await;
    assert_eq!(
        page.attr("main", "data-page").as_deref(),
        Some("course"),
        "{}",
        page.body
    );
}

/// Each login initiation writes a login state and anyone may send one, so
/// they are limited per client address (a lecture hall behind one NAT must
/// still get in: the default is 1,200 a minute).
#[both_backends]
async fn login_initiations_are_limited_per_client_address(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.lti.login_rate_limit = 3).await;
    let reg = app.register(Lms::Moodle);
    let into = app.clock.now().unix().rem_euclid(60);
    app.clock.advance(time::Duration::seconds(60 - into + 1));
    for _ in 0..3 {
        app.login(&reg).await;
    }
    let refused = Page::from(app.post_login(&app.login_form(&reg)).await).await;
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert_eq!(refused.error_code().as_deref(), Some("rate_limited"));
    assert_eq!(
        count_rows(&app.db, "login_states"),
        3,
        "no state for the refused one"
    );
    app.clock.advance(time::Duration::seconds(60));
    app.login(&reg).await;
}

/// A login nobody finished is forgotten a minute after it expires; a used
/// one is kept an hour longer, so a late replay still reads as a replay.
#[both_backends]
async fn unused_login_states_are_purged_soon_after_they_expire(backend: Backend) {
    let app = spawn_app(backend).await;
    let reg = app.register(Lms::Canvas);
    for _ in 0..20 {
        app.login(&reg).await;
    }
    assert_eq!(app.launch_as(&reg, Role::Instructor).await.status, 200);
    assert_eq!(count_rows(&app.db, "login_states"), 21);
    let tool = tool(&app.db, &app.settings, &app.clock);
    app.clock.advance(time::Duration::seconds(600 + 61));
    guestlink::service::housekeeping::purge_short_lived(&tool).await;
    assert_eq!(
        count_rows(&app.db, "login_states"),
        1,
        "only the used one is left"
    );
    app.clock.advance(time::Duration::hours(1));
    guestlink::service::housekeeping::purge_short_lived(&tool).await;
    assert_eq!(count_rows(&app.db, "login_states"), 0);
}
