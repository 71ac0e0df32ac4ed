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
    // A loopback port nothing listens on.
    let api = format!("http://127.0.0.1:{}/janus", free_port());
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
    let janus = crate::janus_helpers::JanusProcess::start().await;
    let settings = janus.settings(ADMIN_KEY);
    let room = Room::start_with(backend, move |s| s.janus = settings).await;
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
    assert!(!client.room_exists(&janus.api, number).await.unwrap());
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
