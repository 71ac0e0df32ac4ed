//! Live rooms through the JSON API and the guest's pages: sessions (one at
//! a time, held under concurrency), who may do what, the lobby's states and
//! decisions (one counts when two moderators act at once), guest access
//! switched off while guests wait, presence and the waiting limit, the
//! stage, the chat, and a deleted room taking its sessions with it.

use reqwest::Method;
use serde_json::{Value, json};

use crate::guest_helpers::{GUEST_COOKIE, view_path};
use crate::helpers::{Backend, count_rows};
use crate::media_helpers::Who;
use crate::room_helpers::{Room, lobby_status, second_moderator};
use guestlink_test_macros::both_backends;

fn running_sessions(room: &Room) -> i64 {
    count_rows(
        &room.app().db,
        &format!(
            "room_sessions WHERE media_id = '{}' AND ended_at IS NULL",
            room.id()
        ),
    )
}

/// Nothing of any room's sessions is left: sessions, lobby, chat, participants.
fn assert_no_room_rows(room: &Room) {
    for table in [
        "room_sessions",
        "lobby_entries",
        "chat_messages",
        "room_participants",
    ] {
        assert_eq!(count_rows(&room.app().db, table), 0, "{table}");
    }
}

fn seconds(n: i64) -> time::Duration {
    time::Duration::seconds(n)
}

// --- sessions ---

#[both_backends]
async fn a_room_runs_one_session_from_start_to_end(backend: Backend) {
    let room = Room::start(backend).await;
    let before = room.get(room.owner()).await;
    assert_eq!(before["session"], Value::Null);
    assert_eq!(before["lobby_policy"], "ask_moderator");
    assert_eq!(before["participants"], json!([]));
    assert_eq!(before["guests_in"], 0);
    assert_eq!(before["presenting"], Value::Null);

    let started = room.started().await;
    let session = &started["session"];
    assert!(session["id"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(session["started_at"].as_str().is_some());
    assert!(
        session["started_by"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    // The starter is in, as its moderator.
    assert_eq!(
        started["participants"],
        json!([{"name": session["started_by"], "role": "moderator", "invited": false}])
    );
    assert_eq!(started["me"]["joined"], true);
    room.post("/start", room.owner())
        .await
        .expect(409, Some("session_running"), "a second start");
    assert_eq!(running_sessions(&room), 1);

    let ended = room.post("/end", room.owner()).await;
    ended.expect(200, None, "end");
    assert_eq!(ended.json["session"], Value::Null);
    room.post("/end", room.owner())
        .await
        .expect(409, Some("no_session"), "a second end");
    // Kept with its start, end and who started it.
    let kept = count_rows(
        &room.app().db,
        &format!(
            "room_sessions WHERE media_id = '{}' AND ended_at >= started_at AND started_by IS NOT NULL",
            room.id()
        ),
    );
    assert_eq!(kept, 1);
    // And a new one may start.
    room.started().await;
}

#[both_backends]
async fn two_moderators_pressing_start_at_once_make_one_session(backend: Backend) {
    let room = Room::start(backend).await;
    let ta = second_moderator(&room).await;
    let tokens: Vec<String> = (0..12)
        .map(|i| {
            if i % 2 == 0 {
                room.owner().to_string()
            } else {
                ta.clone()
            }
        })
        .collect();
    let replies =
        futures_util::future::join_all(tokens.iter().map(|t| room.post("/start", t))).await;
    let ok = replies.iter().filter(|r| r.status == 200).count();
    let running = replies
        .iter()
        .filter(|r| r.status == 409 && r.code() == Some("session_running"))
        .count();
    assert_eq!(
        (ok, running),
        (1, 11),
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert_eq!(running_sessions(&room), 1);
}

#[both_backends]
async fn learners_may_join_and_chat_but_not_run_the_room(backend: Backend) {
    let room = Room::start(backend).await;
    let student = room.people.student.clone();
    room.post("/start", &student)
        .await
        .expect(403, Some("forbidden"), "a learner starts");
    room.started().await;
    let (_guest, entry) = room.waiting("Ada Guest").await;

    for (method, suffix, body) in [
        (Method::POST, "/end".to_string(), None),
        (Method::POST, format!("/lobby/{entry}/admit"), None),
        (Method::POST, format!("/lobby/{entry}/deny"), None),
        (Method::POST, "/lobby/admit-all".to_string(), None),
        (
            Method::PUT,
            "/lobby".to_string(),
            Some(json!({"policy": "admit_all"})),
        ),
        (
            Method::POST,
            "/present".to_string(),
            Some(json!({"media_id": null})),
        ),
        (
            Method::PUT,
            "/chat".to_string(),
            Some(json!({"guests_may_chat": false})),
        ),
        // A malformed body is still a 403: the role is checked first.
        (
            Method::PUT,
            "/lobby".to_string(),
            Some(json!({"policy": 7})),
        ),
    ] {
        room.call(method.clone(), &suffix, &student, body)
            .await
            .expect(
                403,
                Some("forbidden"),
                &format!("a learner: {method} {suffix}"),
            );
    }
    // Nothing changed for the guest.
    assert_eq!(room.lobby().await.len(), 1);

    // A learner sees the room without its lobby, joins and chats.
    let seen = room.get(&student).await;
    assert!(seen.get("lobby").is_none(), "no lobby for learners: {seen}");
    let joined = room.post("/join", &student).await;
    joined.expect(200, None, "a learner joins");
    assert_eq!(joined.json["me"]["role"], "participant");
    assert_eq!(joined.json["me"]["joined"], true);
    let roles: Vec<&str> = joined.json["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["role"].as_str().unwrap())
        .collect();
    assert!(
        roles.contains(&"participant") && roles.contains(&"moderator"),
        "{roles:?}"
    );
    room.chat(&student, "Hello")
        .await
        .expect(201, None, "a learner chats");
}

#[both_backends]
async fn who_may_see_a_room_and_what_is_not_one(backend: Backend) {
    let room = Room::start(backend).await;
    for who in [Who::OtherCourse, Who::Nobody] {
        let token = room.people.token(who);
        let reply = room
            .shared
            .course
            .api(Method::GET, &room.path(""), token, None)
            .await;
        let expected = match who {
            Who::OtherCourse => (404, "not_found"),
            _ => (401, "session_required"),
        };
        reply.expect(expected.0, Some(expected.1), &format!("{who:?}"));
    }
    let video = room
        .shared
        .course
        .create_video(room.owner(), "Not a room")
        .await;
    room.shared
        .course
        .api(
            Method::POST,
            &format!("/api/media/{video}/room/start"),
            Some(room.owner()),
            None,
        )
        .await
        .expect(409, Some("not_a_room"), "a video has no sessions");
    room.post("/join", room.owner())
        .await
        .expect(409, Some("no_session"), "join before a start");
}

// --- the lobby ---

#[both_backends]
async fn a_guest_waits_until_a_moderator_admits_them(backend: Backend) {
    let room = Room::start(backend).await;
    let mut guest = room.guest("Grace Guest").await;
    // Before the session: the page says so, and no one is in the lobby.
    let page = room.view(&mut guest).await;
    assert_eq!(page.status, 200);
    assert_eq!(lobby_status(&page).as_deref(), Some("not_started"));
    assert_eq!(page.text("h1").as_deref(), Some("Office hours"));

    room.started().await;
    let page = room.view(&mut guest).await;
    assert_eq!(lobby_status(&page).as_deref(), Some("waiting"));
    assert_eq!(page.text("[data-place]").as_deref(), Some("1"));
    assert!(
        page.body
            .contains("Please wait, a moderator will let you in soon")
    );

    let lobby = room.lobby().await;
    assert_eq!(lobby.len(), 1, "{lobby:?}");
    let entry = &lobby[0];
    assert_eq!(entry["name"], "Grace Guest");
    assert_eq!(entry["email"], "grace.guest@guests.example.org");
    assert_eq!(entry["link_id"], room.link.id.as_str());
    assert_eq!(entry["link_name"], "Webinar invite");
    assert_eq!(entry["status"], "waiting");
    assert!(entry["waiting_since"].as_str().is_some());

    // A second guest is second in line.
    let (mut second, _) = room.waiting("Second Guest").await;
    let page = room.view(&mut second).await;
    assert_eq!(page.text("[data-place]").as_deref(), Some("2"));

    let admitted = room
        .decide(room.owner(), entry["id"].as_str().unwrap(), "admit")
        .await;
    admitted.expect(200, None, "admit");
    assert_eq!(admitted.json["status"], "admitted");
    assert_eq!(admitted.json["id"], entry["id"]);
    let page = room.view(&mut guest).await;
    assert_eq!(lobby_status(&page).as_deref(), Some("admitted"));
    // A reload goes straight back in, spending nothing.
    let clicks = room.shared.clicks(&room.link).await;
    let page = room.view(&mut guest).await;
    assert_eq!(lobby_status(&page).as_deref(), Some("admitted"));
    assert_eq!(room.shared.clicks(&room.link).await, clicks);

    // Guests are counted, never listed; the second guest moved up.
    let seen = room.get(room.owner()).await;
    assert_eq!(seen["guests_in"], 1);
    assert!(
        !seen["participants"].to_string().contains("Grace"),
        "{seen}"
    );
    let page = room.view(&mut second).await;
    assert_eq!(page.text("[data-place]").as_deref(), Some("1"));
}

#[both_backends]
async fn exactly_one_decision_counts_when_two_moderators_act_at_once(backend: Backend) {
    let room = Room::start(backend).await;
    let ta = second_moderator(&room).await;
    room.started().await;
    for round in 0..4 {
        let (_guest, entry) = room.waiting(&format!("Guest {round}")).await;
        let (a, b) = tokio::join!(
            room.decide(room.owner(), &entry, "admit"),
            room.decide(&ta, &entry, "deny")
        );
        let statuses = [a.status, b.status];
        assert!(
            statuses == [200, 409] || statuses == [409, 200],
            "round {round}: {statuses:?} {} {}",
            a.body,
            b.body
        );
        let loser = if a.status == 409 { &a } else { &b };
        assert_eq!(loser.code(), Some("entry_not_waiting"));
        let winner = if a.status == 200 {
            "admitted"
        } else {
            "denied"
        };
        let stored = count_rows(
            &room.app().db,
            &format!("lobby_entries WHERE id = '{entry}' AND status = '{winner}'"),
        );
        assert_eq!(stored, 1, "round {round}: the winner's decision is stored");
    }
    room.decide(room.owner(), "no-such-entry-0000000", "admit")
        .await
        .expect(404, Some("not_found"), "an unknown entry");
}

#[both_backends]
async fn a_denied_guest_sees_why_and_may_knock_again_with_a_new_click(backend: Backend) {
    let room = Room::start(backend).await;
    room.started().await;
    let (mut guest, entry) = room.waiting("Dee Nied").await;
    let denied = room.decide(room.owner(), &entry, "deny").await;
    denied.expect(200, None, "deny");
    assert_eq!(denied.json["status"], "denied");
    room.decide(room.owner(), &entry, "admit").await.expect(
        409,
        Some("entry_not_waiting"),
        "admit after deny",
    );

    let page = room.view(&mut guest).await;
    assert_eq!(page.status, 403, "{}", page.body);
    assert_eq!(
        page.attr("main[data-unavailable-reason]", "data-unavailable-reason")
            .as_deref(),
        Some("denied")
    );
    assert!(
        guest.cookie(GUEST_COOKIE).is_none(),
        "the guest session ended"
    );
    // The same person, from a new guest session: a click, and the line again.
    let clicks = room.shared.clicks(&room.link).await;
    let (_again, _) = room.waiting("Dee Nied").await;
    assert_eq!(room.shared.clicks(&room.link).await, clicks + 1);
}

#[both_backends]
async fn a_denied_guest_session_cannot_knock_on_the_next_session(backend: Backend) {
    let room = Room::start(backend).await;
    room.started().await;
    let (guest, entry) = room.waiting("Persistent Guest").await;
    room.decide(room.owner(), &entry, "deny")
        .await
        .expect(200, None, "deny");
    // Their page stays open (no reload); the session ends and a new one starts.
    room.post("/end", room.owner())
        .await
        .expect(200, None, "end");
    room.started().await;
    let mut stream = room.guest_stream(&guest).await;
    assert_eq!(stream.status, 200, "{}", stream.body);
    stream
        .until("denied", |d| d["lobby"]["status"] == "denied")
        .await;
    assert_eq!(room.lobby().await.len(), 0, "not in the new session's line");
}

#[both_backends]
async fn ended_sessions_are_forgotten_after_the_retention_period(backend: Backend) {
    let room = Room::start(backend).await;
    room.started().await;
    let (_guest, _) = room.waiting("Old Guest").await;
    room.chat(room.owner(), "long ago")
        .await
        .expect(201, None, "chat");
    room.post("/end", room.owner())
        .await
        .expect(200, None, "end");
    guestlink::service::housekeeping::purge_long_lived(&room.app().tool).await;
    assert_eq!(
        count_rows(&room.app().db, "lobby_entries"),
        1,
        "kept for now"
    );
    room.app()
        .clock
        .advance(room.app().settings.guests.retention + seconds(60));
    guestlink::service::housekeeping::purge_long_lived(&room.app().tool).await;
    assert_no_room_rows(&room);
}

#[both_backends]
async fn admit_all_lets_everyone_waiting_in(backend: Backend) {
    let room = Room::start(backend).await;
    room.started().await;
    let mut guests = Vec::new();
    for name in ["One", "Two", "Three"] {
        guests.push(room.waiting(name).await.0);
    }
    let reply = room.post("/lobby/admit-all", room.owner()).await;
    reply.expect(200, None, "admit all");
    assert_eq!(reply.json, json!({"admitted": 3}));
    for guest in &mut guests {
        let page = room.view(guest).await;
        assert_eq!(lobby_status(&page).as_deref(), Some("admitted"));
    }
    assert_eq!(room.lobby().await.len(), 0);
    let again = room.post("/lobby/admit-all", room.owner()).await;
    assert_eq!(again.json, json!({"admitted": 0}));
}

#[both_backends]
async fn admitting_guests_automatically_skips_the_line(backend: Backend) {
    let room = Room::start(backend).await;
    room.started().await;
    let (mut already_waiting, _) = room.waiting("Already Waiting").await;
    for bad in [
        json!({"policy": "admit_some"}),
        json!({}),
        json!({"policy": true}),
    ] {
        room.call(Method::PUT, "/lobby", room.owner(), Some(bad.clone()))
            .await
            .expect_invalid("policy", &format!("{bad}"));
    }
    let set = room
        .call(
            Method::PUT,
            "/lobby",
            room.owner(),
            Some(json!({"policy": "admit_all"})),
        )
        .await;
    set.expect(200, None, "admit all policy");
    assert_eq!(set.json["lobby_policy"], "admit_all");
    // Whoever was waiting is let in with the switch.
    let page = room.view(&mut already_waiting).await;
    assert_eq!(lobby_status(&page).as_deref(), Some("admitted"));
    let mut guest = room.guest("Auto Guest").await;
    let page = room.view(&mut guest).await;
    assert_eq!(lobby_status(&page).as_deref(), Some("admitted"));
}

#[both_backends]
async fn switching_guest_access_off_withdraws_waiting_guests_only(backend: Backend) {
    let room = Room::start(backend).await;
    room.started().await;
    let (mut inside, entry) = room.waiting("Inside Guest").await;
    room.decide(room.owner(), &entry, "admit")
        .await
        .expect(200, None, "admit");
    let (mut waiting, waiting_entry) = room.waiting("Waiting Guest").await;

    room.shared.switch(false).await.expect(200, None, "off");
    let withdrawn = count_rows(
        &room.app().db,
        &format!(
            "lobby_entries WHERE id = '{waiting_entry}' AND status = 'withdrawn' AND reason = 'disabled'"
        ),
    );
    assert_eq!(withdrawn, 1);
    assert_eq!(room.lobby().await.len(), 0);
    // The admitted guest is still counted in until they reload.
    assert_eq!(
        count_rows(
            &room.app().db,
            &format!("lobby_entries WHERE id = '{entry}' AND status = 'admitted'")
        ),
        1
    );
    let page = room.view(&mut waiting).await;
    assert_eq!(
        page.attr("main[data-unavailable-reason]", "data-unavailable-reason")
            .as_deref(),
        Some("disabled"),
        "{}",
        page.body
    );
    let page = room.view(&mut inside).await;
    assert_eq!(
        page.attr("main[data-unavailable-reason]", "data-unavailable-reason")
            .as_deref(),
        Some("disabled")
    );
}

#[both_backends]
async fn deleting_the_link_withdraws_its_waiting_guests(backend: Backend) {
    let room = Room::start(backend).await;
    room.started().await;
    let (mut guest, entry) = room.waiting("Link Guest").await;
    room.shared.delete_link(&room.link).await;
    assert_eq!(
        count_rows(
            &room.app().db,
            &format!(
                "lobby_entries WHERE id = '{entry}' AND status = 'withdrawn' AND reason = 'deleted'"
            )
        ),
        1
    );
    let page = room.view(&mut guest).await;
    assert_eq!(
        page.attr("main[data-unavailable-reason]", "data-unavailable-reason")
            .as_deref(),
        Some("deleted")
    );
}

#[both_backends]
async fn a_guest_whose_page_went_quiet_leaves_the_line_and_may_come_back(backend: Backend) {
    let room = Room::start(backend).await;
    room.started().await;
    let (mut guest, entry) = room.waiting("Quiet Guest").await;
    let clicks = room.shared.clicks(&room.link).await;
    room.app().clock.advance(seconds(31));
    assert_eq!(room.lobby().await.len(), 0, "gone from the line after 30 s");
    room.decide(room.owner(), &entry, "admit").await.expect(
        409,
        Some("entry_not_waiting"),
        "admit one who left",
    );
    // Back within their guest session: in line again, no click spent.
    let page = room.view(&mut guest).await;
    assert_eq!(lobby_status(&page).as_deref(), Some("waiting"));
    assert_eq!(room.lobby().await.len(), 1);
    assert_eq!(room.shared.clicks(&room.link).await, clicks);
    room.decide(room.owner(), &entry, "admit")
        .await
        .expect(200, None, "admit one who came back");
}

#[both_backends]
async fn waiting_is_bounded_by_the_lobby_limit(backend: Backend) {
    let room = Room::start_with(backend, |s| {
        s.guests.lobby_wait = guestlink::domain::time::Duration::minutes(5);
    })
    .await;
    room.started().await;
    let (mut guest, entry) = room.waiting("Patient Guest").await;
    // Present all along (the page's heartbeat), but five minutes in line.
    for _ in 0..9 {
        room.app().clock.advance(seconds(30));
        let page = room.view(&mut guest).await;
        assert_eq!(lobby_status(&page).as_deref(), Some("waiting"));
    }
    room.app().clock.advance(seconds(30));
    let page = room.view(&mut guest).await;
    assert_eq!(
        lobby_status(&page).as_deref(),
        Some("timed_out"),
        "{} {}",
        page.status,
        page.body
    );
    assert!(
        guest.cookie(GUEST_COOKIE).is_none(),
        "the guest session ended"
    );
    room.decide(room.owner(), &entry, "admit").await.expect(
        409,
        Some("entry_not_waiting"),
        "admit one who timed out",
    );
}

#[both_backends]
async fn a_waiting_guest_is_told_when_no_moderator_is_present(backend: Backend) {
    let room = Room::start(backend).await;
    room.started().await;
    // The moderator who started the session has no page open: after the
    // presence window they no longer count as present.
    room.app().clock.advance(seconds(31));
    let mut guest = room.guest("Early Guest").await;
    let page = room.view(&mut guest).await;
    assert_eq!(lobby_status(&page).as_deref(), Some("waiting"));
    assert!(
        page.body.contains("No moderator is present yet"),
        "{}",
        page.body
    );
    // A moderator joins: the line's words change.
    room.post("/join", room.owner())
        .await
        .expect(200, None, "join");
    let page = room.view(&mut guest).await;
    assert!(
        page.body
            .contains("Please wait, a moderator will let you in soon")
    );
}

#[both_backends]
async fn guests_waiting_when_the_session_ends_are_told(backend: Backend) {
    let room = Room::start(backend).await;
    room.started().await;
    let (mut guest, _) = room.waiting("Late Guest").await;
    room.post("/end", room.owner())
        .await
        .expect(200, None, "end");
    let page = room.view(&mut guest).await;
    assert_eq!(lobby_status(&page).as_deref(), Some("ended"));
}

// --- stage ---

#[both_backends]
async fn a_moderator_presents_an_item_of_the_library(backend: Backend) {
    let room = Room::start(backend).await;
    let course = &room.shared.course;
    let video = course.create_video(room.owner(), "Lecture one").await;
    room.call(
        Method::POST,
        "/present",
        room.owner(),
        Some(json!({"media_id": video})),
    )
    .await
    .expect(409, Some("no_session"), "present before a start");
    room.started().await;
    let presented = room
        .call(
            Method::POST,
            "/present",
            room.owner(),
            Some(json!({"media_id": video})),
        )
        .await;
    presented.expect(200, None, "present");
    assert_eq!(presented.json["presenting"], video.as_str());
    assert_eq!(presented.json["stage"]["title"], "Lecture one");
    assert_eq!(presented.json["stage"]["playback"]["playing"], false);

    let other_course = course
        .create_video(&room.people.other_course, "Elsewhere")
        .await;
    for bad in [
        json!({}),
        json!({"media_id": 5}),
        json!({"media_id": "does-not-exist"}),
        json!({"media_id": other_course}),
        json!({"media_id": room.id()}),
    ] {
        room.call(Method::POST, "/present", room.owner(), Some(bad.clone()))
            .await
            .expect_invalid("media_id", &format!("{bad}"));
    }
    // The presenter's play and seek are kept for everyone to follow.
    let play = room
        .call(
            Method::POST,
            "/playback",
            room.owner(),
            Some(json!({"playing": true, "position": 12.5})),
        )
        .await;
    play.expect(204, None, "playback");
    let seen = room.get(&room.people.student).await;
    assert_eq!(seen["stage"]["playback"]["playing"], true);
    assert_eq!(seen["stage"]["playback"]["position"], 12.5);
    room.call(
        Method::POST,
        "/playback",
        room.owner(),
        Some(json!({"playing": true, "position": -1})),
    )
    .await
    .expect_invalid("position", "a negative position");
    room.call(
        Method::POST,
        "/playback",
        &room.people.student,
        Some(json!({"playing": false, "position": 0})),
    )
    .await
    .expect(403, Some("forbidden"), "a learner's playback");
    // Another moderator's player does not lead: only the presenter's does.
    let ta = second_moderator(&room).await;
    room.call(
        Method::POST,
        "/playback",
        &ta,
        Some(json!({"playing": false, "position": 1})),
    )
    .await
    .expect(403, Some("not_presenter"), "another moderator's playback");
    assert_eq!(room.get(room.owner()).await["me"]["presenter"], true);
    assert_eq!(room.get(&ta).await["me"]["presenter"], false);

    let cleared = room
        .call(
            Method::POST,
            "/present",
            room.owner(),
            Some(json!({"media_id": null})),
        )
        .await;
    cleared.expect(200, None, "stop presenting");
    assert_eq!(cleared.json["presenting"], Value::Null);
    assert_eq!(cleared.json["stage"], Value::Null);
}

#[both_backends]
async fn an_admitted_guest_fetches_only_the_item_on_stage(backend: Backend) {
    let room = Room::start(backend).await;
    let course = &room.shared.course;
    let (item, bytes) = course
        .upload_sample(room.owner(), &crate::media_helpers::MP4, 2_000)
        .await;
    room.started().await;
    room.call(
        Method::POST,
        "/present",
        room.owner(),
        Some(json!({"media_id": item})),
    )
    .await
    .expect(200, None, "present");
    let (guest, entry) = room.waiting("Stage Guest").await;
    // Waiting: no stage in their stream.
    let mut stream = room.guest_stream(&guest).await;
    let waiting = stream
        .until("waiting", |d| d["lobby"]["status"] == "waiting")
        .await;
    assert_eq!(waiting.data["stage"], Value::Null);
    room.decide(room.owner(), &entry, "admit")
        .await
        .expect(200, None, "admit");
    let inside = stream
        .until("admitted with a stage", |d| d["stage"]["url"].is_string())
        .await;
    let url = inside.data["stage"]["url"].as_str().unwrap().to_string();
    assert!(
        url.contains(&format!("/g/{}/file?grant=", room.link.token)),
        "{url}"
    );
    let file = guest.file(room.app(), &url, &[]).await;
    assert_eq!(file.status, 200);
    assert_eq!(file.body, bytes);
    // Another browser cannot use it.
    let stranger = crate::guest_helpers::Browser::new();
    assert_eq!(stranger.file(room.app(), &url, &[]).await.status, 403);
    // When presenting stops, the URL stops too.
    room.call(
        Method::POST,
        "/present",
        room.owner(),
        Some(json!({"media_id": null})),
    )
    .await
    .expect(200, None, "stop presenting");
    assert_eq!(guest.file(room.app(), &url, &[]).await.status, 403);
}

// --- chat ---

#[both_backends]
async fn chat_messages_are_checked_kept_and_limited(backend: Backend) {
    let room = Room::start_with(backend, |s| s.guests.chat_rate_limit = 3).await;
    let student = room.people.student.clone();
    room.chat(&student, "early")
        .await
        .expect(409, Some("no_session"), "chat before a start");
    room.started().await;
    for (bad, case) in [
        (json!({"text": ""}), "empty"),
        (json!({"text": "   "}), "blank"),
        (json!({}), "missing"),
        (json!({"text": 12}), "a number"),
        (json!({"text": "x".repeat(1_001)}), "too long"),
    ] {
        room.call(Method::POST, "/chat", &student, Some(bad))
            .await
            .expect_invalid("text", case);
    }
    let sent = room.chat(&student, "<b>hi</b> & bye").await;
    sent.expect(201, None, "chat");
    assert_eq!(sent.json["text"], "<b>hi</b> & bye");
    assert_eq!(sent.json["guest"], false);
    assert_eq!(sent.json["seq"], 1);
    let longest = "é".repeat(1_000);
    room.chat(&student, longest)
        .await
        .expect(201, None, "1,000 characters");
    room.chat(&student, "three")
        .await
        .expect(201, None, "the third in a minute");
    room.chat(&student, "four")
        .await
        .expect(429, Some("rate_limited"), "the fourth in a minute");
    // Another person is counted apart.
    room.chat(room.owner(), "mine")
        .await
        .expect(201, None, "another person");
    assert_eq!(count_rows(&room.app().db, "chat_messages"), 4);
}

#[both_backends]
async fn admitted_guests_chat_through_their_own_path_with_a_csrf_token(backend: Backend) {
    let room = Room::start(backend).await;
    room.started().await;
    let (mut guest, entry) = room.waiting("Chatty Guest").await;
    room.guest_chat(&mut guest, "let me in", None).await.expect(
        403,
        Some("forbidden"),
        "a waiting guest",
    );
    room.decide(room.owner(), &entry, "admit")
        .await
        .expect(200, None, "admit");
    room.guest_chat(&mut guest, "hello", Some("forged"))
        .await
        .expect(403, Some("csrf_failed"), "no CSRF token");
    let sent = room
        .guest_chat(&mut guest, "hello from outside", None)
        .await;
    sent.expect(201, None, "guest chat");
    assert_eq!(sent.json["guest"], true);
    assert_eq!(sent.json["name"], "Chatty Guest");
    room.guest_chat(&mut guest, "", None)
        .await
        .expect_invalid("text", "empty");

    let off = room
        .call(
            Method::PUT,
            "/chat",
            room.owner(),
            Some(json!({"guests_may_chat": false})),
        )
        .await;
    off.expect(200, None, "guest chat off");
    assert_eq!(off.json["guests_may_chat"], false);
    room.guest_chat(&mut guest, "still here", None)
        .await
        .expect(403, Some("guest_chat_off"), "chat off");
    room.call(
        Method::PUT,
        "/chat",
        room.owner(),
        Some(json!({"guests_may_chat": "no"})),
    )
    .await
    .expect_invalid("guests_may_chat", "not a boolean");
    // Members still chat.
    room.chat(room.owner(), "members only")
        .await
        .expect(201, None, "a member");
}

#[both_backends]
async fn deleting_a_room_deletes_its_sessions_lobby_and_chat(backend: Backend) {
    let room = Room::start(backend).await;
    room.started().await;
    let (_guest, _) = room.waiting("Gone Guest").await;
    room.chat(room.owner(), "bye")
        .await
        .expect(201, None, "chat");
    room.shared.delete_media().await;
    assert_no_room_rows(&room);
}

#[both_backends]
async fn a_guest_view_of_an_unknown_or_foreign_session_is_the_entry_page(backend: Backend) {
    let room = Room::start(backend).await;
    room.started().await;
    // No guest cookie: the view sends the browser to the entry form.
    let mut stranger = crate::guest_helpers::Browser::new();
    let page = stranger.get(room.app(), &view_path(&room.link.token)).await;
    assert_eq!(page.status, 303);
    assert_eq!(room.lobby().await.len(), 0);
}
