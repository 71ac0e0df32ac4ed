//! Live rooms in tests: a course with a room whose guest access is on and
//! one open link, its people, the room's API, the guest's view, and a
//! reader of server-sent event streams.

use std::time::Duration;

use guestlink::demo::claims::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::guest_helpers::{Browser, Link, Shared, admitted_as, view_path};
use crate::helpers::{Backend, Page, TestApp};
use crate::media_helpers::{People, Reply};
use guestlink::config::Settings;

/// How long a test waits for an event: generous, for correctness only
/// (latency is the benchmark's).
pub const EVENT_WAIT: Duration = Duration::from_secs(10);

/// Long enough for every instance to have held the media rooms to the
/// rules at least twice.
pub const ENFORCE_WAIT: Duration = Duration::from_secs(7);

/// How long a closed page may still count as present: the rooms' rule
/// (30 s), and a little more.
pub const PRESENCE_WAIT: Duration = Duration::from_secs(35);

/// A course with a room (guest access on, one open link) and its people.
pub struct Room {
    pub shared: Shared,
    pub people: People,
    pub link: Link,
}

impl Room {
    pub async fn start(backend: Backend) -> Room {
        Room::start_with(backend, |_| {}).await
    }

    pub async fn start_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> Room {
        let shared = Shared::start_item_with(
            backend,
            json!({"title": "Office hours", "kind": "room"}),
            adjust,
        )
        .await;
        let people = shared.course.people().await;
        let link = shared.open_link().await;
        Room {
            shared,
            people,
            link,
        }
    }

    pub fn app(&self) -> &TestApp {
        &self.shared.course.app
    }

    pub fn id(&self) -> &str {
        &self.shared.media
    }

    /// The instructor who owns the room.
    pub fn owner(&self) -> &str {
        &self.shared.owner
    }

    pub fn path(&self, suffix: &str) -> String {
        format!("/api/media/{}/room{suffix}", self.shared.media)
    }

    /// A room API call as `token` with an optional JSON body.
    pub async fn call(
        &self,
        method: Method,
        suffix: &str,
        token: &str,
        body: Option<Value>,
    ) -> Reply {
        let course = &self.shared.course;
        match body {
            Some(body) => {
                course
                    .send_json(method, &self.path(suffix), Some(token), &body)
                    .await
            }
            None => {
                course
                    .api(method, &self.path(suffix), Some(token), None)
                    .await
            }
        }
    }

    pub async fn post(&self, suffix: &str, token: &str) -> Reply {
        self.call(Method::POST, suffix, token, None).await
    }

    /// A member's chat message, whatever it answers.
    pub async fn chat(&self, token: &str, text: impl Into<Value>) -> Reply {
        let body = json!({ "text": text.into() });
        self.call(Method::POST, "/chat", token, Some(body)).await
    }

    pub async fn get(&self, token: &str) -> Value {
        let reply = self.call(Method::GET, "", token, None).await;
        reply.expect(200, None, "GET room");
        reply.json
    }

    /// Starts a session as the owner, which must succeed.
    pub async fn started(&self) -> Value {
        let reply = self.post("/start", self.owner()).await;
        reply.expect(200, None, "start");
        reply.json
    }

    /// The lobby as the owner sees it.
    pub async fn lobby(&self) -> Vec<Value> {
        self.get(self.owner()).await["lobby"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// A guest admitted through the room's link (their click spent), who has
    /// not opened the view yet.
    pub async fn guest(&self, name: &str) -> Browser {
        let email = format!(
            "{}@guests.example.org",
            name.to_lowercase().replace(' ', ".")
        );
        admitted_as(self.app(), &self.link.token, name, &email).await
    }

    /// The guest's view of the room (which knocks).
    pub async fn view(&self, guest: &mut Browser) -> Page {
        guest.get(self.app(), &view_path(&self.link.token)).await
    }

    /// A guest who opened the view and is in the lobby; their entry's id.
    pub async fn waiting(&self, name: &str) -> (Browser, String) {
        let mut guest = self.guest(name).await;
        let page = self.view(&mut guest).await;
        assert_eq!(
            lobby_status(&page).as_deref(),
            Some("waiting"),
            "{}",
            page.body
        );
        let entry = self
            .lobby()
            .await
            .into_iter()
            .find(|e| e["name"] == name)
            .unwrap_or_else(|| panic!("{name} is in the lobby"));
        (guest, entry["id"].as_str().unwrap().to_string())
    }

    pub async fn decide(&self, token: &str, entry: &str, what: &str) -> Reply {
        self.post(&format!("/lobby/{entry}/{what}"), token).await
    }

    /// A member's event stream, opened with the ticket GET room hands out.
    pub async fn member_stream(&self, token: &str) -> EventStream {
        let url = self.get(token).await["events_url"]
            .as_str()
            .expect("an events_url")
            .to_string();
        crate::log_check::record_secret(url.split("ticket=").nth(1).unwrap_or_default());
        EventStream::open(self.app(), &url, &[]).await
    }

    /// A guest's event stream, with their cookies.
    pub async fn guest_stream(&self, guest: &Browser) -> EventStream {
        let url = format!("/g/{}/events", self.link.token);
        let cookie = guest.cookie_header().unwrap_or_default();
        EventStream::open(self.app(), &url, &[("Cookie", &cookie)]).await
    }

    /// A guest's chat message, with the CSRF token of their room page.
    pub async fn guest_chat(&self, guest: &mut Browser, text: &str, csrf: Option<&str>) -> Reply {
        let page = self.view(guest).await;
        let token = page
            .attr("main[data-csrf]", "data-csrf")
            .unwrap_or_default();
        let app = self.app();
        let mut request = app
            .http
            .post(app.url(&format!("/g/{}/chat", self.link.token)))
            .header("Content-Type", "application/json")
            .header("X-CSRF-Token", csrf.unwrap_or(&token))
            .body(json!({ "text": text }).to_string());
        if let Some(cookie) = guest.cookie_header() {
            request = request.header("Cookie", cookie);
        }
        Reply::of(request.send().await.unwrap()).await
    }
}

/// The token of the instructor-like second moderator (a teaching assistant).
pub async fn second_moderator(room: &Room) -> String {
    room.shared.course.token(Role::TeachingAssistant).await
}

/// The view's `data-lobby-status`.
pub fn lobby_status(page: &Page) -> Option<String> {
    page.attr("main[data-lobby-status]", "data-lobby-status")
}

/// One server-sent event.
#[derive(Clone, Debug)]
pub struct Event {
    pub id: String,
    pub data: Value,
}

/// A server-sent event stream as a browser's `EventSource` reads it.
pub struct EventStream {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    response: Option<reqwest::Response>,
    buffer: String,
    pub body: String,
}

impl EventStream {
    pub async fn open(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> EventStream {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            app.url(path)
        };
        EventStream::open_url(&url, headers).await
    }

    pub async fn open_url(url: &str, headers: &[(&str, &str)]) -> EventStream {
        let client = reqwest::Client::new();
        let mut request = client.get(url).header("Accept", "text/event-stream");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("the stream answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        if status != 200 {
            let body = response.text().await.unwrap_or_default();
            return EventStream {
                status,
                headers,
                response: None,
                buffer: String::new(),
                body,
            };
        }
        EventStream {
            status,
            headers,
            response: Some(response),
            buffer: String::new(),
            body: String::new(),
        }
    }

    /// The error code of a refused stream.
    pub fn code(&self) -> Option<String> {
        serde_json::from_str::<Value>(&self.body)
            .ok()
            .and_then(|v| v["error"]["code"].as_str().map(str::to_string))
    }

    /// The next event, or None if the stream ended or `within` passed.
    pub async fn next(&mut self, within: Duration) -> Option<Event> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(at) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..at + 2).collect();
                let mut id = String::new();
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id: ") {
                        id = v.to_string();
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data.push_str(v);
                    }
                }
                if data.is_empty() {
                    continue;
                }
                let data = serde_json::from_str(&data).expect("event data is JSON");
                crate::log_check::record_grants(&block);
                return Some(Event { id, data });
            }
            let response = self.response.as_mut()?;
            let chunk = tokio::time::timeout_at(deadline, response.chunk())
                .await
                .ok()?;
            match chunk {
                Ok(Some(bytes)) => self.buffer.push_str(&String::from_utf8_lossy(&bytes)),
                _ => {
                    self.response = None;
                    return None;
                }
            }
        }
    }

    /// Events until one satisfies `check` (within [`EVENT_WAIT`]); that one.
    pub async fn until(&mut self, what: &str, check: impl Fn(&Value) -> bool) -> Event {
        self.until_within(EVENT_WAIT, what, check).await
    }

    pub async fn until_within(
        &mut self,
        within: Duration,
        what: &str,
        check: impl Fn(&Value) -> bool,
    ) -> Event {
        let deadline = tokio::time::Instant::now() + within;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next(left).await {
                Some(event) if check(&event.data) => return event,
                Some(event) => seen.push(event.data),
                None => panic!("no event where {what} within {within:?}; saw {seen:#?}"),
            }
        }
    }

    /// Whether the stream has ended (the server closed it) within `within`.
    pub async fn ends_within(&mut self, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return false;
            }
            if self.next(left).await.is_none() {
                return self.response.is_none();
            }
        }
    }
}

/// The lobby's entries in a member's event.
pub fn lobby_of(data: &Value) -> Vec<Value> {
    data["room"]["lobby"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Whether an event carries chat messages.
pub fn has_chat(data: &Value) -> bool {
    data["chat"].as_array().is_some_and(|c| !c.is_empty())
}

/// The guest's lobby status in their event.
pub fn guest_status(data: &Value) -> &str {
    data["lobby"]["status"].as_str().unwrap_or_default()
}
