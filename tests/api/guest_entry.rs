//! The guest's way in: the entry page (no click for a GET), admission (303,
//! its cookie, one visit and one click, atomically under concurrency), the
//! form's errors and CSRF binding, the rate limit, the guest view and its
//! file, the unavailable page and its reasons in their order, a guest of one
//! item getting nothing of another, escaping of every name, and the
//! retention purge.

use guestlink::config::{IpNet, PublicUrl};
use serde_json::json;

use crate::guest_helpers::{
    Browser, CACHE_WAIT, CSRF_COOKIE, GUEST_COOKIE, GUEST_EMAIL, GUEST_NAME, ITEM_TITLE, Link,
    Shared, admitted, admitted_as, assert_redirect, assert_unavailable, cookie_attributes,
    csrf_field, csv_rows, enter_as, enter_in, entry_path, eventually, guest_session_rows,
    link_body, listed_links, new_link, open_form, purge, rfc3339, second_instance, set_cookie_line,
    set_module, start_of_a_minute, submit, switch, unavailable_reason, visit_rows,
};
use crate::helpers::{Backend, Page, count_rows, free_port};
use crate::media_helpers::{MP3, PDF, PNG, WEBM, absolute, attrs_of_all, count_of, element_name};
use guestlink_test_macros::{both_backends, one_backend};

/// Asserts that nothing was counted or stored for `link` by refused entries.
async fn assert_nothing_counted(shared: &Shared, link: &Link, case: &str) {
    assert_eq!(visit_rows(&shared.course), 0, "{case}: no visit");
    assert_eq!(
        guest_session_rows(&shared.course),
        0,
        "{case}: no guest session"
    );
    assert_eq!(shared.clicks(link).await, 0, "{case}: no click");
}

/// The text of the error shown next to `field`, if any.
fn field_error(page: &Page, field: &str) -> String {
    page.text(&format!("[data-error-for=\"{field}\"]"))
        .unwrap_or_default()
}

// --- the entry page ---

#[both_backends]
async fn the_entry_page_shows_the_title_and_asks_for_name_and_email(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    let page = Browser::new().get(shared.app(), &link.entry()).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(
        page.attr("main", "data-page").as_deref(),
        Some("guest-entry")
    );
    assert!(
        page.text("main").unwrap_or_default().contains(ITEM_TITLE),
        "the item's title: {}",
        page.body
    );
    assert_eq!(
        page.attr("form#guest-entry-form", "method")
            .map(|m| m.to_ascii_lowercase())
            .as_deref(),
        Some("post")
    );
    for field in ["name", "email"] {
        assert_eq!(
            count_of(&page, &format!("#guest-entry-form input[name={field}]")),
            1,
            "a {field} field"
        );
    }
    assert_eq!(
        page.attr("#guest-entry-form input[name=csrf]", "type")
            .as_deref(),
        Some("hidden")
    );
    assert!(
        page.body.contains("identification only"),
        "the note on the email: {}",
        page.body
    );
}

#[both_backends]
async fn opening_the_entry_page_twice_counts_no_click(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.link("Previewed", Some(1), None).await;
    let mut browser = Browser::new();
    for round in ["first", "second"] {
        let page = browser.get(shared.app(), &link.entry()).await;
        assert_eq!(page.status, 200, "{round} GET");
    }
    assert_nothing_counted(&shared, &link, "two GETs").await;
    assert_eq!(shared.status(&link).await, "active", "a limit of 1 unused");
}

#[one_backend]
async fn the_entry_page_sets_an_http_only_lax_csrf_cookie_for_g(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    let page = Browser::new().get(shared.app(), &link.entry()).await;
    let line = set_cookie_line(&page, CSRF_COOKIE).expect("a csrf cookie");
    let attributes = cookie_attributes(&line);
    for want in ["httponly", "samesite=lax", "path=/g/"] {
        assert!(attributes.iter().any(|a| a == want), "{want} in {line}");
    }
}

// --- admission ---

#[both_backends]
async fn admission_redirects_to_the_view_with_a_cookie_for_the_link(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    let (_, page) = enter_as(shared.app(), &link.token, GUEST_NAME, GUEST_EMAIL).await;
    assert_redirect(&page, &link.view(), "admission");
    let line = set_cookie_line(&page, GUEST_COOKIE).expect("a guest cookie");
    let attributes = cookie_attributes(&line);
    let path = format!("path=/g/{}", link.token);
    for want in ["httponly", "samesite=lax", path.as_str()] {
        assert!(attributes.iter().any(|a| a == want), "{want} in {line}");
    }
    assert!(
        !attributes.iter().any(|a| a == "secure"),
        "no Secure on an http public URL: {line}"
    );
}

#[one_backend]
async fn the_guest_cookie_is_secure_when_the_public_url_is_https(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    let https = second_instance(&shared.course, |s| {
        s.server.public_url = PublicUrl::parse("https://media.example.edu").unwrap();
    })
    .await;
    let mut browser = Browser::new();
    let url = format!("{https}{}", link.entry());
    let form = browser.get_url(&shared.app().http, &url).await;
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = csrf_field(&form);
    let page = browser
        .post_url(
            &shared.app().http,
            &url,
            &[
                ("name", GUEST_NAME),
                ("email", GUEST_EMAIL),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_redirect(&page, &link.view(), "admission over https");
    let line = set_cookie_line(&page, GUEST_COOKIE).expect("a guest cookie");
    assert!(
        cookie_attributes(&line).iter().any(|a| a == "secure"),
        "Secure: {line}"
    );
}

#[both_backends]
async fn admission_records_the_visit_and_counts_one_click(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    admitted_as(
        shared.app(),
        &link.token,
        "Grace Hopper",
        "grace@example.org",
    )
    .await;
    assert_eq!(shared.clicks(&link).await, 1);
    assert_eq!(visit_rows(&shared.course), 1);
    assert_eq!(guest_session_rows(&shared.course), 1);
    let visits = shared.visits(&link).await;
    assert_eq!(visits.len(), 1);
    assert_eq!(visits[0]["name"], "Grace Hopper");
    assert_eq!(visits[0]["email"], "grace@example.org");
    let at = rfc3339(&visits[0]["at"], "at");
    assert!(
        (at - crate::helpers::wall(&shared.app().clock)).abs() < time::Duration::minutes(1),
        "entered now: {at}"
    );
}

#[both_backends]
async fn guests_are_not_added_as_lms_users(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    let users = count_rows(&shared.app().db, "users");
    let sessions = shared.app().session_count();
    admitted(shared.app(), &link.token).await;
    assert_eq!(count_rows(&shared.app().db, "users"), users, "no user row");
    assert_eq!(shared.app().session_count(), sessions, "no launch session");
}

#[both_backends]
async fn coming_back_within_the_session_goes_straight_to_the_view(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    let mut guest = admitted(shared.app(), &link.token).await;
    let page = guest.get(shared.app(), &link.entry()).await;
    assert_redirect(&page, &link.view(), "the entry again");
    let view = guest.get(shared.app(), &link.view()).await;
    assert_eq!(view.status, 200, "{}", view.body);
    assert_eq!(shared.clicks(&link).await, 1, "no second click");
    assert_eq!(visit_rows(&shared.course), 1, "no second visit");
}

#[both_backends]
async fn reloading_the_view_counts_no_click(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    let mut guest = admitted(shared.app(), &link.token).await;
    for round in ["first", "second", "third"] {
        let view = guest.get(shared.app(), &link.view()).await;
        assert_eq!(view.status, 200, "{round} view");
    }
    assert_eq!(shared.clicks(&link).await, 1);
    assert_eq!(visit_rows(&shared.course), 1);
}

#[both_backends]
async fn the_guest_session_ends_after_its_configured_hours(backend: Backend) {
    let shared = Shared::start_with(backend, |s| {
        s.guests.session = guestlink::domain::time::Duration::hours(2)
    })
    .await;
    let link = shared.open_link().await;
    let mut guest = admitted(shared.app(), &link.token).await;
    shared
        .app()
        .clock
        .advance(time::Duration::hours(2) - time::Duration::minutes(1));
    assert_eq!(
        guest.get(shared.app(), &link.view()).await.status,
        200,
        "a minute before the end"
    );
    shared.app().clock.advance(time::Duration::minutes(2));
    let view = guest.get(shared.app(), &link.view()).await;
    assert_redirect(&view, &link.entry(), "the view after the session");
    let entry = guest.get(shared.app(), &link.entry()).await;
    assert_eq!(entry.status, 200, "the form again, not the view");
    csrf_field(&entry);
}

#[both_backends]
async fn the_view_without_a_guest_session_redirects_to_the_entry(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    let mut stranger = Browser::new();
    let page = stranger.get(shared.app(), &link.view()).await;
    assert_redirect(&page, &link.entry(), "no cookie");
    let mut forger = Browser::new();
    forger.set_cookie(GUEST_COOKIE, "bm90LWEtcmVhbC1zZXNzaW9uLXRva2Vu");
    let page = forger.get(shared.app(), &link.view()).await;
    assert_redirect(&page, &link.entry(), "a forged cookie");
    assert_eq!(shared.clicks(&link).await, 0);
}

// --- form errors ---

/// A refused entry: its case, its form fields (besides csrf), and the
/// fields its errors must name.
type BadEntry = (&'static str, Vec<(&'static str, String)>, Vec<&'static str>);

fn bad_entries() -> Vec<BadEntry> {
    let with =
        |name: &str, email: &str| vec![("name", name.to_string()), ("email", email.to_string())];
    // 254 characters: a 64-character local part and a 189-character domain.
    let domain_254 = format!("{}com", format!("{}.", "b".repeat(61)).repeat(3));
    let email_255 = format!("{}@{}m", "a".repeat(64), domain_254);
    vec![
        ("empty name", with("", GUEST_EMAIL), vec!["name"]),
        ("blank name", with("   \t ", GUEST_EMAIL), vec!["name"]),
        (
            "101-character name",
            with(&"n".repeat(101), GUEST_EMAIL),
            vec!["name"],
        ),
        (
            "10,000-character name",
            with(&"n".repeat(10_000), GUEST_EMAIL),
            vec!["name"],
        ),
        ("empty email", with(GUEST_NAME, ""), vec!["email"]),
        (
            "email without @",
            with(GUEST_NAME, "ada.example.com"),
            vec!["email"],
        ),
        (
            "email without a dot in the domain",
            with(GUEST_NAME, "ada@localhost"),
            vec!["email"],
        ),
        (
            "email with a space",
            with(GUEST_NAME, "ada lovelace@example.com"),
            vec!["email"],
        ),
        (
            "email with a space in the domain",
            with(GUEST_NAME, "ada@exa mple.com"),
            vec!["email"],
        ),
        (
            "255-character email",
            with(GUEST_NAME, &email_255),
            vec!["email"],
        ),
        (
            "10,000-character email",
            with(GUEST_NAME, &format!("{}@example.com", "a".repeat(10_000))),
            vec!["email"],
        ),
        ("both empty", with("", ""), vec!["name", "email"]),
        (
            "email field left out",
            vec![("name", GUEST_NAME.to_string())],
            vec!["email"],
        ),
        (
            "name field left out",
            vec![("email", GUEST_EMAIL.to_string())],
            vec!["name"],
        ),
    ]
}

#[both_backends]
async fn entry_form_errors_are_422_next_to_their_field_and_store_nothing(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    for (case, fields, named) in bad_entries() {
        let mut browser = Browser::new();
        let csrf = open_form(shared.app(), &mut browser, &link.token).await;
        let mut form: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        form.push(("csrf", csrf.as_str()));
        let page = browser.post(shared.app(), &link.entry(), &form).await;
        assert_eq!(page.status, 422, "{case}: {}", page.body);
        assert_eq!(
            count_of(&page, "form#guest-entry-form"),
            1,
            "{case}: the form again"
        );
        for field in ["name", "email"] {
            let error = field_error(&page, field);
            if named.contains(&field) {
                assert!(!error.is_empty(), "{case}: an error next to {field}");
            } else {
                assert!(
                    error.is_empty(),
                    "{case}: no error next to {field}: {error}"
                );
            }
        }
        assert!(
            browser.cookie(GUEST_COOKIE).is_none(),
            "{case}: no guest cookie"
        );
        assert_nothing_counted(&shared, &link, case).await;
    }
}

#[both_backends]
async fn a_guest_can_correct_the_form_after_an_error(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    let mut browser = Browser::new();
    let csrf = open_form(shared.app(), &mut browser, &link.token).await;
    let refused = submit(
        shared.app(),
        &mut browser,
        &link.token,
        &csrf,
        GUEST_NAME,
        "ada",
    )
    .await;
    assert_eq!(refused.status, 422);
    let again = csrf_field(&refused);
    let page = submit(
        shared.app(),
        &mut browser,
        &link.token,
        &again,
        GUEST_NAME,
        GUEST_EMAIL,
    )
    .await;
    assert_redirect(&page, &link.view(), "the corrected form");
    assert_eq!(shared.clicks(&link).await, 1);
}

#[both_backends]
async fn a_100_character_name_and_a_254_character_email_are_admitted(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    let name = "é".repeat(100);
    let email = format!(
        "{}@{}com",
        "a".repeat(64),
        format!("{}.", "b".repeat(61)).repeat(3)
    );
    assert_eq!(email.len(), 254);
    admitted_as(shared.app(), &link.token, &name, &email).await;
    let visits = shared.visits(&link).await;
    assert_eq!(visits[0]["name"], name.as_str());
    assert_eq!(visits[0]["email"], email.as_str());
}

// --- CSRF ---

#[both_backends]
async fn entries_without_this_browsers_csrf_are_403_and_count_nothing(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    let mut other = Browser::new();
    let other_csrf = open_form(shared.app(), &mut other, &link.token).await;
    let flipped = |csrf: &str| {
        let mut chars: Vec<char> = csrf.chars().collect();
        let last = chars.len() - 1;
        chars[last] = if chars[last] == 'A' { 'B' } else { 'A' };
        chars.into_iter().collect::<String>()
    };
    for case in [
        "no csrf field",
        "an empty csrf field",
        "a wrong csrf field",
        "no csrf cookie",
        "another browser's csrf cookie",
        "another browser's csrf field",
    ] {
        let mut browser = Browser::new();
        let csrf = open_form(shared.app(), &mut browser, &link.token).await;
        let sent = match case {
            "no csrf field" => None,
            "an empty csrf field" => Some(String::new()),
            "a wrong csrf field" => Some(flipped(&csrf)),
            "another browser's csrf field" => Some(other_csrf.clone()),
            _ => Some(csrf.clone()),
        };
        match case {
            "no csrf cookie" => browser.drop_cookie(CSRF_COOKIE),
            "another browser's csrf cookie" => {
                browser.set_cookie(CSRF_COOKIE, other.cookie(CSRF_COOKIE).unwrap())
            }
            _ => {}
        }
        let mut form = vec![("name", GUEST_NAME), ("email", GUEST_EMAIL)];
        if let Some(sent) = &sent {
            form.push(("csrf", sent.as_str()));
        }
        let page = browser.post(shared.app(), &link.entry(), &form).await;
        assert_eq!(page.status, 403, "{case}: {}", page.body);
        assert_eq!(page.error_code().as_deref(), Some("csrf_failed"), "{case}");
        assert!(
            browser.cookie(GUEST_COOKIE).is_none(),
            "{case}: no guest cookie"
        );
        assert_nothing_counted(&shared, &link, case).await;
    }
}

// --- the rate limit ---

#[both_backends]
async fn a_post_over_the_rate_limit_is_429_and_counts_nothing(backend: Backend) {
    let shared = Shared::start_with(backend, |s| s.guests.rate_limit = 3).await;
    let link = shared.open_link().await;
    start_of_a_minute(&shared.course);
    for _ in 0..3 {
        admitted(shared.app(), &link.token).await;
    }
    let (browser, page) = enter_as(shared.app(), &link.token, GUEST_NAME, GUEST_EMAIL).await;
    assert_eq!(page.status, 429, "the fourth POST: {}", page.body);
    assert_eq!(page.error_code().as_deref(), Some("rate_limited"));
    assert!(browser.cookie(GUEST_COOKIE).is_none());
    assert_eq!(shared.clicks(&link).await, 3);
    assert_eq!(visit_rows(&shared.course), 3);
}

#[both_backends]
async fn gets_are_not_rate_limited(backend: Backend) {
    let shared = Shared::start_with(backend, |s| s.guests.rate_limit = 1).await;
    let link = shared.open_link().await;
    start_of_a_minute(&shared.course);
    admitted(shared.app(), &link.token).await;
    for i in 0..10 {
        let page = Browser::new().get(shared.app(), &link.entry()).await;
        assert_eq!(page.status, 200, "GET {i}");
    }
    let (_, page) = enter_as(shared.app(), &link.token, GUEST_NAME, GUEST_EMAIL).await;
    assert_eq!(page.status, 429, "the POSTs are still limited");
}

#[both_backends]
async fn a_forged_forwarded_for_does_not_escape_the_rate_limit(backend: Backend) {
    let shared = Shared::start_with(backend, |s| s.guests.rate_limit = 1).await;
    let link = shared.open_link().await;
    start_of_a_minute(&shared.course);
    admitted(shared.app(), &link.token).await;
    let mut browser = Browser::new();
    browser.forwarded_for = Some("203.0.113.7".into());
    let page = enter_in(shared.app(), &mut browser, &link.token).await;
    assert_eq!(
        page.status, 429,
        "X-Forwarded-For from an untrusted peer is ignored"
    );
    assert_eq!(shared.clicks(&link).await, 1);
}

#[both_backends]
async fn the_rate_limit_allows_again_after_a_minute(backend: Backend) {
    let shared = Shared::start_with(backend, |s| s.guests.rate_limit = 1).await;
    let link = shared.open_link().await;
    start_of_a_minute(&shared.course);
    admitted(shared.app(), &link.token).await;
    let (_, page) = enter_as(shared.app(), &link.token, GUEST_NAME, GUEST_EMAIL).await;
    assert_eq!(page.status, 429, "the second POST in the minute");
    shared.app().clock.advance(time::Duration::seconds(61));
    admitted(shared.app(), &link.token).await;
    assert_eq!(shared.clicks(&link).await, 2);
}

#[both_backends]
async fn each_forwarded_address_behind_a_trusted_proxy_has_its_own_allowance(backend: Backend) {
    let shared = Shared::start_with(backend, |s| {
        s.guests.rate_limit = 1;
        s.server.trusted_proxies = vec![IpNet::parse("127.0.0.1/32").unwrap()];
    })
    .await;
    let link = shared.open_link().await;
    start_of_a_minute(&shared.course);
    let post_from = |address: &'static str| {
        let shared = &shared;
        let token = link.token.clone();
        async move {
            let mut browser = Browser::new();
            browser.forwarded_for = Some(address.into());
            enter_in(shared.app(), &mut browser, &token).await.status
        }
    };
    assert_eq!(post_from("198.51.100.1").await, 303, "first address");
    assert_eq!(post_from("198.51.100.1").await, 429, "first address again");
    assert_eq!(post_from("198.51.100.2").await, 303, "second address");
}

/// Behind a proxy that appends its own `X-Forwarded-For` line, the client's
/// own line cannot choose its address; hops may carry ports; an IPv6 client
/// is one client per /64.
#[both_backends]
async fn the_limit_holds_behind_a_proxy_whatever_the_client_writes(backend: Backend) {
    let shared = Shared::start_with(backend, |s| {
        s.guests.rate_limit = 1;
        s.server.trusted_proxies = vec![IpNet::parse("127.0.0.1/32").unwrap()];
    })
    .await;
    let link = shared.open_link().await;
    start_of_a_minute(&shared.course);
    let post_with = |lines: Vec<&'static str>| {
        let shared = &shared;
        let token = link.token.clone();
        async move {
            let mut browser = Browser::new();
            let mut lines = lines.into_iter().map(str::to_string);
            browser.forwarded_for = lines.next();
            browser.more_forwarded_for = lines.collect();
            enter_in(shared.app(), &mut browser, &token).await.status
        }
    };
    assert_eq!(post_with(vec!["6.6.6.1", "198.51.100.1"]).await, 303);
    assert_eq!(
        post_with(vec!["6.6.6.2", "198.51.100.1"]).await,
        429,
        "the client's own line changed, the proxy's did not"
    );
    assert_eq!(
        post_with(vec!["198.51.100.9:5555"]).await,
        303,
        "a hop with a port"
    );
    assert_eq!(
        post_with(vec!["198.51.100.9:6666"]).await,
        429,
        "the same client"
    );
    assert_eq!(post_with(vec!["[2001:db8:1:2::1]:443"]).await, 303, "IPv6");
    assert_eq!(
        post_with(vec!["2001:db8:1:2::ffff"]).await,
        429,
        "another address of the same /64"
    );
    assert_eq!(post_with(vec!["2001:db8:1:3::1"]).await, 303, "another /64");
}

/// A guest opens the link in a tab of their own: no other site may frame
/// their pages (a framing page could only be a trap). Tool pages, which
/// LMSs frame, stay frameable.
#[one_backend]
async fn guest_pages_cannot_be_framed(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    let mut guest = Browser::new();
    let entry = guest.get(shared.app(), &link.entry()).await;
    let unknown = Browser::new()
        .get(shared.app(), "/g/AAAAAAAAAAAAAAAAAAAAAA")
        .await;
    for (name, page) in [("entry", &entry), ("unavailable", &unknown)] {
        let csp = page
            .headers
            .get("content-security-policy")
            .unwrap()
            .to_str()
            .unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{name}: {csp}");
        assert_eq!(
            page.headers.get("x-frame-options").unwrap(),
            "DENY",
            "{name}"
        );
        assert_eq!(
            page.headers.get("referrer-policy").unwrap(),
            "no-referrer",
            "{name}"
        );
    }
    let tool_page = shared
        .course
        .launch_into(guestlink::demo::claims::Role::Student, "course-1")
        .await;
    let csp = tool_page
        .headers
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        !csp.contains("frame-ancestors"),
        "LMSs frame the tool: {csp}"
    );
}

/// The guest's own page shows a PDF in a frame: the file may be framed by
/// the tool's own pages, and by no other site.
#[one_backend]
async fn a_guests_pdf_may_be_framed_by_the_guest_page_only(backend: Backend) {
    let (shared, _) = Shared::start_upload(backend, &PDF).await;
    let link = shared.open_link().await;
    let mut guest = admitted(shared.app(), &link.token).await;
    let page = guest.get(shared.app(), &link.view()).await;
    assert_eq!(element_name(&page, "#player").as_deref(), Some("iframe"));
    let src = page.attr("#player", "src").unwrap();
    let file = guest.file(shared.app(), &src, &[]).await;
    assert_eq!(file.status, 200);
    let csp = file.header("content-security-policy").unwrap();
    assert!(csp.contains("frame-ancestors 'self'"), "{csp}");
    assert_eq!(
        file.header("x-frame-options").as_deref(),
        Some("SAMEORIGIN")
    );
}

/// A guest reloading their page over and over cannot pile up rows: a page
/// load writes nothing (its URL is sealed, and stored at its first use), and
/// one guest keeps at most twenty grants for one item however many URLs
/// they use.
#[both_backends]
async fn reloads_do_not_pile_up_file_urls(backend: Backend) {
    let (shared, _) = Shared::start_upload(backend, &WEBM).await;
    let link = shared.open_link().await;
    let mut guest = admitted(shared.app(), &link.token).await;
    let mut urls = Vec::new();
    for _ in 0..25 {
        let page = guest.get(shared.app(), &link.view()).await;
        urls.push(page.attr("#player", "src").unwrap());
        shared.app().clock.advance(time::Duration::seconds(1));
    }
    assert_eq!(
        count_rows(&shared.app().db, "file_grants"),
        0,
        "page loads write nothing"
    );
    for url in &urls {
        assert_eq!(guest.file(shared.app(), url, &[]).await.status, 200);
        shared.app().clock.advance(time::Duration::seconds(1));
    }
    assert_eq!(count_rows(&shared.app().db, "file_grants"), 20);
}

#[both_backends]
async fn a_rate_limit_of_zero_never_answers_429(backend: Backend) {
    let shared = Shared::start_with(backend, |s| s.guests.rate_limit = 0).await;
    let link = shared.open_link().await;
    for _ in 0..25 {
        admitted(shared.app(), &link.token).await;
    }
    assert_eq!(shared.clicks(&link).await, 25);
}

// --- admission under concurrency ---

#[both_backends]
async fn fifty_concurrent_entries_on_a_link_limited_to_five_admit_exactly_five(backend: Backend) {
    let shared = Shared::start_with(backend, |s| s.guests.rate_limit = 0).await;
    let link = shared.link("Five seats", Some(5), None).await;
    let mut forms = Vec::new();
    for _ in 0..50 {
        let mut browser = Browser::new();
        let csrf = open_form(shared.app(), &mut browser, &link.token).await;
        forms.push((browser, csrf));
    }
    let mut tasks = Vec::new();
    for (i, (mut browser, csrf)) in forms.into_iter().enumerate() {
        let http = shared.app().http.clone();
        let url = shared.app().url(&link.entry());
        tasks.push(actix_web::rt::spawn(async move {
            let email = format!("guest{i}@example.com");
            let page = browser
                .post_url(
                    &http,
                    &url,
                    &[("name", "Guest"), ("email", &email), ("csrf", &csrf)],
                )
                .await;
            (page.status, unavailable_reason(&page))
        }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    let admitted = answers.iter().filter(|(s, _)| *s == 303).count();
    assert_eq!(admitted, 5, "exactly five admitted: {answers:?}");
    assert!(
        answers
            .iter()
            .filter(|(s, _)| *s != 303)
            .all(|(s, r)| *s == 410 && r.as_deref() == Some("exhausted")),
        "the others get the exhausted page: {answers:?}"
    );
    assert_eq!(visit_rows(&shared.course), 5, "exactly five visits");
    assert_eq!(guest_session_rows(&shared.course), 5);
    assert_eq!(shared.visits(&link).await.len(), 5);
    let listed = shared.listed_link(&link).await;
    assert_eq!(listed["clicks"], 5);
    assert_eq!(listed["status"], "exhausted");
}

// --- the guest view ---

#[both_backends]
async fn the_guest_view_shows_the_item_with_the_guest_mark_and_nothing_else(backend: Backend) {
    let (shared, _) = Shared::start_upload(backend, &WEBM).await;
    let link = shared.open_link().await;
    let mut guest = admitted(shared.app(), &link.token).await;
    let page = guest.get(shared.app(), &link.view()).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(
        page.attr("main", "data-page").as_deref(),
        Some("guest-view")
    );
    assert_eq!(
        page.attr("main", "data-media-id"),
        Some(shared.media.clone())
    );
    assert_eq!(page.text(".guest-mark").as_deref(), Some("Guest"));
    assert_eq!(element_name(&page, "#player").as_deref(), Some("video"));
    assert_eq!(page.session_token(), None, "no guestlink-session meta");
    assert_eq!(
        count_of(
            &page,
            "#media-menu, #media-menu-button, [data-action], #share-button, #guest-access-dialog, \
             #edit-dialog, #delete-dialog"
        ),
        0,
        "no management"
    );
    let src = page.attr("#player", "src").expect("the player's source");
    for href in attrs_of_all(&page, "a[href]", "href")
        .into_iter()
        .chain(attrs_of_all(&page, "form[action]", "action"))
    {
        if href == src {
            continue;
        }
        let url = url::Url::parse(&absolute(shared.app(), &href)).unwrap();
        assert!(
            !["/course", "/media/", "/api", "/lti", "/admin"]
                .iter()
                .any(|p| url.path().starts_with(p)),
            "no way out: {href}"
        );
        assert!(!href.contains("session="), "no session in {href}");
    }
}

#[both_backends]
async fn the_guest_views_file_url_needs_the_guests_own_session(backend: Backend) {
    let (shared, bytes) = Shared::start_upload(backend, &WEBM).await;
    let link = shared.open_link().await;
    let mut guest = admitted(shared.app(), &link.token).await;
    let page = guest.get(shared.app(), &link.view()).await;
    let src = page.attr("#player", "src").expect("the player's source");
    let url = url::Url::parse(&absolute(shared.app(), &src)).unwrap();
    assert_eq!(
        url.path(),
        format!("/g/{}/file", link.token),
        "under the guest's path, where the guest cookie goes"
    );
    assert!(
        url.query().unwrap_or_default().starts_with("grant="),
        "{src}"
    );
    let file = guest.file(shared.app(), &src, &[]).await;
    assert_eq!(file.status, 200, "the guest's own browser");
    assert_eq!(file.body, bytes);

    let copied = shared
        .course
        .get_file(&absolute(shared.app(), &src), &[])
        .await;
    assert_eq!(copied.status, 403, "a copy in a browser without the cookie");
    let other = admitted(shared.app(), &link.token).await;
    let borrowed = other.file(shared.app(), &src, &[]).await;
    assert_eq!(borrowed.status, 403, "another guest's session");
    assert!(
        String::from_utf8_lossy(&borrowed.body).contains("file_url_invalid"),
        "{}",
        String::from_utf8_lossy(&borrowed.body)
    );
}

/// An admitted guest's view of an uploaded video and its player's file URL.
async fn watching(backend: Backend) -> (Shared, Link, Browser, String) {
    let (shared, _) = Shared::start_upload(backend, &WEBM).await;
    let link = shared.open_link().await;
    let mut guest = admitted(shared.app(), &link.token).await;
    let src = guest
        .get(shared.app(), &link.view())
        .await
        .attr("#player", "src")
        .expect("the player's source");
    let src = absolute(shared.app(), &src);
    (shared, link, guest, src)
}

/// The open page goes on: its URL plays and seeks, and the page renews it.
async fn assert_the_open_page_keeps_playing(
    shared: &Shared,
    link: &Link,
    guest: &Browser,
    src: &str,
) {
    assert_eq!(
        guest.file(shared.app(), src, &[]).await.status,
        200,
        "still playing"
    );
    assert_eq!(
        guest
            .file(shared.app(), src, &[("Range", "bytes=100-")])
            .await
            .status,
        206,
        "still seeking"
    );
    let grant = url::Url::parse(src)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "grant")
        .map(|(_, v)| v.to_string())
        .unwrap();
    let renewed = guest
        .file(
            shared.app(),
            &format!("/g/{}/file-url?grant={grant}", link.token),
            &[],
        )
        .await;
    assert_eq!(
        renewed.status,
        200,
        "renewed: {}",
        String::from_utf8_lossy(&renewed.body)
    );
    let fresh: serde_json::Value = serde_json::from_slice(&renewed.body).unwrap();
    let fresh = fresh["url"].as_str().unwrap();
    assert_eq!(fresh, src, "renewed in place: the player keeps its URL");
    assert_eq!(
        guest.file(shared.app(), fresh, &[]).await.status,
        200,
        "the renewed URL plays"
    );
}

/// The refused reload ends the guest session: the page's URLs stop too.
async fn assert_the_refused_reload_ends_everything(
    shared: &Shared,
    link: &Link,
    guest: &mut Browser,
    src: &str,
    reason: &str,
) {
    // The reload's answer drops the cookie in a real browser; this one keeps
    // it, to show the session behind it is over.
    let cookie = guest.cookie("guestlink_guest").map(str::to_string);
    assert_unavailable(
        &guest.get(shared.app(), &link.view()).await,
        reason,
        "the refresh",
    );
    if let Some(cookie) = cookie {
        guest.set_cookie("guestlink_guest", &cookie);
    }
    assert_eq!(
        guest.file(shared.app(), src, &[]).await.status,
        403,
        "the open page stops"
    );
    assert_eq!(
        guest
            .file(shared.app(), src, &[("Range", "bytes=100-")])
            .await
            .status,
        403,
        "its stream too"
    );
}

#[both_backends]
async fn an_open_player_keeps_playing_after_the_switch_off(backend: Backend) {
    let (shared, link, mut guest, src) = watching(backend).await;
    shared.switch(false).await;
    assert_the_open_page_keeps_playing(&shared, &link, &guest, &src).await;
    assert_the_refused_reload_ends_everything(&shared, &link, &mut guest, &src, "disabled").await;
}

#[both_backends]
async fn an_open_player_keeps_playing_after_the_link_is_deleted(backend: Backend) {
    let (shared, link, mut guest, src) = watching(backend).await;
    shared.delete_link(&link).await;
    assert_the_open_page_keeps_playing(&shared, &link, &guest, &src).await;
    assert_the_refused_reload_ends_everything(&shared, &link, &mut guest, &src, "deleted").await;
}

#[both_backends]
async fn a_room_guest_before_its_session_sees_that_it_has_not_started(backend: Backend) {
    let shared =
        Shared::start_item(backend, json!({"title": "Office hours", "kind": "room"})).await;
    let link = shared.open_link().await;
    let mut guest = admitted(shared.app(), &link.token).await;
    let page = guest.get(shared.app(), &link.view()).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(
        page.attr("main[data-lobby-status]", "data-lobby-status")
            .as_deref(),
        Some("not_started"),
        "{}",
        page.body
    );
    assert_eq!(count_of(&page, "[data-lobby-message]"), 1);
}

#[both_backends]
async fn each_kind_gets_its_player_for_guests(backend: Backend) {
    let (shared, _) = Shared::start_upload(backend, &PNG).await;
    for (sample, player) in [(&PNG, "img"), (&MP3, "audio"), (&PDF, "iframe")] {
        let media = if sample.file_name == PNG.file_name {
            shared.media.clone()
        } else {
            let (media, _) = shared
                .course
                .upload_sample(&shared.owner, sample, 600)
                .await;
            switch(&shared.course, &shared.owner, &media, true).await;
            media
        };
        let link = new_link(
            &shared.course,
            &shared.owner,
            &media,
            &link_body("Kind", None, None),
        )
        .await;
        let mut guest = admitted(shared.app(), &link.token).await;
        let page = guest.get(shared.app(), &link.view()).await;
        assert_eq!(page.status, 200, "{}", sample.file_name);
        assert_eq!(
            element_name(&page, "#player").as_deref(),
            Some(player),
            "{}",
            sample.file_name
        );
        let src = page.attr("#player", "src").expect("a source");
        let file = guest.file(shared.app(), &src, &[]).await;
        assert_eq!(file.status, 200, "{}: the file", sample.file_name);
    }
}

// --- an admitted guest's next view ---

#[both_backends]
async fn switching_off_turns_the_next_view_into_disabled(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    let mut guest = admitted(shared.app(), &link.token).await;
    shared.switch(false).await;
    let page = guest.get(shared.app(), &link.view()).await;
    assert_unavailable(&page, "disabled", "view after switch off");
    let entry = guest.get(shared.app(), &link.entry()).await;
    assert_unavailable(&entry, "disabled", "the entry with a live guest session");
}

#[both_backends]
async fn switching_back_on_brings_the_link_back(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    let mut guest = admitted(shared.app(), &link.token).await;
    let mut unaware = admitted(shared.app(), &link.token).await;
    shared.switch(false).await;
    let refused = guest.get(shared.app(), &link.view()).await;
    assert_unavailable(&refused, "disabled", "while off");
    assert!(
        set_cookie_line(&refused, GUEST_COOKIE).is_some_and(|l| l.contains("Max-Age=0")),
        "the refused reload clears the guest's cookie: {:?}",
        set_cookie_line(&refused, GUEST_COOKIE)
    );
    shared.switch(true).await;
    let page = guest.get(shared.app(), &link.view()).await;
    assert_redirect(
        &page,
        &link.entry(),
        "the refused reload ended that guest session",
    );
    let page = unaware.get(shared.app(), &link.view()).await;
    assert_eq!(
        page.status, 200,
        "a guest who did not reload while off: {}",
        page.body
    );
    admitted(shared.app(), &link.token).await;
    assert_eq!(shared.clicks(&link).await, 3, "a new guest gets in");
}

#[both_backends]
async fn deleting_the_link_turns_the_next_view_into_deleted(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    let mut guest = admitted(shared.app(), &link.token).await;
    shared.delete_link(&link).await;
    let page = guest.get(shared.app(), &link.view()).await;
    assert_unavailable(&page, "deleted", "view after delete");
}

#[both_backends]
async fn expiry_turns_the_next_view_into_expired(backend: Backend) {
    let shared = Shared::start_with(backend, |s| {
        s.guests.session = guestlink::domain::time::Duration::hours(48)
    })
    .await;
    let link = shared.link("One day", None, Some(1)).await;
    let mut guest = admitted(shared.app(), &link.token).await;
    shared
        .app()
        .clock
        .advance(time::Duration::days(1) + time::Duration::minutes(1));
    let page = guest.get(shared.app(), &link.view()).await;
    assert_unavailable(&page, "expired", "view after expiry");
}

#[both_backends]
async fn deleting_the_media_turns_the_next_view_into_media_unavailable(backend: Backend) {
    let (shared, _) = Shared::start_upload(backend, &WEBM).await;
    let link = shared.open_link().await;
    let mut guest = admitted(shared.app(), &link.token).await;
    let src = guest
        .get(shared.app(), &link.view())
        .await
        .attr("#player", "src")
        .unwrap();
    shared.delete_media().await;
    let file = guest.file(shared.app(), &src, &[]).await;
    assert_eq!(file.status, 404, "the file is gone too");
    let page = guest.get(shared.app(), &link.view()).await;
    assert_unavailable(
        &page,
        "media_unavailable",
        "view after the media is deleted",
    );
}

#[both_backends]
async fn platform_modules_off_turn_guests_away_as_disabled(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    let mut guest = admitted(shared.app(), &link.token).await;
    set_module(&shared.course, "invitetomedia=off").await;
    let turned_away = eventually(CACHE_WAIT, || {
        let mut guest = guest.clone();
        let path = link.view();
        let shared = &shared;
        async move {
            unavailable_reason(&guest.get(shared.app(), &path).await).as_deref() == Some("disabled")
        }
    })
    .await;
    assert!(
        turned_away,
        "the admitted guest's view within {CACHE_WAIT:?}"
    );
    assert_unavailable(
        &guest.get(shared.app(), &link.view()).await,
        "disabled",
        "admitted guest",
    );
    assert_unavailable(
        &Browser::new().get(shared.app(), &link.entry()).await,
        "disabled",
        "a new guest",
    );
}

// --- new guests turned away ---

#[both_backends]
async fn unknown_tokens_are_not_found(backend: Backend) {
    let shared = Shared::start(backend).await;
    shared.open_link().await;
    for token in [
        "AAAAAAAAAAAAAAAAAAAAAA".to_string(),
        "short".to_string(),
        "x".repeat(500),
    ] {
        let page = Browser::new().get(shared.app(), &entry_path(&token)).await;
        assert_unavailable(&page, "not_found", &format!("GET {}", &token[..5]));
    }
}

#[both_backends]
async fn a_deleted_link_answers_deleted(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    shared.delete_link(&link).await;
    let page = Browser::new().get(shared.app(), &link.entry()).await;
    assert_unavailable(&page, "deleted", "entry of a deleted link");
}

#[both_backends]
async fn an_expired_link_answers_expired(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.link("One day", None, Some(1)).await;
    shared.app().clock.advance(time::Duration::days(1));
    let page = Browser::new().get(shared.app(), &link.entry()).await;
    assert_unavailable(&page, "expired", "entry at expiry");
}

#[both_backends]
async fn a_link_at_its_click_limit_turns_new_guests_away_as_exhausted(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.link("One seat", Some(1), None).await;
    let mut late = Browser::new();
    let late_csrf = open_form(shared.app(), &mut late, &link.token).await;
    admitted(shared.app(), &link.token).await;
    assert_unavailable(
        &Browser::new().get(shared.app(), &link.entry()).await,
        "exhausted",
        "a new guest's GET",
    );
    let page = submit(
        shared.app(),
        &mut late,
        &link.token,
        &late_csrf,
        GUEST_NAME,
        GUEST_EMAIL,
    )
    .await;
    assert_unavailable(&page, "exhausted", "a form fetched before");
    assert!(late.cookie(GUEST_COOKIE).is_none());
    assert_eq!(shared.clicks(&link).await, 1);
    assert_eq!(visit_rows(&shared.course), 1);
}

/// The click limit stops new entries, not the guest who took the last
/// click: they see the item, and coming back to the link still lets them in.
#[both_backends]
async fn the_guest_who_takes_the_last_click_keeps_watching(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.link("One seat", Some(1), None).await;
    let mut guest = admitted(shared.app(), &link.token).await;
    let view = guest.get(shared.app(), &link.view()).await;
    assert_eq!(view.status, 200, "{}", view.body);
    assert_eq!(
        view.attr("main", "data-page").as_deref(),
        Some("guest-view")
    );
    let again = guest.get(shared.app(), &link.entry()).await;
    assert_redirect(&again, &link.view(), "coming back within the session");
    assert_eq!(shared.clicks(&link).await, 1);
    shared.app().clock.advance(time::Duration::hours(1));
    assert_eq!(guest.get(shared.app(), &link.view()).await.status, 200);
}

#[both_backends]
async fn a_form_submitted_after_the_switch_is_turned_off_answers_disabled(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    let mut browser = Browser::new();
    let csrf = open_form(shared.app(), &mut browser, &link.token).await;
    shared.switch(false).await;
    let page = submit(
        shared.app(),
        &mut browser,
        &link.token,
        &csrf,
        GUEST_NAME,
        GUEST_EMAIL,
    )
    .await;
    assert_unavailable(&page, "disabled", "POST after switch off");
    assert_unavailable(
        &Browser::new().get(shared.app(), &link.entry()).await,
        "disabled",
        "GET after switch off",
    );
    assert!(browser.cookie(GUEST_COOKIE).is_none());
    assert_nothing_counted(&shared, &link, "switch off").await;
}

#[both_backends]
async fn a_link_to_deleted_media_answers_media_unavailable(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    shared.delete_media().await;
    let page = Browser::new().get(shared.app(), &link.entry()).await;
    assert_unavailable(&page, "media_unavailable", "entry to deleted media");
}

// --- the order of reasons ---

#[both_backends]
async fn deleted_media_outranks_the_switch_off(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    shared.switch(false).await;
    shared.delete_media().await;
    let page = Browser::new().get(shared.app(), &link.entry()).await;
    assert_unavailable(&page, "media_unavailable", "deleted media and switch off");
}

#[both_backends]
async fn a_deleted_link_outranks_deleted_media(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    shared.delete_link(&link).await;
    shared.delete_media().await;
    let page = Browser::new().get(shared.app(), &link.entry()).await;
    assert_unavailable(&page, "deleted", "deleted link and deleted media");
}

#[both_backends]
async fn the_switch_off_outranks_expiry(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.link("One day", None, Some(1)).await;
    shared.switch(false).await;
    shared.app().clock.advance(time::Duration::days(2));
    let page = Browser::new().get(shared.app(), &link.entry()).await;
    assert_unavailable(&page, "disabled", "switch off and expired");
}

#[both_backends]
async fn expiry_outranks_the_click_limit(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.link("One seat, one day", Some(1), Some(1)).await;
    admitted(shared.app(), &link.token).await;
    shared.app().clock.advance(time::Duration::days(2));
    let page = Browser::new().get(shared.app(), &link.entry()).await;
    assert_unavailable(&page, "expired", "expired and exhausted");
}

// --- a guest of item A gets nothing of item B ---

/// Two uploaded items of one course with a link each; a guest admitted to A.
async fn two_items(backend: Backend) -> (Shared, Link, String, Link, Browser) {
    let (shared, _) = Shared::start_upload(backend, &WEBM).await;
    let link_a = shared.open_link().await;
    let (item_b, _) = shared.course.upload_sample(&shared.owner, &PNG, 800).await;
    switch(&shared.course, &shared.owner, &item_b, true).await;
    let link_b = new_link(
        &shared.course,
        &shared.owner,
        &item_b,
        &link_body("B", None, None),
    )
    .await;
    let guest = admitted(shared.app(), &link_a.token).await;
    (shared, link_a, item_b, link_b, guest)
}

#[both_backends]
async fn a_guest_of_one_item_is_sent_to_the_entry_of_another(backend: Backend) {
    let (shared, _, item_b, link_b, mut guest) = two_items(backend).await;
    let page = guest.get(shared.app(), &link_b.view()).await;
    assert_redirect(&page, &link_b.entry(), "B's view with A's cookie");
    let entry = guest.get(shared.app(), &link_b.entry()).await;
    assert_eq!(entry.status, 200, "B's form, not B's view");
    csrf_field(&entry);
    let links_b = listed_links(&shared.course, &shared.owner, &item_b).await;
    assert_eq!(links_b[0]["clicks"], 0, "no click on B");
}

#[both_backends]
async fn a_guest_session_is_bound_to_its_link(backend: Backend) {
    let shared = Shared::start(backend).await;
    let first = shared.open_link().await;
    let second = shared.open_link().await;
    let mut guest = admitted(shared.app(), &first.token).await;
    let page = guest.get(shared.app(), &second.view()).await;
    assert_redirect(&page, &second.entry(), "the same item's other link");
}

#[both_backends]
async fn a_guest_file_url_opens_no_other_link(backend: Backend) {
    let (shared, link_a, _item_b, link_b, mut guest) = two_items(backend).await;
    let src = guest
        .get(shared.app(), &link_a.view())
        .await
        .attr("#player", "src")
        .expect("A's player");
    let borrowed = src.replace(&link_a.token, &link_b.token);
    assert_ne!(borrowed, src, "the file URL names its link: {src}");
    let file = guest.file(shared.app(), &borrowed, &[]).await;
    assert_eq!(file.status, 403, "A's grant under B's link");
    assert_eq!(
        guest.file(shared.app(), &src, &[]).await.status,
        200,
        "A's own file"
    );
}

#[both_backends]
async fn a_guest_cookie_opens_nothing_of_the_api_or_the_course(backend: Backend) {
    let (shared, _, item_b, _, guest) = two_items(backend).await;
    let cookie = guest.cookie_header().unwrap();
    for path in [
        "/api/media".to_string(),
        format!("/api/media/{item_b}"),
        format!("/api/media/{item_b}/file-url"),
        format!("/api/media/{item_b}/guest-access"),
        format!("/api/media/{}", shared.media),
        format!("/media/{item_b}"),
        format!("/media/{item_b}/file"),
        format!("/media/{}/file", shared.media),
        "/course".to_string(),
    ] {
        let file = shared.course.get_file(&path, &[("Cookie", &cookie)]).await;
        assert_eq!(file.status, 401, "{path}");
    }
}

// --- names shown escaped ---

const SCRIPT_TITLE: &str = "<script>window.pwnedTitle=1</script><b>Bold</b>";
const SCRIPT_LINK: &str = "<script>window.pwnedLink=1</script>";
const SCRIPT_GUEST: &str = "<script>window.pwnedGuest=1</script>";

#[one_backend]
async fn the_item_title_is_shown_escaped_to_guests(backend: Backend) {
    let shared = Shared::start_item(backend, json!({"title": SCRIPT_TITLE, "kind": "room"})).await;
    let link = shared.open_link().await;
    let mut guest = Browser::new();
    let entry = guest.get(shared.app(), &link.entry()).await;
    let csrf = csrf_field(&entry);
    let admission = submit(
        shared.app(),
        &mut guest,
        &link.token,
        &csrf,
        GUEST_NAME,
        GUEST_EMAIL,
    )
    .await;
    assert_redirect(&admission, &link.view(), "admission");
    let view = guest.get(shared.app(), &link.view()).await;
    for (which, page) in [("entry", &entry), ("view", &view)] {
        assert_eq!(page.status, 200, "{which}");
        assert!(
            !page.body.contains(SCRIPT_TITLE) && !page.body.contains("<script>window.pwned"),
            "{which}: the title is not markup: {}",
            page.body
        );
        assert!(
            page.text("main").unwrap_or_default().contains(SCRIPT_TITLE),
            "{which}: the title shown as text"
        );
    }
}

#[one_backend]
async fn a_refused_entry_shows_the_typed_name_escaped(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    let (_, page) = enter_as(shared.app(), &link.token, SCRIPT_GUEST, "not-an-email").await;
    assert_eq!(page.status, 422);
    assert!(
        !page.body.contains(SCRIPT_GUEST),
        "the typed name is not markup: {}",
        page.body
    );
}

#[both_backends]
async fn the_guest_view_never_shows_the_guests_name_as_markup(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    let mut guest = admitted_as(shared.app(), &link.token, SCRIPT_GUEST, GUEST_EMAIL).await;
    let page = guest.get(shared.app(), &link.view()).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains(SCRIPT_GUEST), "{}", page.body);
}

#[one_backend]
async fn names_are_shown_escaped_on_the_owners_media_page(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.link(SCRIPT_LINK, Some(5), Some(7)).await;
    admitted_as(shared.app(), &link.token, SCRIPT_GUEST, GUEST_EMAIL).await;
    let page = shared
        .app()
        .get_page(&format!("/media/{}", shared.media), Some(&shared.owner))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    for raw in [SCRIPT_LINK, SCRIPT_GUEST] {
        assert!(
            !page.body.contains(raw),
            "{raw} is not markup: {}",
            page.body
        );
    }
}

#[one_backend]
async fn guest_names_are_data_in_the_visits_json_and_csv(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    admitted_as(shared.app(), &link.token, SCRIPT_GUEST, GUEST_EMAIL).await;
    assert_eq!(shared.visits(&link).await[0]["name"], SCRIPT_GUEST);
    let (status, headers, body) = shared.visits_csv(&link).await;
    assert_eq!(status, 200);
    assert!(
        headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("text/csv")),
        "served as CSV, never as HTML"
    );
    assert_eq!(csv_rows(&body)[1][0], SCRIPT_GUEST, "{body}");
}

// --- the retention purge ---

#[both_backends]
async fn the_purge_removes_visits_and_guest_sessions_past_the_retention(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    admitted(shared.app(), &link.token).await;
    assert_eq!(
        (
            visit_rows(&shared.course),
            guest_session_rows(&shared.course)
        ),
        (1, 1)
    );
    shared.app().clock.advance(time::Duration::days(181));
    purge(&shared.course).await;
    assert_eq!(visit_rows(&shared.course), 0, "visits purged");
    assert_eq!(
        guest_session_rows(&shared.course),
        0,
        "guest sessions purged"
    );
    assert!(shared.visits(&link).await.is_empty());
}

#[both_backends]
async fn a_purged_deleted_link_answers_not_found(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    admitted(shared.app(), &link.token).await;
    shared.delete_link(&link).await;
    shared.app().clock.advance(time::Duration::days(181));
    assert_unavailable(
        &Browser::new().get(shared.app(), &link.entry()).await,
        "deleted",
        "before the purge",
    );
    purge(&shared.course).await;
    assert_unavailable(
        &Browser::new().get(shared.app(), &link.entry()).await,
        "not_found",
        "after the purge",
    );
}

#[both_backends]
async fn the_purge_keeps_live_links_and_recent_visits(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    admitted_as(shared.app(), &link.token, "Early guest", GUEST_EMAIL).await;
    shared.app().clock.advance(time::Duration::days(100));
    admitted_as(shared.app(), &link.token, "Recent guest", GUEST_EMAIL).await;
    shared.app().clock.advance(time::Duration::days(81));
    purge(&shared.course).await;
    let visits = shared.visits(&link).await;
    assert_eq!(visits.len(), 1, "{visits:?}");
    assert_eq!(visits[0]["name"], "Recent guest");
    assert_eq!(shared.status(&link).await, "active", "the live link stays");
    let page = Browser::new().get(shared.app(), &link.entry()).await;
    assert_eq!(page.status, 200, "the link still opens");
}

#[both_backends]
async fn a_shorter_retention_purges_sooner(backend: Backend) {
    let shared = Shared::start_with(backend, |s| {
        s.guests.retention = guestlink::domain::time::Duration::days(30)
    })
    .await;
    let link = shared.open_link().await;
    admitted(shared.app(), &link.token).await;
    shared.app().clock.advance(time::Duration::days(29));
    purge(&shared.course).await;
    assert_eq!(visit_rows(&shared.course), 1, "kept within 30 days");
    shared.app().clock.advance(time::Duration::days(2));
    purge(&shared.course).await;
    assert_eq!(visit_rows(&shared.course), 0, "purged after 30 days");
}

/// A server process, stopped when dropped (also when the test fails).
struct Serving(std::process::Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `guestlink serve` on the course's database at trace level, its output
/// going to a file: the log file and the running process.
fn serve_with_trace_log(shared: &Shared, port: u16) -> (std::path::PathBuf, Serving) {
    let log = shared.app().settings.data_dir.join("serve.log");
    let out = std::fs::File::create(&log).unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_guestlink"))
        .arg("serve")
        .env_clear()
        .env("GUESTLINK_SECRET_KEY", crate::helpers::TEST_SECRET_KEY)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", shared.course.database_url())
        .env("GUESTLINK_DATA_DIR", &shared.app().settings.data_dir)
        .env("GUESTLINK_BIND", format!("127.0.0.1:{port}"))
        .env("GUESTLINK_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
        .env("GUESTLINK_LOG", "trace")
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .expect("guestlink serve starts");
    (log, Serving(child))
}

#[both_backends]
async fn the_link_token_never_appears_in_the_log(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.link("Logged", Some(5), Some(7)).await;
    let port = free_port();
    let (log, server) = serve_with_trace_log(&shared, port);
    let base = format!("http://127.0.0.1:{port}");
    let up = eventually(std::time::Duration::from_secs(20), || {
        let http = shared.app().http.clone();
        let url = format!("{base}/healthz");
        async move {
            http.get(url)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        }
    })
    .await;
    assert!(
        up,
        "serve answers: {}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );

    let mut guest = Browser::new();
    let entry = guest
        .get_url(&shared.app().http, &format!("{base}{}", link.entry()))
        .await;
    let csrf = csrf_field(&entry);
    let form = [
        ("name", GUEST_NAME),
        ("email", GUEST_EMAIL),
        ("csrf", csrf.as_str()),
    ];
    let admission = guest
        .post_url(
            &shared.app().http,
            &format!("{base}{}", link.entry()),
            &form,
        )
        .await;
    assert_eq!(admission.status, 303, "{}", admission.body);
    let view = guest
        .get_url(&shared.app().http, &format!("{base}{}", link.view()))
        .await;
    assert_eq!(view.status, 200);
    let bad_csrf = [
        ("name", GUEST_NAME),
        ("email", GUEST_EMAIL),
        ("csrf", "wrong"),
    ];
    Browser::new()
        .post_url(
            &shared.app().http,
            &format!("{base}{}", link.entry()),
            &bad_csrf,
        )
        .await;
    shared.delete_link(&link).await;
    Browser::new()
        .get_url(&shared.app().http, &format!("{base}{}", link.entry()))
        .await;
    drop(server);

    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("/g/"),
        "the guest requests are logged at trace level: {text}"
    );
    assert!(
        !text.contains(&link.token),
        "the token is in the log: {text}"
    );
}
