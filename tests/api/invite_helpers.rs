//! Invite links in tests: an item's invitations through the API, and the
//! invitee's browser on the invitation's pages.

use reqwest::Method;
use serde_json::{Value, json};

use crate::guest_helpers::{Browser, Shared};
use crate::helpers::{Page, TestApp};
use crate::media_helpers::{Course, Reply};

pub const INVITEE_COOKIE: &str = "guestlink_invitee";
pub const INVITEE_EMAIL: &str = "ada.lovelace@partner.example.org";
pub const INVITEE_NAME: &str = "Ada Lovelace";

pub fn invites_path(media: &str) -> String {
    format!("/api/media/{media}/invites")
}

pub fn invite_path(media: &str, invite: &str) -> String {
    format!("/api/media/{media}/invites/{invite}")
}

pub fn invite_body(email: &str, name: &str, role: Option<&str>) -> Value {
    let mut body = json!({ "email": email, "name": name });
    if let Some(role) = role {
        body["role"] = json!(role);
    }
    body
}

/// The token in an invitation's URL (its last path segment).
pub fn token_of(url: &str) -> String {
    let token = url.rsplit('/').next().unwrap_or_default().to_string();
    crate::log_check::record_secret(&token);
    token
}

pub fn page_path(token: &str) -> String {
    format!("/i/{token}")
}

pub fn view_path(token: &str) -> String {
    format!("/i/{token}/view")
}

/// An invitation as the API answered its creation (or Resend).
#[derive(Clone, Debug)]
pub struct Invite {
    pub id: String,
    pub token: String,
    pub json: Value,
}

impl Invite {
    pub fn of(reply: &Reply) -> Invite {
        let url = reply.json["url"]
            .as_str()
            .unwrap_or_else(|| panic!("an invitation with its url: {}", reply.body));
        Invite {
            id: reply.json["id"].as_str().unwrap().to_string(),
            token: token_of(url),
            json: reply.json.clone(),
        }
    }
}

pub async fn try_invite(course: &Course, token: &str, media: &str, body: &Value) -> Reply {
    course
        .post_json(&invites_path(media), Some(token), body)
        .await
}

/// Invites `email` as `role` (the kind's first when None), which must work.
pub async fn invite(
    course: &Course,
    owner: &str,
    media: &str,
    email: &str,
    role: Option<&str>,
) -> Invite {
    crate::log_check::record_secret(email);
    let reply = try_invite(
        course,
        owner,
        media,
        &invite_body(email, INVITEE_NAME, role),
    )
    .await;
    reply.expect(201, None, "invite");
    Invite::of(&reply)
}

/// The item's invitations as its owner lists them.
pub async fn listed(course: &Course, owner: &str, media: &str) -> Value {
    let reply = course.get_json(&invites_path(media), Some(owner)).await;
    reply.expect(200, None, "list invites");
    reply.json
}

/// One invitation as listed.
pub async fn listed_one(course: &Course, owner: &str, media: &str, id: &str) -> Value {
    listed(course, owner, media).await["invites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("invitation {id} is listed"))
}

pub async fn set_role(course: &Course, owner: &str, media: &str, id: &str, role: &str) -> Reply {
    course
        .send_json(
            Method::PATCH,
            &invite_path(media, id),
            Some(owner),
            &json!({ "role": role }),
        )
        .await
}

pub async fn resend(course: &Course, owner: &str, media: &str, id: &str) -> Reply {
    course
        .api(
            Method::POST,
            &format!("{}/resend", invite_path(media, id)),
            Some(owner),
            None,
        )
        .await
}

/// The invitation page's CSRF field.
pub fn form_csrf(page: &Page) -> String {
    page.attr("#invitation-form input[name=csrf]", "value")
        .unwrap_or_else(|| panic!("an invitation form ({}): {}", page.status, page.body))
}

/// `browser` opens the invitation and confirms `email`; the POST's answer.
pub async fn confirm_in(app: &TestApp, browser: &mut Browser, token: &str, email: &str) -> Page {
    let page = browser.get(app, &page_path(token)).await;
    assert_eq!(page.status, 200, "the invitation page: {}", page.body);
    let csrf = form_csrf(&page);
    browser
        .post(app, &page_path(token), &[("email", email), ("csrf", &csrf)])
        .await
}

/// A fresh browser that confirmed the invitation, which must work.
pub async fn accepted(app: &TestApp, token: &str, email: &str) -> Browser {
    let mut browser = Browser::new();
    let page = confirm_in(app, &mut browser, token, email).await;
    assert_eq!(page.status, 303, "confirming: {}", page.body);
    assert_eq!(
        page.headers.get("location").and_then(|v| v.to_str().ok()),
        Some(view_path(token).as_str())
    );
    assert!(
        browser.cookie(INVITEE_COOKIE).is_some(),
        "the invitee cookie"
    );
    browser
}

/// An owner's item (a linked video with guest access on) to invite to.
pub async fn shared_video(backend: crate::helpers::Backend) -> Shared {
    Shared::start(backend).await
}
