//! Shared by the guest-access API tests and the guest entry tests: an item
//! shared with guests, links made through the API, a browser with a cookie
//! jar of its own for the guest's way in, the unavailable page, the platform
//! modules switched by the command line, and the retention purge.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::{Duration, Instant};

use guestlink::config::Settings;
use guestlink::demo::claims::Role;
use reqwest::Method;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::helpers::{Backend, Page, TestApp, count_rows, free_port};
use crate::media_helpers::{Course, FileReply, Reply, Sample};

/// The guest entry's cookies, as the tool names them.
pub const CSRF_COOKIE: &str = "guestlink_guest_csrf";
pub const GUEST_COOKIE: &str = "guestlink_guest";

pub const GUEST_NAME: &str = "Ada Lovelace";
pub const GUEST_EMAIL: &str = "ada@example.com";

// --- paths ---

pub fn access_path(media: &str) -> String {
    format!("/api/media/{media}/guest-access")
}

pub fn links_path(media: &str) -> String {
    format!("/api/media/{media}/guest-links")
}

pub fn link_path(media: &str, link: &str) -> String {
    format!("/api/media/{media}/guest-links/{link}")
}

pub fn visits_path(media: &str, link: &str) -> String {
    format!("/api/media/{media}/guest-links/{link}/visits")
}

pub fn entry_path(token: &str) -> String {
    format!("/g/{token}")
}

pub fn view_path(token: &str) -> String {
    format!("/g/{token}/view")
}

// --- links through the API ---

/// A link as the API answered it, with the token taken from its URL.
#[derive(Clone, Debug)]
pub struct Link {
    pub id: String,
    pub token: String,
    pub url: String,
    pub json: Value,
}

impl Link {
    pub fn from_json(json: &Value) -> Link {
        if let Some(url) = json["url"].as_str() {
            crate::log_check::record_secret(url.rsplit('/').next().unwrap_or_default());
        }
        let url = json["url"]
            .as_str()
            .unwrap_or_else(|| panic!("a url in {json}"))
            .to_string();
        let token = url
            .rsplit_once("/g/")
            .map(|(_, t)| t.to_string())
            .unwrap_or_else(|| panic!("a /g/ URL: {url}"));
        Link {
            id: json["id"]
                .as_str()
                .unwrap_or_else(|| panic!("an id in {json}"))
                .to_string(),
            token,
            url,
            json: json.clone(),
        }
    }

    pub fn entry(&self) -> String {
        entry_path(&self.token)
    }

    pub fn view(&self) -> String {
        view_path(&self.token)
    }
}

/// The body of a link creation.
pub fn link_body(name: &str, click_limit: Option<i64>, days: Option<i64>) -> Value {
    json!({"name": name, "click_limit": click_limit, "duration_days": days})
}

/// Turns an item's guest access on or off, which must succeed.
pub async fn switch(course: &Course, token: &str, media: &str, on: bool) -> Reply {
    let reply = course
        .send_json(
            Method::PUT,
            &access_path(media),
            Some(token),
            &json!({"enabled": on}),
        )
        .await;
    reply.expect(200, None, &format!("switch guest access to {on}"));
    reply
}

/// Creates a link, which must succeed.
pub async fn new_link(course: &Course, token: &str, media: &str, body: &Value) -> Link {
    let reply = course
        .post_json(&links_path(media), Some(token), body)
        .await;
    reply.expect(201, None, &format!("create link {body}"));
    Link::from_json(&reply.json)
}

/// GET guest-access, which must answer 200.
pub async fn access(course: &Course, token: &str, media: &str) -> Value {
    let reply = course.get_json(&access_path(media), Some(token)).await;
    reply.expect(200, None, "GET guest-access");
    reply.json
}

/// The links GET guest-access lists, in order.
pub async fn listed_links(course: &Course, token: &str, media: &str) -> Vec<Value> {
    access(course, token, media).await["links"]
        .as_array()
        .unwrap_or_else(|| panic!("a links array"))
        .clone()
}

pub fn ids_of(links: &[Value]) -> Vec<String> {
    links
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect()
}

/// A course whose instructor owns one item: a video linked by URL (or
/// another item) whose guest access is switched on.
pub struct Shared {
    pub course: Course,
    pub owner: String,
    pub media: String,
}

pub const ITEM_TITLE: &str = "Theming design system";

/// The owner's launch session outlives the clock moves of these tests (up to
/// 181 days), so the owner can still read the links and visits afterwards.
pub const LAUNCH_SESSION_MINUTES: i64 = 400 * 24 * 60;

impl Shared {
    /// The running tool.
    pub fn app(&self) -> &TestApp {
        &self.course.app
    }

    /// A linked video with guest access on.
    pub async fn start(backend: Backend) -> Shared {
        Shared::start_with(backend, |_| {}).await
    }

    pub async fn start_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> Shared {
        let shared = Shared::start_off_with(backend, adjust).await;
        shared.switch(true).await;
        shared
    }

    /// A linked video whose guest access is still off.
    pub async fn start_off(backend: Backend) -> Shared {
        Shared::start_off_with(backend, |_| {}).await
    }

    pub async fn start_off_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> Shared {
        let course = Course::start_with(backend, |s| {
            s.sessions.idle = guestlink::domain::time::Duration::minutes(LAUNCH_SESSION_MINUTES);
            s.sessions.max = guestlink::domain::time::Duration::hours(LAUNCH_SESSION_MINUTES / 60);
            adjust(s);
        })
        .await;
        let owner = course.token(Role::Instructor).await;
        let media = course
            .create(
                &owner,
                json!({
                    "title": ITEM_TITLE,
                    "kind": "video",
                    "source_url": "https://videos.example.edu/theming.mp4",
                }),
            )
            .await;
        Shared {
            course,
            owner,
            media,
        }
    }

    /// An item created from `item` (JSON), guest access on.
    pub async fn start_item(backend: Backend, item: Value) -> Shared {
        Shared::start_item_with(backend, item, |_| {}).await
    }

    pub async fn start_item_with(
        backend: Backend,
        item: Value,
        adjust: impl FnOnce(&mut Settings),
    ) -> Shared {
        let course = Course::start_with(backend, |s| {
            s.sessions.idle = guestlink::domain::time::Duration::minutes(LAUNCH_SESSION_MINUTES);
            s.sessions.max = guestlink::domain::time::Duration::hours(LAUNCH_SESSION_MINUTES / 60);
            adjust(s);
        })
        .await;
        let owner = course.token(Role::Instructor).await;
        let media = course.create(&owner, item).await;
        let shared = Shared {
            course,
            owner,
            media,
        };
        shared.switch(true).await;
        shared
    }

    /// An uploaded file of `sample`, guest access on; with the file's bytes.
    pub async fn start_upload(backend: Backend, sample: &Sample) -> (Shared, Vec<u8>) {
        let course = Course::start_with(backend, |s| {
            s.sessions.idle = guestlink::domain::time::Duration::minutes(LAUNCH_SESSION_MINUTES);
            s.sessions.max = guestlink::domain::time::Duration::hours(LAUNCH_SESSION_MINUTES / 60);
        })
        .await;
        let owner = course.token(Role::Instructor).await;
        let (media, bytes) = course.upload_sample(&owner, sample, 1_000).await;
        let shared = Shared {
            course,
            owner,
            media,
        };
        shared.switch(true).await;
        (shared, bytes)
    }

    pub async fn switch(&self, on: bool) -> Reply {
        switch(&self.course, &self.owner, &self.media, on).await
    }

    pub async fn access(&self) -> Value {
        access(&self.course, &self.owner, &self.media).await
    }

    pub async fn listed(&self) -> Vec<Value> {
        listed_links(&self.course, &self.owner, &self.media).await
    }

    /// POST guest-links as the owner, whatever it answers.
    pub async fn try_link(&self, body: &Value) -> Reply {
        self.course
            .post_json(&links_path(&self.media), Some(&self.owner), body)
            .await
    }

    /// A link the owner creates, which must succeed.
    pub async fn link(&self, name: &str, click_limit: Option<i64>, days: Option<i64>) -> Link {
        new_link(
            &self.course,
            &self.owner,
            &self.media,
            &link_body(name, click_limit, days),
        )
        .await
    }

    /// A link without limits.
    pub async fn open_link(&self) -> Link {
        self.link("Webinar invite", None, None).await
    }

    pub async fn delete_link(&self, link: &Link) {
        self.course
            .delete(&link_path(&self.media, &link.id), Some(&self.owner))
            .await
            .expect(204, None, "delete link");
    }

    pub async fn delete_media(&self) {
        self.course
            .delete(&format!("/api/media/{}", self.media), Some(&self.owner))
            .await
            .expect(204, None, "delete media");
    }

    /// The link as GET guest-access lists it now.
    pub async fn listed_link(&self, link: &Link) -> Value {
        self.listed()
            .await
            .into_iter()
            .find(|l| l["id"] == link.id.as_str())
            .unwrap_or_else(|| panic!("link {} is listed", link.id))
    }

    pub async fn status(&self, link: &Link) -> String {
        self.listed_link(link).await["status"]
            .as_str()
            .expect("a status")
            .to_string()
    }

    pub async fn clicks(&self, link: &Link) -> i64 {
        self.listed_link(link).await["clicks"]
            .as_i64()
            .expect("clicks")
    }

    /// The visits of a link as JSON, which must answer 200.
    pub async fn visits(&self, link: &Link) -> Vec<Value> {
        let reply = self
            .course
            .get_json(&visits_path(&self.media, &link.id), Some(&self.owner))
            .await;
        reply.expect(200, None, "visits");
        reply.json["visits"]
            .as_array()
            .unwrap_or_else(|| panic!("a visits array in {}", reply.body))
            .clone()
    }

    /// The visits CSV: status, headers and body.
    pub async fn visits_csv(&self, link: &Link) -> (u16, reqwest::header::HeaderMap, String) {
        let response = self
            .course
            .app
            .http
            .get(self.course.app.url(&format!(
                "{}?format=csv",
                visits_path(&self.media, &link.id)
            )))
            .bearer_auth(&self.owner)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.text().await.unwrap())
    }
}

// --- rows ---

pub fn live_link_rows(course: &Course) -> i64 {
    count_rows(&course.app.db, "guest_links WHERE deleted_at IS NULL")
}

pub fn link_rows(course: &Course) -> i64 {
    count_rows(&course.app.db, "guest_links")
}

pub fn visit_rows(course: &Course) -> i64 {
    count_rows(&course.app.db, "guest_visits")
}

pub fn guest_session_rows(course: &Course) -> i64 {
    count_rows(&course.app.db, "guest_sessions")
}

// --- a guest's browser ---

/// A browser of its own: the cookies the tool set on it (sent back on every
/// request, whatever their Path, so tests can also try a cookie where a
/// browser would not send it), and an optional `X-Forwarded-For`.
#[derive(Clone, Debug, Default)]
pub struct Browser {
    cookies: BTreeMap<String, String>,
    pub forwarded_for: Option<String>,
    /// Further `X-Forwarded-For` lines, sent after `forwarded_for` (as a
    /// proxy that appends its own line does).
    pub more_forwarded_for: Vec<String>,
}

impl Browser {
    pub fn new() -> Browser {
        Browser::default()
    }

    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    pub fn set_cookie(&mut self, name: &str, value: &str) {
        self.cookies.insert(name.into(), value.into());
    }

    pub fn drop_cookie(&mut self, name: &str) {
        self.cookies.remove(name);
    }

    /// The `Cookie` header this browser sends.
    pub fn cookie_header(&self) -> Option<String> {
        (!self.cookies.is_empty()).then(|| {
            self.cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    fn keep(&mut self, headers: &reqwest::header::HeaderMap) {
        for line in headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            let pair = line.split(';').next().unwrap_or_default();
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            let removed = value.is_empty()
                || line
                    .split(';')
                    .any(|a| a.trim().eq_ignore_ascii_case("max-age=0"));
            if removed {
                self.cookies.remove(name.trim());
            } else {
                crate::log_check::record_secret(value.trim());
                self.cookies
                    .insert(name.trim().to_string(), value.trim().to_string());
            }
        }
    }

    fn dress(&self, mut request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        if let Some(cookie) = self.cookie_header() {
            request = request.header("Cookie", cookie);
        }
        if let Some(forwarded) = &self.forwarded_for {
            request = request.header("X-Forwarded-For", forwarded);
        }
        for line in &self.more_forwarded_for {
            request = request.header("X-Forwarded-For", line);
        }
        request
    }

    pub async fn get_url(&mut self, http: &reqwest::Client, url: &str) -> Page {
        let page = Page::from(self.dress(http.get(url)).send().await.unwrap()).await;
        self.keep(&page.headers);
        page
    }

    pub async fn post_url(
        &mut self,
        http: &reqwest::Client,
        url: &str,
        form: &[(&str, &str)],
    ) -> Page {
        let request = http
            .post(url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(form).unwrap());
        let page = Page::from(self.dress(request).send().await.unwrap()).await;
        self.keep(&page.headers);
        page
    }

    pub async fn get(&mut self, app: &TestApp, path: &str) -> Page {
        self.get_url(&app.http, &app.url(path)).await
    }

    /// A file (or other non-page answer) fetched by this browser, with its
    /// cookies, at `url` (absolute, or a path of the app).
    pub async fn file(&self, app: &TestApp, url: &str, headers: &[(&str, &str)]) -> FileReply {
        let url = if url.starts_with("http") {
            url.to_string()
        } else {
            app.url(url)
        };
        let mut request = self.dress(app.http.get(url));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("the route answers");
        FileReply {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.bytes().await.unwrap().to_vec(),
        }
    }

    pub async fn post(&mut self, app: &TestApp, path: &str, form: &[(&str, &str)]) -> Page {
        self.post_url(&app.http, &app.url(path), form).await
    }
}

/// The hidden csrf field of an entry page.
pub fn csrf_field(page: &Page) -> String {
    page.attr("#guest-entry-form input[name=csrf]", "value")
        .unwrap_or_else(|| {
            panic!(
                "an entry form with a csrf field ({}): {}",
                page.status, page.body
            )
        })
}

/// Opens the entry page of `token`, which must show the form; its csrf field.
pub async fn open_form(app: &TestApp, browser: &mut Browser, token: &str) -> String {
    let page = browser.get(app, &entry_path(token)).await;
    assert_eq!(page.status, 200, "the entry page: {}", page.body);
    csrf_field(&page)
}

/// Submits the entry form with `csrf`.
pub async fn submit(
    app: &TestApp,
    browser: &mut Browser,
    token: &str,
    csrf: &str,
    name: &str,
    email: &str,
) -> Page {
    browser
        .post(
            app,
            &entry_path(token),
            &[("name", name), ("email", email), ("csrf", csrf)],
        )
        .await
}

/// `browser` opens the link and submits the form as the test's guest; the
/// POST's answer.
pub async fn enter_in(app: &TestApp, browser: &mut Browser, token: &str) -> Page {
    let csrf = open_form(app, browser, token).await;
    submit(app, browser, token, &csrf, GUEST_NAME, GUEST_EMAIL).await
}

/// A fresh browser opens the link and submits the form; the POST's answer.
pub async fn enter_as(app: &TestApp, token: &str, name: &str, email: &str) -> (Browser, Page) {
    let mut browser = Browser::new();
    let csrf = open_form(app, &mut browser, token).await;
    let page = submit(app, &mut browser, token, &csrf, name, email).await;
    (browser, page)
}

/// A fresh browser admitted through `token` as `name`, which must succeed.
pub async fn admitted_as(app: &TestApp, token: &str, name: &str, email: &str) -> Browser {
    crate::log_check::record_secret(email);
    let (browser, page) = enter_as(app, token, name, email).await;
    assert_redirect(&page, &view_path(token), "admission");
    assert!(
        browser.cookie(GUEST_COOKIE).is_some(),
        "admission sets {GUEST_COOKIE}: {:?}",
        page.headers
    );
    browser
}

pub async fn admitted(app: &TestApp, token: &str) -> Browser {
    admitted_as(app, token, GUEST_NAME, GUEST_EMAIL).await
}

// --- answers ---

/// The path of a redirect's Location (absolute or not).
pub fn location_path(page: &Page) -> Option<String> {
    let location = page.headers.get("location")?.to_str().ok()?;
    if location.starts_with("http") {
        url::Url::parse(location).ok().map(|u| u.path().to_string())
    } else {
        Some(location.split('?').next().unwrap().to_string())
    }
}

pub fn assert_redirect(page: &Page, path: &str, case: &str) {
    assert_eq!(page.status, 303, "{case}: a 303; body {}", page.body);
    assert_eq!(
        location_path(page).as_deref(),
        Some(path),
        "{case}: Location"
    );
}

/// The full `Set-Cookie` line that sets `name`.
pub fn set_cookie_line(page: &Page, name: &str) -> Option<String> {
    page.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|line| line.split('=').next().map(str::trim) == Some(name))
        .map(str::to_string)
}

/// The attributes of a `Set-Cookie` line after its name=value, without
/// spaces around `=`, lowercased except for the value of `Path`.
pub fn cookie_attributes(line: &str) -> Vec<String> {
    line.split(';')
        .skip(1)
        .map(|a| match a.trim().split_once('=') {
            Some((k, v)) => {
                let k = k.trim().to_ascii_lowercase();
                let v = v.trim();
                if k == "path" {
                    format!("{k}={v}")
                } else {
                    format!("{k}={}", v.to_ascii_lowercase())
                }
            }
            None => a.trim().to_ascii_lowercase(),
        })
        .collect()
}

pub fn unavailable_reason(page: &Page) -> Option<String> {
    page.attr("main[data-unavailable-reason]", "data-unavailable-reason")
}

/// The status each unavailable reason is answered with (README, "Guest links").
pub fn status_of(reason: &str) -> u16 {
    match reason {
        "not_found" | "deleted" => 404,
        "expired" | "exhausted" | "disabled" | "media_unavailable" => 410,
        "invite_revoked" | "invite_expired" | "invites_disabled" => 410,
        "invite_used_elsewhere" => 403,
        other => panic!("not a reason: {other}"),
    }
}

/// Asserts the unavailable page for `reason`, with its status and a message.
pub fn assert_unavailable(page: &Page, reason: &str, case: &str) {
    assert_eq!(
        unavailable_reason(page).as_deref(),
        Some(reason),
        "{case}: reason (status {}); body {}",
        page.status,
        page.body
    );
    assert_eq!(page.status, status_of(reason), "{case}: status");
    assert!(
        page.text("main").is_some_and(|t| !t.is_empty()),
        "{case}: a message"
    );
}

pub fn rfc3339(value: &Value, what: &str) -> OffsetDateTime {
    let raw = value
        .as_str()
        .unwrap_or_else(|| panic!("{what} is a string: {value}"));
    OffsetDateTime::parse(raw, &Rfc3339)
        .unwrap_or_else(|e| panic!("{what} is RFC 3339: {raw}: {e}"))
}

/// Parses CSV (RFC 4180: quoted cells, doubled quotes, CRLF or LF).
pub fn csv_rows(body: &str) -> Vec<Vec<String>> {
    let body = body.strip_prefix('\u{feff}').unwrap_or(body);
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    if !cell.is_empty() || !row.is_empty() {
        row.push(cell);
        rows.push(row);
    }
    rows
}

// --- waiting, the command line, the purge ---

/// Checks `check` every 250 ms until it holds or `within` has passed (the
/// tool caches platforms for 10 seconds).
pub async fn eventually<F, Fut>(within: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Moves the clock to the first second of the next minute, so a burst of
/// requests in a test falls within one minute whatever window a rate limiter
/// counts in.
pub fn start_of_a_minute(course: &Course) {
    let into = course.app.clock.now().unix().rem_euclid(60);
    course
        .app
        .clock
        .advance(time::Duration::seconds(60 - into + 1));
}

/// Longer than the tool's platform cache.
pub const CACHE_WAIT: Duration = Duration::from_secs(12);

/// Switches a module of the course's platform through the running tool's
/// own use case, as the admin console does, so it counts at once. (A change
/// by the command line, another process, counts within the registration
/// cache's lifetime: `registration::a_pending_platform_launches_only_once_activated`.)
pub async fn set_module(course: &Course, module: &str) {
    let tool = &course.app.tool;
    let platform = guestlink::service::platforms::list(tool)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.issuer == course.reg.issuer)
        .expect("the course's platform is registered");
    guestlink::service::platforms::switch_modules(tool, platform.id, &[module.to_string()])
        .await
        .unwrap_or_else(|e| panic!("{module}: {e}"));
}

/// Waits until GET guest-access reports `supported` as `want`.
pub async fn wait_for_supported(shared: &Shared, want: bool) {
    let reached = eventually(CACHE_WAIT, || async move {
        shared.access().await["supported"] == want
    })
    .await;
    assert!(reached, "supported became {want} within {CACHE_WAIT:?}");
}

/// Runs the retention purge as the periodic task would, on the app's clock.
pub async fn purge(course: &Course) -> usize {
    let tool = crate::helpers::tool(&course.app.db, &course.app.settings, &course.app.clock);
    guestlink::service::guest_links::purge(&tool)
        .await
        .expect("the purge runs")
}

/// Another instance of the tool on the course's database (as a second
/// server behind a load balancer would run), with `adjust`ed settings; its
/// address.
pub async fn second_instance(course: &Course, adjust: impl FnOnce(&mut Settings)) -> String {
    let mut settings = course.app.settings.clone();
    settings.server.bind = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    adjust(&mut settings);
    let app = guestlink::startup::Application::build_with_db(
        course.app.db.clone(),
        settings,
        course.app.clock.clone(),
    )
    .await
    .expect("a second instance starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    actix_web::rt::spawn(app.run_until_stopped());
    address
}
