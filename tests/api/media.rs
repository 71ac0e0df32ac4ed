//! The media JSON API and the media pages: create (JSON and multipart), list,
//! get, edit and delete; the permission matrix of every media route; bad
//! input refused naming the field with nothing stored; deleted media served
//! nowhere.

use guestlink::demo::claims::Role;
use reqwest::Method;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::helpers::{Backend, Page};
use crate::media_helpers::{
    Course, EVERYONE, MP3, Multipart, PDF, PNG, People, Reply, WEBM, Who, absolute, count_of,
    element_name, linked_video,
};
use guestlink_test_macros::{both_backends, one_backend};

/// A course with its people and one uploaded video the instructor owns.
async fn course_with_a_video(backend: Backend) -> (Course, People, String) {
    let course = Course::start(backend).await;
    let people = course.people().await;
    let (id, _) = course.upload_sample(&people.instructor, &WEBM, 2_000).await;
    (course, people, id)
}

async fn page_as(course: &Course, path: &str, token: Option<&str>) -> Page {
    course.app.get_page(path, token).await
}

fn assert_media_json(media: &Value, course: &Course, case: &str) {
    let id = media["id"].as_str().expect("an id");
    assert!(
        !id.is_empty()
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        "{case}: the id is opaque and URL-safe: {id:?}"
    );
    assert_eq!(
        media["page_url"].as_str(),
        Some(course.app.url(&format!("/media/{id}")).as_str()),
        "{case}: page_url"
    );
    let created = OffsetDateTime::parse(media["created_at"].as_str().unwrap(), &Rfc3339)
        .unwrap_or_else(|e| panic!("{case}: created_at is RFC 3339: {e}"));
    assert!(
        (created - crate::helpers::wall(&course.app.clock)).abs() < time::Duration::minutes(1),
        "{case}: created_at is now: {created}"
    );
}

// --- create, read, edit ---

#[both_backends]
async fn an_instructor_creates_a_linked_video_and_reads_it_back(backend: Backend) {
    let course = Course::start(backend).await;
    let token = course.token(Role::Instructor).await;
    let created = course
        .post_json(
            "/api/media",
            Some(&token),
            &json!({
                "title": "Lecture 1",
                "kind": "video",
                "description": "Week one",
                "source_url": "https://videos.example.edu/lecture-1.mp4",
            }),
        )
        .await;
    created.expect(201, None, "create");
    let media = &created.json;
    assert_media_json(media, &course, "create");
    assert_eq!(media["title"], "Lecture 1");
    assert_eq!(media["kind"], "video");
    assert_eq!(media["description"], "Week one");
    assert_eq!(
        media["source_url"],
        "https://videos.example.edu/lecture-1.mp4"
    );
    assert_eq!(media["has_file"], false);

    let fetched = course
        .get_json(&format!("/api/media/{}", created.id()), Some(&token))
        .await;
    fetched.expect(200, None, "get");
    assert_eq!(&fetched.json, media, "GET answers what POST created");
    assert_eq!(course.media_rows(), 1);
}

#[both_backends]
async fn rooms_and_live_events_are_created_without_a_source(backend: Backend) {
    let course = Course::start(backend).await;
    let token = course.token(Role::Instructor).await;
    for kind in ["live_event", "room", "channel_room", "gallery_room"] {
        let reply = course
            .post_json(
                "/api/media",
                Some(&token),
                &json!({"title": format!("A {kind}"), "kind": kind}),
            )
            .await;
        reply.expect(201, None, kind);
        assert_eq!(reply.json["kind"], kind);
        assert_eq!(reply.json["source_url"], Value::Null, "{kind}");
        assert_eq!(reply.json["has_file"], false, "{kind}");
    }
    assert_eq!(course.media_rows(), 4);
}

#[both_backends]
async fn linked_kinds_need_a_source_url(backend: Backend) {
    let course = Course::start(backend).await;
    let token = course.token(Role::Instructor).await;
    for kind in ["video", "audio", "image", "document", "quiz"] {
        let reply = course
            .post_json(
                "/api/media",
                Some(&token),
                &json!({"title": "No source", "kind": kind}),
            )
            .await;
        reply.expect_invalid("source_url", kind);
    }
    assert_eq!(course.media_rows(), 0);
}

#[both_backends]
async fn an_instructor_uploads_a_file_with_multipart(backend: Backend) {
    let course = Course::start(backend).await;
    let token = course.token(Role::Instructor).await;
    let bytes = WEBM.bytes(3_000);
    let form = Multipart::new()
        .text("title", "Recorded lecture")
        .text("description", "Filmed in room 2")
        .file("file", "lecture.webm", "video/webm", &bytes);
    let reply = course.upload(Some(&token), form).await;
    reply.expect(201, None, "upload");
    assert_media_json(&reply.json, &course, "upload");
    assert_eq!(reply.json["title"], "Recorded lecture");
    assert_eq!(reply.json["description"], "Filmed in room 2");
    assert_eq!(reply.json["kind"], "video", "kind inferred from the file");
    assert_eq!(reply.json["has_file"], true);
    assert_eq!(reply.json["source_url"], Value::Null);

    let stored = course.stored_files();
    assert_eq!(stored.len(), 1, "one stored file: {stored:?}");
    assert_eq!(std::fs::read(&stored[0]).unwrap(), bytes, "stored as sent");
    let fetched = course
        .get_json(&format!("/api/media/{}", reply.id()), Some(&token))
        .await;
    assert_eq!(fetched.json["has_file"], true);
}

#[both_backends]
async fn the_list_holds_the_course_items_newest_first(backend: Backend) {
    let course = Course::start(backend).await;
    let token = course.token(Role::Instructor).await;
    let mut created = Vec::new();
    for title in ["First", "Second", "Third"] {
        created.push(course.create_video(&token, title).await);
        course.app.clock.advance(time::Duration::minutes(1));
    }
    created.reverse();
    assert_eq!(course.listed_ids(&token).await, created);
}

#[both_backends]
async fn patch_edits_the_title_and_the_description(backend: Backend) {
    let course = Course::start(backend).await;
    let token = course.token(Role::Instructor).await;
    let id = course
        .create(
            &token,
            json!({"title": "Draft", "kind": "room", "description": "Old"}),
        )
        .await;
    let path = format!("/api/media/{id}");

    let renamed = course
        .send_json(
            Method::PATCH,
            &path,
            Some(&token),
            &json!({"title": "Final"}),
        )
        .await;
    renamed.expect(200, None, "rename");
    assert_eq!(renamed.json["title"], "Final");
    assert_eq!(renamed.json["description"], "Old", "untouched field kept");

    let described = course
        .send_json(
            Method::PATCH,
            &path,
            Some(&token),
            &json!({"description": "New words"}),
        )
        .await;
    described.expect(200, None, "describe");
    assert_eq!(described.json["title"], "Final");
    assert_eq!(described.json["description"], "New words");

    let fetched = course.get_json(&path, Some(&token)).await;
    assert_eq!(fetched.json, described.json, "the edit is stored");
}

#[both_backends]
async fn patch_refuses_bad_values_and_keeps_the_item(backend: Backend) {
    let course = Course::start(backend).await;
    let token = course.token(Role::Instructor).await;
    let id = course.create_video(&token, "Kept").await;
    let path = format!("/api/media/{id}");
    let before = course.get_json(&path, Some(&token)).await.json;

    for (case, value, field) in [
        ("empty title", json!({"title": ""}), "title"),
        ("blank title", json!({"title": "   "}), "title"),
        ("201 characters", json!({"title": "t".repeat(201)}), "title"),
        (
            "5001-character description",
            json!({"description": "d".repeat(5001)}),
            "description",
        ),
    ] {
        course
            .send_json(Method::PATCH, &path, Some(&token), &value)
            .await
            .expect_invalid(field, case);
    }
    // Whatever the shape of the mistake, the field is named.
    for (case, value) in [
        ("title is a number", json!({"title": 7})),
        ("title is null", json!({"title": null})),
        ("description is a list", json!({"description": ["d"]})),
    ] {
        let field = value.as_object().unwrap().keys().next().unwrap().clone();
        course
            .send_json(Method::PATCH, &path, Some(&token), &value)
            .await
            .expect_invalid(&field, case);
    }
    course
        .api(
            Method::PATCH,
            &path,
            Some(&token),
            Some(("application/json", br#"{"title": "#.to_vec())),
        )
        .await
        .expect(400, Some("invalid_json"), "malformed JSON");
    let oversized = json!({"description": "a".repeat(70 * 1024)});
    course
        .send_json(Method::PATCH, &path, Some(&token), &oversized)
        .await
        .expect(413, Some("too_large"), "JSON body over 64 KiB");
    assert_eq!(course.get_json(&path, Some(&token)).await.json, before);
}

#[both_backends]
async fn titles_of_200_characters_are_accepted(backend: Backend) {
    let course = Course::start(backend).await;
    let token = course.token(Role::Instructor).await;
    let title = "é".repeat(200);
    let reply = course
        .post_json("/api/media", Some(&token), &linked_video(&title))
        .await;
    reply.expect(201, None, "200 characters (400 bytes)");
    assert_eq!(reply.json["title"], title.as_str());
}

// --- bad input ---

struct BadCreate {
    name: &'static str,
    content_type: String,
    body: Vec<u8>,
    status: u16,
    code: &'static str,
    field: Option<&'static str>,
}

fn bad_json(name: &'static str, value: Value, field: &'static str) -> BadCreate {
    BadCreate {
        name,
        content_type: "application/json".into(),
        body: value.to_string().into_bytes(),
        status: 422,
        code: "invalid",
        field: Some(field),
    }
}

fn bad_raw(
    name: &'static str,
    content_type: &str,
    body: &[u8],
    status: u16,
    code: &'static str,
) -> BadCreate {
    BadCreate {
        name,
        content_type: content_type.into(),
        body: body.to_vec(),
        status,
        code,
        field: None,
    }
}

fn bad_multipart(name: &'static str, form: Multipart, field: &'static str) -> BadCreate {
    BadCreate {
        name,
        content_type: form.content_type(),
        body: form.finish(),
        status: 422,
        code: "invalid",
        field: Some(field),
    }
}

fn bad_creates() -> Vec<BadCreate> {
    let with = |change: fn(&mut Value)| {
        let mut value = linked_video("A title");
        change(&mut value);
        value
    };
    vec![
        bad_json("empty title", with(|v| v["title"] = json!("")), "title"),
        bad_json(
            "whitespace title",
            with(|v| v["title"] = json!(" \t \n ")),
            "title",
        ),
        bad_json(
            "201-character title",
            with(|v| v["title"] = json!("x".repeat(201))),
            "title",
        ),
        bad_json(
            "unknown kind",
            with(|v| v["kind"] = json!("podcast")),
            "kind",
        ),
        bad_json(
            "http source_url",
            with(|v| v["source_url"] = json!("http://videos.example.edu/a.mp4")),
            "source_url",
        ),
        bad_json(
            "source_url that is not a URL",
            with(|v| v["source_url"] = json!("not a url")),
            "source_url",
        ),
        bad_json(
            "relative source_url",
            with(|v| v["source_url"] = json!("/videos/a.mp4")),
            "source_url",
        ),
        bad_json(
            "video without source_url",
            with(|v| {
                v.as_object_mut().unwrap().remove("source_url");
            }),
            "source_url",
        ),
        bad_json(
            "5001-character description",
            with(|v| v["description"] = json!("d".repeat(5001))),
            "description",
        ),
        bad_raw(
            "malformed JSON",
            "application/json",
            br#"{"title": "x", "kind": "#,
            400,
            "invalid_json",
        ),
        bad_json(
            "title of the wrong type",
            with(|v| v["title"] = json!(42)),
            "title",
        ),
        bad_json(
            "kind of the wrong type",
            with(|v| v["kind"] = json!(["video"])),
            "kind",
        ),
        bad_json(
            "no kind",
            with(|v| {
                v.as_object_mut().unwrap().remove("kind");
            }),
            "kind",
        ),
        bad_json("null title", with(|v| v["title"] = Value::Null), "title"),
        bad_json(
            "source_url of the wrong type",
            with(|v| v["source_url"] = json!(7)),
            "source_url",
        ),
        bad_raw(
            "a JSON array",
            "application/json",
            br#"[1, 2, 3]"#,
            422,
            "invalid",
        ),
        bad_raw(
            "JSON body over 64 KiB",
            "application/json",
            json!({"title": "Big", "kind": "room", "description": "a".repeat(70 * 1024)})
                .to_string()
                .as_bytes(),
            413,
            "too_large",
        ),
        bad_raw(
            "plain text",
            "text/plain",
            b"title=Room&kind=room",
            415,
            "unsupported_media_type",
        ),
        bad_raw(
            "url-encoded form",
            "application/x-www-form-urlencoded",
            b"title=Room&kind=room",
            415,
            "unsupported_media_type",
        ),
        bad_multipart(
            "multipart without a file",
            Multipart::new()
                .text("title", "No file")
                .text("kind", "video"),
            "file",
        ),
        bad_multipart(
            "multipart without a title",
            Multipart::new().file("file", PNG.file_name, PNG.content_type, &PNG.bytes(500)),
            "title",
        ),
        bad_multipart(
            "multipart with an empty title",
            Multipart::new().text("title", "  ").file(
                "file",
                PNG.file_name,
                PNG.content_type,
                &PNG.bytes(500),
            ),
            "title",
        ),
        bad_multipart(
            "multipart with an unknown kind",
            Multipart::new()
                .text("title", "Odd")
                .text("kind", "hologram")
                .file("file", PNG.file_name, PNG.content_type, &PNG.bytes(500)),
            "kind",
        ),
    ]
}

#[both_backends]
async fn bad_input_is_refused_naming_the_field_and_nothing_is_stored(backend: Backend) {
    let course = Course::start(backend).await;
    let token = course.token(Role::Instructor).await;
    for case in bad_creates() {
        let reply = course
            .api(
                Method::POST,
                "/api/media",
                Some(&token),
                Some((case.content_type.as_str(), case.body)),
            )
            .await;
        reply.expect(case.status, Some(case.code), case.name);
        assert!(
            reply.json["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{}: a message; body {}",
            case.name,
            reply.body
        );
        if let Some(field) = case.field {
            assert_eq!(reply.field(), Some(field), "{}: field", case.name);
        }
        assert_eq!(course.media_rows(), 0, "{}: nothing stored", case.name);
        assert!(
            course.stored_files().is_empty(),
            "{}: no file left: {:?}",
            case.name,
            course.stored_files()
        );
    }
}

// --- the permission matrix, one route per test ---

fn expected(who: Who, managers: u16, student: u16) -> (u16, Option<&'static str>) {
    match who {
        Who::Instructor | Who::TeachingAssistant => (managers, None),
        Who::Student if student == 403 => (403, Some("forbidden")),
        Who::Student => (student, None),
        Who::OtherCourse => (404, Some("not_found")),
        Who::Nobody => (401, Some("session_required")),
    }
}

#[both_backends]
async fn listing_is_open_to_the_course_and_scoped_to_it(backend: Backend) {
    let (course, people, id) = course_with_a_video(backend).await;
    let theirs = course
        .create_video(&people.other_course, "Other course video")
        .await;
    for who in EVERYONE {
        let reply = course.get_json("/api/media", people.token(who)).await;
        let case = format!("{who:?}");
        if who == Who::Nobody {
            reply.expect(401, Some("session_required"), &case);
            continue;
        }
        reply.expect(200, None, &case);
        let ids: Vec<&str> = reply.json["media"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap())
            .collect();
        let want = if who == Who::OtherCourse {
            &theirs
        } else {
            &id
        };
        assert_eq!(ids, vec![want.as_str()], "{case}: only its own course");
    }
}

#[both_backends]
async fn only_managers_create_media(backend: Backend) {
    let course = Course::start(backend).await;
    let people = course.people().await;
    for who in EVERYONE {
        let case = format!("{who:?}");
        let json = course
            .post_json("/api/media", people.token(who), &linked_video("New"))
            .await;
        let upload = course
            .upload(
                people.token(who),
                Multipart::new().text("title", "New upload").file(
                    "file",
                    PNG.file_name,
                    PNG.content_type,
                    &PNG.bytes(300),
                ),
            )
            .await;
        for (how, reply) in [("JSON", json), ("multipart", upload)] {
            let case = format!("{case} {how}");
            match who {
                Who::Student => reply.expect(403, Some("forbidden"), &case),
                Who::Nobody => reply.expect(401, Some("session_required"), &case),
                _ => reply.expect(201, None, &case),
            }
        }
    }
    // Instructor, TA and the other course's instructor: two items each.
    assert_eq!(course.media_rows(), 6);
    assert_eq!(
        course.stored_files().len(),
        3,
        "refused uploads leave no file"
    );
    assert_eq!(course.listed_ids(&people.student).await.len(), 4);
    assert_eq!(course.listed_ids(&people.other_course).await.len(), 2);
}

#[both_backends]
async fn reading_an_item_follows_the_matrix(backend: Backend) {
    let (course, people, id) = course_with_a_video(backend).await;
    for who in EVERYONE {
        let reply = course
            .get_json(&format!("/api/media/{id}"), people.token(who))
            .await;
        let (status, code) = expected(who, 200, 200);
        reply.expect(status, code, &format!("{who:?}"));
        if status == 200 {
            assert_eq!(reply.json["id"], id.as_str());
        }
    }
}

#[both_backends]
async fn editing_an_item_follows_the_matrix(backend: Backend) {
    let (course, people, id) = course_with_a_video(backend).await;
    let path = format!("/api/media/{id}");
    for who in EVERYONE {
        let title = format!("Renamed by {who:?}");
        let reply = course
            .send_json(
                Method::PATCH,
                &path,
                people.token(who),
                &json!({"title": title}),
            )
            .await;
        let (status, code) = expected(who, 200, 403);
        reply.expect(status, code, &format!("{who:?}"));
        let now = course.get_json(&path, Some(&people.instructor)).await;
        if status == 200 {
            assert_eq!(now.json["title"], title.as_str(), "{who:?}");
        } else {
            assert_ne!(now.json["title"], title.as_str(), "{who:?} changed nothing");
        }
    }
}

#[both_backends]
async fn deleting_an_item_follows_the_matrix(backend: Backend) {
    let (course, people, id) = course_with_a_video(backend).await;
    let path = format!("/api/media/{id}");
    for who in [Who::Student, Who::OtherCourse, Who::Nobody] {
        let (status, code) = expected(who, 204, 403);
        course
            .delete(&path, people.token(who))
            .await
            .expect(status, code, &format!("{who:?}"));
        course.get_json(&path, Some(&people.student)).await.expect(
            200,
            None,
            &format!("still there after {who:?}"),
        );
    }
    assert_eq!(course.stored_files().len(), 1, "the file is kept");

    course
        .delete(&path, Some(&people.ta))
        .await
        .expect(204, None, "TeachingAssistant");
    let second = course.create_video(&people.instructor, "Second").await;
    course
        .delete(&format!("/api/media/{second}"), Some(&people.instructor))
        .await
        .expect(204, None, "Instructor");
    assert!(course.listed_ids(&people.student).await.is_empty());
}

#[both_backends]
async fn file_urls_follow_the_matrix(backend: Backend) {
    let (course, people, id) = course_with_a_video(backend).await;
    for who in EVERYONE {
        let reply = course
            .get_json(&format!("/api/media/{id}/file-url"), people.token(who))
            .await;
        let (status, code) = expected(who, 200, 200);
        reply.expect(status, code, &format!("{who:?}"));
        if status == 200 {
            let url = reply.json["url"].as_str().unwrap();
            assert!(
                url.starts_with(&course.app.url(&format!("/media/{id}/file?"))),
                "{who:?}: {url}"
            );
            let expires =
                OffsetDateTime::parse(reply.json["expires_at"].as_str().unwrap(), &Rfc3339)
                    .expect("expires_at is RFC 3339");
            assert!(
                expires > crate::helpers::wall(&course.app.clock),
                "{who:?}: expires later"
            );
        }
    }
}

#[both_backends]
async fn items_without_a_file_have_no_file_url(backend: Backend) {
    let course = Course::start(backend).await;
    let token = course.token(Role::Instructor).await;
    let id = course.create_video(&token, "Linked").await;
    course
        .get_json(&format!("/api/media/{id}/file-url"), Some(&token))
        .await
        .expect(404, Some("no_file"), "linked item");
    let bearer = format!("Bearer {token}");
    let file = course
        .get_file(&format!("/media/{id}/file"), &[("Authorization", &bearer)])
        .await;
    assert_eq!(file.status, 404, "a linked item serves no file");
}

#[both_backends]
async fn the_media_page_follows_the_matrix(backend: Backend) {
    let (course, people, id) = course_with_a_video(backend).await;
    let path = format!("/media/{id}");
    for who in EVERYONE {
        let page = page_as(&course, &path, people.token(who)).await;
        let case = format!("{who:?}");
        match who {
            Who::OtherCourse => {
                assert_eq!(page.status, 404, "{case}");
                assert_eq!(page.error_code().as_deref(), Some("not_found"), "{case}");
            }
            Who::Nobody => {
                assert_eq!(page.status, 401, "{case}");
                assert_eq!(
                    page.error_code().as_deref(),
                    Some("session_required"),
                    "{case}"
                );
            }
            _ => {
                assert_eq!(page.status, 200, "{case}: {}", page.body);
                assert_eq!(page.attr("main", "data-page").as_deref(), Some("media"));
                assert_eq!(page.attr("main", "data-media-id"), Some(id.clone()));
                let manages = who != Who::Student;
                assert_eq!(
                    page.attr("main", "data-can-manage"),
                    Some(manages.to_string()),
                    "{case}"
                );
            }
        }
    }
}

#[both_backends]
async fn the_file_follows_the_matrix(backend: Backend) {
    let (course, people, id) = course_with_a_video(backend).await;
    let path = format!("/media/{id}/file");
    for who in EVERYONE {
        let bearer = people.token(who).map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> = bearer
            .iter()
            .map(|b| ("Authorization", b.as_str()))
            .collect();
        let reply = course.get_file(&path, &headers).await;
        let (status, _) = expected(who, 200, 200);
        assert_eq!(reply.status, status, "{who:?} by bearer");
    }
    let cookie = format!("guestlink_session={}", people.student);
    let by_cookie = course.get_file(&path, &[("Cookie", &cookie)]).await;
    assert_eq!(by_cookie.status, 200, "student by cookie");
    let cookie = format!("guestlink_session={}", people.other_course);
    let other = course.get_file(&path, &[("Cookie", &cookie)]).await;
    assert_eq!(other.status, 404, "other course by cookie");
}

#[both_backends]
async fn the_api_takes_the_session_only_as_a_bearer_token(backend: Backend) {
    let course = Course::start(backend).await;
    let token = course.token(Role::Instructor).await;
    let cookie = format!("guestlink_session={token}");
    for (name, path, cookie, status) in [
        (
            "cookie",
            "/api/media".to_string(),
            Some(cookie.as_str()),
            401,
        ),
        // A token in a URL is refused outright.
        ("query", format!("/api/media?session={token}"), None, 400),
    ] {
        for method in [Method::GET, Method::POST] {
            let mut request = course
                .app
                .http
                .request(method.clone(), course.app.url(&path))
                .header("Content-Type", "application/json")
                .body(linked_video("Through a cookie").to_string());
            if let Some(cookie) = cookie {
                request = request.header("Cookie", cookie);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status().as_u16(), status, "{method} by {name}");
        }
    }
    assert_eq!(course.media_rows(), 0, "nothing created without a bearer");
}

#[both_backends]
async fn launches_without_roles_only_read(backend: Backend) {
    let course = Course::start(backend).await;
    let instructor = course.token(Role::Instructor).await;
    let learner = course.token(Role::NoRoles).await;
    let id = course.create_video(&instructor, "Readable").await;
    let path = format!("/api/media/{id}");
    course
        .get_json(&path, Some(&learner))
        .await
        .expect(200, None, "get");
    course
        .post_json("/api/media", Some(&learner), &linked_video("Mine"))
        .await
        .expect(403, Some("forbidden"), "create");
    course
        .send_json(
            Method::PATCH,
            &path,
            Some(&learner),
            &json!({"title": "Mine"}),
        )
        .await
        .expect(403, Some("forbidden"), "edit");
    course
        .delete(&path, Some(&learner))
        .await
        .expect(403, Some("forbidden"), "delete");
    assert_eq!(course.listed_ids(&learner).await, vec![id]);
}

// --- pages ---

#[one_backend]
async fn the_media_page_takes_the_session_by_cookie_or_its_own_post_never_by_query(
    backend: Backend,
) {
    let (course, people, id) = course_with_a_video(backend).await;
    let path = format!("/media/{id}");
    let by_query = page_as(&course, &format!("{path}?session={}", people.student), None).await;
    assert_eq!(by_query.status, 400, "by query: {}", by_query.body);
    assert_eq!(by_query.error_code().as_deref(), Some("session_in_url"));
    let by_cookie = course
        .app
        .http
        .get(course.app.url(&path))
        .header("Cookie", format!("guestlink_session={}", people.student))
        .send()
        .await
        .unwrap();
    assert_eq!(by_cookie.status().as_u16(), 200, "by cookie");

    // The tool's own links and session recovery: a same-origin POST.
    let post = |token: String, site: &'static str| {
        let request = course
            .app
            .http
            .post(course.app.url(&path))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Sec-Fetch-Site", site)
            .body(format!("session={token}&navigate=1"));
        async move { crate::helpers::Page::from(request.send().await.unwrap()).await }
    };
    let page = post(people.student.clone(), "same-origin").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.attr("main", "data-media-id"), Some(id.clone()));
    assert_eq!(
        page.session_token().as_deref(),
        Some(people.student.as_str())
    );
    assert_eq!(
        page.attr("main", "data-page-url"),
        Some(path.clone()),
        "no token in it"
    );

    let forged = post(people.student.clone(), "cross-site").await;
    assert_eq!(forged.status, 403, "a form on another site");
    assert_eq!(forged.error_code().as_deref(), Some("cross_site_request"));

    let stale = post("no-such-session".into(), "same-origin").await;
    assert_eq!(stale.status, 401);
    assert_eq!(
        stale.attr("main", "data-session-recovery").as_deref(),
        Some("forget"),
        "the tab drops a token that no longer works"
    );
    let reload = page_as(&course, &path, None).await;
    assert_eq!(reload.status, 401, "a reload without cookies");
    assert_eq!(reload.error_code().as_deref(), Some("session_required"));
    assert_eq!(
        reload.attr("main", "data-session-recovery").as_deref(),
        Some("resume"),
        "the tab posts the token it kept"
    );
    assert_eq!(
        reload
            .attr("script[src^='/static/js/session.js']", "src")
            .is_some(),
        true,
        "with the script that does it"
    );
    assert_eq!(
        reload.headers.get("referrer-policy").unwrap(),
        "no-referrer"
    );
}

#[both_backends]
async fn the_media_page_plays_the_file_through_a_grant(backend: Backend) {
    let course = Course::start(backend).await;
    let people = course.people().await;
    let (id, bytes) = course.upload_sample(&people.instructor, &WEBM, 1_500).await;
    for token in [&people.instructor, &people.student] {
        let page = page_as(&course, &format!("/media/{id}"), Some(token)).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert_eq!(page.attr("main", "data-kind").as_deref(), Some("video"));
        assert_eq!(element_name(&page, "#player").as_deref(), Some("video"));
        let src = page
            .attr("#player", "src")
            .or_else(|| page.attr("#player source", "src"))
            .expect("the player has a source");
        assert!(src.contains("grant="), "a grant: {src}");
        assert!(
            !src.contains(token.as_str()),
            "no session token in a media URL"
        );
        assert_eq!(
            page.attr("#player", "data-renew-url"),
            Some(format!("/api/media/{id}/file-url"))
        );
        let file = course.get_file(&absolute(&course.app, &src), &[]).await;
        assert_eq!(file.status, 200, "the player's URL needs no credentials");
        assert_eq!(file.body, bytes);
    }
}

#[both_backends]
async fn each_kind_gets_its_player(backend: Backend) {
    let course = Course::start(backend).await;
    let token = course.token(Role::Instructor).await;
    for (sample, player) in [
        (&WEBM, "video"),
        (&MP3, "audio"),
        (&PNG, "img"),
        (&PDF, "iframe"),
    ] {
        let (id, _) = course.upload_sample(&token, sample, 400).await;
        let page = page_as(&course, &format!("/media/{id}"), Some(&token)).await;
        assert_eq!(page.status, 200, "{}", sample.file_name);
        assert_eq!(
            page.attr("main", "data-kind").as_deref(),
            Some(sample.kind),
            "{}",
            sample.file_name
        );
        assert_eq!(
            element_name(&page, "#player").as_deref(),
            Some(player),
            "{}",
            sample.file_name
        );
    }
}

#[both_backends]
async fn managers_get_edit_and_delete_in_the_menu_and_learners_do_not(backend: Backend) {
    let (course, people, id) = course_with_a_video(backend).await;
    let path = format!("/media/{id}");
    for who in [Who::Instructor, Who::TeachingAssistant] {
        let page = page_as(&course, &path, people.token(who)).await;
        assert_eq!(
            element_name(&page, "#media-menu-button").as_deref(),
            Some("button"),
            "{who:?}: a real button"
        );
        for action in ["edit", "delete"] {
            assert_eq!(
                count_of(
                    &page,
                    &format!("#media-menu [role=menuitem][data-action={action}]")
                ),
                1,
                "{who:?}: {action}"
            );
        }
    }
    let page = page_as(&course, &path, Some(&people.student)).await;
    assert_eq!(
        count_of(&page, "[data-action=edit], [data-action=delete]"),
        0,
        "learners get no management items"
    );
}

#[both_backends]
async fn the_library_lists_each_item_with_a_link_to_its_page(backend: Backend) {
    let course = Course::start(backend).await;
    let people = course.people().await;
    let video = course.create_video(&people.instructor, "A video").await;
    let room = course
        .create(
            &people.instructor,
            json!({"title": "A room", "kind": "room"}),
        )
        .await;
    let page = page_as(&course, "/course", Some(&people.student)).await;
    assert_eq!(page.status, 200);
    assert_eq!(count_of(&page, "#media-list li[data-media-id]"), 2);
    assert_eq!(count_of(&page, "[data-empty]"), 0, "no empty state");
    for (id, kind) in [(&video, "video"), (&room, "room")] {
        let item = format!("#media-list li[data-media-id=\"{id}\"]");
        assert_eq!(page.attr(&item, "data-kind").as_deref(), Some(kind));
        let href = page
            .attr(&format!("{item} a[href]"), "href")
            .expect("a link to the media page");
        assert_eq!(href, format!("/media/{id}"), "no session in the link");
        assert!(
            page.attr(&format!("{item} a[data-nav]"), "href").is_some(),
            "followed by a POST that carries the session"
        );
    }
}

#[both_backends]
async fn an_empty_library_says_so_and_only_managers_can_add(backend: Backend) {
    let course = Course::start(backend).await;
    let people = course.people().await;
    for (who, can_add) in [
        (Who::Instructor, true),
        (Who::TeachingAssistant, true),
        (Who::Student, false),
    ] {
        let page = page_as(&course, "/course", people.token(who)).await;
        assert_eq!(page.status, 200, "{who:?}");
        assert_eq!(count_of(&page, "#media-list li"), 0, "{who:?}");
        assert_eq!(count_of(&page, "[data-empty]"), 1, "{who:?}: empty state");
        assert_eq!(
            count_of(&page, "form#add-media"),
            usize::from(can_add),
            "{who:?}"
        );
    }
}

// --- deletion ---

#[both_backends]
async fn deleted_media_is_served_nowhere(backend: Backend) {
    let course = Course::start(backend).await;
    let people = course.people().await;
    let (id, _) = course.upload_sample(&people.instructor, &WEBM, 1_000).await;
    let kept = course.create_video(&people.instructor, "Kept").await;
    let signed = course.file_url(&people.student, &id).await;
    assert_eq!(course.get_file(&signed, &[]).await.status, 200);

    course
        .delete(&format!("/api/media/{id}"), Some(&people.instructor))
        .await
        .expect(204, None, "delete");

    let item = format!("/api/media/{id}");
    for (who, token) in [
        ("instructor", &people.instructor),
        ("student", &people.student),
    ] {
        let not_found = |reply: Reply, what: &str| {
            reply.expect(404, Some("not_found"), &format!("{who}: {what}"))
        };
        not_found(course.get_json(&item, Some(token)).await, "get");
        not_found(
            course
                .get_json(&format!("{item}/file-url"), Some(token))
                .await,
            "file-url",
        );
        let page = page_as(&course, &format!("/media/{id}"), Some(token)).await;
        assert_eq!(page.status, 404, "{who}: page");
        assert_eq!(
            page.error_code().as_deref(),
            Some("not_found"),
            "{who}: page"
        );
        let bearer = format!("Bearer {token}");
        let file = course
            .get_file(&format!("/media/{id}/file"), &[("Authorization", &bearer)])
            .await;
        assert_eq!(file.status, 404, "{who}: file by session");
        assert_eq!(
            course.listed_ids(token).await,
            vec![kept.clone()],
            "{who}: list"
        );
        let library = page_as(&course, "/course", Some(token)).await;
        assert_eq!(
            count_of(&library, &format!("li[data-media-id=\"{id}\"]")),
            0,
            "{who}: library"
        );
    }
    course
        .send_json(
            Method::PATCH,
            &item,
            Some(&people.instructor),
            &json!({"title": "Back"}),
        )
        .await
        .expect(404, Some("not_found"), "patch");
    course.delete(&item, Some(&people.instructor)).await.expect(
        404,
        Some("not_found"),
        "second delete",
    );
    let file = course.get_file(&signed, &[]).await;
    assert_eq!(file.status, 404, "a signature from before the delete");
    let ranged = course.get_file(&signed, &[("Range", "bytes=100-")]).await;
    assert_eq!(ranged.status, 404, "a range with that signature");
    assert!(
        course.stored_files().is_empty(),
        "the file is removed: {:?}",
        course.stored_files()
    );
}

#[both_backends]
async fn unknown_ids_are_not_found(backend: Backend) {
    let course = Course::start(backend).await;
    let token = course.token(Role::Instructor).await;
    let item = "/api/media/no-such-item";
    course
        .get_json(item, Some(&token))
        .await
        .expect(404, Some("not_found"), "get");
    course
        .send_json(Method::PATCH, item, Some(&token), &json!({"title": "x"}))
        .await
        .expect(404, Some("not_found"), "patch");
    course
        .delete(item, Some(&token))
        .await
        .expect(404, Some("not_found"), "delete");
    let page = page_as(&course, "/media/no-such-item", Some(&token)).await;
    assert_eq!(page.status, 404);
    assert_eq!(page.error_code().as_deref(), Some("not_found"));
}
