//! The admin console at /admin: sign-in by one-time link (`guestlink admin
//! login-link`) or admin token, nothing without a session, CSRF on every
//! form, platforms (add, edit, modules, deployment policy, deployments,
//! activate, remove), keys, the registration page and guides, and launch
//! diagnostics that show a failure right after it happened, escaped and
//! without the raw token.

use guestlink::config::AdminToken;
use guestlink::demo::claims::Role;
use guestlink::domain::platform::{DeploymentPolicy, Lms, Modules};
use guestlink::lti::claims as c;
use serde_json::json;

use crate::helpers::{Backend, PLATFORM_KEY_B, Page, Registered, count_rows, platform_key};
use crate::media_helpers::Course;
use crate::registration_helpers::{
    Tool, assert_error, attrs, count, location, main_text, stdout, succeeded,
};
use guestlink_test_macros::{both_backends, one_backend};

const ADMIN_TOKEN: &str = "admin-token-0123456789-abcdefghij-KLMNOPQRST";
const ADMIN_COOKIE: &str = "guestlink_admin";

/// `guestlink admin login-link`: one line, the link.
fn login_link(tool: &Tool) -> String {
    let output = tool.cli(&["admin", "login-link"]);
    succeeded(&output, "admin login-link");
    let link = stdout(&output);
    assert_eq!(link.lines().count(), 1, "one line: {link}");
    crate::log_check::record_secret(link.rsplit('=').next().unwrap_or_default());
    crate::log_check::record_secret(ADMIN_TOKEN);
    link
}

/// The token of a login link, checked for shape.
fn link_token(tool: &Tool, link: &str) -> String {
    let prefix = format!("{}/admin/login?token=", tool.app.address);
    let token = link
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{link} starts with {prefix}"));
    assert_eq!(token.len(), 43, "256 bits, base64url: {token}");
    assert!(
        token
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_'),
        "{token}"
    );
    token.to_string()
}

async fn get_with(tool: &Tool, path: &str, cookie: Option<&str>) -> Page {
    let mut request = tool.app.http.get(tool.app.url(path));
    if let Some(cookie) = cookie {
        request = request.header("Cookie", cookie);
    }
    Page::from(request.send().await.unwrap()).await
}

async fn post_with(tool: &Tool, path: &str, cookie: Option<&str>, form: &[(&str, &str)]) -> Page {
    let mut request = tool
        .app
        .http
        .post(tool.app.url(path))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(form).unwrap());
    if let Some(cookie) = cookie {
        request = request.header("Cookie", cookie);
    }
    Page::from(request.send().await.unwrap()).await
}

/// The admin session cookie the page sets, as its whole Set-Cookie header.
fn admin_set_cookie(page: &Page) -> Option<String> {
    page.headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with(&format!("{ADMIN_COOKIE}=")))
}

/// A signed-in admin: the session cookie and the CSRF token of the pages.
struct Admin<'a> {
    tool: &'a Tool,
    cookie: String,
    csrf: String,
}

impl Admin<'_> {
    async fn get(&self, path: &str) -> Page {
        get_with(self.tool, path, Some(&self.cookie)).await
    }

    /// A form post with the CSRF token.
    async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        let mut form = form.to_vec();
        form.push(("csrf", &self.csrf));
        post_with(self.tool, path, Some(&self.cookie), &form).await
    }

    /// A form post exactly as given (no CSRF token added).
    async fn post_as_is(&self, path: &str, form: &[(&str, &str)]) -> Page {
        post_with(self.tool, path, Some(&self.cookie), form).await
    }

    fn location(&self, page: &Page) -> Option<String> {
        location(page, &self.tool.app)
    }
}

/// Signs in with a fresh login link.
async fn sign_in(tool: &Tool) -> Admin<'_> {
    let token = link_token(tool, &login_link(tool));
    sign_in_with(tool, "login_token", &token).await
}

/// Signs in with one sign-in form field (`login_token` or `admin_token`).
async fn sign_in_with<'a>(tool: &'a Tool, field: &str, value: &str) -> Admin<'a> {
    let page = post_with(tool, "/admin/login", None, &[(field, value)]).await;
    assert_eq!(page.status, 303, "sign-in: {}", page.body);
    let set_cookie = admin_set_cookie(&page).expect("an admin session cookie");
    let cookie = set_cookie.split(';').next().unwrap().trim().to_string();
    let home = get_with(tool, "/admin", Some(&cookie)).await;
    assert_eq!(home.status, 200, "{}", home.body);
    let csrf = home
        .attr("meta[name=guestlink-admin-csrf]", "content")
        .expect("the CSRF meta tag");
    Admin { tool, cookie, csrf }
}

fn assert_redirect(page: &Page, tool: &Tool, to: &str, case: &str) {
    assert_eq!(page.status, 303, "{case}: {}", page.body);
    assert_eq!(location(page, &tool.app).as_deref(), Some(to), "{case}");
}

fn data_page(page: &Page) -> Option<String> {
    page.attr("main", "data-page")
}

/// Everything an admin action could change, to compare before and after.
fn snapshot(tool: &Tool) -> String {
    format!(
        "{:?} deployments={} keys={} retired={} pending={}",
        tool.platforms(),
        count_rows(&tool.app.db, "deployments"),
        count_rows(&tool.app.db, "tool_keys"),
        count_rows(&tool.app.db, "tool_keys WHERE retired_at IS NOT NULL"),
        count_rows(&tool.app.db, "platforms WHERE pending = true"),
    )
}

/// Every admin page reachable with a GET, for a platform `id`.
fn admin_pages(id: i64) -> Vec<String> {
    vec![
        "/admin".into(),
        "/admin/platforms/new".into(),
        format!("/admin/platforms/{id}"),
        "/admin/register".into(),
        "/admin/guides/moodle".into(),
        "/admin/keys".into(),
        "/admin/diagnostics".into(),
        format!("/admin/diagnostics?platform={id}"),
    ]
}

/// Every admin action (POST) with a form that would otherwise succeed.
fn admin_actions(tool: &Tool, id: i64) -> Vec<(String, Vec<(&'static str, String)>)> {
    let auth_url = format!("{}/auth", tool.app.platform.base);
    let jwks_url = format!("{}/jwks", tool.app.platform.base);
    vec![
        ("/admin/logout".into(), vec![]),
        (
            "/admin/platforms".into(),
            vec![
                ("name", "Another Moodle".into()),
                ("lms", "moodle".into()),
                ("issuer", "https://another-moodle.example.edu".into()),
                ("client_id", "another-client".into()),
                ("auth_url", auth_url.clone()),
                ("jwks_url", jwks_url.clone()),
                ("token_url", String::new()),
                ("deployment_ids", "1".into()),
            ],
        ),
        (
            format!("/admin/platforms/{id}"),
            vec![
                ("name", "Renamed".into()),
                ("auth_url", auth_url),
                ("jwks_url", jwks_url),
                ("token_url", String::new()),
            ],
        ),
        (
            format!("/admin/platforms/{id}/modules"),
            vec![("invite_to_media", "on".into())],
        ),
        (
            format!("/admin/platforms/{id}/deployment-policy"),
            vec![("policy", "register_on_first_launch".into())],
        ),
        (
            format!("/admin/platforms/{id}/deployments"),
            vec![("deployment_id", "new-deployment-9".into())],
        ),
        (format!("/admin/platforms/{id}/activate"), vec![]),
        (
            format!("/admin/platforms/{id}/remove"),
            vec![("force", "on".into())],
        ),
        ("/admin/keys/rotate".into(), vec![]),
    ]
}

fn as_refs<'a>(form: &'a [(&'static str, String)]) -> Vec<(&'a str, &'a str)> {
    form.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// A Moodle platform registered in the tool, and its id.
fn moodle(tool: &Tool) -> (Registered, i64) {
    let reg = tool.app.register(Lms::Moodle);
    let id = tool.platform_id(&reg.issuer, &reg.client_id);
    (reg, id)
}

#[both_backends]
async fn a_login_link_signs_in_once(backend: Backend) {
    let tool = Tool::start(backend, |_| {}).await;
    let link = login_link(&tool);
    let token = link_token(&tool, &link);

    // Opening the link (a mail scanner does too) only shows the form.
    for _ in 0..2 {
        let page = tool.get_page_at(&link).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert_eq!(data_page(&page).as_deref(), Some("admin-login"));
        assert_eq!(
            page.attr(
                r#"form[method="post"][action="/admin/login"] input[name="login_token"]"#,
                "value"
            ),
            Some(token.clone())
        );
        assert!(page.body.contains("Sign in"));
        assert!(admin_set_cookie(&page).is_none(), "a GET does not sign in");
    }

    let signed_in = post_with(&tool, "/admin/login", None, &[("login_token", &token)]).await;
    assert_redirect(&signed_in, &tool, "/admin", "sign-in");
    let set_cookie = admin_set_cookie(&signed_in).expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/admin"] {
        assert!(
            set_cookie.contains(attribute),
            "the cookie lacks {attribute}: {set_cookie}"
        );
    }
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    let home = get_with(&tool, "/admin", Some(&cookie)).await;
    assert_eq!(home.status, 200);
    assert_eq!(data_page(&home).as_deref(), Some("admin-platforms"));

    let again = post_with(&tool, "/admin/login", None, &[("login_token", &token)]).await;
    assert_error(&again, 401, "admin_login_invalid", "the same link twice");
    assert!(admin_set_cookie(&again).is_none_or(|c| c.starts_with(&format!("{ADMIN_COOKIE}=;"))));
    let unknown = post_with(
        &tool,
        "/admin/login",
        None,
        &[("login_token", &"A".repeat(43))],
    )
    .await;
    assert_error(&unknown, 401, "admin_login_invalid", "a link never made");
}

#[both_backends]
async fn a_login_link_expires_after_ten_minutes(backend: Backend) {
    let tool = Tool::start(backend, |_| {}).await;
    let early = link_token(&tool, &login_link(&tool));
    let late = link_token(&tool, &login_link(&tool));
    tool.app.clock.advance(time::Duration::minutes(9));
    let page = post_with(&tool, "/admin/login", None, &[("login_token", &early)]).await;
    assert_redirect(&page, &tool, "/admin", "9 minutes after");
    tool.app.clock.advance(time::Duration::minutes(2));
    let page = post_with(&tool, "/admin/login", None, &[("login_token", &late)]).await;
    assert_error(&page, 401, "admin_login_invalid", "11 minutes after");
    assert!(admin_set_cookie(&page).is_none_or(|c| c.starts_with(&format!("{ADMIN_COOKIE}=;"))));
}

#[both_backends]
async fn an_admin_session_lasts_eight_hours(backend: Backend) {
    let tool = Tool::start(backend, |_| {}).await;
    let admin = sign_in(&tool).await;
    tool.app.clock.advance(time::Duration::minutes(8 * 60 - 2));
    assert_eq!(admin.get("/admin").await.status, 200, "7 h 58 min after");
    tool.app.clock.advance(time::Duration::minutes(4));
    let page = admin.get("/admin").await;
    assert_redirect(&page, &tool, "/admin/login", "8 h 2 min after");
    let page = admin.post("/admin/keys/rotate", &[]).await;
    assert_error(&page, 401, "admin_session_required", "8 h 2 min after");
}

#[both_backends]
async fn the_admin_token_signs_in_and_a_wrong_one_is_refused(backend: Backend) {
    let tool = Tool::start(backend, |s| {
        s.admin.token = Some(AdminToken::new(ADMIN_TOKEN))
    })
    .await;
    let page = tool.app.get_page("/admin/login", None).await;
    assert_eq!(page.status, 200);
    assert_eq!(data_page(&page).as_deref(), Some("admin-login"));
    assert_eq!(
        count(
            &page,
            r#"form[method="post"][action="/admin/login"] input[name="admin_token"]"#
        ),
        1,
        "{}",
        page.body
    );
    assert!(page.body.contains("guestlink admin login-link"));

    let wrong = format!("{ADMIN_TOKEN}x");
    for (case, value) in [
        ("a wrong token", wrong.as_str()),
        ("a prefix of the token", &ADMIN_TOKEN[..32]),
        ("an empty token", ""),
    ] {
        let page = post_with(&tool, "/admin/login", None, &[("admin_token", value)]).await;
        assert_error(&page, 401, "admin_login_invalid", case);
        assert!(
            admin_set_cookie(&page).is_none_or(|c| c.starts_with(&format!("{ADMIN_COOKIE}=;")))
        );
    }
    let page = post_with(&tool, "/admin/login", None, &[("admin_token", ADMIN_TOKEN)]).await;
    assert_redirect(&page, &tool, "/admin", "the admin token");
    let cookie = admin_set_cookie(&page).expect("a session cookie");
    let cookie = cookie.split(';').next().unwrap();
    assert_eq!(get_with(&tool, "/admin", Some(cookie)).await.status, 200);
}

#[both_backends]
async fn without_an_admin_token_setting_only_links_sign_in(backend: Backend) {
    let tool = Tool::start(backend, |_| {}).await;
    let page = tool.app.get_page("/admin/login", None).await;
    assert_eq!(page.status, 200);
    assert_eq!(count(&page, r#"input[name="admin_token"]"#), 0);
    assert!(page.body.contains("guestlink admin login-link"));
    let page = post_with(&tool, "/admin/login", None, &[("admin_token", ADMIN_TOKEN)]).await;
    assert_error(
        &page,
        401,
        "admin_login_invalid",
        "no admin token configured",
    );
}

#[both_backends]
async fn sign_in_attempts_are_rate_limited(backend: Backend) {
    let tool = Tool::start(backend, |_| {}).await;
    for attempt in 1..=10 {
        let page = post_with(
            &tool,
            "/admin/login",
            None,
            &[("login_token", &"B".repeat(43))],
        )
        .await;
        assert_error(
            &page,
            401,
            "admin_login_invalid",
            &format!("attempt {attempt}"),
        );
    }
    let token = link_token(&tool, &login_link(&tool));
    let page = post_with(&tool, "/admin/login", None, &[("login_token", &token)]).await;
    assert_error(
        &page,
        429,
        "rate_limited",
        "the eleventh attempt in a minute",
    );
    tool.app.clock.advance(time::Duration::seconds(61));
    let page = post_with(&tool, "/admin/login", None, &[("login_token", &token)]).await;
    assert_redirect(&page, &tool, "/admin", "a minute later");
}

#[both_backends]
async fn nothing_under_admin_works_without_a_session(backend: Backend) {
    let tool = Tool::start(backend, |_| {}).await;
    let (_, id) = moodle(&tool);
    tool.make_pending(id);
    let before = snapshot(&tool);
    let forged = format!("{ADMIN_COOKIE}={}", "C".repeat(43));
    for cookie in [None, Some(forged.as_str())] {
        for path in admin_pages(id) {
            let page = get_with(&tool, &path, cookie).await;
            assert_redirect(
                &page,
                &tool,
                "/admin/login",
                &format!("GET {path} with {cookie:?}"),
            );
        }
        for (path, form) in admin_actions(&tool, id) {
            let mut form = as_refs(&form);
            form.push(("csrf", "D"));
            let page = post_with(&tool, &path, cookie, &form).await;
            assert_error(
                &page,
                401,
                "admin_session_required",
                &format!("POST {path} with {cookie:?}"),
            );
        }
    }
    assert_eq!(snapshot(&tool), before, "nothing changed");
}

#[both_backends]
async fn signing_out_ends_the_session(backend: Backend) {
    let tool = Tool::start(backend, |_| {}).await;
    let admin = sign_in(&tool).await;
    let page = admin.post("/admin/logout", &[]).await;
    assert_redirect(&page, &tool, "/admin/login", "sign out");
    let cleared = admin_set_cookie(&page).expect("the cookie is cleared");
    assert!(
        cleared.starts_with(&format!("{ADMIN_COOKIE}=;"))
            || cleared.to_ascii_lowercase().contains("max-age=0"),
        "{cleared}"
    );
    assert_redirect(
        &admin.get("/admin").await,
        &tool,
        "/admin/login",
        "the old cookie after sign-out",
    );
    let page = admin.post("/admin/keys/rotate", &[]).await;
    assert_error(
        &page,
        401,
        "admin_session_required",
        "a form after sign-out",
    );
}

#[one_backend]
async fn every_admin_page_carries_the_csrf_token_in_its_forms(backend: Backend) {
    let tool = Tool::start(backend, |_| {}).await;
    let (_, id) = moodle(&tool);
    tool.make_pending(id);
    let admin = sign_in(&tool).await;
    for path in admin_pages(id) {
        let page = admin.get(&path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        assert_eq!(
            page.attr("meta[name=guestlink-admin-csrf]", "content"),
            Some(admin.csrf.clone()),
            "{path}: the CSRF meta tag"
        );
        let forms = count(&page, r#"form[method="post"]"#);
        let with_token = attrs(&page, r#"form[method="post"] input[name="csrf"]"#, "value");
        assert_eq!(
            with_token.len(),
            forms,
            "{path}: every form has a csrf field"
        );
        assert!(
            with_token.iter().all(|v| *v == admin.csrf),
            "{path}: {with_token:?}"
        );
    }
}

#[one_backend]
async fn every_admin_form_needs_the_csrf_token(backend: Backend) {
    let tool = Tool::start(backend, |_| {}).await;
    let (_, id) = moodle(&tool);
    tool.make_pending(id);
    let admin = sign_in(&tool).await;
    let before = snapshot(&tool);
    let wrong = "E".repeat(admin.csrf.len().max(22));
    for (path, form) in admin_actions(&tool, id) {
        let form = as_refs(&form);
        let page = admin.post_as_is(&path, &form).await;
        assert_error(&page, 403, "admin_csrf", &format!("{path} without csrf"));
        let mut with_wrong = form.clone();
        with_wrong.push(("csrf", &wrong));
        let page = admin.post_as_is(&path, &with_wrong).await;
        assert_error(
            &page,
            403,
            "admin_csrf",
            &format!("{path} with a wrong csrf"),
        );
    }
    assert_eq!(snapshot(&tool), before, "nothing changed");
    assert_eq!(
        admin.get("/admin").await.status,
        200,
        "sign-out without csrf did not sign out"
    );
}

#[one_backend]
async fn admin_pages_cannot_be_framed(backend: Backend) {
    let tool = Tool::start(backend, |_| {}).await;
    let (_, id) = moodle(&tool);
    let admin = sign_in(&tool).await;
    let mut pages = vec![(
        "/admin/login".to_string(),
        tool.app.get_page("/admin/login", None).await,
    )];
    for path in admin_pages(id) {
        pages.push((path.clone(), admin.get(&path).await));
    }
    let unframeable = |page: &Page| {
        let header = |name: &str| {
            page.headers
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default()
        };
        header("x-frame-options").eq_ignore_ascii_case("DENY")
            && header("content-security-policy").contains("frame-ancestors 'none'")
    };
    let framable: Vec<&String> = pages
        .iter()
        .filter(|(_, page)| !unframeable(page))
        .map(|(path, _)| path)
        .collect();
    assert!(
        framable.is_empty(),
        "without X-Frame-Options: DENY and frame-ancestors 'none': {framable:?}"
    );
}

#[both_backends]
async fn platforms_are_added_in_the_console(backend: Backend) {
    let tool = Tool::start(backend, |_| {}).await;
    let admin = sign_in(&tool).await;
    let page = admin.get("/admin/platforms/new").await;
    assert_eq!(data_page(&page).as_deref(), Some("admin-platform-new"));
    assert_eq!(
        count(&page, r#"form[method="post"][action="/admin/platforms"]"#),
        1
    );

    let auth_url = format!("{}/auth", tool.app.platform.base);
    let jwks_url = format!("{}/jwks", tool.app.platform.base);
    let issuer = "https://moodle.example.edu";
    let form = |issuer: &'static str, auth_url: &str| -> Vec<(&'static str, String)> {
        vec![
            ("name", "Example Moodle".into()),
            ("lms", "moodle".into()),
            ("issuer", issuer.into()),
            ("client_id", "k3JpQ8sLm2Xv7Ta".into()),
            ("auth_url", auth_url.into()),
            ("jwks_url", jwks_url.clone()),
            ("token_url", String::new()),
            ("deployment_ids", "4\n7".into()),
        ]
    };
    let page = admin
        .post("/admin/platforms", &as_refs(&form(issuer, &auth_url)))
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let to = admin.location(&page).unwrap();
    let id: i64 = to
        .strip_prefix("/admin/platforms/")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("redirect to the new platform, got {to}"));
    let platforms = tool.platforms();
    assert_eq!(platforms.len(), 1);
    let platform = &platforms[0];
    assert_eq!(platform.id.0, id);
    assert_eq!(
        (
            platform.name.as_str(),
            platform.lms,
            platform.issuer.as_str(),
            platform.client_id.as_str(),
            platform.token_url.as_deref()
        ),
        (
            "Example Moodle",
            Lms::Moodle,
            issuer,
            "k3JpQ8sLm2Xv7Ta",
            None
        )
    );
    assert_eq!(platform.deployment_ids, vec!["4", "7"]);
    let list = admin.get("/admin").await;
    assert_eq!(
        list.attr(&format!(r#"tr[data-platform-id="{id}"]"#), "data-status")
            .as_deref(),
        Some("active")
    );
    let reg = Registered {
        lms: Lms::Moodle,
        issuer: issuer.into(),
        client_id: "k3JpQ8sLm2Xv7Ta".into(),
        deployment_id: "7".into(),
    };
    let launched = tool.app.launch_as(&reg, Role::Instructor).await;
    assert_eq!(
        data_page(&launched).as_deref(),
        Some("course"),
        "{}",
        launched.body
    );

    let page = admin
        .post("/admin/platforms", &as_refs(&form("   ", &auth_url)))
        .await;
    assert_eq!(page.status, 422, "{}", page.body);
    assert_eq!(data_page(&page).as_deref(), Some("admin-platform-new"));
    assert_eq!(
        count(&page, r#"[data-error-field="issuer"]"#),
        1,
        "{}",
        page.body
    );
    let page = admin
        .post(
            "/admin/platforms",
            &as_refs(&form(
                "https://other.example.edu",
                "http://lms.example.edu/auth",
            )),
        )
        .await;
    assert_eq!(page.status, 422, "an http auth URL: {}", page.body);
    let page = admin
        .post("/admin/platforms", &as_refs(&form(issuer, &auth_url)))
        .await;
    assert_eq!(page.status, 409, "{}", page.body);
    assert_eq!(
        count(&page, r#"[data-error-field="client_id"]"#),
        1,
        "{}",
        page.body
    );
    assert_eq!(tool.platform_count(), 1, "nothing more was stored");
}

#[both_backends]
async fn a_platform_is_edited_in_the_console(backend: Backend) {
    let tool = Tool::start(backend, |_| {}).await;
    let reg = tool.app.register(Lms::Canvas);
    let id = tool.platform_id(&reg.issuer, &reg.client_id);
    let admin = sign_in(&tool).await;
    let page = admin.get(&format!("/admin/platforms/{id}")).await;
    assert_eq!(data_page(&page).as_deref(), Some("admin-platform"));
    assert!(page.body.contains(&reg.issuer) && page.body.contains(&reg.client_id));

    let jwks_url = format!("{}/jwks", tool.app.platform.base);
    let page = admin
        .post(
            &format!("/admin/platforms/{id}"),
            &[
                ("name", "Canvas at Example"),
                (
                    "auth_url",
                    "https://sso.canvaslms.com/api/lti/authorize_redirect",
                ),
                ("jwks_url", &jwks_url),
                ("token_url", "https://canvas.example.edu/login/oauth2/token"),
            ],
        )
        .await;
    assert_redirect(&page, &tool, &format!("/admin/platforms/{id}"), "edit");
    let edited = tool.platforms().remove(0);
    assert_eq!(edited.name, "Canvas at Example");
    assert_eq!(
        edited.auth_url,
        "https://sso.canvaslms.com/api/lti/authorize_redirect"
    );
    assert_eq!(
        edited.token_url.as_deref(),
        Some("https://canvas.example.edu/login/oauth2/token")
    );
    assert_eq!(
        (edited.issuer.as_str(), edited.client_id.as_str()),
        (reg.issuer.as_str(), reg.client_id.as_str())
    );

    let before = snapshot(&tool);
    let page = admin
        .post(
            &format!("/admin/platforms/{id}"),
            &[
                ("name", "Broken"),
                (
                    "auth_url",
                    "https://sso.canvaslms.com/api/lti/authorize_redirect",
                ),
                ("jwks_url", "not a url"),
                ("token_url", ""),
            ],
        )
        .await;
    assert_eq!(page.status, 422, "{}", page.body);
    assert_eq!(snapshot(&tool), before, "an invalid edit changes nothing");

    let missing = admin.get("/admin/platforms/999999").await;
    assert_eq!(missing.status, 404);
}

#[both_backends]
async fn modules_policy_and_deployments_are_set_in_the_console(backend: Backend) {
    let tool = Tool::start(backend, |_| {}).await;
    let (reg, id) = moodle(&tool);
    let admin = sign_in(&tool).await;
    let platform = |tool: &Tool| tool.platforms().remove(0);
    let path = |action: &str| format!("/admin/platforms/{id}/{action}");
    let back = format!("/admin/platforms/{id}");

    for (form, expected) in [
        (
            vec![("invite_to_media", "on")],
            Modules {
                invite_to_media: true,
                media_page: false,
            },
        ),
        (
            vec![],
            Modules {
                invite_to_media: false,
                media_page: false,
            },
        ),
        (
            vec![("invite_to_media", "on"), ("media_page", "on")],
            Modules::default(),
        ),
    ] {
        let page = admin.post(&path("modules"), &form).await;
        assert_redirect(&page, &tool, &back, "modules");
        assert_eq!(platform(&tool).modules, expected, "{form:?}");
    }

    let page = admin
        .post(
            &path("deployment-policy"),
            &[("policy", "register_on_first_launch")],
        )
        .await;
    assert_redirect(&page, &tool, &back, "deployment policy");
    assert_eq!(
        platform(&tool).deployment_policy,
        DeploymentPolicy::RegisterOnFirstLaunch
    );
    let page = admin
        .post(&path("deployment-policy"), &[("policy", "anything_goes")])
        .await;
    assert_eq!(page.status, 422, "{}", page.body);
    assert_eq!(
        platform(&tool).deployment_policy,
        DeploymentPolicy::RegisterOnFirstLaunch
    );

    let page = admin
        .post(&path("deployments"), &[("deployment_id", "7:admin-added")])
        .await;
    assert_redirect(&page, &tool, &back, "add a deployment");
    let launched = tool
        .app
        .launch_with(&reg, Role::Instructor, |claims| {
            claims[c::DEPLOYMENT_ID] = json!("9:launch-added");
        })
        .await;
    assert_eq!(data_page(&launched).as_deref(), Some("course"));
    let page = admin.get(&back).await;
    for (deployment, by) in [("7:admin-added", "admin"), ("9:launch-added", "launch")] {
        assert_eq!(
            page.attr(
                &format!(r#"li[data-deployment-id="{deployment}"]"#),
                "data-added-by"
            )
            .as_deref(),
            Some(by),
            "{deployment}: {}",
            page.body
        );
    }
    assert!(
        platform(&tool)
            .deployment_ids
            .contains(&"7:admin-added".to_string())
    );
}

#[both_backends]
async fn a_pending_platform_is_activated_in_the_console(backend: Backend) {
    let tool = Tool::start(backend, |_| {}).await;
    let (reg, id) = moodle(&tool);
    tool.make_pending(id);
    let admin = sign_in(&tool).await;
    let row = format!(r#"tr[data-platform-id="{id}"]"#);
    let list = admin.get("/admin").await;
    assert_eq!(list.attr(&row, "data-status").as_deref(), Some("pending"));
    assert_eq!(
        count(
            &list,
            &format!(r#"{row} form[method="post"][action="/admin/platforms/{id}/activate"]"#)
        ),
        1,
        "an Activate form on the pending row"
    );
    let page = admin
        .post(&format!("/admin/platforms/{id}/activate"), &[])
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let list = admin.get("/admin").await;
    assert_eq!(list.attr(&row, "data-status").as_deref(), Some("active"));
    let launched = tool.app.launch_as(&reg, Role::Instructor).await;
    assert_eq!(
        data_page(&launched).as_deref(),
        Some("course"),
        "{}",
        launched.body
    );
}

#[both_backends]
async fn a_platform_is_removed_but_one_holding_media_needs_force(backend: Backend) {
    let tool = Tool::start(backend, |_| {}).await;
    let (_, empty_id) = moodle(&tool);
    let canvas = tool.app.register(Lms::Canvas);
    let media_id = tool.platform_id(&canvas.issuer, &canvas.client_id);
    let course = Course {
        app: tool.app,
        reg: canvas,
    };
    let token = course.token(Role::Instructor).await;
    course.create_video(&token, "Lecture 1").await;
    let tool = Tool { app: course.app };
    let admin = sign_in(&tool).await;

    let page = admin
        .post(&format!("/admin/platforms/{empty_id}/remove"), &[])
        .await;
    assert_redirect(&page, &tool, "/admin", "remove");
    assert_eq!(tool.platform_count(), 1);
    assert_eq!(
        admin
            .get(&format!("/admin/platforms/{empty_id}"))
            .await
            .status,
        404
    );

    let path = format!("/admin/platforms/{media_id}/remove");
    let page = admin.post(&path, &[]).await;
    assert_error(&page, 409, "platform_holds_media", "remove with media");
    assert_eq!(tool.platform_count(), 1);
    let page = admin.post(&path, &[("force", "on")]).await;
    assert_redirect(&page, &tool, "/admin", "remove with force");
    assert_eq!(tool.platform_count(), 0);
}

#[both_backends]
async fn keys_are_rotated_in_the_console(backend: Backend) {
    let tool = Tool::start(backend, |_| {}).await;
    let admin = sign_in(&tool).await;
    let page = admin.get("/admin/keys").await;
    assert_eq!(data_page(&page).as_deref(), Some("admin-keys"));
    assert_eq!(
        attrs(&page, r#"tr[data-state="current"]"#, "data-kid"),
        vec!["tool-key-1"]
    );

    let page = admin.post("/admin/keys/rotate", &[]).await;
    assert_redirect(&page, &tool, "/admin/keys", "rotate");
    let page = admin.get("/admin/keys").await;
    let current = attrs(&page, r#"tr[data-state="current"]"#, "data-kid");
    assert_eq!(current.len(), 1, "one current key: {current:?}");
    assert_ne!(current[0], "tool-key-1");
    assert_eq!(
        page.attr(r#"tr[data-kid="tool-key-1"]"#, "data-state")
            .as_deref(),
        Some("retired")
    );
    let kids = tool.app.published_kids().await;
    assert!(
        kids.iter().any(|k| k == "tool-key-1") && kids.contains(&current[0]),
        "both keys are published: {kids:?}"
    );
}

#[one_backend]
async fn the_register_page_and_the_guides_show_the_real_urls(backend: Backend) {
    let tool = Tool::start(backend, |_| {}).await;
    let admin = sign_in(&tool).await;
    let page = admin.get("/admin/register").await;
    assert_eq!(data_page(&page).as_deref(), Some("admin-register"));
    assert_eq!(
        page.text("code[data-registration-url]"),
        Some(tool.app.url("/lti/register"))
    );
    for lms in ["moodle", "canvas", "sakai", "brightspace"] {
        assert!(
            count(&page, &format!(r#"a[href$="/admin/guides/{lms}"]"#)) >= 1,
            "a link to the {lms} guide"
        );
        let guide = admin.get(&format!("/admin/guides/{lms}")).await;
        assert_eq!(guide.status, 200, "{lms}");
        assert_eq!(data_page(&guide).as_deref(), Some("admin-guide"));
        for url in [tool.app.url("/lti/register"), tool.app.url("/lti/login")] {
            assert!(guide.body.contains(&url), "{lms} guide shows {url}");
        }
        assert!(!guide.body.contains("{base}"), "{lms}: a placeholder left");
    }
    for name in ["blackboard", "README", "..%2FCargo.toml", "moodle.md"] {
        let page = admin.get(&format!("/admin/guides/{name}")).await;
        assert_eq!(page.status, 404, "{name}");
    }
}

/// The first diagnostics row (the newest attempt) and its text.
fn newest(page: &Page) -> (Option<String>, Option<String>, Option<String>, String) {
    let row = "tr[data-outcome]";
    (
        page.attr(row, "data-outcome"),
        page.attr(row, "data-error-code").filter(|c| !c.is_empty()),
        page.attr(row, "data-platform-id").filter(|c| !c.is_empty()),
        page.text(row).unwrap_or_default(),
    )
}

#[both_backends]
async fn a_failed_launch_appears_in_diagnostics_at_once(backend: Backend) {
    let tool = Tool::start(backend, |_| {}).await;
    let (reg, id) = moodle(&tool);
    let admin = sign_in(&tool).await;

    let refused = tool
        .app
        .launch_with(&reg, Role::Instructor, |claims| {
            claims[c::DEPLOYMENT_ID] = json!("unlisted-deployment-7");
        })
        .await;
    assert_eq!(refused.error_code().as_deref(), Some("unknown_deployment"));
    let page = admin.get("/admin/diagnostics").await;
    assert_eq!(data_page(&page).as_deref(), Some("admin-diagnostics"));
    let (outcome, code, platform, text) = newest(&page);
    assert_eq!(outcome.as_deref(), Some("failed"));
    assert_eq!(code.as_deref(), Some("unknown_deployment"));
    assert_eq!(platform, Some(id.to_string()));
    assert!(
        text.to_lowercase()
            .contains("the deployment id is not registered for this platform"),
        "the reason in words: {text}"
    );
    assert!(
        text.contains("unlisted-deployment-7"),
        "the claims that came: {text}"
    );

    // A token signed with another key.
    let login = tool.app.login(&reg).await;
    let claims = tool.app.claims(&reg, &login.nonce, Role::Instructor);
    let forged = platform_key(PLATFORM_KEY_B, "key-a").sign(&claims).unwrap();
    let refused = tool.app.post_token(&login, &forged).await;
    assert_eq!(refused.error_code().as_deref(), Some("invalid_signature"));
    let page = admin.get("/admin/diagnostics").await;
    let (outcome, code, platform, _) = newest(&page);
    assert_eq!(
        (outcome.as_deref(), code.as_deref(), platform),
        (
            Some("failed"),
            Some("invalid_signature"),
            Some(id.to_string())
        )
    );
    let signature = forged.rsplit('.').next().unwrap();
    assert!(
        !page.body.contains(signature),
        "the token's signature is not shown"
    );
}

#[both_backends]
async fn successful_launches_and_unknown_issuers_appear_in_diagnostics(backend: Backend) {
    let tool = Tool::start(backend, |_| {}).await;
    let reg = tool.app.register(Lms::Sakai);
    let id = tool.platform_id(&reg.issuer, &reg.client_id);
    let admin = sign_in(&tool).await;

    let login = tool.app.login(&reg).await;
    let token = tool
        .app
        .sign(&tool.app.claims(&reg, &login.nonce, Role::Instructor));
    let page = tool.app.post_token(&login, &token).await;
    assert_eq!(data_page(&page).as_deref(), Some("course"));
    let page = admin.get("/admin/diagnostics").await;
    let (outcome, code, platform, text) = newest(&page);
    assert_eq!(
        (outcome.as_deref(), code, platform),
        (Some("ok"), None, Some(id.to_string()))
    );
    assert!(text.contains("Biology 101 (Sakai)"), "the claims: {text}");
    let mut segments = token.split('.');
    let (header, payload, signature) = (
        segments.next().unwrap(),
        segments.next().unwrap(),
        segments.next().unwrap(),
    );
    assert!(!page.body.contains(signature), "no signature");
    assert!(
        !page.body.contains(&format!("{header}.{payload}")),
        "no raw token"
    );

    let mut form = tool.app.login_form(&reg);
    form[0].1 = "https://unknown-lms.example.edu".into();
    let refused = Page::from(tool.app.post_login(&form).await).await;
    assert_eq!(refused.error_code().as_deref(), Some("unknown_issuer"));
    let page = admin.get("/admin/diagnostics").await;
    let (outcome, code, platform, text) = newest(&page);
    assert_eq!(
        (outcome.as_deref(), code.as_deref(), platform),
        (Some("failed"), Some("unknown_issuer"), None)
    );
    assert!(
        text.contains("https://unknown-lms.example.edu"),
        "the unknown issuer is shown: {text}"
    );
}

#[both_backends]
async fn diagnostics_can_be_narrowed_to_one_platform(backend: Backend) {
    let tool = Tool::start(backend, |_| {}).await;
    let (moodle_reg, moodle_id) = moodle(&tool);
    let canvas = tool.app.register(Lms::Canvas);
    let canvas_id = tool.platform_id(&canvas.issuer, &canvas.client_id);
    let admin = sign_in(&tool).await;
    tool.app.launch_as(&moodle_reg, Role::Instructor).await;
    tool.app.launch_as(&canvas, Role::Student).await;
    tool.app.launch_as(&moodle_reg, Role::Student).await;

    let all = admin.get("/admin/diagnostics").await;
    let ids = attrs(&all, "tr[data-outcome]", "data-platform-id");
    assert_eq!(
        ids,
        vec![
            moodle_id.to_string(),
            canvas_id.to_string(),
            moodle_id.to_string()
        ],
        "newest first"
    );
    let only = admin
        .get(&format!("/admin/diagnostics?platform={canvas_id}"))
        .await;
    assert_eq!(
        attrs(&only, "tr[data-outcome]", "data-platform-id"),
        vec![canvas_id.to_string()]
    );
}

/// Diagnostics hold personal data: refusals are recorded at most 30 a
/// minute per address, the page shows at most the last 500 of a platform,
/// and the retention job (which the server runs every few
/// minutes) keeps the last 500 per platform and nothing older than
/// `diagnostics_days`.
#[both_backends]
async fn diagnostics_are_bounded(backend: Backend) {
    // The admin token signs in at any time: this test moves the clock by
    // more than a sign-in link lives.
    let tool = Tool::start(backend, |s| {
        s.admin.diagnostics_kept = guestlink::domain::time::Duration::days(30);
        s.admin.token = Some(AdminToken::new(ADMIN_TOKEN));
    })
    .await;
    let (reg, id) = moodle(&tool);
    tool.make_pending(id);
    let attempts_of = |tool: &Tool| {
        count_rows(
            &tool.app.db,
            &format!("launch_attempts WHERE platform_id = {id}"),
        )
    };
    // Refusals are recorded at most 30 a minute per client address.
    for _ in 0..35 {
        let response = tool.app.post_login(&tool.app.login_form(&reg)).await;
        assert_eq!(response.status().as_u16(), 400);
    }
    assert_eq!(attempts_of(&tool), 30, "30 a minute from one address");
    for i in 0..475 {
        if i % 25 == 0 {
            tool.app.clock.advance(time::Duration::seconds(61));
        }
        let response = tool.app.post_login(&tool.app.login_form(&reg)).await;
        assert_eq!(response.status().as_u16(), 400);
    }
    let admin = sign_in_with(&tool, "admin_token", ADMIN_TOKEN).await;
    let page = admin
        .get(&format!("/admin/diagnostics?platform={id}"))
        .await;
    assert_eq!(count(&page, "tr[data-outcome]"), 500);
    assert_eq!(
        count(&page, &format!(r#"tr[data-platform-id="{id}"]"#)),
        500
    );

    let retention = |tool: &Tool| {
        let kept_since = tool.app.clock.now() - guestlink::domain::time::Duration::days(30);
        guestlink::store::launch_attempts::purge(&mut tool.app.db.get_write().unwrap(), kept_since)
            .unwrap();
    };
    retention(&tool);
    assert_eq!(attempts_of(&tool), 500, "the last 500 are kept");
    tool.app.clock.advance(time::Duration::days(29));
    retention(&tool);
    assert_eq!(attempts_of(&tool), 500, "29 days later");
    tool.app.clock.advance(time::Duration::days(2));
    retention(&tool);
    assert_eq!(attempts_of(&tool), 0, "31 days later");
    // A new session: the first one has ended with the days that passed.
    let admin = sign_in_with(&tool, "admin_token", ADMIN_TOKEN).await;
    let page = admin
        .get(&format!("/admin/diagnostics?platform={id}"))
        .await;
    assert_eq!(data_page(&page).as_deref(), Some("admin-diagnostics"));
    assert_eq!(count(&page, "tr[data-outcome]"), 0);
}

/// What the LMS sent is shown escaped: a course title and a user name with
/// markup, an issuer with markup.
#[one_backend]
async fn lms_sent_text_is_shown_escaped(backend: Backend) {
    let tool = Tool::start(backend, |_| {}).await;
    let (reg, _) = moodle(&tool);
    let admin = sign_in(&tool).await;
    let markup = "<script>alert(1)</script>";
    let page = tool
        .app
        .launch_with(&reg, Role::Instructor, |claims| {
            claims[c::CONTEXT]["title"] = json!(markup);
            claims["name"] = json!(markup);
        })
        .await;
    assert_eq!(data_page(&page).as_deref(), Some("course"), "{}", page.body);
    let mut form = tool.app.login_form(&reg);
    form[0].1 = format!("https://lms.example.edu/{markup}");
    Page::from(tool.app.post_login(&form).await).await;

    let page = admin.get("/admin/diagnostics").await;
    assert!(
        main_text(&page).contains(markup),
        "shown as text: {}",
        main_text(&page)
    );
    assert!(!page.body.contains("<script>alert"), "{}", page.body);
    let list = admin.get("/admin").await;
    assert!(!list.body.contains("<script>alert"));
}
