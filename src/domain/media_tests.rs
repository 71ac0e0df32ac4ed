//! Unit tests of `crate::domain::media`, kept beside it.

use super::*;

#[test]
fn titles_are_trimmed_and_bounded() {
    assert_eq!(parse_title("  Week 1 ").unwrap(), "Week 1");
    assert_eq!(parse_title("   ").unwrap_err().field.as_str(), "title");
    assert!(parse_title(&"é".repeat(200)).is_ok());
    assert!(parse_title(&"é".repeat(201)).is_err());
}

#[test]
fn sources_must_be_https() {
    assert!(parse_source_url("https://example.edu/v.mp4").is_ok());
    for bad in [
        "http://example.edu/v.mp4",
        "javascript:alert(1)",
        "example.edu",
        "https://u:p@x.edu/",
    ] {
        assert_eq!(
            parse_source_url(bad).unwrap_err().field.as_str(),
            "source_url",
            "{bad}"
        );
    }
}

#[test]
fn files_must_fit_the_kind() {
    let file = StoredFile {
        name: "x".into(),
        file_type: FileType::Png,
        size: 1,
        original_name: None,
    };
    assert_eq!(
        NewMedia::from_upload("t", Some("video"), None, file.clone())
            .unwrap_err()
            .field
            .as_str(),
        "file"
    );
    assert_eq!(
        NewMedia::from_upload("t", None, None, file).unwrap().kind,
        MediaKind::Image
    );
    assert_eq!(
        NewMedia::from_fields("t", "video", None, None)
            .unwrap_err()
            .field
            .as_str(),
        "source_url"
    );
    assert!(NewMedia::from_fields("t", "room", None, None).is_ok());
    assert_eq!(
        NewMedia::from_fields("t", "podcast", None, None)
            .unwrap_err()
            .field
            .as_str(),
        "kind"
    );
}

fn stored(file_type: FileType) -> StoredFile {
    StoredFile {
        name: "f".into(),
        file_type,
        size: 10,
        original_name: Some("talk.bin".into()),
    }
}

#[test]
fn each_kind_reads_back_from_its_name() {
    for kind in MediaKind::ALL {
        assert_eq!(kind.as_str().parse::<MediaKind>(), Ok(kind));
        assert_eq!(kind.to_string(), kind.as_str());
    }
}

#[test]
fn kinds_are_named_exactly_in_lower_case_around_spaces() {
    assert_eq!(" video ".parse::<MediaKind>(), Ok(MediaKind::Video));
    for raw in ["Video", "VIDEO", "live-event", "liveevent", ""] {
        assert_eq!(
            raw.parse::<MediaKind>().unwrap_err().field,
            Field::Kind,
            "{raw:?}"
        );
    }
}

#[test]
fn each_kind_has_its_own_label() {
    let mut labels: Vec<&str> = MediaKind::ALL.iter().map(|k| k.label()).collect();
    labels.sort_unstable();
    labels.dedup();
    assert_eq!(labels.len(), MediaKind::ALL.len());
    assert_eq!(MediaKind::GalleryRoom.label(), "Media gallery room");
    assert_eq!(MediaKind::LiveEvent.label(), "Live event");
}

#[test]
fn live_events_and_rooms_are_sessions_that_need_no_source() {
    for kind in MediaKind::ALL {
        let session = matches!(
            kind,
            MediaKind::LiveEvent
                | MediaKind::Room
                | MediaKind::ChannelRoom
                | MediaKind::GalleryRoom
        );
        assert_eq!(kind.is_session(), session, "{kind}");
        assert_eq!(kind.needs_source(), !session, "{kind}");
    }
}

#[test]
fn each_file_kind_accepts_only_its_file_types() {
    use FileType::*;
    let table: [(MediaKind, &[FileType]); 4] = [
        (MediaKind::Video, &[Mp4, WebM]),
        (MediaKind::Audio, &[Mp3, M4a, WebM]),
        (MediaKind::Image, &[Png, Jpeg, Webp]),
        (MediaKind::Document, &[Pdf]),
    ];
    for (kind, accepted) in table {
        for file_type in FileType::ALL {
            assert_eq!(
                kind.accepts(file_type),
                accepted.contains(&file_type),
                "{kind} / {file_type:?}"
            );
        }
    }
}

#[test]
fn quizzes_and_sessions_take_no_uploaded_file() {
    for kind in [
        MediaKind::Quiz,
        MediaKind::LiveEvent,
        MediaKind::Room,
        MediaKind::ChannelRoom,
        MediaKind::GalleryRoom,
    ] {
        assert!(FileType::ALL.iter().all(|t| !kind.accepts(*t)), "{kind}");
    }
}

#[test]
fn an_upload_may_name_any_kind_that_fits_its_file() {
    let made =
        NewMedia::from_upload("Talk", Some(" audio "), None, stored(FileType::WebM)).unwrap();
    assert_eq!(made.kind, MediaKind::Audio);
    assert_eq!(made.source, Source::File(stored(FileType::WebM)));
}

#[test]
fn an_upload_with_a_blank_kind_takes_its_files_default_kind() {
    let made = NewMedia::from_upload("Slides", Some("   "), None, stored(FileType::Pdf)).unwrap();
    assert_eq!(made.kind, MediaKind::Document);
}

#[test]
fn an_upload_whose_kind_does_not_fit_says_what_the_file_is() {
    let err =
        NewMedia::from_upload("Talk", Some("document"), None, stored(FileType::Mp4)).unwrap_err();
    assert_eq!(err.field, Field::File);
    assert!(err.problem.contains("video/mp4"), "{}", err.problem);
    assert!(err.problem.contains("document"), "{}", err.problem);
}

#[test]
fn an_upload_of_a_session_kind_is_refused_as_a_file_mismatch() {
    let err = NewMedia::from_upload("Talk", Some("room"), None, stored(FileType::Mp4)).unwrap_err();
    assert_eq!(err.field, Field::File);
}

#[test]
fn an_upload_names_an_unknown_kind_and_a_bad_title_before_the_file() {
    assert_eq!(
        NewMedia::from_upload("Talk", Some("podcast"), None, stored(FileType::Mp4))
            .unwrap_err()
            .field,
        Field::Kind
    );
    assert_eq!(
        NewMedia::from_upload(" ", Some("image"), None, stored(FileType::Mp4))
            .unwrap_err()
            .field,
        Field::Title
    );
}

#[test]
fn an_upload_description_is_bounded_like_any_other() {
    let long = "d".repeat(DESCRIPTION_MAX + 1);
    assert_eq!(
        NewMedia::from_upload("Talk", None, Some(&long), stored(FileType::Mp4))
            .unwrap_err()
            .field,
        Field::Description
    );
}

#[test]
fn a_blank_source_url_is_no_source() {
    let room = NewMedia::from_fields("Office hours", "room", None, Some("   ")).unwrap();
    assert_eq!(room.source, Source::None);
    assert_eq!(
        NewMedia::from_fields("Talk", "video", None, Some("  "))
            .unwrap_err()
            .field,
        Field::SourceUrl
    );
}

#[test]
fn a_missing_source_is_explained_with_the_kinds_name() {
    let err = NewMedia::from_fields("Talk", "live_event", None, None);
    assert!(err.is_ok(), "a live event needs no source");
    let err = NewMedia::from_fields("Talk", "video", None, None).unwrap_err();
    assert!(
        err.problem.starts_with("A video needs a source"),
        "{}",
        err.problem
    );
}

#[test]
fn an_item_by_fields_keeps_its_source_url_and_trimmed_texts() {
    let made = NewMedia::from_fields(
        " Week 1 ",
        "video",
        Some("  Intro  "),
        Some(" https://media.example.edu/v.mp4 "),
    )
    .unwrap();
    assert_eq!(made.title, "Week 1");
    assert_eq!(made.description, "Intro");
    assert_eq!(
        made.source,
        Source::Url("https://media.example.edu/v.mp4".into())
    );
}

#[test]
fn descriptions_are_trimmed_and_may_be_5000_characters_long() {
    assert_eq!(parse_description("  notes \n").unwrap(), "notes");
    assert_eq!(parse_description("").unwrap(), "");
    assert!(parse_description(&"é".repeat(DESCRIPTION_MAX)).is_ok());
    assert_eq!(
        parse_description(&"é".repeat(DESCRIPTION_MAX + 1))
            .unwrap_err()
            .field,
        Field::Description
    );
}

#[test]
fn an_edit_changes_only_what_it_names() {
    let nothing = MediaEdit::parse(None, None).unwrap();
    assert_eq!((nothing.title, nothing.description), (None, None));
    let cleared = MediaEdit::parse(None, Some("")).unwrap();
    assert_eq!(
        cleared.description.as_deref(),
        Some(""),
        "a description may be emptied"
    );
    let renamed = MediaEdit::parse(Some(" New "), None).unwrap();
    assert_eq!(renamed.title.as_deref(), Some("New"));
}

#[test]
fn an_edit_may_not_empty_the_title_or_overfill_the_description() {
    assert_eq!(
        MediaEdit::parse(Some("  "), None).unwrap_err().field,
        Field::Title
    );
    assert_eq!(
        MediaEdit::parse(None, Some(&"d".repeat(DESCRIPTION_MAX + 1)))
            .unwrap_err()
            .field,
        Field::Description
    );
}

#[test]
fn a_source_url_is_kept_in_its_normal_form() {
    assert_eq!(
        parse_source_url("  HTTPS://Media.Example.EDU  ").unwrap(),
        "https://media.example.edu/"
    );
}

#[test]
fn a_source_url_may_be_2000_characters_long_and_no_longer() {
    let url = |len: usize| {
        let base = "https://example.edu/";
        format!("{base}{}", "a".repeat(len - base.len()))
    };
    assert!(parse_source_url(&url(2000)).is_ok());
    let err = parse_source_url(&url(2001)).unwrap_err();
    assert_eq!(err.field, Field::SourceUrl);
    assert!(err.problem.contains("2000"), "{}", err.problem);
}

#[test]
fn a_source_url_with_only_a_user_name_is_refused_as_credentials() {
    let err = parse_source_url("https://user@example.edu/v.mp4").unwrap_err();
    assert!(err.problem.contains("user name"), "{}", err.problem);
}

#[test]
fn media_ids_are_made_of_url_safe_characters_and_at_most_64_long() {
    for good in ["abc", "A-b_9", &"x".repeat(64)] {
        assert_eq!(MediaId::parse(good).map(|id| id.0), Some(good.to_string()));
    }
    for bad in ["", "a/b", "a.b", "a%2F", "a b", "ä", &"x".repeat(65)] {
        assert_eq!(MediaId::parse(bad), None, "{bad:?}");
    }
}

#[test]
fn a_generated_media_id_is_a_parseable_96_bit_token() {
    let id = MediaId::generate();
    assert_eq!(id.as_str().len(), 16);
    assert_eq!(MediaId::parse(id.as_str()), Some(id.clone()));
    assert_ne!(MediaId::generate(), id);
}

#[test]
fn an_items_file_and_url_come_from_its_source() {
    let at = Timestamp::from_unix(0);
    let item = |source| Media {
        id: MediaId("m".into()),
        platform_id: PlatformId(1),
        course_id: CourseId(1),
        owner_id: None,
        kind: MediaKind::Video,
        title: "t".into(),
        description: String::new(),
        source,
        created_at: at,
        updated_at: at,
        guest_access_enabled: false,
    };
    let file = item(Source::File(stored(FileType::Mp4)));
    assert_eq!(file.file(), Some(&stored(FileType::Mp4)));
    assert_eq!(file.source_url(), None);
    let url = item(Source::Url("https://x.edu/v".into()));
    assert_eq!(url.file(), None);
    assert_eq!(url.source_url(), Some("https://x.edu/v"));
    let none = item(Source::None);
    assert_eq!((none.file(), none.source_url()), (None, None));
}
