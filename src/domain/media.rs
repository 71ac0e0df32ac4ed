//! Course media items: what they are, what makes one valid, and which files
//! an upload may carry. No HTTP or SQL here.

use std::fmt;
use std::str::FromStr;

use super::field::{Field, FieldError};
pub use super::file_type::FileType;
use super::ids::{CourseId, PlatformId, UserId};
use super::time::Timestamp;

/// An item's opaque id as it appears in URLs (96 random bits, base64url).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MediaId(pub String);

impl MediaId {
    pub fn generate() -> MediaId {
        MediaId(crate::crypto::random_token(12))
    }

    /// An id as it came in a path: only the characters ids are made of, so a
    /// path can never smuggle anything into a query or a file name.
    pub fn parse(raw: &str) -> Option<MediaId> {
        let plausible = !raw.is_empty()
            && raw.len() <= 64
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        plausible.then(|| MediaId(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MediaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MediaKind {
    Video,
    Audio,
    Image,
    Document,
    Quiz,
    LiveEvent,
    Room,
    ChannelRoom,
    GalleryRoom,
}

impl MediaKind {
    pub const ALL: [MediaKind; 9] = [
        MediaKind::Video,
        MediaKind::Audio,
        MediaKind::Image,
        MediaKind::Document,
        MediaKind::Quiz,
        MediaKind::LiveEvent,
        MediaKind::Room,
        MediaKind::ChannelRoom,
        MediaKind::GalleryRoom,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Video => "video",
            MediaKind::Audio => "audio",
            MediaKind::Image => "image",
            MediaKind::Document => "document",
            MediaKind::Quiz => "quiz",
            MediaKind::LiveEvent => "live_event",
            MediaKind::Room => "room",
            MediaKind::ChannelRoom => "channel_room",
            MediaKind::GalleryRoom => "gallery_room",
        }
    }

    /// The kind's name on pages.
    pub fn label(self) -> &'static str {
        match self {
            MediaKind::Video => "Video",
            MediaKind::Audio => "Audio",
            MediaKind::Image => "Image",
            MediaKind::Document => "Document",
            MediaKind::Quiz => "Quiz",
            MediaKind::LiveEvent => "Live event",
            MediaKind::Room => "Room",
            MediaKind::ChannelRoom => "Channel room",
            MediaKind::GalleryRoom => "Media gallery room",
        }
    }

    /// Live events and rooms are sessions people join, not files; the media
    /// page shows a session panel for them.
    pub fn is_session(self) -> bool {
        matches!(
            self,
            MediaKind::LiveEvent
                | MediaKind::Room
                | MediaKind::ChannelRoom
                | MediaKind::GalleryRoom
        )
    }

    /// Kinds that need content: a file or a source URL.
    pub fn needs_source(self) -> bool {
        !self.is_session()
    }

    /// Whether a file of `file_type` may be this kind's content.
    pub fn accepts(self, file_type: FileType) -> bool {
        use FileType::*;
        match self {
            MediaKind::Video => matches!(file_type, Mp4 | WebM),
            MediaKind::Audio => matches!(file_type, Mp3 | M4a | WebM),
            MediaKind::Image => matches!(file_type, Png | Jpeg | Webp),
            MediaKind::Document => matches!(file_type, Pdf),
            _ => false,
        }
    }
}

impl fmt::Display for MediaKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MediaKind {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, FieldError> {
        MediaKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s.trim())
            .ok_or_else(|| {
                FieldError::new(Field::Kind,
                    "must be one of video, audio, image, document, quiz, live_event, room, channel_room, gallery_room",
                )
            })
    }
}

pub const TITLE_MAX: usize = 200;
pub const DESCRIPTION_MAX: usize = 5000;
const SOURCE_URL_MAX: usize = 2000;

/// A title: 1 to 200 characters after trimming.
pub fn parse_title(raw: &str) -> Result<String, FieldError> {
    let title = raw.trim();
    if title.is_empty() {
        return Err(FieldError::new(Field::Title, "A title is required."));
    }
    if title.chars().count() > TITLE_MAX {
        return Err(FieldError::new(
            Field::Title,
            format!("A title can have at most {TITLE_MAX} characters."),
        ));
    }
    Ok(title.to_string())
}

pub fn parse_description(raw: &str) -> Result<String, FieldError> {
    let description = raw.trim();
    if description.chars().count() > DESCRIPTION_MAX {
        return Err(FieldError::new(
            Field::Description,
            format!("A description can have at most {DESCRIPTION_MAX} characters."),
        ));
    }
    Ok(description.to_string())
}

/// A source URL: absolute https, with a host and no credentials.
pub fn parse_source_url(raw: &str) -> Result<String, FieldError> {
    let raw = raw.trim();
    let refuse = || {
        FieldError::new(
            Field::SourceUrl,
            "The source must be a full https:// address.",
        )
    };
    if raw.len() > SOURCE_URL_MAX {
        return Err(FieldError::new(
            Field::SourceUrl,
            format!("A source address can have at most {SOURCE_URL_MAX} characters."),
        ));
    }
    let url = url::Url::parse(raw).map_err(|_| refuse())?;
    if url.scheme() != "https" || url.host_str().is_none_or(str::is_empty) {
        return Err(refuse());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(FieldError::new(
            Field::SourceUrl,
            "The source address must not carry a user name or password.",
        ));
    }
    Ok(url.to_string())
}

/// Where an item's content comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// An uploaded file kept in the data directory.
    File(StoredFile),
    Url(String),
    /// Rooms and live events have no content of their own.
    None,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredFile {
    /// The file's name inside the media directory (never user-supplied).
    pub name: String,
    pub file_type: FileType,
    pub size: u64,
    /// The name it was uploaded under, for the download's file name.
    pub original_name: Option<String>,
}

/// A media item as the rest of the tool sees it (deleted items never leave
/// the store).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Media {
    pub id: MediaId,
    pub platform_id: PlatformId,
    pub course_id: CourseId,
    pub owner_id: Option<UserId>,
    pub kind: MediaKind,
    pub title: String,
    pub description: String,
    pub source: Source,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The owner's "Enable guest access" switch (off for a new item).
    pub guest_access_enabled: bool,
}

impl Media {
    pub fn file(&self) -> Option<&StoredFile> {
        match &self.source {
            Source::File(file) => Some(file),
            _ => None,
        }
    }

    pub fn source_url(&self) -> Option<&str> {
        match &self.source {
            Source::Url(url) => Some(url),
            _ => None,
        }
    }
}

/// A new item whose fields passed every rule.
#[derive(Clone, Debug)]
pub struct NewMedia {
    pub kind: MediaKind,
    pub title: String,
    pub description: String,
    pub source: Source,
}

impl NewMedia {
    /// An item described by fields alone (no upload).
    pub fn from_fields(
        title: &str,
        kind: &str,
        description: Option<&str>,
        source_url: Option<&str>,
    ) -> Result<NewMedia, FieldError> {
        let title = parse_title(title)?;
        let kind: MediaKind = kind.parse()?;
        let description = parse_description(description.unwrap_or(""))?;
        let source = match source_url.map(str::trim).filter(|u| !u.is_empty()) {
            Some(url) => Source::Url(parse_source_url(url)?),
            None if kind.needs_source() => {
                return Err(FieldError::new(
                    Field::SourceUrl,
                    format!(
                        "A {} needs a source: upload a file or give an https:// address.",
                        kind.label().to_lowercase()
                    ),
                ));
            }
            None => Source::None,
        };
        Ok(NewMedia {
            kind,
            title,
            description,
            source,
        })
    }

    /// An item whose content is an uploaded file of `file_type`; `kind`, when
    /// given, must fit the file.
    pub fn from_upload(
        title: &str,
        kind: Option<&str>,
        description: Option<&str>,
        file: StoredFile,
    ) -> Result<NewMedia, FieldError> {
        let title = parse_title(title)?;
        let kind = match kind.map(str::trim).filter(|k| !k.is_empty()) {
            Some(kind) => kind.parse()?,
            None => file.file_type.default_kind(),
        };
        if !kind.accepts(file.file_type) {
            return Err(FieldError::new(
                Field::File,
                format!(
                    "A {} file cannot be a {}.",
                    file.file_type.content_type(),
                    kind.label().to_lowercase()
                ),
            ));
        }
        let description = parse_description(description.unwrap_or(""))?;
        Ok(NewMedia {
            kind,
            title,
            description,
            source: Source::File(file),
        })
    }
}

/// A change of title and/or description.
#[derive(Clone, Debug, Default)]
pub struct MediaEdit {
    pub title: Option<String>,
    pub description: Option<String>,
}

impl MediaEdit {
    pub fn parse(title: Option<&str>, description: Option<&str>) -> Result<MediaEdit, FieldError> {
        Ok(MediaEdit {
            title: title.map(parse_title).transpose()?,
            description: description.map(parse_description).transpose()?,
        })
    }
}

#[cfg(test)]
mod tests {
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

    const EVERY_FILE_TYPE: [FileType; 8] = [
        FileType::Mp4,
        FileType::M4a,
        FileType::WebM,
        FileType::Mp3,
        FileType::Png,
        FileType::Jpeg,
        FileType::Webp,
        FileType::Pdf,
    ];

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
            for file_type in EVERY_FILE_TYPE {
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
            assert!(EVERY_FILE_TYPE.iter().all(|t| !kind.accepts(*t)), "{kind}");
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
        let made =
            NewMedia::from_upload("Slides", Some("   "), None, stored(FileType::Pdf)).unwrap();
        assert_eq!(made.kind, MediaKind::Document);
    }

    #[test]
    fn an_upload_whose_kind_does_not_fit_says_what_the_file_is() {
        let err = NewMedia::from_upload("Talk", Some("document"), None, stored(FileType::Mp4))
            .unwrap_err();
        assert_eq!(err.field, Field::File);
        assert!(err.problem.contains("video/mp4"), "{}", err.problem);
        assert!(err.problem.contains("document"), "{}", err.problem);
    }

    #[test]
    fn an_upload_of_a_session_kind_is_refused_as_a_file_mismatch() {
        let err =
            NewMedia::from_upload("Talk", Some("room"), None, stored(FileType::Mp4)).unwrap_err();
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
}
