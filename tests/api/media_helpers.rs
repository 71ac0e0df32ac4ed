//! Shared by the media, upload, deep-linking and media CLI tests: a course
//! with launched people, JSON API calls, multipart bodies built by hand (the
//! test client has no multipart feature), sample files of every allowed type
//! and a look into the media directory.

use std::path::{Path, PathBuf};

use guestlink::config::{DatabaseUrl, Settings};
use guestlink::demo::claims::Role;
use guestlink::domain::platform::Lms;
use guestlink::lti::claims as c;
use reqwest::Method;
use scraper::Selector;
use serde_json::{Value, json};

use crate::helpers::{Backend, Page, Registered, TestApp, spawn_app_with};

/// The course every test works in (the one `TestApp::claims` launches into).
pub const COURSE: &str = "course-1";
/// Another course of the same platform.
pub const OTHER_COURSE: &str = "course-2";

/// Who makes a request in a permission matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Who {
    Instructor,
    TeachingAssistant,
    Student,
    /// An instructor launched into the other course of the same platform.
    OtherCourse,
    /// No session at all.
    Nobody,
}

pub const EVERYONE: [Who; 5] = [
    Who::Instructor,
    Who::TeachingAssistant,
    Who::Student,
    Who::OtherCourse,
    Who::Nobody,
];

/// Session tokens of one launch per kind of person.
pub struct People {
    pub instructor: String,
    pub ta: String,
    pub student: String,
    pub other_course: String,
}

impl People {
    pub fn token(&self, who: Who) -> Option<&str> {
        match who {
            Who::Instructor => Some(&self.instructor),
            Who::TeachingAssistant => Some(&self.ta),
            Who::Student => Some(&self.student),
            Who::OtherCourse => Some(&self.other_course),
            Who::Nobody => None,
        }
    }
}

/// A running tool with one registered Canvas platform.
pub struct Course {
    pub app: TestApp,
    pub reg: Registered,
}

/// A JSON API answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub json: Value,
    pub body: String,
}

impl Reply {
    /// The answer of a JSON request.
    pub async fn of(response: reqwest::Response) -> Reply {
        let status = response.status().as_u16();
        let body = response.text().await.unwrap();
        Reply {
            status,
            json: serde_json::from_str(&body).unwrap_or(Value::Null),
            body,
        }
    }

    pub fn code(&self) -> Option<&str> {
        self.json["error"]["code"].as_str()
    }

    pub fn field(&self) -> Option<&str> {
        self.json["error"]["field"].as_str()
    }

    /// Asserts the status and, for errors, the code.
    pub fn expect(&self, status: u16, code: Option<&str>, case: &str) {
        assert_eq!(self.status, status, "{case}: status; body {}", self.body);
        if let Some(code) = code {
            assert_eq!(self.code(), Some(code), "{case}: code; body {}", self.body);
        }
    }

    /// Asserts a 422 `invalid` naming `field`.
    pub fn expect_invalid(&self, field: &str, case: &str) {
        self.expect(422, Some("invalid"), case);
        assert_eq!(
            self.field(),
            Some(field),
            "{case}: field; body {}",
            self.body
        );
    }

    pub fn id(&self) -> String {
        self.json["id"]
            .as_str()
            .unwrap_or_else(|| panic!("a media id in {}", self.body))
            .to_string()
    }
}

/// A file answer: status, headers and the raw bytes.
pub struct FileReply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl FileReply {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    }
}

impl Course {
    pub async fn start(backend: Backend) -> Course {
        Course::start_with(backend, |_| {}).await
    }

    pub async fn start_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> Course {
        let app = spawn_app_with(backend, adjust).await;
        let reg = app.register(Lms::Canvas);
        Course { app, reg }
    }

    /// A resource-link launch as `role` into `context_id`, ending on the page it lands on.
    pub async fn launch_into(&self, role: Role, context_id: &str) -> Page {
        self.launch_with_claims(role, |claims| {
            claims[c::CONTEXT]["id"] = json!(context_id);
        })
        .await
    }

    /// A resource-link launch into the course whose claims `change` alters,
    /// following a redirect if the tool answers with one.
    pub async fn launch_with_claims(&self, role: Role, change: impl FnOnce(&mut Value)) -> Page {
        let page = self.app.launch_with(&self.reg, role, change).await;
        follow_redirects(&self.app, page).await
    }

    /// The session token of a launch as `role` into the course.
    pub async fn token(&self, role: Role) -> String {
        self.token_in(role, COURSE).await
    }

    pub async fn token_in(&self, role: Role, context_id: &str) -> String {
        let page = self.launch_into(role, context_id).await;
        assert_eq!(page.status, 200, "launch as {role:?}: {}", page.body);
        page.session_token().expect("a session token in the page")
    }

    pub async fn people(&self) -> People {
        People {
            instructor: self.token(Role::Instructor).await,
            ta: self.token(Role::TeachingAssistant).await,
            student: self.token(Role::Student).await,
            other_course: self.token_in(Role::Instructor, OTHER_COURSE).await,
        }
    }

    pub fn media_dir(&self) -> PathBuf {
        self.app.settings.data_dir.join("media")
    }

    /// Every file under the media directory (none when it does not exist).
    pub fn stored_files(&self) -> Vec<PathBuf> {
        files_under(&self.media_dir())
    }

    pub fn media_rows(&self) -> i64 {
        crate::helpers::count_rows(&self.app.db, "media_items")
    }

    /// The DATABASE_URL the CLI needs to reach this app's database.
    pub fn database_url(&self) -> String {
        match &self.app.settings.database.url {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => url.clone(),
        }
    }

    /// One API request with an optional bearer token and body.
    pub async fn api(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<(&str, Vec<u8>)>,
    ) -> Reply {
        let mut request = self.app.http.request(method, self.app.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some((content_type, bytes)) = body {
            request = request.header("Content-Type", content_type).body(bytes);
        }
        Reply::of(request.send().await.expect("the API answers")).await
    }

    pub async fn get_json(&self, path: &str, token: Option<&str>) -> Reply {
        self.api(Method::GET, path, token, None).await
    }

    pub async fn send_json(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        value: &Value,
    ) -> Reply {
        let body = Some(("application/json", value.to_string().into_bytes()));
        self.api(method, path, token, body).await
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, value: &Value) -> Reply {
        self.send_json(Method::POST, path, token, value).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Reply {
        self.api(Method::DELETE, path, token, None).await
    }

    /// Creates an item from JSON, which must succeed; returns its id.
    pub async fn create(&self, token: &str, value: Value) -> String {
        let reply = self.post_json("/api/media", Some(token), &value).await;
        reply.expect(201, None, &format!("create {value}"));
        reply.id()
    }

    /// Creates a video linked by URL; returns its id.
    pub async fn create_video(&self, token: &str, title: &str) -> String {
        self.create(token, linked_video(title)).await
    }

    pub async fn upload(&self, token: Option<&str>, form: Multipart) -> Reply {
        let content_type = form.content_type();
        let body = Some((content_type.as_str(), form.finish()));
        self.api(Method::POST, "/api/media", token, body).await
    }

    /// Uploads `len` bytes of `sample`, which must succeed; returns the id and the bytes.
    pub async fn upload_sample(
        &self,
        token: &str,
        sample: &Sample,
        len: usize,
    ) -> (String, Vec<u8>) {
        let bytes = sample.bytes(len);
        let form = Multipart::new()
            .text("title", &format!("Uploaded {}", sample.file_name))
            .file("file", sample.file_name, sample.content_type, &bytes);
        let reply = self.upload(Some(token), form).await;
        reply.expect(201, None, &format!("upload {}", sample.file_name));
        (reply.id(), bytes)
    }

    /// The signed file URL of an item, which must be handed out.
    pub async fn file_url(&self, token: &str, id: &str) -> String {
        let reply = self
            .get_json(&format!("/api/media/{id}/file-url"), Some(token))
            .await;
        reply.expect(200, None, "file-url");
        reply.json["url"]
            .as_str()
            .unwrap_or_else(|| panic!("a url in {}", reply.body))
            .to_string()
    }

    /// Ids listed by GET /api/media, in order.
    pub async fn listed_ids(&self, token: &str) -> Vec<String> {
        let reply = self.get_json("/api/media", Some(token)).await;
        reply.expect(200, None, "list");
        reply.json["media"]
            .as_array()
            .unwrap_or_else(|| panic!("a media array in {}", reply.body))
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_string())
            .collect()
    }

    /// GETs a file URL (absolute, or a path of this app) with extra headers.
    pub async fn get_file(&self, url: &str, headers: &[(&str, &str)]) -> FileReply {
        let url = if url.starts_with("http") {
            url.to_string()
        } else {
            self.app.url(url)
        };
        let mut request = self.app.http.get(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("the file route answers");
        FileReply {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.bytes().await.unwrap().to_vec(),
        }
    }
}

/// A video linked by https URL.
pub fn linked_video(title: &str) -> Value {
    json!({
        "title": title,
        "kind": "video",
        "source_url": "https://videos.example.edu/lecture.mp4",
    })
}

/// Follows redirects (at most a few), carrying the session cookie a launch sets.
pub async fn follow_redirects(app: &TestApp, mut page: Page) -> Page {
    for _ in 0..3 {
        if !(300..400).contains(&page.status) {
            break;
        }
        let location = page
            .headers
            .get("location")
            .expect("a redirect has a Location")
            .to_str()
            .unwrap()
            .to_string();
        let url = if location.starts_with("http") {
            location
        } else {
            app.url(&location)
        };
        let mut request = app.http.get(url);
        if let Some(cookie) = session_cookie(&page) {
            request = request.header("Cookie", cookie);
        }
        page = Page::from(request.send().await.unwrap()).await;
    }
    page
}

fn session_cookie(page: &Page) -> Option<String> {
    page.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("guestlink_session="))
        .map(|c| c.split(';').next().unwrap().to_string())
}

/// The values of `attr` on every element matching `selector`.
pub fn attrs_of_all(page: &Page, selector: &str, attr: &str) -> Vec<String> {
    let sel = Selector::parse(selector).unwrap();
    page.html
        .select(&sel)
        .filter_map(|e| e.value().attr(attr).map(str::to_string))
        .collect()
}

pub fn count_of(page: &Page, selector: &str) -> usize {
    let sel = Selector::parse(selector).unwrap();
    page.html.select(&sel).count()
}

/// The name of the first element matching `selector` (`video`, `img`, ...).
pub fn element_name(page: &Page, selector: &str) -> Option<String> {
    let sel = Selector::parse(selector).unwrap();
    page.html
        .select(&sel)
        .next()
        .map(|e| e.value().name().to_string())
}

/// A URL found in a page, made absolute against the app.
pub fn absolute(app: &TestApp, url: &str) -> String {
    if url.starts_with("http") {
        url.to_string()
    } else {
        app.url(url)
    }
}

/// Every regular file under `dir`, recursively; none when it does not exist.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// A multipart/form-data body, written out by hand.
pub struct Multipart {
    boundary: String,
    body: Vec<u8>,
}

impl Default for Multipart {
    fn default() -> Self {
        Multipart::new()
    }
}

impl Multipart {
    pub fn new() -> Multipart {
        Multipart {
            boundary: "guestlink-test-boundary-7MA4YWxkTrZu0gW".into(),
            body: Vec::new(),
        }
    }

    pub fn text(mut self, name: &str, value: &str) -> Multipart {
        self.body.extend_from_slice(
            format!(
                "--{}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n",
                self.boundary
            )
            .as_bytes(),
        );
        self
    }

    pub fn file(
        mut self,
        name: &str,
        file_name: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Multipart {
        self.body.extend_from_slice(
            format!(
                "--{}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n",
                self.boundary
            )
            .as_bytes(),
        );
        self.body.extend_from_slice(bytes);
        self.body.extend_from_slice(b"\r\n");
        self
    }

    pub fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={}", self.boundary)
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.body
            .extend_from_slice(format!("--{}--\r\n", self.boundary).as_bytes());
        self.body
    }
}

/// A file of one allowed type: its name, declared type, the kind it is
/// inferred as, and the first bytes that make it that type.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    pub file_name: &'static str,
    pub content_type: &'static str,
    pub kind: &'static str,
    pub magic: &'static [u8],
}

impl Sample {
    /// `len` bytes: the magic prefix, then a pattern that makes every offset distinct enough
    /// for range comparisons.
    pub fn bytes(&self, len: usize) -> Vec<u8> {
        assert!(
            len >= self.magic.len(),
            "a sample needs room for its magic bytes"
        );
        let mut bytes = self.magic.to_vec();
        bytes.extend((self.magic.len()..len).map(|i| ((i * 7 + i / 251) % 251) as u8));
        bytes
    }
}

pub const MP4: Sample = Sample {
    file_name: "clip.mp4",
    content_type: "video/mp4",
    kind: "video",
    magic: b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41",
};
pub const WEBM: Sample = Sample {
    file_name: "clip.webm",
    content_type: "video/webm",
    kind: "video",
    magic: &[0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81, 0x01],
};
pub const MP3: Sample = Sample {
    file_name: "song.mp3",
    content_type: "audio/mpeg",
    kind: "audio",
    magic: b"ID3\x04\x00\x00\x00\x00\x00\x00",
};
/// An MP3 without an ID3 tag: it starts with a frame header.
pub const MP3_FRAME: Sample = Sample {
    file_name: "frames.mp3",
    content_type: "audio/mpeg",
    kind: "audio",
    magic: &[0xFF, 0xFB, 0x90, 0x64],
};
pub const M4A: Sample = Sample {
    file_name: "song.m4a",
    content_type: "audio/mp4",
    kind: "audio",
    magic: b"\x00\x00\x00\x20ftypM4A \x00\x00\x02\x00M4A isom",
};
pub const PNG: Sample = Sample {
    file_name: "picture.png",
    content_type: "image/png",
    kind: "image",
    magic: b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR",
};
pub const JPEG: Sample = Sample {
    file_name: "photo.jpg",
    content_type: "image/jpeg",
    kind: "image",
    magic: &[
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00,
    ],
};
pub const WEBP: Sample = Sample {
    file_name: "picture.webp",
    content_type: "image/webp",
    kind: "image",
    magic: b"RIFF\x24\x00\x00\x00WEBPVP8 ",
};
pub const PDF: Sample = Sample {
    file_name: "notes.pdf",
    content_type: "application/pdf",
    kind: "document",
    magic: b"%PDF-1.7\n",
};
