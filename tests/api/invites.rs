//! Invite links through the JSON API and the invitee's pages: roles by
//! kind, who may invite, the invitation page spending nothing, the address
//! check and its limit, the binding to one browser, expiry, Revoke, Resend,
//! one live invitation per address, a role change reaching an open room
//! page, and the platform's module switch.

use reqwest::Method;
use serde_json::{Value, json};

use crate::guest_helpers::{Browser, Shared, assert_unavailable, cookie_attributes, set_module};
use crate::helpers::{Backend, count_rows};
use crate::invite_helpers::{
    INVITEE_COOKIE, INVITEE_EMAIL, INVITEE_NAME, Invite, accepted, confirm_in, invite, invite_body,
    invite_path, invites_path, listed, listed_one, page_path, resend, set_role, shared_video,
    try_invite, view_path,
};
use crate::media_helpers::{EVERYONE, Who};
use crate::room_helpers::Room;
use guestlink_test_macros::both_backends;

/// The test's invitee invited to the shared item as its kind's first role.
async fn invited(shared: &Shared) -> Invite {
    invite(
        &shared.course,
        &shared.owner,
        &shared.media,
        INVITEE_EMAIL,
        None,
    )
    .await
}

fn bound_sessions(shared: &Shared) -> i64 {
    count_rows(&shared.app().db, "sessions WHERE invite_id IS NOT NULL")
}

// --- roles by kind, and what a new invitation must be ---

#[both_backends]
async fn each_kind_offers_its_roles_and_refuses_others(backend: Backend) {
    let shared = shared_video(backend).await;
    let (course, owner, video) = (&shared.course, shared.owner.as_str(), shared.media.as_str());
    let list = listed(course, owner, video).await;
    assert_eq!(list["roles"], json!(["viewer"]));
    assert_eq!(list["invites"], json!([]));
    assert_eq!(list["offered"], true);
    assert_eq!(list["default_days"], 7);
    for role in ["moderator", "speaker", "contributor", "Viewer"] {
        try_invite(
            course,
            owner,
            video,
            &invite_body("a@b.example.org", "A B", Some(role)),
        )
        .await
        .expect_invalid("role", role);
    }
    let viewer = invite(course, owner, video, INVITEE_EMAIL, None).await;
    assert_eq!(viewer.json["role"], "viewer");
    assert_eq!(viewer.json["status"], "pending");
    assert_eq!(viewer.json["email_status"], "not_sent");
    assert!(
        viewer.json["url"]
            .as_str()
            .unwrap()
            .ends_with(&page_path(&viewer.token))
    );
    // The link is 128 bits or more of randomness, and only its hash is kept.
    assert!(viewer.token.len() >= 22, "{}", viewer.token);
    assert_eq!(
        count_rows(
            &shared.app().db,
            &format!("invites WHERE token_hash LIKE '%{}%'", viewer.token)
        ),
        0
    );
    // A week unless the owner picks another length.
    let created = crate::guest_helpers::rfc3339(&viewer.json["created_at"], "created_at");
    let expires = crate::guest_helpers::rfc3339(&viewer.json["expires_at"], "expires_at");
    assert_eq!(expires - created, time::Duration::days(7));

    let room = course
        .create(owner, json!({"title": "Office hours", "kind": "room"}))
        .await;
    let rooms = listed(course, owner, &room).await;
    assert_eq!(rooms["roles"], json!(["viewer", "speaker", "moderator"]));
    for role in ["viewer", "speaker", "moderator"] {
        let email = format!("{role}@partner.example.org");
        let made = invite(course, owner, &room, &email, Some(role)).await;
        assert_eq!(made.json["role"], role);
    }

    let channel = course
        .create(owner, json!({"title": "Channel", "kind": "channel_room"}))
        .await;
    try_invite(
        course,
        owner,
        &channel,
        &invite_body("c@d.example.org", "C D", None),
    )
    .await
    .expect(409, Some("invites_disabled"), "a channel room");
}

#[both_backends]
async fn bad_input_names_its_field_and_stores_nothing(backend: Backend) {
    let shared = shared_video(backend).await;
    let (course, owner, video) = (&shared.course, shared.owner.as_str(), shared.media.as_str());
    let cases = [
        (json!({"name": "A B"}), "email"),
        (json!({"email": "not an address", "name": "A B"}), "email"),
        (json!({"email": 7, "name": "A B"}), "email"),
        (json!({"email": "a@b.example.org"}), "name"),
        (json!({"email": "a@b.example.org", "name": "   "}), "name"),
        (
            json!({"email": "a@b.example.org", "name": "x".repeat(101)}),
            "name",
        ),
        (
            json!({"email": "a@b.example.org", "name": "A B", "expires_days": 0}),
            "expires_days",
        ),
        (
            json!({"email": "a@b.example.org", "name": "A B", "expires_days": 366}),
            "expires_days",
        ),
        (
            json!({"email": "a@b.example.org", "name": "A B", "expires_days": "7"}),
            "expires_days",
        ),
        (
            json!({"email": "a@b.example.org", "name": "A B", "send_email": "yes"}),
            "send_email",
        ),
        // No mail server here: asking for email is refused, not ignored.
        (
            json!({"email": "a@b.example.org", "name": "A B", "send_email": true}),
            "send_email",
        ),
    ];
    for (body, field) in cases {
        try_invite(course, owner, video, &body)
            .await
            .expect_invalid(field, &body.to_string());
    }
    let not_json = course
        .api(
            Method::POST,
            &invites_path(video),
            Some(owner),
            Some(("application/json", b"{not json".to_vec())),
        )
        .await;
    assert_eq!(not_json.status, 400, "{}", not_json.body);
    assert_eq!(count_rows(&shared.app().db, "invites"), 0);
    // Chosen days are kept.
    let reply = try_invite(
        course,
        owner,
        video,
        &json!({"email": "a@b.example.org", "name": "A B", "expires_days": 30}),
    )
    .await;
    reply.expect(201, None, "30 days");
    let created = crate::guest_helpers::rfc3339(&reply.json["created_at"], "created_at");
    let expires = crate::guest_helpers::rfc3339(&reply.json["expires_at"], "expires_at");
    assert_eq!(expires - created, time::Duration::days(30));
}

// --- who may invite ---

#[both_backends]
async fn only_people_who_manage_the_item_invite(backend: Backend) {
    let shared = shared_video(backend).await;
    let course = &shared.course;
    let people = course.people().await;
    let made = invite(course, &shared.owner, &shared.media, INVITEE_EMAIL, None).await;
    let video = shared.media.as_str();
    for who in EVERYONE {
        let token = people.token(who);
        let expected = match who {
            Who::Instructor | Who::TeachingAssistant => None,
            Who::Student => Some((403, "forbidden")),
            Who::OtherCourse => Some((404, "not_found")),
            Who::Nobody => Some((401, "session_required")),
        };
        let list = course.get_json(&invites_path(video), token).await;
        // Even a malformed body is refused for who is asking first.
        let create = course
            .api(
                Method::POST,
                &invites_path(video),
                token,
                Some(("application/json", b"{oops".to_vec())),
            )
            .await;
        let patch = course
            .send_json(
                Method::PATCH,
                &invite_path(video, &made.id),
                token,
                &json!({"role": 5}),
            )
            .await;
        let again = resend(course, token.unwrap_or(""), video, &made.id).await;
        let revoke = course.delete(&invite_path(video, &made.id), token).await;
        match expected {
            None => {
                list.expect(200, None, &format!("{who:?} lists"));
                assert_eq!(
                    create.status, 400,
                    "{who:?} posts bad JSON: {}",
                    create.body
                );
                patch.expect_invalid("role", &format!("{who:?} patches"));
            }
            Some((status, code)) => {
                for (what, reply) in [
                    ("list", &list),
                    ("create", &create),
                    ("patch", &patch),
                    ("revoke", &revoke),
                ] {
                    reply.expect(status, Some(code), &format!("{who:?} {what}"));
                }
                if who != Who::Nobody {
                    again.expect(status, Some(code), &format!("{who:?} resend"));
                }
            }
        }
    }
    // Only the managers' own calls changed anything: the last revoke was
    // the teaching assistant's.
    assert_eq!(
        listed_one(course, &shared.owner, video, &made.id).await["status"],
        "revoked"
    );
}

// --- the invitee's way in ---

#[both_backends]
async fn opening_the_invitation_spends_nothing(backend: Backend) {
    let shared = shared_video(backend).await;
    let made = invited(&shared).await;
    let app = shared.app();
    for _ in 0..3 {
        let mut scanner = Browser::new();
        let page = scanner.get(app, &page_path(&made.token)).await;
        assert_eq!(page.status, 200, "{}", page.body);
        // The page names the item, who invited and the role.
        let text = page.text("main").unwrap();
        assert!(text.contains(crate::guest_helpers::ITEM_TITLE), "{text}");
        assert!(text.contains("Viewer"), "{text}");
        assert_eq!(
            page.attr("#invitee-email", "type").as_deref(),
            Some("email")
        );
        assert!(scanner.cookie(INVITEE_COOKIE).is_none());
        // The view without confirming goes back to the page.
        let view = scanner.get(app, &view_path(&made.token)).await;
        assert_eq!(view.status, 303);
    }
    assert_eq!(bound_sessions(&shared), 0);
    let listed = listed_one(&shared.course, &shared.owner, &shared.media, &made.id).await;
    assert_eq!(listed["status"], "pending");
    let unknown = Browser::new().get(app, "/i/AAAAAAAAAAAAAAAAAAAAAA").await;
    assert_unavailable(&unknown, "not_found", "an unknown invitation");
    let junk = Browser::new().get(app, "/i/%3Cscript%3E").await;
    assert_unavailable(&junk, "not_found", "junk");
}

#[both_backends]
async fn the_invitee_confirms_their_address_and_this_browser_alone_gets_in(backend: Backend) {
    let shared = shared_video(backend).await;
    let made = invited(&shared).await;
    let app = shared.app();
    // Case and spaces do not matter.
    let typed = format!("  {}  ", INVITEE_EMAIL.to_uppercase());
    let mut first = Browser::new();
    let page = confirm_in(app, &mut first, &made.token, &typed).await;
    assert_eq!(page.status, 303, "{}", page.body);
    let cookie = page
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|l| l.starts_with(INVITEE_COOKIE))
        .expect("the invitee cookie")
        .to_string();
    let attributes = cookie_attributes(&cookie);
    assert!(
        attributes.contains(&format!("path=/i/{}/", made.token)),
        "{cookie}"
    );
    assert!(attributes.contains(&"httponly".to_string()), "{cookie}");
    assert!(attributes.contains(&"samesite=lax".to_string()), "{cookie}");

    let view = first.get(app, &view_path(&made.token)).await;
    assert_eq!(view.status, 200, "{}", view.body);
    assert_eq!(
        view.attr("main", "data-page").as_deref(),
        Some("invitee-view")
    );
    assert!(
        view.text("h1")
            .unwrap()
            .contains(crate::guest_helpers::ITEM_TITLE)
    );
    // Reopening the link in that browser goes straight in.
    let again = first.get(app, &page_path(&made.token)).await;
    assert_eq!(again.status, 303);
    assert_eq!(
        again.headers.get("location").unwrap().to_str().unwrap(),
        view_path(&made.token)
    );
    let listed = listed_one(&shared.course, &shared.owner, &shared.media, &made.id).await;
    assert_eq!(listed["status"], "accepted");

    // Another browser, even with the right address, is refused.
    let mut second = Browser::new();
    let redirected = second.get(app, &page_path(&made.token)).await;
    assert_eq!(redirected.status, 303);
    let elsewhere = second.get(app, &view_path(&made.token)).await;
    assert_unavailable(&elsewhere, "invite_used_elsewhere", "a second browser");
    // A stolen cookie of another value is refused too.
    second.set_cookie(
        INVITEE_COOKIE,
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    );
    let forged = second.get(app, &view_path(&made.token)).await;
    assert_unavailable(&forged, "invite_used_elsewhere", "a forged cookie");
    assert_eq!(bound_sessions(&shared), 1);

    // The invitee's session opens nothing of the course: not as a bearer.
    let token = first.cookie(INVITEE_COOKIE).unwrap().to_string();
    shared
        .course
        .get_json("/api/media", Some(&token))
        .await
        .expect(
            401,
            Some("session_required"),
            "the invitee's token on the API",
        );
    let library = shared.course.api(Method::GET, "/course", None, None).await;
    assert_ne!(library.status, 200);
}

#[both_backends]
async fn a_wrong_address_shows_the_form_again_and_five_in_an_hour_lock_it(backend: Backend) {
    let shared = shared_video(backend).await;
    let made = invited(&shared).await;
    let app = shared.app();
    let mut browser = Browser::new();
    for i in 0..5 {
        let page = confirm_in(app, &mut browser, &made.token, "someone.else@example.org").await;
        assert_eq!(page.status, 422, "wrong try {i}: {}", page.body);
        assert!(page.attr("#invitee-email", "aria-invalid").is_some());
        assert!(
            page.text("#invitee-email-error")
                .is_some_and(|t| t.contains("not the address")),
            "{}",
            page.body
        );
        assert_eq!(
            page.attr("#invitee-email", "value").as_deref(),
            Some("someone.else@example.org")
        );
    }
    // The sixth try, even the right address, waits for the hour.
    let locked = confirm_in(app, &mut browser, &made.token, INVITEE_EMAIL).await;
    assert_eq!(locked.status, 429, "{}", locked.body);
    assert_eq!(bound_sessions(&shared), 0);
    app.clock.advance(time::Duration::hours(1));
    let page = confirm_in(app, &mut browser, &made.token, INVITEE_EMAIL).await;
    assert_eq!(page.status, 303, "after the hour: {}", page.body);
    // A form from another browser's page is refused (CSRF).
    let mut other = Browser::new();
    let forged = other
        .post(
            app,
            &page_path(&made.token),
            &[("email", INVITEE_EMAIL), ("csrf", "forged")],
        )
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);
}

// --- expiry, revoke, resend, one live invitation per address ---

#[both_backends]
async fn an_invitation_expires_by_the_clock_and_no_longer_blocks_a_new_one(backend: Backend) {
    let shared = shared_video(backend).await;
    let (course, owner, video) = (&shared.course, shared.owner.as_str(), shared.media.as_str());
    let reply = try_invite(
        course,
        owner,
        video,
        &json!({"email": INVITEE_EMAIL, "name": INVITEE_NAME, "expires_days": 2}),
    )
    .await;
    reply.expect(201, None, "two days");
    let made = Invite::of(&reply);
    let app = shared.app();
    let browser = accepted(app, &made.token, INVITEE_EMAIL).await;
    app.clock
        .advance(time::Duration::days(2) - time::Duration::minutes(1));
    let mut browser = browser;
    assert_eq!(browser.get(app, &view_path(&made.token)).await.status, 200);
    app.clock.advance(time::Duration::minutes(1));
    let page = Browser::new().get(app, &page_path(&made.token)).await;
    assert_unavailable(&page, "invite_expired", "the link after two days");
    let view = browser.get(app, &view_path(&made.token)).await;
    assert_unavailable(&view, "invite_expired", "the bound browser after two days");
    assert_eq!(
        listed_one(course, owner, video, &made.id).await["status"],
        "expired"
    );
    // A new invitation for the address is made, and the old one is kept.
    let renewed = invite(course, owner, video, INVITEE_EMAIL, None).await;
    let list = listed(course, owner, video).await;
    let statuses: Vec<&str> = list["invites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["pending", "expired"], "the old one is kept");
    assert_ne!(renewed.id, made.id);
}

#[both_backends]
async fn revoking_kills_the_link_and_the_session_and_frees_the_address(backend: Backend) {
    let shared = shared_video(backend).await;
    let (course, owner, video) = (&shared.course, shared.owner.as_str(), shared.media.as_str());
    let made = invite(course, owner, video, INVITEE_EMAIL, None).await;
    let app = shared.app();
    let mut browser = accepted(app, &made.token, INVITEE_EMAIL).await;
    course
        .delete(&invite_path(video, &made.id), Some(owner))
        .await
        .expect(204, None, "revoke");
    assert_eq!(bound_sessions(&shared), 0);
    assert_unavailable(
        &browser.get(app, &view_path(&made.token)).await,
        "invite_revoked",
        "the bound browser",
    );
    assert_unavailable(
        &Browser::new().get(app, &page_path(&made.token)).await,
        "invite_revoked",
        "the link",
    );
    assert_eq!(
        listed_one(course, owner, video, &made.id).await["status"],
        "revoked"
    );
    set_role(course, owner, video, &made.id, "viewer")
        .await
        .expect(409, Some("invite_revoked"), "a revoked invitation's role");
    resend(course, owner, video, &made.id).await.expect(
        409,
        Some("invite_revoked"),
        "resending a revoked one",
    );
    course
        .delete(&invite_path(video, &made.id), Some(owner))
        .await
        .expect(204, None, "revoking twice");
    course
        .delete(&invite_path(video, "nosuchinvite"), Some(owner))
        .await
        .expect(404, Some("not_found"), "an unknown invitation");
    // Another item's path does not reach this item's invitation.
    let again = invite(course, owner, video, INVITEE_EMAIL, None).await;
    let mut again_browser = accepted(app, &again.token, INVITEE_EMAIL).await;
    let other = course
        .create(owner, json!({"title": "Other", "kind": "video", "source_url": "https://videos.example.edu/o.mp4"}))
        .await;
    course
        .delete(&invite_path(&other, &again.id), Some(owner))
        .await
        .expect(404, Some("not_found"), "another item's invitation id");
    assert_eq!(
        again_browser
            .get(app, &view_path(&again.token))
            .await
            .status,
        200
    );
    assert_eq!(bound_sessions(&shared), 1);
}

#[both_backends]
async fn the_bound_browser_may_confirm_again_for_a_new_session(backend: Backend) {
    let shared = shared_video(backend).await;
    let made = invited(&shared).await;
    let app = shared.app();
    let mut browser = accepted(app, &made.token, INVITEE_EMAIL).await;
    let first = browser.cookie(INVITEE_COOKIE).unwrap().to_string();
    // Its answer was lost (a double click), or the cookie was cleared: the
    // link leads to the view, which asks that browser to confirm again.
    browser.drop_cookie(INVITEE_COOKIE);
    assert_eq!(browser.get(app, &page_path(&made.token)).await.status, 303);
    let form = browser.get(app, &view_path(&made.token)).await;
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = crate::invite_helpers::form_csrf(&form);
    let page = browser
        .post(
            app,
            &page_path(&made.token),
            &[("email", INVITEE_EMAIL), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let second = browser.cookie(INVITEE_COOKIE).unwrap().to_string();
    assert_ne!(first, second);
    assert_eq!(browser.get(app, &view_path(&made.token)).await.status, 200);
    assert_eq!(bound_sessions(&shared), 1, "the first session ended");
    let mut stale = Browser::new();
    stale.set_cookie(INVITEE_COOKIE, &first);
    assert_unavailable(
        &stale.get(app, &view_path(&made.token)).await,
        "invite_used_elsewhere",
        "the first session's cookie",
    );
}

#[both_backends]
async fn tries_made_at_once_are_all_counted(backend: Backend) {
    let shared = shared_video(backend).await;
    let made = invited(&shared).await;
    let app = shared.app();
    let mut browser = Browser::new();
    let page = browser.get(app, &page_path(&made.token)).await;
    let csrf = crate::invite_helpers::form_csrf(&page);
    let tries = (0..9).map(|i| {
        let mut browser = browser.clone();
        let (csrf, path) = (csrf.clone(), page_path(&made.token));
        async move {
            let email = format!("guess{i}@example.org");
            browser
                .post(app, &path, &[("email", email.as_str()), ("csrf", &csrf)])
                .await
                .status
        }
    });
    let mut statuses = futures_util::future::join_all(tries).await;
    statuses.sort_unstable();
    assert_eq!(statuses, [422, 422, 422, 422, 422, 429, 429, 429, 429]);
}

#[both_backends]
async fn resend_makes_a_new_link_and_the_old_one_and_its_browser_die(backend: Backend) {
    let shared = shared_video(backend).await;
    let (course, owner, video) = (&shared.course, shared.owner.as_str(), shared.media.as_str());
    let made = invite(course, owner, video, INVITEE_EMAIL, None).await;
    let app = shared.app();
    let mut old_browser = accepted(app, &made.token, INVITEE_EMAIL).await;
    let reply = resend(course, owner, video, &made.id).await;
    reply.expect(200, None, "resend");
    let renewed = Invite::of(&reply);
    assert_eq!(renewed.id, made.id);
    assert_ne!(renewed.token, made.token);
    assert_eq!(renewed.json["status"], "pending");
    assert_unavailable(
        &Browser::new().get(app, &page_path(&made.token)).await,
        "not_found",
        "the old link",
    );
    assert_unavailable(
        &old_browser.get(app, &view_path(&made.token)).await,
        "not_found",
        "the old browser",
    );
    // The new link binds the browser that confirms it first.
    let mut new_browser = accepted(app, &renewed.token, INVITEE_EMAIL).await;
    assert_eq!(
        new_browser
            .get(app, &view_path(&renewed.token))
            .await
            .status,
        200
    );
    assert_eq!(bound_sessions(&shared), 1);
    // A listed invitation never shows its link again.
    let listed = listed_one(course, owner, video, &made.id).await;
    assert_eq!(listed.get("url"), None);
    assert_eq!(listed["status"], "accepted");
}

#[both_backends]
async fn an_address_with_a_live_invitation_is_answered_409_with_it(backend: Backend) {
    let shared = shared_video(backend).await;
    let (course, owner, video) = (&shared.course, shared.owner.as_str(), shared.media.as_str());
    let made = invite(course, owner, video, INVITEE_EMAIL, None).await;
    let reply = try_invite(
        course,
        owner,
        video,
        &invite_body(
            &format!(" {} ", INVITEE_EMAIL.to_uppercase()),
            "Someone",
            None,
        ),
    )
    .await;
    reply.expect(409, Some("invite_exists"), "the same address again");
    assert_eq!(reply.json["invite"]["id"], made.id);
    assert_eq!(reply.json["invite"]["email"], INVITEE_EMAIL);
    assert_eq!(reply.json["invite"].get("url"), None);
    assert_eq!(count_rows(&shared.app().db, "invites"), 1);
    // Another item takes its own invitation for the address.
    let other = course
        .create(owner, json!({"title": "Second", "kind": "video", "source_url": "https://videos.example.edu/2.mp4"}))
        .await;
    invite(course, owner, &other, INVITEE_EMAIL, None).await;
}

#[both_backends]
async fn the_invitetomedia_module_switch_governs_invitations(backend: Backend) {
    let shared = shared_video(backend).await;
    let (course, owner, video) = (&shared.course, shared.owner.as_str(), shared.media.as_str());
    let made = invite(course, owner, video, INVITEE_EMAIL, None).await;
    let app = shared.app();
    let mut browser = accepted(app, &made.token, INVITEE_EMAIL).await;
    set_module(course, "invitetomedia=off").await;
    try_invite(
        course,
        owner,
        video,
        &invite_body("b@c.example.org", "B C", None),
    )
    .await
    .expect(
        409,
        Some("invites_disabled"),
        "inviting with the module off",
    );
    resend(course, owner, video, &made.id).await.expect(
        409,
        Some("invites_disabled"),
        "resending with the module off",
    );
    assert_eq!(listed(course, owner, video).await["offered"], false);
    assert_unavailable(
        &browser.get(app, &view_path(&made.token)).await,
        "invites_disabled",
        "the invitee with the module off",
    );
    set_module(course, "invitetomedia=on").await;
    assert_eq!(browser.get(app, &view_path(&made.token)).await.status, 200);
}

// --- rooms ---

/// An invitee of `room` as `role`, in their browser; their room page.
async fn invitee_in(room: &Room, email: &str, role: &str) -> (Invite, Browser, String) {
    let made = invite(
        &room.shared.course,
        room.owner(),
        room.id(),
        email,
        Some(role),
    )
    .await;
    let mut browser = accepted(room.app(), &made.token, email).await;
    let page = browser.get(room.app(), &view_path(&made.token)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(
        page.attr("main", "data-page").as_deref(),
        Some("invitee-room")
    );
    let csrf = page
        .attr("main", "data-csrf")
        .expect("the page's CSRF token");
    (made, browser, csrf)
}

/// An invitee's room action under their invitation's path.
async fn act(
    room: &Room,
    browser: &Browser,
    token: &str,
    suffix: &str,
    csrf: Option<&str>,
    body: Option<Value>,
) -> crate::media_helpers::Reply {
    let app = room.app();
    let mut request = app
        .http
        .post(app.url(&format!("/i/{token}/room{suffix}")))
        .header("Content-Type", "application/json")
        .body(body.unwrap_or(json!({})).to_string());
    if let Some(cookie) = browser.cookie_header() {
        request = request.header("Cookie", cookie);
    }
    if let Some(csrf) = csrf {
        request = request.header("X-CSRF-Token", csrf);
    }
    crate::media_helpers::Reply::of(request.send().await.unwrap()).await
}

#[both_backends]
async fn invitees_skip_the_lobby_are_listed_and_act_with_their_role(backend: Backend) {
    let room = Room::start(backend).await;
    let (speaker, speaker_browser, speaker_csrf) =
        invitee_in(&room, "speaker@partner.example.org", "speaker").await;
    let tok = speaker.token.as_str();
    // Before the session: nothing to join, and a speaker cannot start one.
    act(
        &room,
        &speaker_browser,
        tok,
        "/join",
        Some(&speaker_csrf),
        None,
    )
    .await
    .expect(409, Some("no_session"), "joining before the start");
    act(
        &room,
        &speaker_browser,
        tok,
        "/start",
        Some(&speaker_csrf),
        None,
    )
    .await
    .expect(403, Some("forbidden"), "a speaker starting");
    room.started().await;
    // No CSRF token, or another's: refused; no cookie: refused.
    act(&room, &speaker_browser, tok, "/join", None, None)
        .await
        .expect(403, Some("csrf_failed"), "no CSRF token");
    act(
        &room,
        &Browser::new(),
        tok,
        "/join",
        Some(&speaker_csrf),
        None,
    )
    .await
    .expect(403, Some("invite_used_elsewhere"), "no cookie");
    let joined = act(
        &room,
        &speaker_browser,
        tok,
        "/join",
        Some(&speaker_csrf),
        None,
    )
    .await;
    joined.expect(200, None, "the speaker joins");
    assert_eq!(joined.json["me"]["role"], "speaker");
    assert_eq!(joined.json["me"]["joined"], true);
    // A guest waits in the lobby; the invitee did not.
    let (_guest, _entry) = room.waiting("Grace Guest").await;
    let lobby = room.lobby().await;
    assert_eq!(lobby.len(), 1);
    let participants = room.get(room.owner()).await["participants"].clone();
    let listed: Vec<(String, String, bool)> = participants
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["role"].as_str().unwrap().to_string(),
                p["invited"].as_bool().unwrap(),
            )
        })
        .collect();
    assert!(
        listed.contains(&(INVITEE_NAME.to_string(), "speaker".to_string(), true)),
        "{listed:?}"
    );
    assert!(
        !listed.iter().any(|(name, _, _)| name == "Grace Guest"),
        "guests are not listed"
    );
    // A speaker presents and chats, but does not decide the lobby.
    let item = room
        .shared
        .course
        .create(room.owner(), json!({"title": "Slides", "kind": "video", "source_url": "https://videos.example.edu/s.mp4"}))
        .await;
    // An invitee presents only what the course shares with guests.
    let present = json!({ "media_id": item });
    act(
        &room,
        &speaker_browser,
        tok,
        "/present",
        Some(&speaker_csrf),
        Some(present.clone()),
    )
    .await
    .expect_invalid("media_id", "an item not shared with guests");
    crate::guest_helpers::switch(&room.shared.course, room.owner(), &item, true).await;
    act(
        &room,
        &speaker_browser,
        tok,
        "/present",
        Some(&speaker_csrf),
        Some(present),
    )
    .await
    .expect(200, None, "a speaker presents an item shared with guests");
    act(
        &room,
        &speaker_browser,
        tok,
        "/chat",
        Some(&speaker_csrf),
        Some(json!({"text": "Hello from a speaker"})),
    )
    .await
    .expect(201, None, "a speaker chats");
    act(
        &room,
        &speaker_browser,
        tok,
        "/lobby/admit-all",
        Some(&speaker_csrf),
        None,
    )
    .await
    .expect(403, Some("forbidden"), "a speaker admitting");
}

#[both_backends]
async fn a_role_change_reaches_the_invitees_open_page_and_their_next_action(backend: Backend) {
    let room = Room::start(backend).await;
    let (viewer, browser, csrf) = invitee_in(&room, "viewer@partner.example.org", "viewer").await;
    room.started().await;
    let joined = act(&room, &browser, &viewer.token, "/join", Some(&csrf), None).await;
    joined.expect(200, None, "the viewer joins");
    // Their page's stream (the events_url their page is handed).
    let events_url = joined.json["events_url"].as_str().unwrap().to_string();
    crate::log_check::record_secret(events_url.split("ticket=").nth(1).unwrap_or_default());
    let mut stream = crate::room_helpers::EventStream::open(room.app(), &events_url, &[]).await;
    assert_eq!(stream.status, 200);
    stream
        .until("the viewer's role", |d| d["me"]["role"] == "viewer")
        .await;
    let (_guest, entry) = room.waiting("Grace Guest").await;
    act(
        &room,
        &browser,
        &viewer.token,
        &format!("/lobby/{entry}/admit"),
        Some(&csrf),
        None,
    )
    .await
    .expect(403, Some("forbidden"), "a viewer admitting");

    set_role(
        &room.shared.course,
        room.owner(),
        room.id(),
        &viewer.id,
        "moderator",
    )
    .await
    .expect(200, None, "the owner makes them a moderator");
    let event = stream
        .until("the new role on the open page", |d| {
            d["me"]["role"] == "moderator"
        })
        .await;
    assert!(
        event.data["room"]["lobby"].is_array(),
        "a moderator's page sees the lobby"
    );
    act(
        &room,
        &browser,
        &viewer.token,
        &format!("/lobby/{entry}/admit"),
        Some(&csrf),
        None,
    )
    .await
    .expect(200, None, "the moderator admits");
    // And back: their next action is refused at once.
    set_role(
        &room.shared.course,
        room.owner(),
        room.id(),
        &viewer.id,
        "viewer",
    )
    .await
    .expect(200, None, "back to viewer");
    act(&room, &browser, &viewer.token, "/end", Some(&csrf), None)
        .await
        .expect(403, Some("forbidden"), "ending as a viewer again");
    // Revoking ends their stream.
    room.shared
        .course
        .delete(&invite_path(room.id(), &viewer.id), Some(room.owner()))
        .await
        .expect(204, None, "revoke");
    assert!(
        stream.ends_within(std::time::Duration::from_secs(25)).await,
        "the revoked invitee's stream ends"
    );
}

#[both_backends]
async fn a_moderator_invitee_starts_the_session_and_lets_guests_in(backend: Backend) {
    let room = Room::start(backend).await;
    let (moderator, browser, csrf) =
        invitee_in(&room, "host@partner.example.org", "moderator").await;
    let tok = moderator.token.as_str();
    let started = act(&room, &browser, tok, "/start", Some(&csrf), None).await;
    started.expect(200, None, "an invited moderator starts");
    assert_eq!(started.json["session"]["started_by"], INVITEE_NAME);
    let (_guest, entry) = room.waiting("Grace Guest").await;
    let admitted = act(
        &room,
        &browser,
        tok,
        &format!("/lobby/{entry}/admit"),
        Some(&csrf),
        None,
    )
    .await;
    admitted.expect(200, None, "admit");
    assert_eq!(admitted.json["status"], "admitted");
    act(&room, &browser, tok, "/end", Some(&csrf), None)
        .await
        .expect(200, None, "an invited moderator ends");
}

#[both_backends]
async fn revoked_and_expired_invitations_are_forgotten_after_the_retention_period(
    backend: Backend,
) {
    let shared = shared_video(backend).await;
    let (course, owner, video) = (&shared.course, shared.owner.as_str(), shared.media.as_str());
    let revoked = invite(course, owner, video, "gone@partner.example.org", None).await;
    course
        .delete(&invite_path(video, &revoked.id), Some(owner))
        .await
        .expect(204, None, "revoke");
    let app = shared.app();
    let retention = app.settings.guests.retention;
    // Made just before the purge's time, this one is still valid then.
    app.clock.advance(retention);
    let kept = invite(course, owner, video, "kept@partner.example.org", None).await;
    app.clock.advance(time::Duration::minutes(1));
    guestlink::service::housekeeping::purge_long_lived(&app.tool).await;
    let ids: Vec<String> = listed(course, owner, video).await["invites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, [kept.id]);
    assert_eq!(count_rows(&app.db, "invite_access"), 1);
}
