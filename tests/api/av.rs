//! Audio and video in rooms: a running session's private room on a real
//! Janus (HTTP API on loopback, no media), destroyed when the session
//! ends; a media server that does not answer, or refuses, leaves the
//! session running with its stage and chat; without media servers rooms
//! say audio and video are not set up.

use serde_json::{Value, json};

use crate::helpers::{Backend, free_port};
use crate::janus_helpers::{ADMIN_KEY, janus_at};
use crate::room_helpers::Room;
use guestlink_test_macros::both_backends;

/// A room of a tool whose media server is a Janus of the test's own.
async fn room_on_janus(backend: Backend) -> (Room, crate::janus_helpers::JanusProcess) {
    let janus = crate::janus_helpers::JanusProcess::start().await;
    let settings = janus.settings(ADMIN_KEY);
    let room = Room::start_with(backend, move |s| s.janus = settings).await;
    (room, janus)
}

fn av(room: &Value) -> &Value {
    &room["av"]
}

#[both_backends]
async fn without_media_servers_rooms_say_audio_and_video_are_not_set_up(backend: Backend) {
    let room = Room::start(backend).await;
    let before = room.get(room.owner()).await;
    assert_eq!(av(&before)["state"], "not_set_up");
    assert!(
        av(&before)["message"]
            .as_str()
            .unwrap()
            .contains("not set up")
    );
    let started = room.started().await;
    assert_eq!(av(&started)["state"], "not_set_up");
}

#[both_backends]
async fn a_media_server_that_does_not_answer_leaves_stage_and_chat(backend: Backend) {
    // A loopback port nothing listens on (a privileged one no test binds).
    let api = "http://127.0.0.1:1/janus".to_string();
    let room = Room::start_with(backend, |s| s.janus = janus_at(&api, ADMIN_KEY)).await;
    let before = room.get(room.owner()).await;
    assert_eq!(av(&before)["state"], "unavailable", "no session runs");
    let started = room.started().await;
    assert!(started["session"]["id"].is_string(), "the session runs");
    assert_eq!(av(&started)["state"], "unavailable");
    assert!(
        av(&started)["message"]
            .as_str()
            .unwrap()
            .contains("did not answer")
    );
    assert_eq!(av(&started).get("room"), None);
    room.chat(room.owner(), "Still here")
        .await
        .expect(201, None, "chat without audio and video");
    room.post("/end", room.owner()).await.expect(
        200,
        None,
        "ending a session without a media room",
    );
}

#[both_backends(janus)]
async fn a_session_gets_a_private_media_room_which_its_end_destroys(backend: Backend) {
    let (room, janus) = room_on_janus(backend).await;
    let started = room.started().await;
    let state = av(&started);
    assert_eq!(state["state"], "ready", "{started}");
    assert_eq!(state["server"], "/janus");
    let number = state["room"].as_u64().expect("a room number");
    assert!(number > 0 && number < (1 << 53));
    let client = janus.client();
    assert!(client.room_exists(&janus.api, number).await.unwrap());
    // Private: a wrong secret cannot destroy it.
    let wrong = client
        .destroy_room(&janus.api, number, "not-the-secret")
        .await;
    assert!(
        matches!(
            wrong,
            Err(guestlink::janus::JanusError::Refused { code: 433, .. })
        ),
        "{wrong:?}"
    );
    // Everyone in the room sees the same room.
    let member = room.get(&room.people.student).await;
    assert_eq!(av(&member)["room"], json!(number));

    room.post("/end", room.owner())
        .await
        .expect(200, None, "end");
    crate::janus_helpers::room_gone(&client, &janus.api, number).await;
    let after = room.get(room.owner()).await;
    assert_eq!(av(&after)["state"], "unavailable", "no session runs");
}

#[both_backends(janus)]
async fn a_media_server_that_refuses_the_room_leaves_stage_and_chat(backend: Backend) {
    let janus = crate::janus_helpers::JanusProcess::start().await;
    // The tool has the wrong admin key: Janus refuses to create rooms.
    let settings = janus.settings("not-the-admin-key");
    let room = Room::start_with(backend, move |s| s.janus = settings).await;
    let started = room.started().await;
    assert_eq!(av(&started)["state"], "unavailable", "{started}");
    room.chat(room.owner(), "Still here")
        .await
        .expect(201, None, "chat");
}

/// An admitted guest's pass (their view page's CSRF token, their cookie).
async fn guest_pass(
    room: &Room,
    guest: &mut crate::guest_helpers::Browser,
) -> crate::media_helpers::Reply {
    let page = room.view(guest).await;
    let csrf = page
        .attr("main[data-csrf]", "data-csrf")
        .unwrap_or_default();
    let app = room.app();
    let mut request = app
        .http
        .post(app.url(&format!("/g/{}/av", room.link.token)))
        .header("X-CSRF-Token", csrf);
    if let Some(cookie) = guest.cookie_header() {
        request = request.header("Cookie", cookie);
    }
    crate::media_helpers::Reply::of(request.send().await.unwrap()).await
}

/// Waits until the participant `id` is out of the media room, then checks
/// that its `token` admits no one any more (Janus answers 433).
async fn out_for_good(
    janus: &crate::janus_helpers::JanusProcess,
    number: u64,
    (id, token): (u64, &str),
    who: &str,
) {
    crate::janus_helpers::participants_until(
        &janus.client(),
        &janus.api,
        number,
        &format!("{who} put out"),
        |ps| !ps.iter().any(|p| p.id == id),
    )
    .await;
    assert_eq!(
        crate::janus_helpers::Peer::join(&janus.api, number, id, token)
            .await
            .err(),
        Some(433),
        "{who}'s token no longer admits"
    );
}

fn pass_of(reply: &crate::media_helpers::Reply) -> (u64, String, bool) {
    let id = reply.json["participant_id"]
        .as_u64()
        .expect("a participant id");
    let token = reply.json["token"].as_str().expect("a token").to_string();
    crate::log_check::record_secret(&token);
    (id, token, reply.json["publish"].as_bool().unwrap())
}

#[both_backends(janus)]
async fn passes_let_people_into_the_media_room_and_are_withdrawn_when_they_go(backend: Backend) {
    use crate::janus_helpers::{Peer, participants_until};
    let (room, janus) = room_on_janus(backend).await;
    let client = janus.client();
    // No session: no pass.
    room.post("/av", room.owner()).await.expect(
        409,
        Some("not_in_session"),
        "a pass before the session",
    );
    let started = room.started().await;
    let number = av(&started)["room"].as_u64().unwrap();

    // The moderator may publish; their pass lets them in, nothing else does.
    let reply = room.post("/av", room.owner()).await;
    reply.expect(200, None, "the moderator's pass");
    assert_eq!(reply.json["server"], "/janus");
    assert_eq!(reply.json["room"], json!(number));
    let (owner_id, owner_token, publish) = pass_of(&reply);
    assert!(publish);
    let owner_peer = Peer::join(&janus.api, number, owner_id, &owner_token)
        .await
        .expect("the moderator joins with their pass");
    assert_eq!(
        Peer::join(&janus.api, number, 77, "made-up-token")
            .await
            .err(),
        Some(433),
        "a made-up token is refused"
    );

    // A student must join the session first; then they watch and listen.
    room.post("/av", &room.people.student).await.expect(
        409,
        Some("not_in_session"),
        "a student not in the session",
    );
    room.post("/join", &room.people.student)
        .await
        .expect(200, None, "the student joins");
    let reply = room.post("/av", &room.people.student).await;
    reply.expect(200, None, "the student's pass");
    let (student_id, student_token, publish) = pass_of(&reply);
    assert!(!publish);
    let student_peer = Peer::join(&janus.api, number, student_id, &student_token)
        .await
        .expect("the student joins");

    // An admitted guest gets a pass too; a waiting one does not.
    let (mut guest, entry) = room.waiting("Grace Guest").await;
    guest_pass(&room, &mut guest)
        .await
        .expect(409, Some("not_in_session"), "a waiting guest");
    room.decide(room.owner(), &entry, "admit")
        .await
        .expect(200, None, "admit");
    let reply = guest_pass(&room, &mut guest).await;
    reply.expect(200, None, "the admitted guest's pass");
    let (guest_id, guest_token, publish) = pass_of(&reply);
    assert!(!publish);
    let _guest_peer = Peer::join(&janus.api, number, guest_id, &guest_token)
        .await
        .expect("the guest joins");

    // Someone joining with a real token under an id of their own is put out.
    let _stranger = Peer::join(&janus.api, number, 4242, &guest_token)
        .await
        .expect("Janus lets a valid token in with any id");
    participants_until(&client, &janus.api, number, "the stranger put out", |ps| {
        !ps.iter().any(|p| p.id == 4242) && ps.iter().any(|p| p.id == guest_id)
    })
    .await;

    // A new pass withdraws the old one: its participant is out, its token dead.
    let reply = room.post("/av", &room.people.student).await;
    let (new_id, _, _) = pass_of(&reply);
    assert_ne!(new_id, student_id);
    out_for_good(
        &janus,
        number,
        (student_id, &student_token),
        "the old pass's holder",
    )
    .await;
    student_peer.close().await;

    // People who leave the session (their page gone for 30 s) lose their
    // pass: the moderator's stays while they are there.
    room.post("/join", room.owner())
        .await
        .expect(200, None, "the moderator is there");
    room.app().clock.advance(time::Duration::seconds(31));
    room.post("/join", room.owner())
        .await
        .expect(200, None, "the moderator is still there");
    out_for_good(
        &janus,
        number,
        (guest_id, &guest_token),
        "the guest who left",
    )
    .await;
    let still = client.participants(&janus.api, number).await.unwrap();
    assert!(
        still.iter().any(|p| p.id == owner_id),
        "the moderator stays: {still:?}"
    );
    owner_peer.close().await;

    // Ending the session destroys the room.
    room.post("/end", room.owner())
        .await
        .expect(200, None, "end");
    assert!(!client.room_exists(&janus.api, number).await.unwrap());
}

#[both_backends]
async fn a_pass_while_the_media_server_is_down_says_so(backend: Backend) {
    let api = "http://127.0.0.1:1/janus".to_string();
    let room = Room::start_with(backend, |s| s.janus = janus_at(&api, ADMIN_KEY)).await;
    room.started().await;
    room.post("/av", room.owner()).await.expect(
        503,
        Some("av_unavailable"),
        "a pass with the server down",
    );
    let none = Room::start(Backend::Sqlite).await;
    none.started().await;
    none.post("/av", none.owner()).await.expect(
        409,
        Some("av_not_set_up"),
        "a pass without media servers",
    );
}

/// Waits until the owner's view of the room satisfies `check`.
async fn av_until(room: &Room, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let now = room.get(room.owner()).await;
        if check(av(&now)) {
            return now;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} within 30 s: {now}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[both_backends(janus)]
async fn a_session_started_while_the_server_was_down_gets_its_room_when_it_answers(
    backend: Backend,
) {
    let port = free_port();
    let api = format!("http://127.0.0.1:{port}/janus");
    let room = Room::start_with(backend, |s| s.janus = janus_at(&api, ADMIN_KEY)).await;
    let started = room.started().await;
    assert_eq!(av(&started)["state"], "unavailable");
    let janus = crate::janus_helpers::JanusProcess::start_on(port).await;
    let now = av_until(&room, "the media room once the server answers", |av| {
        av["state"] == "ready"
    })
    .await;
    let number = av(&now)["room"].as_u64().unwrap();
    assert!(
        janus
            .client()
            .room_exists(&janus.api, number)
            .await
            .unwrap()
    );
}

#[both_backends(janus)]
async fn a_media_room_lost_in_a_server_restart_is_made_again_with_its_passes(backend: Backend) {
    use crate::janus_helpers::Peer;
    let mut janus = crate::janus_helpers::JanusProcess::start().await;
    let settings = janus.settings(ADMIN_KEY);
    let room = Room::start_with(backend, move |s| s.janus = settings).await;
    let started = room.started().await;
    let number = av(&started)["room"].as_u64().unwrap();
    let reply = room.post("/av", room.owner()).await;
    let (id, token, _) = pass_of(&reply);
    janus.restart().await;
    let client = janus.client();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while !client.room_exists(&janus.api, number).await.unwrap() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the room made again within 30 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    // The pass the page holds still lets it in: its token is back on the list.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match Peer::join(&janus.api, number, id, &token).await {
            Ok(peer) => {
                peer.close().await;
                break;
            }
            Err(code) => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "the pass works again (last {code})"
                );
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        }
    }
}

#[actix_web::test]
#[cfg_attr(
    not(all(guestlink_pg_tests, guestlink_janus_tests)),
    ignore = "PostgreSQL and the media server: TEST_DATABASE_URL and GUESTLINK_JANUS_TESTS=1 were not both set when the tests were built"
)]
async fn two_instances_share_a_sessions_media_room() {
    use crate::janus_helpers::Peer;
    let backend = Backend::postgres().expect("TEST_DATABASE_URL is set");
    let (room, janus) = room_on_janus(backend).await;
    let started = room.started().await;
    let number = av(&started)["room"].as_u64().unwrap();
    let b = crate::helpers::second_instance(room.app()).await;
    // The room as instance B sees it, and a pass issued by B.
    let seen = room
        .app()
        .http
        .get(format!("{b}{}", room.path("")))
        .bearer_auth(room.owner())
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(av(&seen)["room"], json!(number));
    let issued = crate::media_helpers::Reply::of(
        room.app()
            .http
            .post(format!("{b}{}", room.path("/av")))
            .bearer_auth(room.owner())
            .send()
            .await
            .unwrap(),
    )
    .await;
    issued.expect(200, None, "a pass from instance B");
    let (id, token, _) = pass_of(&issued);
    // Both instances hold the room to the rules; the pass is valid on both,
    // so neither puts its holder out.
    let peer = Peer::join(&janus.api, number, id, &token)
        .await
        .expect("B's pass admits");
    tokio::time::sleep(crate::room_helpers::ENFORCE_WAIT).await;
    let still = janus
        .client()
        .participants(&janus.api, number)
        .await
        .unwrap();
    assert!(still.iter().any(|p| p.id == id), "{still:?}");
    peer.close().await;
    // Ending on A destroys the room B used.
    room.post("/end", room.owner())
        .await
        .expect(200, None, "end on A");
    assert!(
        !janus
            .client()
            .room_exists(&janus.api, number)
            .await
            .unwrap()
    );
}

#[both_backends(janus)]
async fn deleting_a_room_with_a_running_session_destroys_its_media_room(backend: Backend) {
    let (room, janus) = room_on_janus(backend).await;
    let started = room.started().await;
    let number = av(&started)["room"].as_u64().unwrap();
    room.shared.delete_media().await;
    crate::janus_helpers::room_gone(&janus.client(), &janus.api, number).await;
}

/// POST `/av/remove` with `body`, as the holder of `token`.
async fn remove_from_media(room: &Room, token: &str, body: Value) -> crate::media_helpers::Reply {
    room.call(reqwest::Method::POST, "/av/remove", token, Some(body))
        .await
}

#[both_backends(janus)]
async fn a_moderator_mutes_all_and_removes_someone_from_audio_and_video(backend: Backend) {
    use crate::janus_helpers::Peer;
    let (room, janus) = room_on_janus(backend).await;
    room.post("/av/mute-all", room.owner()).await.expect(
        409,
        Some("not_in_session"),
        "Mute all before a session",
    );
    let started = room.started().await;
    let number = av(&started)["room"].as_u64().unwrap();
    assert_eq!(av(&started)["mute_all"], 0);

    // Mute all: moderators only; every page sees the count move on.
    room.post("/join", &room.people.student)
        .await
        .expect(200, None, "the student joins");
    room.post("/av/mute-all", &room.people.student)
        .await
        .expect(403, Some("forbidden"), "a student's Mute all");
    room.post("/av/mute-all", room.owner())
        .await
        .expect(204, None, "Mute all");
    assert_eq!(av(&room.get(&room.people.student).await)["mute_all"], 1);

    // Remove: the student's participant goes, their token dies, and they
    // get no new pass this session (the stage and chat stay theirs).
    let (student_id, student_token, _) = pass_of(&room.post("/av", &room.people.student).await);
    let peer = Peer::join(&janus.api, number, student_id, &student_token)
        .await
        .expect("the student joins the media room");
    for (body, case) in [
        (json!({}), "no participant_id"),
        (json!({"participant_id": "12"}), "a string"),
        (json!({"participant_id": 1.5}), "a fraction"),
        (json!({"participant_id": -3}), "a negative id"),
    ] {
        remove_from_media(&room, room.owner(), body)
            .await
            .expect_invalid("participant_id", case);
    }
    remove_from_media(&room, room.owner(), json!({"participant_id": 999}))
        .await
        .expect(404, Some("not_found"), "an id nobody holds");
    remove_from_media(
        &room,
        &room.people.student,
        json!({"participant_id": student_id}),
    )
    .await
    .expect(403, Some("forbidden"), "a student removing someone");
    remove_from_media(&room, &room.people.student, json!({}))
        .await
        .expect(403, Some("forbidden"), "a student's malformed removal");
    remove_from_media(&room, room.owner(), json!({"participant_id": student_id}))
        .await
        .expect(204, None, "the moderator removes the student");
    out_for_good(
        &janus,
        number,
        (student_id, &student_token),
        "the removed student",
    )
    .await;
    room.post("/av", &room.people.student).await.expect(
        403,
        Some("av_barred"),
        "a new pass after removal",
    );
    room.chat(&room.people.student, "Still in the chat")
        .await
        .expect(201, None, "the removed student chats");
    peer.close().await;
}

#[both_backends(janus)]
async fn a_moderator_removes_an_admitted_guest_and_their_media_stops(backend: Backend) {
    use crate::janus_helpers::Peer;
    let (room, janus) = room_on_janus(backend).await;
    let client = janus.client();
    let started = room.started().await;
    let number = av(&started)["room"].as_u64().unwrap();
    let (mut guest, entry) = room.waiting("Gus Guest").await;
    room.decide(room.owner(), &entry, "remove").await.expect(
        409,
        Some("entry_not_admitted"),
        "removing a waiting guest",
    );
    room.decide(room.owner(), &entry, "admit")
        .await
        .expect(200, None, "admit");
    let listed = room.get(room.owner()).await;
    assert_eq!(
        listed["guests"],
        json!([{ "id": entry, "name": "Gus Guest" }]),
        "moderators see the guests in the session"
    );
    assert_eq!(
        room.get(&room.people.student).await.get("guests"),
        None,
        "others do not"
    );
    let (guest_id, guest_token, _) = pass_of(&guest_pass(&room, &mut guest).await);
    let peer = Peer::join(&janus.api, number, guest_id, &guest_token)
        .await
        .expect("the guest joins the media room");

    room.decide(&room.people.student, &entry, "remove")
        .await
        .expect(403, Some("forbidden"), "a student removing a guest");
    room.decide(room.owner(), "no-such-entry", "remove")
        .await
        .expect(404, Some("not_found"), "an unknown entry");
    let removed = room.decide(room.owner(), &entry, "remove").await;
    removed.expect(200, None, "the moderator removes the guest");
    assert_eq!(removed.json["status"], "denied");
    // At once, not at the rooms' next check.
    let now = client.participants(&janus.api, number).await.unwrap();
    assert!(!now.iter().any(|p| p.id == guest_id), "{now:?}");
    out_for_good(
        &janus,
        number,
        (guest_id, &guest_token),
        "the removed guest",
    )
    .await;
    assert_eq!(room.get(room.owner()).await["guests"], json!([]));
    room.decide(room.owner(), &entry, "remove").await.expect(
        409,
        Some("entry_not_admitted"),
        "removing twice",
    );
    // Their view says so and their session ends; no pass.
    let page = room.view(&mut guest).await;
    assert_eq!(page.status, 403, "the removed guest's view");
    assert!(page.body.contains("removed you"), "{}", page.body);
    peer.close().await;

    // Coming back through the link, they wait for a moderator even when
    // guests are let in by themselves; someone else walks in.
    room.call(
        reqwest::Method::PUT,
        "/lobby",
        room.owner(),
        Some(json!({"policy": "admit_all"})),
    )
    .await
    .expect(200, None, "admit guests automatically");
    let status = |page: &crate::helpers::Page| {
        page.attr("main[data-lobby-status]", "data-lobby-status")
            .unwrap_or_default()
    };
    let mut back = room.guest("Gus Guest").await;
    assert_eq!(
        status(&room.view(&mut back).await),
        "waiting",
        "the removed guest"
    );
    let mut other = room.guest("Olga Other").await;
    assert_eq!(
        status(&room.view(&mut other).await),
        "admitted",
        "another guest"
    );
}

#[both_backends(janus)]
async fn a_publisher_who_leaves_the_media_room_loses_their_pass(backend: Backend) {
    use crate::janus_helpers::Peer;
    let (room, janus) = room_on_janus(backend).await;
    let started = room.started().await;
    let number = av(&started)["room"].as_u64().unwrap();
    let (id, token, publish) = pass_of(&room.post("/av", room.owner()).await);
    assert!(publish);
    // Not yet in the room: the pass waits for its holder.
    tokio::time::sleep(crate::room_helpers::ENFORCE_WAIT).await;
    let peer = Peer::join(&janus.api, number, id, &token)
        .await
        .expect("the moderator joins");
    // Seen by the rooms' check, then gone: the id (which the room showed
    // everyone) must not let anyone else in under it.
    tokio::time::sleep(crate::room_helpers::ENFORCE_WAIT).await;
    peer.close().await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        match Peer::join(&janus.api, number, id, &token).await {
            Err(433) => break,
            Err(code) => panic!("joining again answered {code}"),
            Ok(again) => {
                again.close().await;
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "the departed publisher's pass withdrawn within 20 s"
                );
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
        }
    }
    // A new pass works.
    let (new_id, new_token, _) = pass_of(&room.post("/av", room.owner()).await);
    Peer::join(&janus.api, number, new_id, &new_token)
        .await
        .expect("the moderator's new pass")
        .close()
        .await;
}

#[both_backends]
async fn the_tool_serves_the_media_servers_browser_library_and_lets_pages_call_them(
    backend: Backend,
) {
    use guestlink::config::BrowserScripts;
    let api = "http://127.0.0.1:1/janus".to_string();
    let room = Room::start_with(backend, |s| {
        s.janus = janus_at(&api, ADMIN_KEY);
        s.janus.servers[0].public = "https://media.example.edu/janus".into();
        s.janus.scripts = Some(std::sync::Arc::new(BrowserScripts {
            janus_js: "/* Debian's janus.min.js */".into(),
            adapter_js: "/* Debian's adapter.min.js */".into(),
        }));
    })
    .await;
    let app = room.app();
    let get = |path: &str| app.http.get(app.url(path)).send();
    let janus_js = get("/static/vendor/janus.js").await.unwrap();
    assert_eq!(janus_js.status(), 200);
    assert!(
        janus_js.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    let csp = janus_js.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.ends_with("; connect-src 'self' https://media.example.edu"),
        "{csp}"
    );
    assert_eq!(
        janus_js.text().await.unwrap(),
        "/* Debian's janus.min.js */"
    );
    let adapter = get("/static/vendor/adapter.js").await.unwrap();
    assert_eq!(
        adapter.text().await.unwrap(),
        "/* Debian's adapter.min.js */"
    );
    for other in ["/static/vendor/other.js", "/static/vendor/..%2Fjanus.js"] {
        assert_eq!(get(other).await.unwrap().status(), 404, "{other}");
    }

    // Without media servers: no library, and pages call only the tool.
    let none = Room::start(Backend::Sqlite).await;
    let reply = none
        .app()
        .http
        .get(none.app().url("/static/vendor/janus.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 404);
    let csp = reply.headers()["content-security-policy"].to_str().unwrap();
    assert!(!csp.contains("connect-src"), "{csp}");
}

/// A room whose media server reports joins and publications to the tool
/// (Janus's sample event handler), and its session's media room number.
async fn reporting_room(backend: Backend) -> (Room, crate::janus_helpers::JanusProcess, u64) {
    let port = free_port();
    let api = format!("http://127.0.0.1:{port}/janus");
    let room = Room::start_with(backend, |s| s.janus = janus_at(&api, ADMIN_KEY)).await;
    let janus = crate::janus_helpers::JanusProcess::start_reporting_to(
        port,
        &room.app().url("/media-server/events"),
    )
    .await;
    let started = room.started().await;
    let number = av(&started)["room"].as_u64().expect("a media room");
    (room, janus, number)
}

#[both_backends(janus)]
async fn a_token_used_under_another_id_is_put_out_and_its_holder_barred(backend: Backend) {
    use crate::janus_helpers::{Peer, participants_until};
    let (room, janus, number) = reporting_room(backend).await;
    let client = janus.client();
    let (owner_id, owner_token, _) = pass_of(&room.post("/av", room.owner()).await);
    let owner = Peer::join(&janus.api, number, owner_id, &owner_token)
        .await
        .expect("the moderator joins");
    let (mut guest, entry) = room.waiting("Ivy Impostor").await;
    room.decide(room.owner(), &entry, "admit")
        .await
        .expect(200, None, "admit");
    let (_, guest_token, _) = pass_of(&guest_pass(&room, &mut guest).await);

    // The moderator's page goes; the guest's token joins under their id
    // (which every page saw) before the rooms' check could notice.
    owner.close().await;
    participants_until(&client, &janus.api, number, "the moderator gone", |ps| {
        !ps.iter().any(|p| p.id == owner_id)
    })
    .await;
    let _impostor = Peer::join(&janus.api, number, owner_id, &guest_token)
        .await
        .expect("Janus itself lets any listed token join under any free id");
    participants_until(&client, &janus.api, number, "the impostor put out", |ps| {
        !ps.iter().any(|p| p.id == owner_id)
    })
    .await;
    // The guest's pass is spent: no new one, and their token is off the list.
    guest_pass(&room, &mut guest)
        .await
        .expect(403, Some("av_barred"), "the impostor's next pass");
    assert_eq!(
        Peer::join(&janus.api, number, 5150, &guest_token)
            .await
            .err(),
        Some(433),
        "the impostor's token no longer admits"
    );
    // The moderator, with a new pass, is unaffected.
    let (new_id, new_token, _) = pass_of(&room.post("/av", room.owner()).await);
    let back = Peer::join(&janus.api, number, new_id, &new_token)
        .await
        .expect("the moderator's new pass");
    tokio::time::sleep(crate::room_helpers::ENFORCE_WAIT).await;
    let now = client.participants(&janus.api, number).await.unwrap();
    assert!(now.iter().any(|p| p.id == new_id), "{now:?}");
    back.close().await;
}

#[both_backends]
async fn media_server_reports_need_the_shared_secret(backend: Backend) {
    let api = "http://127.0.0.1:1/janus".to_string();
    let room = Room::start_with(backend, |s| s.janus = janus_at(&api, ADMIN_KEY)).await;
    let app = room.app();
    let post = |auth: Option<(&str, &str)>, body: &str| {
        let mut request = app
            .http
            .post(app.url("/media-server/events"))
            .header("Content-Type", "application/json")
            .body(body.to_string());
        if let Some((user, password)) = auth {
            request = request.basic_auth(user, Some(password));
        }
        request.send()
    };
    let report = r#"[{"type":64,"event":{"plugin":"janus.plugin.videoroom","data":{"event":"joined","room":1,"id":2,"token":"x"}}}]"#;
    assert_eq!(post(None, report).await.unwrap().status(), 401);
    assert_eq!(
        post(Some(("janus", "not-the-key")), report)
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        post(Some(("janus", ADMIN_KEY)), report)
            .await
            .unwrap()
            .status(),
        204,
        "a report about no room of the tool's is accepted and ignored"
    );
    let bad = post(Some(("janus", ADMIN_KEY)), "not json").await.unwrap();
    assert_eq!(bad.status(), 400);

    // Without a shared secret the address does not exist.
    let none = Room::start(Backend::Sqlite).await;
    let reply = none
        .app()
        .http
        .post(none.app().url("/media-server/events"))
        .basic_auth("janus", Some(ADMIN_KEY))
        .body(report)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 404);
}
