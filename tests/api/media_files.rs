//! Uploads (the size limit, types checked by their first bytes, a cancelled
//! upload, the course quota, a stalled body) and file delivery (Range
//! requests, the URLs pages get: bound to their session, a short start
//! window, and a stream that continues only while its requests keep coming).

use std::time::Duration;

use guestlink::demo::claims::Role;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::helpers::Backend;
use crate::media_helpers::{
    Course, FileReply, JPEG, M4A, MP3, MP3_FRAME, MP4, Multipart, PDF, PNG, Sample, WEBM, WEBP,
};
use guestlink_test_macros::both_backends;

/// The upload limit of the size tests.
const LIMIT: usize = 64 * 1024;
/// The size of the file the range and signature tests serve.
const SIZE: usize = 1000;

/// A course whose instructor uploaded a SIZE-byte video.
async fn served_video(backend: Backend) -> (Course, String, String, Vec<u8>) {
    served_video_with(backend, |_| {}).await
}

async fn served_video_with(
    backend: Backend,
    adjust: impl FnOnce(&mut guestlink::config::Settings),
) -> (Course, String, String, Vec<u8>) {
    let course = Course::start_with(backend, adjust).await;
    let token = course.token(Role::Instructor).await;
    let (id, bytes) = course.upload_sample(&token, &WEBM, SIZE).await;
    (course, token, id, bytes)
}

async fn get_with_session(
    course: &Course,
    token: &str,
    id: &str,
    range: Option<&str>,
) -> FileReply {
    let bearer = format!("Bearer {token}");
    let mut headers = vec![("Authorization", bearer.as_str())];
    if let Some(range) = range {
        headers.push(("Range", range));
    }
    course
        .get_file(&format!("/media/{id}/file"), &headers)
        .await
}

/// Checks `check` every 100 ms for up to five seconds.
async fn eventually(mut check: impl FnMut() -> bool) -> bool {
    for _ in 0..50 {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    check()
}

fn is_partial(path: &std::path::Path) -> bool {
    path.extension().is_some_and(|e| e == "part")
}

// --- the size limit ---

#[both_backends]
async fn a_file_of_exactly_the_size_limit_is_accepted(backend: Backend) {
    let course = Course::start_with(backend, |s| s.media.upload_max_bytes = LIMIT as u64).await;
    let token = course.token(Role::Instructor).await;
    let (id, bytes) = course.upload_sample(&token, &WEBM, LIMIT).await;
    let file = get_with_session(&course, &token, &id, None).await;
    assert_eq!(file.status, 200);
    assert_eq!(file.body.len(), LIMIT);
    assert_eq!(file.body, bytes);
    assert_eq!(course.stored_files().len(), 1);
}

#[both_backends]
async fn a_file_one_byte_over_the_limit_is_refused_and_leaves_nothing(backend: Backend) {
    let course = Course::start_with(backend, |s| s.media.upload_max_bytes = LIMIT as u64).await;
    let token = course.token(Role::Instructor).await;
    let form = Multipart::new().text("title", "Too big").file(
        "file",
        WEBM.file_name,
        WEBM.content_type,
        &WEBM.bytes(LIMIT + 1),
    );
    let reply = course.upload(Some(&token), form).await;
    reply.expect(413, Some("too_large"), "one byte over");
    assert_eq!(reply.field(), Some("file"));
    assert_eq!(course.media_rows(), 0);
    assert!(
        eventually(|| course.stored_files().is_empty()).await,
        "no file left: {:?}",
        course.stored_files()
    );
}

#[both_backends]
async fn a_file_far_over_the_limit_is_refused_and_leaves_nothing(backend: Backend) {
    let course = Course::start_with(backend, |s| s.media.upload_max_bytes = LIMIT as u64).await;
    let token = course.token(Role::Instructor).await;
    let form = Multipart::new().text("title", "Far too big").file(
        "file",
        WEBM.file_name,
        WEBM.content_type,
        &WEBM.bytes(LIMIT * 16),
    );
    let reply = course.upload(Some(&token), form).await;
    reply.expect(413, Some("too_large"), "sixteen times the limit");
    assert_eq!(reply.field(), Some("file"));
    assert_eq!(course.media_rows(), 0);
    assert!(
        eventually(|| course.stored_files().is_empty()).await,
        "no file left: {:?}",
        course.stored_files()
    );
}

// --- types by their first bytes ---

struct WrongType {
    name: &'static str,
    file_name: &'static str,
    content_type: &'static str,
    bytes: Vec<u8>,
    kind: Option<&'static str>,
}

fn wrong_types() -> Vec<WrongType> {
    let exe = {
        let mut bytes = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00".to_vec();
        bytes.extend(b"This program cannot be run in DOS mode.".repeat(20));
        bytes
    };
    let text = b"Lecture notes, week one.\n".repeat(40);
    vec![
        WrongType {
            name: "a PNG named .mp4",
            file_name: "clip.mp4",
            content_type: "video/mp4",
            bytes: PNG.bytes(600),
            kind: None,
        },
        WrongType {
            name: "MP4 bytes named and declared as a PNG",
            file_name: "picture.png",
            content_type: "image/png",
            bytes: MP4.bytes(600),
            kind: None,
        },
        WrongType {
            name: "a text file named .pdf",
            file_name: "notes.pdf",
            content_type: "application/pdf",
            bytes: text,
            kind: None,
        },
        WrongType {
            name: "an executable",
            file_name: "setup.exe",
            content_type: "application/x-msdownload",
            bytes: exe.clone(),
            kind: None,
        },
        WrongType {
            name: "an executable named .mp4",
            file_name: "movie.mp4",
            content_type: "video/mp4",
            bytes: exe,
            kind: Some("video"),
        },
        WrongType {
            name: "an SVG",
            file_name: "drawing.svg",
            content_type: "image/svg+xml",
            bytes: br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#
                .to_vec(),
            kind: Some("image"),
        },
        WrongType {
            name: "an empty file",
            file_name: "empty.webm",
            content_type: "video/webm",
            bytes: Vec::new(),
            kind: None,
        },
        WrongType {
            name: "a PNG uploaded with kind=video",
            file_name: PNG.file_name,
            content_type: PNG.content_type,
            bytes: PNG.bytes(600),
            kind: Some("video"),
        },
        WrongType {
            name: "a PDF uploaded with kind=audio",
            file_name: PDF.file_name,
            content_type: PDF.content_type,
            bytes: PDF.bytes(600),
            kind: Some("audio"),
        },
    ]
}

#[both_backends]
async fn files_of_the_wrong_type_are_refused_naming_the_file(backend: Backend) {
    let course = Course::start(backend).await;
    let token = course.token(Role::Instructor).await;
    for case in wrong_types() {
        let mut form = Multipart::new().text("title", case.name);
        if let Some(kind) = case.kind {
            form = form.text("kind", kind);
        }
        let form = form.file("file", case.file_name, case.content_type, &case.bytes);
        course
            .upload(Some(&token), form)
            .await
            .expect_invalid("file", case.name);
        assert_eq!(course.media_rows(), 0, "{}: no row", case.name);
        assert!(
            eventually(|| course.stored_files().is_empty()).await,
            "{}: no file left: {:?}",
            case.name,
            course.stored_files()
        );
    }
}

#[both_backends]
async fn every_allowed_type_is_recognised_by_its_first_bytes(backend: Backend) {
    let course = Course::start(backend).await;
    let token = course.token(Role::Instructor).await;
    let samples: [&Sample; 9] = [
        &MP4, &WEBM, &MP3, &MP3_FRAME, &M4A, &PNG, &JPEG, &WEBP, &PDF,
    ];
    for sample in samples {
        let (id, bytes) = course.upload_sample(&token, sample, 700).await;
        let media = course
            .get_json(&format!("/api/media/{id}"), Some(&token))
            .await;
        assert_eq!(media.json["kind"], sample.kind, "{}", sample.file_name);
        assert_eq!(media.json["has_file"], true, "{}", sample.file_name);
        let file = get_with_session(&course, &token, &id, None).await;
        assert_eq!(file.status, 200, "{}", sample.file_name);
        assert_eq!(
            file.header("content-type")
                .map(|t| t.split(';').next().unwrap().trim().to_string())
                .as_deref(),
            Some(sample.content_type),
            "{}",
            sample.file_name
        );
        assert_eq!(file.body, bytes, "{}: served as uploaded", sample.file_name);
    }
    assert_eq!(course.stored_files().len(), samples.len());
}

#[both_backends]
async fn webm_is_accepted_as_audio(backend: Backend) {
    let course = Course::start(backend).await;
    let token = course.token(Role::Instructor).await;
    let form = Multipart::new()
        .text("title", "Podcast")
        .text("kind", "audio")
        .file("file", "episode.webm", "video/webm", &WEBM.bytes(700));
    let reply = course.upload(Some(&token), form).await;
    reply.expect(201, None, "webm as audio");
    assert_eq!(reply.json["kind"], "audio");
}

/// An upload of a 600 KB video of which only the first `sent` bytes of the
/// body go out, over a connection the test holds.
async fn partly_sent_upload(course: &Course, token: &str, title: &str, sent: usize) -> TcpStream {
    let form = Multipart::new().text("title", title).file(
        "file",
        WEBM.file_name,
        WEBM.content_type,
        &WEBM.bytes(600 * 1024),
    );
    let content_type = form.content_type();
    let body = form.finish();
    let host = course.app.address.trim_start_matches("http://").to_string();
    let mut stream = TcpStream::connect(&host).await.unwrap();
    let head = format!(
        "POST /api/media HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body[..sent]).await.unwrap();
    stream.flush().await.unwrap();
    stream
}

#[both_backends]
async fn a_cancelled_upload_leaves_no_partial_file_and_no_row(backend: Backend) {
    let course = Course::start(backend).await;
    let token = course.token(Role::Instructor).await;
    let stream = partly_sent_upload(&course, &token, "Cancelled", 128 * 1024).await;
    assert!(
        eventually(|| course.stored_files().iter().any(|p| is_partial(p))).await,
        "the upload streams to a .part file: {:?}",
        course.stored_files()
    );
    drop(stream);

    assert!(
        eventually(|| course.stored_files().is_empty()).await,
        "the partial file is removed: {:?}",
        course.stored_files()
    );
    assert_eq!(course.media_rows(), 0);

    course.upload_sample(&token, &WEBM, 1_000).await;
    assert_eq!(course.stored_files().len(), 1, "later uploads still work");
}

/// An upload whose body stops arriving is abandoned after the idle timeout:
/// its connection and part file are not held open by a stalled client.
#[both_backends]
async fn a_stalled_upload_is_answered_408_and_leaves_nothing(backend: Backend) {
    let course = Course::start_with(backend, |s| {
        s.media.upload_idle = guestlink::domain::time::Duration::seconds(1)
    })
    .await;
    let token = course.token(Role::Instructor).await;
    let mut stream = partly_sent_upload(&course, &token, "Stalled", 64 * 1024).await;
    // Then nothing more: the tool answers within a few idle periods.
    let mut answer = vec![0u8; 4096];
    let read = tokio::time::timeout(
        Duration::from_secs(10),
        tokio::io::AsyncReadExt::read(&mut stream, &mut answer),
    )
    .await
    .expect("the tool answers a stalled upload")
    .unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("upload_timeout"), "{answer}");
    assert!(
        eventually(|| course.stored_files().is_empty()).await,
        "the partial file is removed: {:?}",
        course.stored_files()
    );
    assert_eq!(course.media_rows(), 0);
}

/// Parts the form does not name are read past, but only a little of them.
#[both_backends]
async fn unknown_parts_are_bounded(backend: Backend) {
    let course = Course::start(backend).await;
    let token = course.token(Role::Instructor).await;
    let small = Multipart::new()
        .text("title", "With a small extra part")
        .text("browser_extra", "x")
        .file(
            "file",
            WEBM.file_name,
            WEBM.content_type,
            &WEBM.bytes(2_000),
        );
    course
        .upload(Some(&token), small)
        .await
        .expect(201, None, "a small unknown part");
    let padding = "p".repeat(70 * 1024);
    let big = Multipart::new()
        .text("padding", &padding)
        .text("title", "With a large extra part")
        .file(
            "file",
            WEBM.file_name,
            WEBM.content_type,
            &WEBM.bytes(2_000),
        );
    course.upload(Some(&token), big).await.expect(
        400,
        Some("bad_request"),
        "70 KB of an unknown part",
    );
    assert_eq!(course.media_rows(), 1);
}

/// A course's files stay within its quota, checked as the upload streams
/// and again, under a lock, when the item is added.
#[both_backends]
async fn uploads_stay_within_the_course_quota(backend: Backend) {
    let course = Course::start_with(backend, |s| s.media.course_quota_bytes = 10_000).await;
    let token = course.token(Role::Instructor).await;
    course.upload_sample(&token, &WEBM, 6_000).await;
    let form = Multipart::new().text("title", "Over the quota").file(
        "file",
        WEBM.file_name,
        WEBM.content_type,
        &WEBM.bytes(5_000),
    );
    let reply = course.upload(Some(&token), form).await;
    reply.expect(
        413,
        Some("quota_exceeded"),
        "6,000 + 5,000 bytes over 10,000",
    );
    assert_eq!(reply.field(), Some("file"));
    assert_eq!(course.media_rows(), 1);
    assert!(
        eventually(|| course.stored_files().len() == 1).await,
        "no file left behind: {:?}",
        course.stored_files()
    );
    course.upload_sample(&token, &WEBM, 4_000).await;
    let one_more = Multipart::new().text("title", "One byte more").file(
        "file",
        WEBM.file_name,
        WEBM.content_type,
        &WEBM.bytes(20),
    );
    let full = course.upload(Some(&token), one_more).await;
    full.expect(413, Some("quota_exceeded"), "the quota is used up");
    let linked = course
        .create(
            &token,
            crate::media_helpers::linked_video("Links take no room"),
        )
        .await;
    assert!(!linked.is_empty(), "items without a file still come");
}

#[both_backends]
async fn racing_uploads_cannot_squeeze_past_the_quota(backend: Backend) {
    let course = Course::start_with(backend, |s| s.media.course_quota_bytes = 10_000).await;
    let token = course.token(Role::Instructor).await;
    let uploads = (0..6).map(|i| {
        let form = Multipart::new().text("title", &format!("Racer {i}")).file(
            "file",
            WEBM.file_name,
            WEBM.content_type,
            &WEBM.bytes(3_000),
        );
        let (course, token) = (&course, token.clone());
        async move { course.upload(Some(&token), form).await.status }
    });
    let statuses = futures_util::future::join_all(uploads).await;
    let added = statuses.iter().filter(|s| **s == 201).count();
    assert_eq!(added, 3, "3 × 3,000 bytes fit in 10,000: {statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 413),
        "{statuses:?}"
    );
    assert_eq!(course.media_rows(), 3);
}

// --- ranges ---

#[both_backends]
async fn range_requests_return_exactly_the_requested_bytes(backend: Backend) {
    let (course, token, id, bytes) = served_video(backend).await;
    for (name, range, first, last) in [
        ("first bytes", "bytes=0-9", 0, 9),
        ("middle", "bytes=100-199", 100, 199),
        ("open-ended", "bytes=100-", 100, SIZE - 1),
        ("suffix", "bytes=-50", SIZE - 50, SIZE - 1),
        ("end beyond the size", "bytes=900-5000", 900, SIZE - 1),
    ] {
        let file = get_with_session(&course, &token, &id, Some(range)).await;
        assert_eq!(file.status, 206, "{name}");
        assert_eq!(
            file.header("content-range"),
            Some(format!("bytes {first}-{last}/{SIZE}")),
            "{name}"
        );
        assert_eq!(
            file.header("content-length"),
            Some((last - first + 1).to_string()),
            "{name}"
        );
        assert_eq!(file.body, bytes[first..=last], "{name}: the bytes");
    }
}

#[both_backends]
async fn a_range_starting_at_or_past_the_end_is_416(backend: Backend) {
    let (course, token, id, _) = served_video(backend).await;
    for range in [
        format!("bytes={SIZE}-"),
        format!("bytes={SIZE}-{}", SIZE + 10),
        format!("bytes={}-", SIZE * 5),
    ] {
        let file = get_with_session(&course, &token, &id, Some(&range)).await;
        assert_eq!(file.status, 416, "{range}");
        assert_eq!(
            file.header("content-range"),
            Some(format!("bytes */{SIZE}")),
            "{range}"
        );
    }
}

#[both_backends]
async fn a_full_get_is_inline_with_its_type_length_and_accept_ranges(backend: Backend) {
    let (course, token, id, bytes) = served_video(backend).await;
    let file = get_with_session(&course, &token, &id, None).await;
    assert_eq!(file.status, 200);
    assert_eq!(file.header("accept-ranges").as_deref(), Some("bytes"));
    assert!(
        file.header("content-type")
            .is_some_and(|t| t.starts_with("video/webm")),
        "{:?}",
        file.header("content-type")
    );
    assert_eq!(file.header("content-length"), Some(SIZE.to_string()));
    assert!(
        file.header("content-disposition")
            .is_some_and(|d| d.starts_with("inline")),
        "{:?}",
        file.header("content-disposition")
    );
    assert!(file.header("etag").is_some(), "an ETag");
    assert_eq!(file.body, bytes);
}

// --- credentials and signatures ---

#[both_backends]
async fn a_file_without_credentials_is_401(backend: Backend) {
    let (course, _, id, _) = served_video(backend).await;
    let path = format!("/media/{id}/file");
    for (name, headers) in [
        ("nothing", vec![]),
        ("a range and nothing else", vec![("Range", "bytes=100-")]),
        (
            "an unknown bearer",
            vec![("Authorization", "Bearer not-a-session")],
        ),
    ] {
        assert_eq!(course.get_file(&path, &headers).await.status, 401, "{name}");
    }
}

#[both_backends]
async fn a_page_url_works_without_a_cookie_or_bearer(backend: Backend) {
    let (course, _, id, bytes) = served_video(backend).await;
    let student = course.token(Role::Student).await;
    let url = course.file_url(&student, &id).await;
    assert!(!url.contains(&student), "no session token in a media URL");
    assert!(url.contains("?grant="), "{url}");
    let file = course.get_file(&url, &[]).await;
    assert_eq!(file.status, 200);
    assert_eq!(file.body, bytes);
    let ranged = course.get_file(&url, &[("Range", "bytes=0-9")]).await;
    assert_eq!(ranged.status, 206);
    assert_eq!(ranged.body, bytes[..10]);
}

/// The URL with query parameter `name` replaced by what `change` makes of it.
fn with_param(url: &str, name: &str, change: impl Fn(&str) -> String) -> String {
    let mut parsed = url::Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == name { change(&v) } else { v.to_string() };
            (k.to_string(), v)
        })
        .collect();
    assert!(pairs.iter().any(|(k, _)| k == name), "{url} has {name}");
    parsed.query_pairs_mut().clear().extend_pairs(pairs);
    parsed.to_string()
}

/// One character in the middle replaced, so the decoded bytes surely differ.
fn flip_middle(value: &str) -> String {
    let mut chars: Vec<char> = value.chars().collect();
    let at = chars.len() / 2;
    chars[at] = if chars[at] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

#[both_backends]
async fn a_tampered_or_made_up_grant_is_403(backend: Backend) {
    let (course, token, id, _) = served_video(backend).await;
    let url = course.file_url(&token, &id).await;
    for (name, tampered) in [
        ("grant changed", with_param(&url, "grant", flip_middle)),
        (
            "grant made up",
            with_param(&url, "grant", |_| "A".repeat(22)),
        ),
        (
            "grant not a token",
            with_param(&url, "grant", |_| "../x".into()),
        ),
        ("grant empty", with_param(&url, "grant", |_| String::new())),
    ] {
        let file = course.get_file(&tampered, &[]).await;
        assert_eq!(file.status, 403, "{name}");
        assert!(
            String::from_utf8_lossy(&file.body).contains("file_url_invalid"),
            "{name}"
        );
    }
    assert_eq!(course.get_file(&url, &[]).await.status, 200, "the original");
}

#[both_backends]
async fn a_grant_is_bound_to_its_item(backend: Backend) {
    let (course, token, first, _) = served_video(backend).await;
    let (second, _) = course.upload_sample(&token, &PNG, 500).await;
    let url = course.file_url(&token, &first).await;
    let query = url.split_once('?').unwrap().1;
    let borrowed = course
        .get_file(&format!("/media/{second}/file?{query}"), &[])
        .await;
    assert_eq!(borrowed.status, 403, "item A's grant on item B's path");
}

#[both_backends]
async fn a_url_dies_with_its_session(backend: Backend) {
    let (course, _, id, _) = served_video(backend).await;
    let student = course.token(Role::Student).await;
    let url = course.file_url(&student, &id).await;
    assert_eq!(course.get_file(&url, &[]).await.status, 200);
    // The session ends (here: idle past its expiry), and every URL it was given.
    course.app.clock.advance(time::Duration::minutes(121));
    let file = course.get_file(&url, &[("Range", "bytes=1-")]).await;
    assert_eq!(file.status, 403, "the session is over");
}

#[both_backends]
async fn a_url_only_starts_within_its_window_and_continues_while_used(backend: Backend) {
    let (course, token, id, bytes) = served_video_with(backend, |s| {
        s.media.url_start_window = guestlink::domain::time::Duration::seconds(120)
    })
    .await;
    let reply = course
        .get_json(&format!("/api/media/{id}/file-url"), Some(&token))
        .await;
    let url = reply.json["url"].as_str().unwrap().to_string();
    let expires = time::OffsetDateTime::parse(
        reply.json["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let lifetime = expires - crate::helpers::wall(&course.app.clock);
    assert!(
        (lifetime - time::Duration::seconds(120)).abs() <= time::Duration::seconds(5),
        "the URL starts streams for media_url_seconds: {lifetime}"
    );

    course.app.clock.advance(time::Duration::seconds(100));
    assert_eq!(
        course.get_file(&url, &[]).await.status,
        200,
        "within the window"
    );

    course.app.clock.advance(time::Duration::seconds(30));
    for (name, headers) in [
        ("no range", vec![]),
        ("a range from 0", vec![("Range", "bytes=0-9")]),
        ("an open range from 0", vec![("Range", "bytes=0-")]),
    ] {
        let file = course.get_file(&url, &headers).await;
        assert_eq!(file.status, 403, "past the window: {name}");
        assert!(String::from_utf8_lossy(&file.body).contains("file_url_expired"));
    }
    let resumed = course.get_file(&url, &[("Range", "bytes=100-")]).await;
    assert_eq!(resumed.status, 206, "a playing stream continues");
    assert_eq!(resumed.body, bytes[100..]);

    // The stream keeps going while its requests keep coming.
    for _ in 0..3 {
        course.app.clock.advance(time::Duration::minutes(9));
        let file = course.get_file(&url, &[("Range", "bytes=200-")]).await;
        assert_eq!(file.status, 206, "requests nine minutes apart");
    }
    // A pause longer than ten minutes ends it: `bytes=1-` on a stale URL.
    course.app.clock.advance(time::Duration::minutes(11));
    let stale = course.get_file(&url, &[("Range", "bytes=1-")]).await;
    assert_eq!(
        stale.status, 403,
        "Range: bytes=1- after the stream stopped"
    );
}

/// The page's renewals vouch for the URL its player streams: a long
/// lecture played on one response is not cut off when the viewer seeks.
#[both_backends]
async fn the_pages_renewals_keep_its_stream_alive(backend: Backend) {
    let (course, token, id, _) = served_video_with(backend, |s| {
        s.media.url_start_window = guestlink::domain::time::Duration::seconds(120);
        s.sessions.idle = guestlink::domain::time::Duration::minutes(600);
        s.sessions.max = guestlink::domain::time::Duration::hours(24);
    })
    .await;
    let url = course.file_url(&token, &id).await;
    let grant = url.split_once("grant=").unwrap().1.to_string();
    for _ in 0..4 {
        course.app.clock.advance(time::Duration::minutes(8));
        let reply = course
            .get_json(
                &format!("/api/media/{id}/file-url?grant={grant}"),
                Some(&token),
            )
            .await;
        reply.expect(200, None, "renewal");
    }
    let seek = course.get_file(&url, &[("Range", "bytes=500-")]).await;
    assert_eq!(seek.status, 206, "32 minutes in, the page still open");

    course.app.clock.advance(time::Duration::hours(4));
    let reply = course
        .get_json(
            &format!("/api/media/{id}/file-url?grant={grant}"),
            Some(&token),
        )
        .await;
    reply.expect(
        200,
        None,
        "a renewal after the hard end still gives a fresh URL",
    );
    let late = course.get_file(&url, &[("Range", "bytes=500-")]).await;
    assert_eq!(late.status, 403, "never past four hours");
}

#[both_backends]
async fn a_grant_in_the_database_is_only_a_hash(backend: Backend) {
    let (course, token, id, _) = served_video(backend).await;
    let url = course.file_url(&token, &id).await;
    let grant = url.split_once("grant=").unwrap().1.to_string();
    // A grant is stored at its first use.
    assert_eq!(course.get_file(&url, &[]).await.status, 200);
    let stored = crate::helpers::column_values(&course.app.db, "file_grants", "grant_hash");
    assert!(!stored.is_empty());
    assert!(
        stored.iter().all(|h| !h.contains(&grant)),
        "no grant in the clear"
    );
}

/// A partial upload whose process was killed is removed after a day; one
/// still being written, and finished files, are not.
#[both_backends]
async fn abandoned_partial_uploads_are_removed_after_a_day(backend: Backend) {
    let course = Course::start(backend).await;
    let dir = course.app.settings.data_dir.join("media");
    std::fs::create_dir_all(&dir).unwrap();
    let old_part = dir.join("abandoned.part");
    let fresh_part = dir.join("uploading.part");
    let old_file = dir.join("kept");
    for path in [&old_part, &fresh_part, &old_file] {
        std::fs::write(path, b"bytes").unwrap();
    }
    let two_days_ago = std::time::SystemTime::now() - Duration::from_secs(2 * 86_400);
    for path in [&old_part, &old_file] {
        std::fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(two_days_ago)
            .unwrap();
    }
    let tool = crate::helpers::tool(&course.app.db, &course.app.settings, &course.app.clock);
    let removed = guestlink::service::media::remove_abandoned_uploads(&tool).await;
    // The server's own purge, which starts with it, may have got there first.
    assert!(
        removed <= 1,
        "only the abandoned part file goes ({removed} removed)"
    );
    assert!(!old_part.exists());
    assert!(fresh_part.exists());
    assert!(old_file.exists());
}
