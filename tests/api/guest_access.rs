//! The guest-access management API: the switch, up to three links per item
//! (held under concurrency too), deleting a link, unsupported kinds and
//! platform modules, link status and expiry, bad input naming its field with
//! nothing stored, the visits in JSON and CSV, and who may do any of it.

use guestlink::demo::claims::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::guest_helpers::{
    CACHE_WAIT, GUEST_COOKIE, GUEST_EMAIL, GUEST_NAME, Link, Shared, access, access_path, admitted,
    admitted_as, csv_rows, eventually, ids_of, link_body, link_path, link_rows, links_path,
    live_link_rows, new_link, rfc3339, set_module, switch, visit_rows, visits_path,
    wait_for_supported,
};
use crate::helpers::{Backend, Page};
use crate::media_helpers::{Course, EVERYONE, OTHER_COURSE, People, Who, count_of, element_name};
use guestlink_test_macros::{both_backends, one_backend};

/// A course with its people and a linked video the instructor owns, guest access on.
async fn shared_with_people(backend: Backend) -> (Shared, People) {
    let shared = Shared::start(backend).await;
    let people = shared.course.people().await;
    (shared, people)
}

fn assert_access_shape(value: &Value, case: &str) {
    assert!(value["enabled"].is_boolean(), "{case}: enabled in {value}");
    assert_eq!(value["max_links"], 3, "{case}: max_links in {value}");
    assert!(
        value["supported"].is_boolean(),
        "{case}: supported in {value}"
    );
    assert!(value["links"].is_array(), "{case}: links in {value}");
}

/// The status and code a route answers `who`, when managers get `ok`.
fn expected(who: Who, ok: u16) -> (u16, Option<&'static str>) {
    match who {
        Who::Instructor | Who::TeachingAssistant => (ok, None),
        Who::Student => (403, Some("forbidden")),
        Who::OtherCourse => (404, Some("not_found")),
        Who::Nobody => (401, Some("session_required")),
    }
}

// --- the switch ---

#[both_backends]
async fn a_new_item_has_guest_access_off_and_no_links(backend: Backend) {
    let shared = Shared::start_off(backend).await;
    let value = shared.access().await;
    assert_access_shape(&value, "new item");
    assert_eq!(
        value,
        json!({"enabled": false, "max_links": 3, "supported": true, "links": []})
    );
}

#[both_backends]
async fn put_switches_guest_access_on_and_off(backend: Backend) {
    let shared = Shared::start_off(backend).await;
    let on = shared.switch(true).await;
    assert_access_shape(&on.json, "PUT true");
    assert_eq!(on.json["enabled"], true);
    assert_eq!(shared.access().await["enabled"], true, "stored on");

    let off = shared.switch(false).await;
    assert_access_shape(&off.json, "PUT false");
    assert_eq!(off.json["enabled"], false);
    assert_eq!(shared.access().await["enabled"], false, "stored off");
}

#[both_backends]
async fn put_refuses_a_missing_or_non_boolean_enabled(backend: Backend) {
    let shared = Shared::start_off(backend).await;
    let path = access_path(&shared.media);
    for (case, body) in [
        ("missing", json!({})),
        ("null", json!({"enabled": null})),
        ("string", json!({"enabled": "true"})),
        ("number", json!({"enabled": 1})),
        ("10,000 characters", json!({"enabled": "y".repeat(10_000)})),
    ] {
        shared
            .course
            .send_json(Method::PUT, &path, Some(&shared.owner), &body)
            .await
            .expect_invalid("enabled", case);
    }
    shared
        .course
        .api(
            Method::PUT,
            &path,
            Some(&shared.owner),
            Some(("application/json", br#"{"enabled": "#.to_vec())),
        )
        .await
        .expect(400, Some("invalid_json"), "malformed JSON");
    assert_eq!(shared.access().await["enabled"], false, "still off");
}

#[both_backends]
async fn creating_a_link_while_the_switch_is_off_is_409_guest_access_disabled(backend: Backend) {
    let shared = Shared::start_off(backend).await;
    shared
        .try_link(&link_body("Webinar invite", None, None))
        .await
        .expect(409, Some("guest_access_disabled"), "switch off");
    assert_eq!(link_rows(&shared.course), 0, "nothing stored");
    assert!(shared.listed().await.is_empty());
}

// --- creating links ---

#[both_backends]
async fn an_instructor_creates_a_link_with_its_limits(backend: Backend) {
    let shared = Shared::start(backend).await;
    let reply = shared
        .try_link(&link_body("Webinar invite", Some(3), Some(7)))
        .await;
    reply.expect(201, None, "create");
    let link = &reply.json;
    assert!(
        link["id"].as_str().is_some_and(|id| !id.is_empty()),
        "an id: {link}"
    );
    assert_eq!(link["name"], "Webinar invite");
    assert_eq!(link["click_limit"], 3);
    assert_eq!(link["clicks"], 0);
    assert_eq!(link["status"], "active");
    let created = rfc3339(&link["created_at"], "created_at");
    assert!(
        (created - crate::helpers::wall(&shared.app().clock)).abs() < time::Duration::minutes(1),
        "created now: {created}"
    );
    assert_eq!(
        rfc3339(&link["expires_at"], "expires_at") - created,
        time::Duration::days(7),
        "expires 7 days after creation"
    );
    assert_eq!(shared.listed().await, vec![link.clone()], "GET lists it");
    assert_eq!(live_link_rows(&shared.course), 1);
}

/// What the API stores of a link's fields, end to end: trimmed names that
/// need not be unique, no limits, the edges of each range. (Every rule's
/// cases are the unit tests of `NewLink::parse`.)
#[both_backends]
async fn link_fields_are_stored_as_the_rules_read_them(backend: Backend) {
    let shared = Shared::start(backend).await;
    let first = shared.link("  Webinar invite \t", None, None).await;
    let second = shared.link("Webinar invite", None, None).await;
    assert_eq!(first.json["name"], "Webinar invite");
    assert_eq!(second.json["name"], "Webinar invite");
    assert_ne!(first.id, second.id);
    assert_eq!(
        first.json["expires_at"],
        Value::Null,
        "no duration, no expiry"
    );
    assert_eq!(first.json["click_limit"], Value::Null);
    shared.delete_link(&first).await;
    let long_name = "é".repeat(100);
    let high = shared.link(&long_name, Some(1_000_000), Some(3650)).await;
    assert_eq!(high.json["name"], long_name.as_str());
    assert_eq!(high.json["click_limit"], 1_000_000);
    assert_eq!(
        rfc3339(&high.json["expires_at"], "expires_at") - rfc3339(&high.json["created_at"], "c"),
        time::Duration::days(3650)
    );
    assert_eq!(shared.listed().await.len(), 2);
}

/// A link's status as its owner sees it moves with the switch, the time and
/// the clicks: active, inactive while the switch is off (whatever else holds),
/// exhausted at its click limit, expired when its days have passed, and
/// expired rather than exhausted when both hold.
#[both_backends]
async fn a_links_status_follows_the_switch_the_time_and_the_clicks(backend: Backend) {
    let shared = Shared::start(backend).await;
    let clicks = shared.link("Two clicks", Some(2), None).await;
    let day = shared.link("One day", Some(1), Some(1)).await;
    assert_eq!(clicks.json["status"], "active");
    let off = shared.switch(false).await;
    assert!(
        off.json["links"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["status"] == "inactive"),
        "PUT answers inactive links: {}",
        off.body
    );
    let on = shared.switch(true).await;
    assert_eq!(on.json["links"][0]["status"], "active");
    for _ in 0..2 {
        admitted(shared.app(), &clicks.token).await;
    }
    let listed = shared.listed_link(&clicks).await;
    assert_eq!(
        (listed["clicks"].clone(), listed["status"].clone()),
        (json!(2), json!("exhausted"))
    );
    admitted(shared.app(), &day.token).await;
    shared
        .app()
        .clock
        .advance(time::Duration::days(1) - time::Duration::minutes(1));
    assert_eq!(
        shared.status(&day).await,
        "exhausted",
        "a minute before expiry"
    );
    shared.app().clock.advance(time::Duration::minutes(1));
    assert_eq!(
        shared.status(&day).await,
        "expired",
        "expired wins over exhausted"
    );
    shared.switch(false).await;
    assert_eq!(
        shared.status(&day).await,
        "inactive",
        "inactive wins over expired"
    );
}

#[one_backend]
async fn a_link_url_is_the_public_url_with_a_long_random_token(backend: Backend) {
    let shared = Shared::start(backend).await;
    let first = shared.open_link().await;
    let second = shared.open_link().await;
    for link in [&first, &second] {
        assert_eq!(
            link.url,
            shared.app().url(&format!("/g/{}", link.token)),
            "{{base}}/g/{{token}}"
        );
        assert!(
            link.token.len() >= 22
                && link
                    .token
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "base64url, at least 22 characters: {}",
            link.token
        );
    }
    assert_ne!(first.token, second.token, "every link has its own token");
}

#[one_backend]
async fn html_in_a_link_name_is_stored_as_typed(backend: Backend) {
    let shared = Shared::start(backend).await;
    let name = r#"<script>alert("x")</script> & <b>bold</b>"#;
    let link = shared.link(name, None, None).await;
    assert_eq!(link.json["name"], name);
    assert_eq!(shared.listed_link(&link).await["name"], name);
}

#[both_backends]
async fn links_are_listed_oldest_first(backend: Backend) {
    let shared = Shared::start(backend).await;
    let mut created = Vec::new();
    for name in ["First", "Second", "Third"] {
        created.push(shared.link(name, None, None).await.id);
        shared.app().clock.advance(time::Duration::minutes(1));
    }
    assert_eq!(ids_of(&shared.listed().await), created);
}

// --- the limit of three ---

#[both_backends]
async fn a_fourth_link_is_409_link_limit_reached(backend: Backend) {
    let shared = Shared::start(backend).await;
    for _ in 0..3 {
        shared.open_link().await;
    }
    shared
        .try_link(&link_body("Fourth", None, None))
        .await
        .expect(409, Some("link_limit_reached"), "fourth link");
    assert_eq!(live_link_rows(&shared.course), 3);
    assert_eq!(shared.listed().await.len(), 3);
}

#[both_backends]
async fn deleting_a_link_frees_its_place(backend: Backend) {
    let shared = Shared::start(backend).await;
    let mut links = Vec::new();
    for name in ["One", "Two", "Three"] {
        links.push(shared.link(name, None, None).await);
    }
    shared.delete_link(&links[1]).await;
    assert_eq!(
        ids_of(&shared.listed().await),
        vec![links[0].id.clone(), links[2].id.clone()],
        "the deleted link is not listed"
    );
    let fourth = shared.link("Four", None, None).await;
    assert_eq!(
        ids_of(&shared.listed().await),
        vec![links[0].id.clone(), links[2].id.clone(), fourth.id.clone()]
    );
    assert_eq!(live_link_rows(&shared.course), 3);
    shared
        .try_link(&link_body("Five", None, None))
        .await
        .expect(409, Some("link_limit_reached"), "full again");
}

#[both_backends]
async fn twenty_concurrent_creates_on_an_empty_item_make_exactly_three_links(backend: Backend) {
    let shared = Shared::start(backend).await;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let http = shared.app().http.clone();
        let url = shared.app().url(&links_path(&shared.media));
        let token = shared.owner.clone();
        tasks.push(actix_web::rt::spawn(async move {
            let response = http
                .post(url)
                .bearer_auth(token)
                .header("Content-Type", "application/json")
                .body(link_body(&format!("Link {i}"), None, None).to_string())
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            (status, body["error"]["code"].as_str().map(str::to_string))
        }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    let created = answers.iter().filter(|(s, _)| *s == 201).count();
    assert_eq!(created, 3, "exactly three created: {answers:?}");
    assert!(
        answers
            .iter()
            .filter(|(s, _)| *s != 201)
            .all(|(s, c)| *s == 409 && c.as_deref() == Some("link_limit_reached")),
        "the rest are 409 link_limit_reached: {answers:?}"
    );
    assert_eq!(live_link_rows(&shared.course), 3);
    assert_eq!(shared.listed().await.len(), 3);
}

// --- deleting links ---

#[both_backends]
async fn deleting_a_link_answers_204_and_unlists_it(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    shared
        .course
        .delete(&link_path(&shared.media, &link.id), Some(&shared.owner))
        .await
        .expect(204, None, "delete");
    assert!(shared.listed().await.is_empty());
    assert_eq!(live_link_rows(&shared.course), 0);
    assert_eq!(link_rows(&shared.course), 1, "the token is remembered");
}

#[both_backends]
async fn deleting_an_unknown_deleted_or_other_items_link_is_404(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    let other = shared
        .course
        .create_video(&shared.owner, "Another video")
        .await;
    shared
        .course
        .delete(
            &link_path(&shared.media, "no-such-link"),
            Some(&shared.owner),
        )
        .await
        .expect(404, Some("not_found"), "unknown link");
    shared
        .course
        .delete(&link_path(&other, &link.id), Some(&shared.owner))
        .await
        .expect(404, Some("not_found"), "another item's link");
    assert_eq!(
        ids_of(&shared.listed().await),
        vec![link.id.clone()],
        "still there"
    );
    shared.delete_link(&link).await;
    shared
        .course
        .delete(&link_path(&shared.media, &link.id), Some(&shared.owner))
        .await
        .expect(404, Some("not_found"), "already deleted");
}

// --- unsupported kinds and platform modules ---

#[both_backends]
async fn channel_and_gallery_rooms_do_not_support_guest_access(backend: Backend) {
    let course = Course::start(backend).await;
    let owner = course.token(Role::Instructor).await;
    for kind in ["channel_room", "gallery_room"] {
        let media = course
            .create(&owner, json!({"title": format!("A {kind}"), "kind": kind}))
            .await;
        let value = access(&course, &owner, &media).await;
        assert_access_shape(&value, kind);
        assert_eq!(value["supported"], false, "{kind}");
        assert_eq!(value["enabled"], false, "{kind}");
        course
            .send_json(
                Method::PUT,
                &access_path(&media),
                Some(&owner),
                &json!({"enabled": true}),
            )
            .await
            .expect(409, Some("guest_access_unsupported"), kind);
        course
            .post_json(
                &links_path(&media),
                Some(&owner),
                &link_body("Invite", None, None),
            )
            .await
            .expect(409, Some("guest_access_unsupported"), kind);
        assert_eq!(access(&course, &owner, &media).await["enabled"], false);
    }
    assert_eq!(link_rows(&course), 0);
}

#[both_backends]
async fn every_other_kind_supports_guest_access(backend: Backend) {
    let course = Course::start(backend).await;
    let owner = course.token(Role::Instructor).await;
    for kind in [
        "video",
        "audio",
        "image",
        "document",
        "quiz",
        "live_event",
        "room",
    ] {
        let mut item = json!({"title": kind, "kind": kind});
        if !matches!(kind, "live_event" | "room") {
            item["source_url"] = json!("https://videos.example.edu/item");
        }
        let media = course.create(&owner, item).await;
        assert_eq!(
            access(&course, &owner, &media).await["supported"],
            true,
            "{kind}"
        );
        switch(&course, &owner, &media, true).await;
        new_link(&course, &owner, &media, &link_body("Invite", None, None)).await;
    }
}

#[both_backends]
async fn the_invitetomedia_module_off_makes_guest_access_unsupported(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    set_module(&shared.course, "invitetomedia=off").await;
    wait_for_supported(&shared, false).await;
    assert_eq!(shared.status(&link).await, "inactive", "existing links");
    shared.try_link(&link_body("New", None, None)).await.expect(
        409,
        Some("guest_access_unsupported"),
        "create",
    );
    shared
        .course
        .send_json(
            Method::PUT,
            &access_path(&shared.media),
            Some(&shared.owner),
            &json!({"enabled": true}),
        )
        .await
        .expect(409, Some("guest_access_unsupported"), "switch");
    assert_eq!(live_link_rows(&shared.course), 1);
}

#[both_backends]
async fn the_mediapage_module_off_makes_guest_access_unsupported(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    set_module(&shared.course, "mediapage=off").await;
    wait_for_supported(&shared, false).await;
    assert_eq!(shared.status(&link).await, "inactive", "existing links");
    shared.try_link(&link_body("New", None, None)).await.expect(
        409,
        Some("guest_access_unsupported"),
        "create",
    );
}

#[both_backends]
async fn turning_the_modules_back_on_makes_the_links_active_again(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    set_module(&shared.course, "invitetomedia=off").await;
    wait_for_supported(&shared, false).await;
    set_module(&shared.course, "invitetomedia=on").await;
    wait_for_supported(&shared, true).await;
    assert_eq!(shared.status(&link).await, "active");
    shared.link("After", None, None).await;
}

// --- link status ---

// --- bad input ---

/// One case per rule and per shape of mistake; the rules' edges are the
/// unit tests of `NewLink::parse` and `json_body`.
fn bad_links() -> Vec<(&'static str, Value, &'static str)> {
    let with = |field: &str, value: Value| {
        let mut body = link_body("Webinar invite", None, None);
        body[field] = value;
        body
    };
    vec![
        ("blank name", with("name", json!(" \t \n ")), "name"),
        (
            "101-character name",
            with("name", json!("n".repeat(101))),
            "name",
        ),
        (
            "missing name",
            json!({"click_limit": null, "duration_days": null}),
            "name",
        ),
        ("name of the wrong type", with("name", json!(7)), "name"),
        (
            "click_limit 0",
            with("click_limit", json!(0)),
            "click_limit",
        ),
        (
            "click_limit \"abc\"",
            with("click_limit", json!("abc")),
            "click_limit",
        ),
        (
            "duration_days 3651",
            with("duration_days", json!(3651)),
            "duration_days",
        ),
        (
            "duration_days 1.5",
            with("duration_days", json!(1.5)),
            "duration_days",
        ),
    ]
}

#[both_backends]
async fn bad_link_input_is_422_naming_the_field_and_nothing_is_stored(backend: Backend) {
    let shared = Shared::start(backend).await;
    for (case, body, field) in bad_links() {
        let reply = shared.try_link(&body).await;
        reply.expect_invalid(field, case);
        assert!(
            reply.json["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{case}: a message; body {}",
            reply.body
        );
        assert_eq!(link_rows(&shared.course), 0, "{case}: nothing stored");
    }
    assert!(shared.listed().await.is_empty());
}

#[one_backend]
async fn malformed_json_is_400_invalid_json(backend: Backend) {
    let shared = Shared::start(backend).await;
    shared
        .course
        .api(
            Method::POST,
            &links_path(&shared.media),
            Some(&shared.owner),
            Some(("application/json", br#"{"name": "#.to_vec())),
        )
        .await
        .expect(400, Some("invalid_json"), "malformed JSON");
    assert_eq!(link_rows(&shared.course), 0);
}

#[both_backends]
async fn create_checks_come_in_the_documented_order(backend: Backend) {
    let shared = Shared::start(backend).await;
    let student = shared.course.token(Role::Student).await;
    let bad = link_body("", Some(0), Some(0));
    let room = shared
        .course
        .create(
            &shared.owner,
            json!({"title": "Channel", "kind": "channel_room"}),
        )
        .await;
    shared
        .course
        .post_json(&links_path(&room), Some(&student), &bad)
        .await
        .expect(403, Some("forbidden"), "a learner before anything else");
    shared
        .course
        .post_json(&links_path(&room), Some(&shared.owner), &bad)
        .await
        .expect(409, Some("guest_access_unsupported"), "unsupported first");
    shared.switch(false).await;
    shared.try_link(&bad).await.expect(
        409,
        Some("guest_access_disabled"),
        "switch off before input",
    );
    shared.switch(true).await;
    for _ in 0..3 {
        shared.open_link().await;
    }
    shared
        .try_link(&link_body("", None, None))
        .await
        .expect_invalid("name", "input before the limit");
    assert_eq!(live_link_rows(&shared.course), 3);
}

// --- visits ---

#[both_backends]
async fn visits_list_each_guest_with_name_email_and_time_oldest_first(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    assert!(shared.visits(&link).await.is_empty(), "no visits yet");
    admitted_as(shared.app(), &link.token, "Ada Lovelace", "ada@example.com").await;
    let first_at = crate::helpers::wall(&shared.app().clock);
    shared.app().clock.advance(time::Duration::minutes(5));
    admitted_as(
        shared.app(),
        &link.token,
        "Grace Hopper",
        "grace@example.org",
    )
    .await;
    let second_at = crate::helpers::wall(&shared.app().clock);

    let visits = shared.visits(&link).await;
    assert_eq!(visits.len(), 2, "{visits:?}");
    for (visit, name, email, at) in [
        (&visits[0], "Ada Lovelace", "ada@example.com", first_at),
        (&visits[1], "Grace Hopper", "grace@example.org", second_at),
    ] {
        assert_eq!(visit["name"], name);
        assert_eq!(visit["email"], email);
        let recorded = rfc3339(&visit["at"], "at");
        assert!(
            (recorded - at).abs() < time::Duration::minutes(1),
            "{name} entered at {at}, recorded {recorded}"
        );
    }
}

#[both_backends]
async fn visits_download_as_csv(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    admitted_as(shared.app(), &link.token, "Ada Lovelace", "ada@example.com").await;
    shared.app().clock.advance(time::Duration::seconds(1));
    admitted_as(
        shared.app(),
        &link.token,
        "Doe, \"Jane\"",
        "jane@example.org",
    )
    .await;
    let (status, headers, body) = shared.visits_csv(&link).await;
    assert_eq!(status, 200, "{body}");
    let header = |name: &str| {
        headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_ascii_lowercase())
            .unwrap_or_default()
    };
    assert_eq!(
        header("content-type").replace(' ', ""),
        "text/csv;charset=utf-8"
    );
    assert!(
        header("content-disposition").starts_with("attachment"),
        "a download: {:?}",
        header("content-disposition")
    );
    assert!(
        body.trim_start_matches('\u{feff}')
            .starts_with("name,email,at\r\n")
            || body
                .trim_start_matches('\u{feff}')
                .starts_with("name,email,at\n"),
        "the header line: {body}"
    );
    let rows = csv_rows(&body);
    assert_eq!(rows.len(), 3, "header and two visits: {rows:?}");
    assert_eq!(rows[1][..2], ["Ada Lovelace", "ada@example.com"]);
    assert_eq!(rows[2][..2], ["Doe, \"Jane\"", "jane@example.org"]);
    assert!(
        rows[1..].iter().all(|r| r.len() == 3 && !r[2].is_empty()),
        "three cells with a time: {rows:?}"
    );
}

#[both_backends]
async fn csv_cells_that_could_start_a_formula_are_prefixed(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    let names = ["=1+2", "+SUM(A1)", "-2+3", "@SUM(A1)"];
    for name in names {
        admitted_as(shared.app(), &link.token, name, GUEST_EMAIL).await;
    }
    admitted_as(shared.app(), &link.token, GUEST_NAME, "-dash@example.com").await;
    let (status, _, body) = shared.visits_csv(&link).await;
    assert_eq!(status, 200);
    let rows = csv_rows(&body);
    assert_eq!(rows.len(), 6, "header and five visits: {body}");
    for name in names {
        assert!(
            rows.iter().any(|r| r[0] == format!("'{name}")),
            "{name} prefixed: {body}"
        );
        assert!(!rows.iter().any(|r| r[0] == name), "{name} bare: {body}");
    }
    assert!(
        rows.iter().any(|r| r[1] == "'-dash@example.com"),
        "the email prefixed: {body}"
    );
    let visits = shared.visits(&link).await;
    assert!(
        visits.iter().any(|v| v["name"] == "=1+2"),
        "JSON keeps the name as typed: {visits:?}"
    );
}

/// Whatever separator a spreadsheet assumes, no cell it sees can start a
/// formula: `x;=1+1` is two cells to one that splits on semicolons.
#[both_backends]
async fn csv_formulas_are_defused_after_any_separator(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    for name in ["x;=1+1", "Ada, @SUM(A1)", "a|+cmd"] {
        admitted_as(shared.app(), &link.token, name, GUEST_EMAIL).await;
    }
    let (status, _, body) = shared.visits_csv(&link).await;
    assert_eq!(status, 200);
    for defused in ["x;'=1+1", "Ada, '@SUM(A1)", "a|'+cmd"] {
        assert!(
            csv_rows(&body).iter().any(|r| r[0] == defused),
            "{defused} in {body}"
        );
    }
    for raw in [";=", ", @", "|+"] {
        assert!(!body.contains(raw), "{raw:?} left as it was: {body}");
    }
}

/// The visits come a page at a time; the CSV streams all of them, page by
/// page, in the order they came.
#[both_backends]
async fn visits_are_paged_and_the_csv_streams_them_all(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    let link_id = &link.id;
    let rows: Vec<String> = (0..1_234)
        .map(|i| {
            format!(
                "('{link_id}', 'Guest {i:04}', 'g{i}@example.edu', {})",
                1_000 + i
            )
        })
        .collect();
    crate::helpers::execute(
        &shared.app().db,
        &format!(
            "INSERT INTO guest_visits (link_id, name, email, created_at) VALUES {}",
            rows.join(", ")
        ),
    );
    let path = visits_path(&shared.media, &link.id);
    let first = shared
        .course
        .get_json(&format!("{path}?limit=500"), Some(&shared.owner))
        .await;
    first.expect(200, None, "first page");
    assert_eq!(first.json["visits"].as_array().unwrap().len(), 500);
    assert_eq!(first.json["visits"][0]["name"], "Guest 0000");
    let default = shared.course.get_json(&path, Some(&shared.owner)).await;
    assert_eq!(
        default.json["visits"].as_array().unwrap().len(),
        100,
        "100 unless asked"
    );
    let mut names = vec![];
    let mut next: Option<String> = None;
    loop {
        let url = match &next {
            Some(after) => format!("{path}?limit=500&after={after}"),
            None => format!("{path}?limit=500"),
        };
        let page = shared.course.get_json(&url, Some(&shared.owner)).await;
        page.expect(200, None, "a page");
        names.extend(
            page.json["visits"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["name"].as_str().unwrap().to_string()),
        );
        match page.json["next"].as_str() {
            Some(after) => next = Some(after.to_string()),
            None => break,
        }
    }
    assert_eq!(names.len(), 1_234);
    assert!(
        names.windows(2).all(|w| w[0] < w[1]),
        "in order, none twice"
    );

    let (status, _, body) = shared.visits_csv(&link).await;
    assert_eq!(status, 200);
    let csv = csv_rows(&body);
    assert_eq!(csv.len(), 1 + 1_234, "the header and every visit");
    assert_eq!(csv[1][0], "Guest 0000");
    assert_eq!(csv[1_234][0], "Guest 1233");

    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("after=x", "after"),
        ("limit=1.5", "limit"),
    ] {
        shared
            .course
            .get_json(&format!("{path}?{query}"), Some(&shared.owner))
            .await
            .expect_invalid(field, query);
    }
}

#[both_backends]
async fn visits_of_a_deleted_link_stay_readable(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    admitted(shared.app(), &link.token).await;
    shared.delete_link(&link).await;
    let visits = shared.visits(&link).await;
    assert_eq!(visits.len(), 1);
    assert_eq!(visits[0]["name"], GUEST_NAME);
    let (status, _, body) = shared.visits_csv(&link).await;
    assert_eq!(status, 200);
    assert_eq!(csv_rows(&body).len(), 2, "{body}");
}

#[both_backends]
async fn visits_of_another_items_link_are_not_found(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    admitted(shared.app(), &link.token).await;
    let mine = shared.course.create_video(&shared.owner, "Mine too").await;
    shared
        .course
        .get_json(&visits_path(&mine, &link.id), Some(&shared.owner))
        .await
        .expect(404, Some("not_found"), "same course, other item");
    let other = shared.course.token_in(Role::Instructor, OTHER_COURSE).await;
    let theirs = shared.course.create_video(&other, "Theirs").await;
    shared
        .course
        .get_json(&visits_path(&theirs, &link.id), Some(&other))
        .await
        .expect(404, Some("not_found"), "other course's item");
    shared
        .course
        .get_json(
            &visits_path(&shared.media, "no-such-link"),
            Some(&shared.owner),
        )
        .await
        .expect(404, Some("not_found"), "unknown link");
}

// --- who may do it ---

#[both_backends]
async fn reading_guest_access_follows_the_matrix(backend: Backend) {
    let (shared, people) = shared_with_people(backend).await;
    shared.open_link().await;
    for who in EVERYONE {
        let reply = shared
            .course
            .get_json(&access_path(&shared.media), people.token(who))
            .await;
        let (status, code) = expected(who, 200);
        reply.expect(status, code, &format!("{who:?}"));
        if status == 200 {
            assert_eq!(reply.json["links"].as_array().unwrap().len(), 1);
        } else {
            assert!(
                !reply.body.contains("/g/"),
                "{who:?}: no link URL leaks: {}",
                reply.body
            );
        }
    }
}

#[both_backends]
async fn switching_guest_access_follows_the_matrix(backend: Backend) {
    let (shared, people) = shared_with_people(backend).await;
    let path = access_path(&shared.media);
    for who in [Who::Student, Who::OtherCourse, Who::Nobody] {
        let (status, code) = expected(who, 200);
        shared
            .course
            .send_json(
                Method::PUT,
                &path,
                people.token(who),
                &json!({"enabled": false}),
            )
            .await
            .expect(status, code, &format!("{who:?}"));
        assert_eq!(
            shared.access().await["enabled"],
            true,
            "{who:?} changed nothing"
        );
    }
    for (who, on) in [(Who::TeachingAssistant, false), (Who::Instructor, true)] {
        let reply = shared
            .course
            .send_json(
                Method::PUT,
                &path,
                people.token(who),
                &json!({"enabled": on}),
            )
            .await;
        reply.expect(200, None, &format!("{who:?}"));
        assert_eq!(shared.access().await["enabled"], on, "{who:?}");
    }
}

#[both_backends]
async fn creating_links_follows_the_matrix(backend: Backend) {
    let (shared, people) = shared_with_people(backend).await;
    for who in EVERYONE {
        let reply = shared
            .course
            .post_json(
                &links_path(&shared.media),
                people.token(who),
                &link_body(&format!("By {who:?}"), None, None),
            )
            .await;
        let (status, code) = expected(who, 201);
        reply.expect(status, code, &format!("{who:?}"));
    }
    let names: Vec<Value> = shared
        .listed()
        .await
        .iter()
        .map(|l| l["name"].clone())
        .collect();
    assert_eq!(
        names,
        vec![json!("By Instructor"), json!("By TeachingAssistant")]
    );
    assert_eq!(live_link_rows(&shared.course), 2);
}

#[both_backends]
async fn deleting_links_follows_the_matrix(backend: Backend) {
    let (shared, people) = shared_with_people(backend).await;
    let first = shared.open_link().await;
    let second = shared.open_link().await;
    for who in [Who::Student, Who::OtherCourse, Who::Nobody] {
        let (status, code) = expected(who, 204);
        shared
            .course
            .delete(&link_path(&shared.media, &first.id), people.token(who))
            .await
            .expect(status, code, &format!("{who:?}"));
        assert_eq!(shared.listed().await.len(), 2, "{who:?} deleted nothing");
    }
    for (who, link) in [(Who::TeachingAssistant, &first), (Who::Instructor, &second)] {
        shared
            .course
            .delete(&link_path(&shared.media, &link.id), people.token(who))
            .await
            .expect(204, None, &format!("{who:?}"));
    }
    assert!(shared.listed().await.is_empty());
}

#[both_backends]
async fn reading_visits_follows_the_matrix(backend: Backend) {
    let (shared, people) = shared_with_people(backend).await;
    let link = shared.open_link().await;
    admitted(shared.app(), &link.token).await;
    let json_path = visits_path(&shared.media, &link.id);
    let csv_path = format!("{json_path}?format=csv");
    for who in EVERYONE {
        let (status, code) = expected(who, 200);
        let reply = shared.course.get_json(&json_path, people.token(who)).await;
        reply.expect(status, code, &format!("{who:?} JSON"));
        let csv = shared.course.get_json(&csv_path, people.token(who)).await;
        assert_eq!(csv.status, status, "{who:?} CSV");
        if status != 200 {
            assert!(
                !reply.body.contains(GUEST_EMAIL) && !csv.body.contains(GUEST_EMAIL),
                "{who:?}: no visit leaks"
            );
        }
    }
}

/// Every guest-access route of `media` answers 404 `not_found`.
async fn assert_every_route_not_found(shared: &Shared, media: &str, link: &Link, case: &str) {
    let token = Some(shared.owner.as_str());
    let replies = [
        (
            "GET",
            shared.course.get_json(&access_path(media), token).await,
        ),
        (
            "PUT",
            shared
                .course
                .send_json(
                    Method::PUT,
                    &access_path(media),
                    token,
                    &json!({"enabled": true}),
                )
                .await,
        ),
        (
            "POST",
            shared
                .course
                .post_json(&links_path(media), token, &link_body("Invite", None, None))
                .await,
        ),
        (
            "DELETE",
            shared
                .course
                .delete(&link_path(media, &link.id), token)
                .await,
        ),
        (
            "visits",
            shared
                .course
                .get_json(&visits_path(media, &link.id), token)
                .await,
        ),
    ];
    for (route, reply) in replies {
        reply.expect(404, Some("not_found"), &format!("{case}: {route}"));
    }
}

#[both_backends]
async fn guest_access_of_an_unknown_item_is_not_found(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    assert_every_route_not_found(&shared, "no-such-item", &link, "unknown item").await;
    assert_eq!(live_link_rows(&shared.course), 1);
}

#[both_backends]
async fn guest_access_of_a_deleted_item_is_not_found(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    shared.delete_media().await;
    assert_every_route_not_found(&shared, &shared.media, &link, "deleted item").await;
}

#[both_backends]
async fn a_guest_cookie_opens_no_management_route(backend: Backend) {
    let shared = Shared::start(backend).await;
    let link = shared.open_link().await;
    let guest = admitted(shared.app(), &link.token).await;
    let cookie = guest.cookie_header().unwrap();
    assert!(cookie.contains(GUEST_COOKIE));
    let routes = [
        (Method::GET, access_path(&shared.media), None),
        (
            Method::PUT,
            access_path(&shared.media),
            Some(json!({"enabled": false})),
        ),
        (
            Method::POST,
            links_path(&shared.media),
            Some(link_body("By a guest", None, None)),
        ),
        (Method::DELETE, link_path(&shared.media, &link.id), None),
        (Method::GET, visits_path(&shared.media, &link.id), None),
        (
            Method::GET,
            format!("{}?format=csv", visits_path(&shared.media, &link.id)),
            None,
        ),
    ];
    for (method, path, body) in routes {
        let mut request = shared
            .app()
            .http
            .request(method.clone(), shared.app().url(&path))
            .header("Cookie", &cookie);
        if let Some(body) = body {
            request = request
                .header("Content-Type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), 401, "{method} {path}");
    }
    assert_eq!(shared.access().await["enabled"], true, "still on");
    assert_eq!(ids_of(&shared.listed().await), vec![link.id.clone()]);
    assert_eq!(visit_rows(&shared.course), 1);
}

// --- the media page offers it to managers ---

/// The media page of `media` as the holder of `token`.
async fn media_page(course: &Course, media: &str, token: &str) -> Page {
    let page = course
        .app
        .get_page(&format!("/media/{media}"), Some(token))
        .await;
    assert_eq!(page.status, 200, "the media page: {}", page.body);
    page
}

const MENU_ITEM: &str = "#media-menu [role=menuitem][data-action=\"guest-access\"]";

#[both_backends]
async fn managers_find_manage_guest_access_in_the_menu_and_a_share_button(backend: Backend) {
    let (shared, people) = shared_with_people(backend).await;
    for who in [Who::Instructor, Who::TeachingAssistant] {
        let page = media_page(&shared.course, &shared.media, people.token(who).unwrap()).await;
        assert_eq!(count_of(&page, MENU_ITEM), 1, "{who:?}: the menu item");
        assert_eq!(
            page.text(MENU_ITEM).as_deref(),
            Some("Manage guest access"),
            "{who:?}"
        );
        assert_eq!(count_of(&page, "#share-button"), 1, "{who:?}: Share");
        assert_eq!(
            element_name(&page, "#guest-access-dialog").as_deref(),
            Some("dialog"),
            "{who:?}: a native dialog"
        );
        let dialog = page.text("#guest-access-dialog").unwrap_or_default();
        for words in [
            "Manage guest access",
            "Allow link-based access without sign-in. Up to 3 guest links available.",
            "Enable guest access",
            "Create new link",
        ] {
            assert!(dialog.contains(words), "{who:?}: {words:?} in {dialog}");
        }
    }
}

#[both_backends]
async fn learners_get_neither_the_menu_item_nor_share(backend: Backend) {
    let (shared, people) = shared_with_people(backend).await;
    let page = media_page(&shared.course, &shared.media, &people.student).await;
    assert_eq!(
        count_of(
            &page,
            "[data-action=\"guest-access\"], #share-button, #guest-access-dialog"
        ),
        0,
        "{}",
        page.body
    );
}

#[both_backends]
async fn a_channel_rooms_menu_item_explains_that_guest_access_is_not_supported(backend: Backend) {
    let course = Course::start(backend).await;
    let owner = course.token(Role::Instructor).await;
    for kind in ["channel_room", "gallery_room"] {
        let media = course
            .create(&owner, json!({"title": format!("A {kind}"), "kind": kind}))
            .await;
        let page = media_page(&course, &media, &owner).await;
        assert_eq!(count_of(&page, MENU_ITEM), 1, "{kind}: the menu item");
        let opens = page
            .attr(MENU_ITEM, "data-opens")
            .unwrap_or_else(|| panic!("{kind}: the item opens a dialog"));
        assert_ne!(opens, "guest-access-dialog", "{kind}: not the modal");
        let explanation = page
            .text(&format!("dialog#{opens}"))
            .unwrap_or_else(|| panic!("{kind}: dialog #{opens}: {}", page.body));
        assert!(
            explanation.to_lowercase().contains("not supported"),
            "{kind}: {explanation}"
        );
    }
}

#[both_backends]
async fn with_a_module_off_neither_the_menu_item_nor_share_is_offered(backend: Backend) {
    let shared = Shared::start(backend).await;
    set_module(&shared.course, "mediapage=off").await;
    let gone = eventually(CACHE_WAIT, || async {
        let page = media_page(&shared.course, &shared.media, &shared.owner).await;
        count_of(&page, &format!("{MENU_ITEM}, #share-button")) == 0
    })
    .await;
    assert!(gone, "within {CACHE_WAIT:?}");
}
