//! Live rooms over server-sent events: what a moderator's and a guest's
//! streams show as the lobby moves, resuming from `Last-Event-ID`, the
//! stream credential, two instances on one PostgreSQL database (also after
//! the listener's connection is killed), and a database that goes away.

use std::time::Duration;

use serde_json::json;

use crate::database_outage::{ChaosProxy, host_port, through_proxy};
use crate::guest_helpers::{Browser, csrf_field, view_path};
use crate::helpers::{Backend, execute, second_instance};
use crate::room_helpers::{
    EVENT_WAIT, EventStream, PRESENCE_WAIT, Room, guest_status, has_chat, lobby_of, lobby_status,
};
use guestlink_test_macros::both_backends;

#[both_backends]
async fn a_moderator_sees_a_guest_knock_and_the_guest_enters_when_admitted(backend: Backend) {
    let room = Room::start(backend).await;
    room.started().await;
    let mut moderator = room.member_stream(room.owner()).await;
    assert_eq!(moderator.status, 200, "{}", moderator.body);
    assert_eq!(
        moderator.headers.get("content-type").unwrap(),
        "text/event-stream"
    );
    let first = moderator.until("the first event", |_| true).await;
    assert!(lobby_of(&first.data).is_empty());
    assert_eq!(first.data["me"]["role"], "moderator");

    let mut guest = room.guest("Stream Guest").await;
    let page = room.view(&mut guest).await;
    assert_eq!(lobby_status(&page).as_deref(), Some("waiting"));
    let mut guest_stream = room.guest_stream(&guest).await;
    assert_eq!(guest_stream.status, 200, "{}", guest_stream.body);
    // The first event may come from before the knock reached this page's
    // instance (place 0: not in line yet); the next one has the place.
    let waiting = guest_stream
        .until("waiting first in line", |d| {
            guest_status(d) == "waiting" && d["lobby"]["place"] == 1
        })
        .await;
    assert_eq!(waiting.data["lobby"]["moderator_present"], true);
    // Nothing of the room's inside reaches a waiting guest.
    assert_eq!(waiting.data["chat"], json!([]));

    let knocked = moderator
        .until("the guest in the lobby", |d| lobby_of(d).len() == 1)
        .await;
    let entry = lobby_of(&knocked.data)[0].clone();
    assert_eq!(entry["name"], "Stream Guest");
    room.decide(room.owner(), entry["id"].as_str().unwrap(), "admit")
        .await
        .expect(200, None, "admit");
    guest_stream
        .until("admitted", |d| guest_status(d) == "admitted")
        .await;
    let admitted = moderator
        .until("the lobby empty and a guest in", |d| {
            lobby_of(d).is_empty() && d["room"]["guests_in"] == 1
        })
        .await;
    // Guests are counted, never listed.
    assert!(
        !admitted.data["room"]["participants"]
            .to_string()
            .contains("Stream Guest")
    );

    // Chat reaches the guest, marked; presenting reaches everyone.
    room.chat(room.owner(), "Welcome <all>")
        .await
        .expect(201, None, "chat");
    let chat = guest_stream.until("the chat message", has_chat).await;
    assert_eq!(chat.data["chat"][0]["text"], "Welcome <all>");
    assert_eq!(chat.data["chat"][0]["guest"], false);

    // The session ends: the guest's page says so.
    room.post("/end", room.owner())
        .await
        .expect(200, None, "end");
    guest_stream
        .until("ended", |d| guest_status(d) == "ended")
        .await;
    moderator
        .until("no session", |d| d["room"]["session"].is_null())
        .await;
}

#[both_backends]
async fn a_guest_whose_page_closes_leaves_the_line_within_thirty_seconds(backend: Backend) {
    let room = Room::start(backend).await;
    room.started().await;
    let mut moderator = room.member_stream(room.owner()).await;
    let mut guest = room.guest("Closing Guest").await;
    room.view(&mut guest).await;
    let mut stream = room.guest_stream(&guest).await;
    stream
        .until("waiting", |d| guest_status(d) == "waiting")
        .await;
    moderator.until("a knock", |d| lobby_of(d).len() == 1).await;
    drop(stream);
    moderator
        .until_within(PRESENCE_WAIT, "the line empty again", |d| {
            lobby_of(d).is_empty()
        })
        .await;
    // Coming back within the guest session puts them back in line.
    let page = room.view(&mut guest).await;
    assert_eq!(lobby_status(&page).as_deref(), Some("waiting"));
    moderator
        .until("back in line", |d| lobby_of(d).len() == 1)
        .await;
}

#[both_backends]
async fn a_member_who_joins_is_listed_and_leaves_with_their_page(backend: Backend) {
    let room = Room::start(backend).await;
    room.started().await;
    let mut moderator = room.member_stream(room.owner()).await;
    let student = room.people.student.clone();
    let mut learner = room.member_stream(&student).await;
    let first = learner.until("the first event", |_| true).await;
    assert_eq!(first.data["me"]["joined"], false);
    assert!(
        first.data["room"].get("lobby").is_none(),
        "no lobby for learners"
    );
    room.post("/join", &student).await.expect(200, None, "join");
    moderator
        .until("two participants", |d| {
            d["room"]["participants"]
                .as_array()
                .is_some_and(|p| p.len() == 2)
        })
        .await;
    drop(learner);
    moderator
        .until_within(PRESENCE_WAIT, "one participant again", |d| {
            d["room"]["participants"]
                .as_array()
                .is_some_and(|p| p.len() == 1)
        })
        .await;
}

#[both_backends]
async fn a_stream_resumes_after_its_last_event_with_only_what_it_missed(backend: Backend) {
    let room = Room::start(backend).await;
    room.started().await;
    for n in 1..=3 {
        room.chat(room.owner(), format!("m{n}"))
            .await
            .expect(201, None, "chat");
    }
    let url = room.get(room.owner()).await["events_url"]
        .as_str()
        .unwrap()
        .to_string();
    let mut stream = EventStream::open(room.app(), &url, &[]).await;
    let first = stream
        .until("the chat so far", |d| {
            d["chat"].as_array().is_some_and(|c| c.len() == 3)
        })
        .await;
    let resume_from = first.id.clone();
    assert!(resume_from.ends_with(".3"), "{resume_from}");
    drop(stream);
    for n in 4..=5 {
        room.chat(room.owner(), format!("m{n}"))
            .await
            .expect(201, None, "chat");
    }
    // With the header, as EventSource sends it: m4 and m5, each once (the
    // stream may learn of m5 an event later, as it learns of any change).
    let mut resumed = EventStream::open(room.app(), &url, &[("Last-Event-ID", &resume_from)]).await;
    assert_eq!(collect_chat(&mut resumed, 2).await, ["m4", "m5"]);
    // ...and in the query, as a page that reopens its stream sends it.
    let mut by_query = EventStream::open(
        room.app(),
        &format!("{url}&last_event_id={resume_from}"),
        &[],
    )
    .await;
    assert_eq!(collect_chat(&mut by_query, 2).await, ["m4", "m5"]);
}

/// The chat texts a stream sends until it has sent `n`, and anything more
/// it sends within a moment after.
async fn collect_chat(stream: &mut EventStream, n: usize) -> Vec<String> {
    let mut texts = Vec::new();
    let deadline = tokio::time::Instant::now() + EVENT_WAIT;
    while texts.len() < n && tokio::time::Instant::now() < deadline {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let Some(event) = stream.next(left).await else {
            break;
        };
        for m in event.data["chat"].as_array().cloned().unwrap_or_default() {
            texts.push(m["text"].as_str().unwrap().to_string());
        }
    }
    if let Some(event) = stream.next(Duration::from_millis(500)).await {
        for m in event.data["chat"].as_array().cloned().unwrap_or_default() {
            texts.push(m["text"].as_str().unwrap().to_string());
        }
    }
    texts
}

#[both_backends]
async fn streams_refuse_bad_tickets_event_ids_and_ended_sessions(backend: Backend) {
    let room = Room::start(backend).await;
    let url = room.get(room.owner()).await["events_url"]
        .as_str()
        .unwrap()
        .to_string();
    let base = format!("/media/{}/events", room.id());
    for (path, status, code) in [
        (base.clone(), 403, "ticket_invalid"),
        (format!("{base}?ticket=nonsense"), 403, "ticket_invalid"),
        (
            format!("{base}?ticket={}", "A".repeat(400)),
            403,
            "ticket_invalid",
        ),
        (format!("{url}&last_event_id=garbage"), 400, "bad_event_id"),
        (format!("{url}&last_event_id=abc.-4"), 400, "bad_event_id"),
    ] {
        let stream = EventStream::open(room.app(), &path, &[]).await;
        assert_eq!(
            (stream.status, stream.code().as_deref()),
            (status, Some(code)),
            "{path}"
        );
    }
    let stream = EventStream::open(room.app(), &url, &[("Last-Event-ID", "x.y.z")]).await;
    assert_eq!(stream.status, 400);
    // A ticket is for one room.
    let other = room
        .shared
        .course
        .create(room.owner(), json!({"title": "Other room", "kind": "room"}))
        .await;
    let ticket = url.split("ticket=").nth(1).unwrap();
    let stream = EventStream::open(
        room.app(),
        &format!("/media/{other}/events?ticket={ticket}"),
        &[],
    )
    .await;
    assert_eq!(stream.code().as_deref(), Some("ticket_invalid"));
    // A guest's stream needs their guest session.
    let stream =
        EventStream::open(room.app(), &format!("/g/{}/events", room.link.token), &[]).await;
    assert_eq!(
        (stream.status, stream.code().as_deref()),
        (403, Some("guest_session_required"))
    );
    // Once the session ends, its ticket opens nothing.
    execute(&room.app().db, "DELETE FROM sessions");
    let stream = EventStream::open(room.app(), &url, &[]).await;
    assert_eq!(
        (stream.status, stream.code().as_deref()),
        (401, Some("session_ended"))
    );
}

#[both_backends]
async fn one_person_may_open_only_a_few_streams(backend: Backend) {
    let room = Room::start(backend).await;
    let guest = room.guest("Many Tabs").await;
    let mut open = Vec::new();
    for _ in 0..8 {
        let stream = room.guest_stream(&guest).await;
        assert_eq!(stream.status, 200, "{}", stream.body);
        open.push(stream);
    }
    let ninth = room.guest_stream(&guest).await;
    assert_eq!(
        (ninth.status, ninth.code().as_deref()),
        (429, Some("too_many_streams"))
    );
    // Another guest is counted apart; a closed tab gives its place back.
    let other = room.guest("Other Guest").await;
    assert_eq!(room.guest_stream(&other).await.status, 200);
    // The server learns that a tab closed at its next write to it (the
    // heartbeat, within 10 s, or the one after).
    open.pop();
    let deadline = tokio::time::Instant::now() + PRESENCE_WAIT;
    loop {
        let again = room.guest_stream(&guest).await;
        if again.status == 200 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the place comes back"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[both_backends]
async fn a_stream_ends_when_its_credential_no_longer_holds(backend: Backend) {
    let room = Room::start(backend).await;
    let mut member = room.member_stream(room.owner()).await;
    member.until("the first event", |_| true).await;
    // A guest not in line yet, whose link stops admitting.
    let mut guest = room.guest("Not Yet In").await;
    room.view(&mut guest).await;
    let mut guest_stream = room.guest_stream(&guest).await;
    guest_stream
        .until("not started", |d| guest_status(d) == "not_started")
        .await;
    room.shared.switch(false).await.expect(200, None, "off");
    execute(&room.app().db, "DELETE FROM sessions");
    // Within a heartbeat (10 s), both streams end.
    assert!(
        member.ends_within(Duration::from_secs(15)).await,
        "the member's stream ends"
    );
    assert!(
        guest_stream.ends_within(Duration::from_secs(15)).await,
        "the guest's stream ends"
    );
}

/// A guest enters through `base` (another instance's address): the entry
/// form, then the view (which knocks).
async fn enter_at(app_http: &reqwest::Client, base: &str, token: &str, name: &str) -> Browser {
    let mut browser = Browser::new();
    let page = browser
        .get_url(app_http, &format!("{base}/g/{token}"))
        .await;
    let csrf = csrf_field(&page);
    let email = format!("{}@guests.example.org", name.to_lowercase());
    crate::log_check::record_secret(&email);
    let posted = browser
        .post_url(
            app_http,
            &format!("{base}/g/{token}"),
            &[("name", name), ("email", &email), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(posted.status, 303, "{}", posted.body);
    let view = browser
        .get_url(app_http, &format!("{base}{}", view_path(token)))
        .await;
    assert_eq!(
        lobby_status(&view).as_deref(),
        Some("waiting"),
        "{}",
        view.body
    );
    browser
}

/// One round across instances: a guest knocks on B, A's moderator stream
/// shows it, A admits, the guest's stream on B enters.
async fn knock_on_b_admit_on_a(room: &Room, moderator: &mut EventStream, b: &str, name: &str) {
    let app = room.app();
    let guest = enter_at(&app.http, b, &room.link.token, name).await;
    let cookie = guest.cookie_header().unwrap();
    let mut guest_stream = EventStream::open_url(
        &format!("{b}/g/{}/events", room.link.token),
        &[("Cookie", &cookie)],
    )
    .await;
    assert_eq!(guest_stream.status, 200, "{}", guest_stream.body);
    guest_stream
        .until("waiting on B", |d| guest_status(d) == "waiting")
        .await;
    let knocked = moderator
        .until(&format!("{name} in A's lobby"), |d| {
            lobby_of(d).iter().any(|e| e["name"] == name)
        })
        .await;
    let entry = lobby_of(&knocked.data)
        .into_iter()
        .find(|e| e["name"] == name)
        .unwrap();
    room.decide(room.owner(), entry["id"].as_str().unwrap(), "admit")
        .await
        .expect(200, None, "admit on A");
    guest_stream
        .until("admitted on B", |d| guest_status(d) == "admitted")
        .await;
}

#[actix_web::test]
#[cfg_attr(
    not(guestlink_pg_tests),
    ignore = "PostgreSQL: TEST_DATABASE_URL was not set when the tests were built"
)]
async fn two_instances_on_one_database_follow_one_room_even_after_the_listener_is_killed() {
    let backend = Backend::postgres().expect("TEST_DATABASE_URL is set");
    let room = Room::start(backend).await;
    room.started().await;
    let b = second_instance(room.app()).await;
    let mut moderator = room.member_stream(room.owner()).await;
    moderator.until("the first event", |_| true).await;
    knock_on_b_admit_on_a(&room, &mut moderator, &b, "Bea").await;

    // Kill both instances' listening connections: notifications sent while
    // they reconnect are lost, and the resynchronising read makes up for it.
    let killed = crate::helpers::count_rows(
        &room.app().db,
        "(SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
          WHERE application_name = 'guestlink-listener' AND datname = current_database()) AS killed",
    );
    assert!(killed >= 2, "both listeners were running ({killed})");
    knock_on_b_admit_on_a(&room, &mut moderator, &b, "Ben").await;
}

#[actix_web::test]
#[cfg_attr(
    not(guestlink_pg_tests),
    ignore = "PostgreSQL: TEST_DATABASE_URL was not set when the tests were built"
)]
async fn streams_end_while_the_database_is_away_and_resume_when_it_is_back() {
    let backend = Backend::postgres().expect("TEST_DATABASE_URL is set");
    let Backend::Postgres(admin_url) = &backend else {
        unreachable!()
    };
    let proxy = ChaosProxy::start(host_port(admin_url));
    let port = proxy.port;
    let room = Room::start_with(backend.clone(), move |settings| {
        through_proxy(settings, port)
    })
    .await;
    room.started().await;
    room.chat(room.owner(), "before")
        .await
        .expect(201, None, "chat");
    let url = room.get(room.owner()).await["events_url"]
        .as_str()
        .unwrap()
        .to_string();
    let mut stream = EventStream::open(room.app(), &url, &[]).await;
    let first = stream.until("the first event", |_| true).await;

    proxy.cut();
    assert!(
        stream.ends_within(Duration::from_secs(20)).await,
        "the stream ends while the database is away"
    );
    let refused = EventStream::open(room.app(), &url, &[("Last-Event-ID", &first.id)]).await;
    assert_eq!(refused.status, 503, "{}", refused.body);

    proxy.restore();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut resumed = loop {
        let stream = EventStream::open(room.app(), &url, &[("Last-Event-ID", &first.id)]).await;
        if stream.status == 200 {
            break stream;
        }
        assert!(tokio::time::Instant::now() < deadline, "streams resume");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let event = resumed.until("the first event again", |_| true).await;
    // Nothing lost, nothing doubled.
    assert_eq!(event.data["chat"], json!([]));
    room.chat(room.owner(), "after")
        .await
        .expect(201, None, "chat after");
    let after = resumed.until("the new message", has_chat).await;
    assert_eq!(after.data["chat"][0]["text"], "after");
}
