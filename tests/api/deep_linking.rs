//! Deep linking: the picker a deep-linking launch shows, the signed
//! LtiDeepLinkingResponse it returns to the platform, and the resource-link
//! launch from that placement that opens the chosen media page.

use std::collections::BTreeSet;

use guestlink::demo::claims::{self, LaunchClaims, Role};
use guestlink::lti::claims as c;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

use crate::helpers::{Backend, Page};
use crate::media_helpers::{
    COURSE, Course, OTHER_COURSE, attrs_of_all, count_of, follow_redirects,
};
use guestlink_test_macros::{both_backends, one_backend};

const PICKER: &str = "form#deep-link-form";
const RETURN_FORM: &str = "form#deep-link-return";

fn return_url(course: &Course) -> String {
    format!("{}/deep-link/return", course.reg.issuer)
}

fn settings(claims: &mut Value) -> &mut Value {
    &mut claims[c::DEEP_LINKING_SETTINGS]
}

/// A deep-linking launch as `role` into the course; `change` alters the
/// claims (built like `TestApp::claims` builds resource-link ones) before signing.
async fn deep_link_launch(course: &Course, role: Role, change: impl FnOnce(&mut Value)) -> Page {
    let (app, reg) = (&course.app, &course.reg);
    let login = app.login(reg).await;
    let mut claims = claims::deep_linking(
        &LaunchClaims {
            lms: reg.lms,
            issuer: &reg.issuer,
            client_id: &reg.client_id,
            deployment_id: &reg.deployment_id,
            nonce: &login.nonce,
            role,
            now: app.clock.now(),
            target_link_uri: &app.url("/lti/launch"),
            context_id: COURSE,
        },
        &return_url(course),
    );
    change(&mut claims);
    let page = app.post_token(&login, &app.sign(&claims)).await;
    follow_redirects(app, page).await
}

/// The picker of an instructor's deep-linking launch, and the session its form posts.
async fn picker(course: &Course, change: impl FnOnce(&mut Value)) -> (Page, String) {
    let page = deep_link_launch(course, Role::Instructor, change).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.attr("main", "data-page").as_deref(), Some("deep-link"));
    let session = page
        .attr(&format!("{PICKER} input[name=session]"), "value")
        .filter(|s| !s.is_empty())
        .expect("the picker form carries the session");
    (page, session)
}

async fn post_choice(course: &Course, session: &str, media: &[&str], action: &str) -> Page {
    let mut fields = vec![("session", session)];
    fields.extend(media.iter().map(|id| ("media", *id)));
    fields.push(("action", action));
    let response = course
        .app
        .http
        .post(course.app.url("/lti/deep-link"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(&fields).unwrap())
        .send()
        .await
        .unwrap();
    Page::from(response).await
}

/// Checks the auto-submitting return form and verifies its JWT against the
/// tool's published key set; returns the claims.
async fn verified_response(course: &Course, page: &Page) -> Value {
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(
        page.attr("main", "data-page").as_deref(),
        Some("deep-link-return")
    );
    assert_eq!(page.attr(RETURN_FORM, "action"), Some(return_url(course)));
    assert_eq!(
        page.attr(RETURN_FORM, "method").map(|m| m.to_lowercase()),
        Some("post".into())
    );
    assert!(
        page.attr(RETURN_FORM, "data-autosubmit").is_some(),
        "the form submits itself"
    );
    let jwt = page
        .attr(&format!("{RETURN_FORM} input[name=JWT]"), "value")
        .expect("a JWT field");

    let header = jsonwebtoken::decode_header(&jwt).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    let kid = header.kid.expect("a kid in the header");
    let jwks: JwkSet = course
        .app
        .http
        .get(course.app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwk = jwks.find(&kid).expect("the kid is published");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[&course.reg.issuer]);
    validation.set_issuer(&[&course.reg.client_id]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud"]);
    let claims =
        jsonwebtoken::decode::<Value>(&jwt, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
            .unwrap_or_else(|e| panic!("the response verifies: {e}"))
            .claims;
    assert_protocol_claims(course, &claims);
    claims
}

fn assert_protocol_claims(course: &Course, claims: &Value) {
    let now = course.app.clock.now().unix();
    let iat = claims["iat"].as_i64().expect("iat");
    let exp = claims["exp"].as_i64().expect("exp");
    assert!((iat - now).abs() <= 60, "iat is now: {iat} vs {now}");
    assert!(exp > now, "exp is later");
    assert!(
        claims["nonce"].as_str().is_some_and(|n| !n.is_empty()),
        "a nonce"
    );
    assert_eq!(claims[c::MESSAGE_TYPE], c::DEEP_LINKING_RESPONSE);
    assert_eq!(claims[c::VERSION], "1.3.0");
    assert_eq!(claims[c::DEPLOYMENT_ID], course.reg.deployment_id.as_str());
}

fn content_items(claims: &Value) -> &Vec<Value> {
    claims[c::DL_CONTENT_ITEMS]
        .as_array()
        .unwrap_or_else(|| panic!("content_items is an array: {claims}"))
}

fn assert_resource_link(course: &Course, item: &Value, id: &str, title: &str) {
    assert_eq!(item["type"], "ltiResourceLink", "{item}");
    assert_eq!(item["title"], title, "{item}");
    assert!(item["text"].is_string(), "a text: {item}");
    assert_eq!(
        item["url"].as_str(),
        Some(course.app.url(&format!("/media/{id}")).as_str()),
        "{item}"
    );
    assert_eq!(item["custom"], json!({"guestlink_media_id": id}), "{item}");
}

fn assert_refused(page: &Page, status: u16, case: &str) {
    assert_eq!(page.status, status, "{case}: {}", page.body);
    assert_eq!(
        count_of(page, RETURN_FORM),
        0,
        "{case}: no response is returned"
    );
}

// --- the picker ---

#[both_backends]
async fn a_deep_linking_launch_shows_the_course_media_as_a_picker(backend: Backend) {
    let course = Course::start(backend).await;
    let instructor = course.token(Role::Instructor).await;
    let first = course.create_video(&instructor, "First").await;
    let second = course
        .create(
            &instructor,
            json!({"title": "Office hours", "kind": "room"}),
        )
        .await;
    let elsewhere = course.token_in(Role::Instructor, OTHER_COURSE).await;
    course.create_video(&elsewhere, "Not this course").await;

    let (page, _) = picker(&course, |_| {}).await;
    assert_eq!(
        page.attr(PICKER, "action").as_deref(),
        Some("/lti/deep-link")
    );
    assert_eq!(
        page.attr(PICKER, "method")
            .map(|m| m.to_lowercase())
            .as_deref(),
        Some("post")
    );
    assert_eq!(
        page.attr(&format!("{PICKER} input[name=session]"), "type")
            .as_deref(),
        Some("hidden")
    );
    let offered: BTreeSet<String> =
        attrs_of_all(&page, &format!("{PICKER} input[name=media]"), "value")
            .into_iter()
            .collect();
    assert_eq!(
        offered,
        BTreeSet::from([first, second]),
        "the course's items only"
    );
    let types = attrs_of_all(&page, &format!("{PICKER} input[name=media]"), "type");
    assert!(
        types.iter().all(|t| t == "checkbox"),
        "accept_multiple: checkboxes, got {types:?}"
    );
    for action in ["add", "cancel"] {
        assert_eq!(
            count_of(
                &page,
                &format!("{PICKER} button[name=action][value={action}]")
            ),
            1,
            "{action} button"
        );
    }
}

#[both_backends]
async fn a_single_choice_request_offers_radio_buttons(backend: Backend) {
    let course = Course::start(backend).await;
    let instructor = course.token(Role::Instructor).await;
    course.create_video(&instructor, "One").await;
    course.create_video(&instructor, "Two").await;
    let (page, _) = picker(&course, |claims| {
        settings(claims)["accept_multiple"] = json!(false);
    })
    .await;
    let types = attrs_of_all(&page, &format!("{PICKER} input[name=media]"), "type");
    assert_eq!(types, vec!["radio", "radio"]);
}

#[both_backends]
async fn unsupported_accept_types_are_explained_and_only_cancel_is_offered(backend: Backend) {
    let course = Course::start(backend).await;
    let instructor = course.token(Role::Instructor).await;
    course.create_video(&instructor, "One").await;
    let (page, session) = picker(&course, |claims| {
        settings(claims)["accept_types"] = json!(["file", "html"]);
    })
    .await;
    assert_eq!(count_of(&page, "[data-error=unsupported_types]"), 1);
    assert_eq!(count_of(&page, "button[name=action][value=add]"), 0);
    assert_eq!(count_of(&page, "button[name=action][value=cancel]"), 1);

    let claims = verified_response(
        &course,
        &post_choice(&course, &session, &[], "cancel").await,
    )
    .await;
    assert!(content_items(&claims).is_empty());
}

// --- the response ---

#[both_backends]
async fn choosing_an_item_returns_a_signed_response_with_every_claim(backend: Backend) {
    let course = Course::start(backend).await;
    let instructor = course.token(Role::Instructor).await;
    let id = course
        .create(
            &instructor,
            json!({
                "title": "Lecture 1",
                "kind": "video",
                "description": "Week one",
                "source_url": "https://videos.example.edu/l1.mp4",
            }),
        )
        .await;
    let (_, session) = picker(&course, |_| {}).await;
    let page = post_choice(&course, &session, &[&id], "add").await;
    let claims = verified_response(&course, &page).await;
    assert_eq!(
        claims[c::DL_DATA],
        "opaque-platform-data-123",
        "data echoed"
    );
    let items = content_items(&claims);
    assert_eq!(items.len(), 1, "{claims}");
    assert_resource_link(&course, &items[0], &id, "Lecture 1");
}

#[both_backends]
async fn several_items_come_back_when_the_platform_accepts_multiple(backend: Backend) {
    let course = Course::start(backend).await;
    let instructor = course.token(Role::Instructor).await;
    let first = course.create_video(&instructor, "First").await;
    let second = course.create_video(&instructor, "Second").await;
    let (_, session) = picker(&course, |_| {}).await;
    let page = post_choice(&course, &session, &[&first, &second], "add").await;
    let claims = verified_response(&course, &page).await;
    let items = content_items(&claims);
    assert_eq!(items.len(), 2, "{claims}");
    let returned: BTreeSet<&str> = items
        .iter()
        .map(|i| i["custom"]["guestlink_media_id"].as_str().unwrap())
        .collect();
    assert_eq!(returned, BTreeSet::from([first.as_str(), second.as_str()]));
}

#[both_backends]
async fn cancel_returns_no_content_items(backend: Backend) {
    let course = Course::start(backend).await;
    let instructor = course.token(Role::Instructor).await;
    let id = course.create_video(&instructor, "Not chosen").await;
    let (_, session) = picker(&course, |_| {}).await;
    let page = post_choice(&course, &session, &[&id], "cancel").await;
    let claims = verified_response(&course, &page).await;
    assert_eq!(claims[c::DL_CONTENT_ITEMS], json!([]));
    assert_eq!(claims[c::DL_DATA], "opaque-platform-data-123");
}

#[both_backends]
async fn no_data_claim_when_the_request_had_none(backend: Backend) {
    let course = Course::start(backend).await;
    let instructor = course.token(Role::Instructor).await;
    let id = course.create_video(&instructor, "Chosen").await;
    let (_, session) = picker(&course, |claims| {
        settings(claims).as_object_mut().unwrap().remove("data");
    })
    .await;
    let page = post_choice(&course, &session, &[&id], "add").await;
    let claims = verified_response(&course, &page).await;
    assert!(claims.get(c::DL_DATA).is_none(), "{claims}");
    assert_eq!(content_items(&claims).len(), 1);
}

/// Deep Linking 2.0 calls `data` opaque: an object (as the lti1p3platform
/// library sends) comes back as the same object.
#[both_backends]
async fn data_of_any_json_type_comes_back_as_it_was_sent(backend: Backend) {
    let course = Course::start(backend).await;
    let instructor = course.token(Role::Instructor).await;
    let id = course.create_video(&instructor, "Chosen").await;
    let data = json!({"context": "course-v1:edX+DemoX", "block": [1, "two", null]});
    let sent = data.clone();
    let (_, session) = picker(&course, move |claims| settings(claims)["data"] = sent).await;
    let page = post_choice(&course, &session, &[&id], "add").await;
    let claims = verified_response(&course, &page).await;
    assert_eq!(claims[c::DL_DATA], data, "{claims}");
}

/// A deep-linking request names its user: `sub` is required there, unlike
/// in a resource-link launch.
#[both_backends]
async fn a_deep_linking_request_without_sub_is_refused(backend: Backend) {
    let course = Course::start(backend).await;
    let page = deep_link_launch(&course, Role::Instructor, |claims| {
        claims.as_object_mut().unwrap().remove("sub");
    })
    .await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert_eq!(page.error_code().as_deref(), Some("missing_sub"));
}

// --- refused choices ---

#[both_backends]
async fn two_items_when_only_one_is_accepted_is_422(backend: Backend) {
    let course = Course::start(backend).await;
    let instructor = course.token(Role::Instructor).await;
    let first = course.create_video(&instructor, "First").await;
    let second = course.create_video(&instructor, "Second").await;
    let (_, session) = picker(&course, |claims| {
        settings(claims)["accept_multiple"] = json!(false);
    })
    .await;
    let page = post_choice(&course, &session, &[&first, &second], "add").await;
    assert_refused(&page, 422, "two items");
}

#[both_backends]
async fn add_without_a_choice_is_422(backend: Backend) {
    let course = Course::start(backend).await;
    let instructor = course.token(Role::Instructor).await;
    course.create_video(&instructor, "Not chosen").await;
    let (_, session) = picker(&course, |_| {}).await;
    let page = post_choice(&course, &session, &[], "add").await;
    assert_refused(&page, 422, "nothing chosen");
}

#[both_backends]
async fn another_courses_item_or_an_unknown_one_is_404(backend: Backend) {
    let course = Course::start(backend).await;
    let elsewhere = course.token_in(Role::Instructor, OTHER_COURSE).await;
    let theirs = course.create_video(&elsewhere, "Other course").await;
    let (_, session) = picker(&course, |_| {}).await;
    for (case, id) in [
        ("other course", theirs.as_str()),
        ("unknown", "no-such-item"),
    ] {
        let page = post_choice(&course, &session, &[id], "add").await;
        assert_refused(&page, 404, case);
    }
}

#[both_backends]
async fn only_a_deep_linking_session_can_answer(backend: Backend) {
    let course = Course::start(backend).await;
    let instructor = course.token(Role::Instructor).await;
    let id = course.create_video(&instructor, "Chosen").await;
    let page = post_choice(&course, &instructor, &[&id], "add").await;
    assert_refused(&page, 400, "a resource-link session");
    let page = post_choice(&course, "not-a-session", &[&id], "add").await;
    assert_refused(&page, 401, "an unknown session");
    assert_eq!(page.error_code().as_deref(), Some("session_required"));
}

// --- the launch that follows ---

fn with_media(id: &str) -> impl FnOnce(&mut Value) {
    let id = id.to_string();
    move |claims| {
        claims[c::CUSTOM]["guestlink_media_id"] = json!(id);
    }
}

#[both_backends]
async fn a_launch_of_the_chosen_item_opens_its_media_page(backend: Backend) {
    let course = Course::start(backend).await;
    let instructor = course.token(Role::Instructor).await;
    let id = course.create_video(&instructor, "Chosen").await;
    let (_, session) = picker(&course, |_| {}).await;
    let claims = verified_response(
        &course,
        &post_choice(&course, &session, &[&id], "add").await,
    )
    .await;
    let custom = content_items(&claims)[0]["custom"]["guestlink_media_id"]
        .as_str()
        .unwrap()
        .to_string();

    for role in [Role::Student, Role::Instructor] {
        let page = course.launch_with_claims(role, with_media(&custom)).await;
        assert_eq!(page.status, 200, "{role:?}: {}", page.body);
        assert_eq!(
            page.attr("main", "data-page").as_deref(),
            Some("media"),
            "{role:?}"
        );
        assert_eq!(
            page.attr("main", "data-media-id"),
            Some(id.clone()),
            "{role:?}"
        );
        assert!(page.session_token().is_some(), "{role:?}: a session token");
    }
}

#[both_backends]
async fn a_launch_of_another_courses_item_lands_on_the_library_with_a_notice(backend: Backend) {
    let course = Course::start(backend).await;
    let elsewhere = course.token_in(Role::Instructor, OTHER_COURSE).await;
    let theirs = course.create_video(&elsewhere, "Course two secret").await;
    let page = course
        .launch_with_claims(Role::Student, with_media(&theirs))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.attr("main", "data-page").as_deref(), Some("course"));
    assert_eq!(count_of(&page, "[data-notice=media_not_in_course]"), 1);
    assert!(
        !page.body.contains("Course two secret"),
        "nothing of the item is shown"
    );
}

/// The chosen content goes back to the LMS signed, from the user's
/// browser: never to a plain-http return URL (only the demo's own LMS, on
/// this machine, may use one).
#[one_backend]
async fn a_plain_http_return_url_is_refused(backend: Backend) {
    let course = Course::start(backend).await;
    for url in [
        "http://lms.example.edu/deep-link/return",
        "http://127.0.0.1:9/return",
    ] {
        let page = deep_link_launch(&course, Role::Instructor, |claims| {
            settings(claims)["deep_link_return_url"] = json!(url);
        })
        .await;
        assert_eq!(page.status, 400, "{url}: {}", page.body);
        assert_eq!(
            page.error_code().as_deref(),
            Some("insecure_return_url"),
            "{url}"
        );
    }
    assert_eq!(
        course.app.session_count(),
        0,
        "no session for a refused launch"
    );
}

/// The picker reloaded in a frame without cookies: the tab posts its session
/// back with `navigate`, and gets the picker, not a response to the LMS.
#[both_backends]
async fn the_picker_resumes_from_a_navigation_post(backend: Backend) {
    let course = Course::start(backend).await;
    let (_, session) = picker(&course, |_| {}).await;
    let post = |site: &'static str| {
        let request = course
            .app
            .http
            .post(course.app.url("/lti/deep-link"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Sec-Fetch-Site", site)
            .body(format!("session={session}&navigate=1"));
        async move { Page::from(request.send().await.unwrap()).await }
    };
    let page = post("same-origin").await;
    assert_eq!(
        page.attr("main", "data-page").as_deref(),
        Some("deep-link"),
        "{}",
        page.body
    );
    assert_eq!(count_of(&page, RETURN_FORM), 0, "nothing sent to the LMS");
    let forged = post("cross-site").await;
    assert_eq!(forged.error_code().as_deref(), Some("cross_site_request"));
}
