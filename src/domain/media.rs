//! Course media items: what they are, what makes one valid, and which files
//! an upload may carry. No HTTP or SQL here.

use std::fmt;
use std::str::FromStr;

use super::field::{Field, FieldError};
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
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| {
                FieldError::new(Field::Kind,
                    "must be one of video, audio, image, document, quiz, live_event, room, channel_room, gallery_room",
                )
            })
    }
}

/// The file types an upload may be, told by their first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileType {
    Mp4,
    M4a,
    WebM,
    Mp3,
    Png,
    Jpeg,
    Webp,
    Pdf,
}

impl FileType {
    /// How many leading bytes [`FileType::sniff`] needs.
    pub const SNIFF_LEN: usize = 12;

    /// The type the first bytes of a file show, if it is one we accept.
    pub fn sniff(head: &[u8]) -> Option<FileType> {
        let at =
            |offset: usize, magic: &[u8]| head.get(offset..offset + magic.len()) == Some(magic);
        if at(4, b"ftyp") {
            // The major brand says whether an MP4 container holds audio only.
            return Some(if at(8, b"M4A ") || at(8, b"M4B ") {
                FileType::M4a
            } else {
                FileType::Mp4
            });
        }
        if at(0, &[0x1A, 0x45, 0xDF, 0xA3]) {
            return Some(FileType::WebM);
        }
        if at(0, b"ID3") || matches!(head, [0xFF, 0xFB | 0xF3 | 0xF2, ..]) {
            return Some(FileType::Mp3);
        }
        if at(0, &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
            return Some(FileType::Png);
        }
        if at(0, &[0xFF, 0xD8, 0xFF]) {
            return Some(FileType::Jpeg);
        }
        if at(0, b"RIFF") && at(8, b"WEBP") {
            return Some(FileType::Webp);
        }
        if at(0, b"%PDF-") {
            return Some(FileType::Pdf);
        }
        None
    }

    pub fn content_type(self) -> &'static str {
        match self {
            FileType::Mp4 => "video/mp4",
            FileType::M4a => "audio/mp4",
            FileType::WebM => "video/webm",
            FileType::Mp3 => "audio/mpeg",
            FileType::Png => "image/png",
            FileType::Jpeg => "image/jpeg",
            FileType::Webp => "image/webp",
            FileType::Pdf => "application/pdf",
        }
    }

    pub fn from_content_type(value: &str) -> Option<FileType> {
        [
            FileType::Mp4,
            FileType::M4a,
            FileType::WebM,
            FileType::Mp3,
            FileType::Png,
            FileType::Jpeg,
            FileType::Webp,
            FileType::Pdf,
        ]
        .into_iter()
        .find(|t| t.content_type() == value)
    }

    /// The kind an upload becomes when the uploader did not say.
    pub fn default_kind(self) -> MediaKind {
        match self {
            FileType::Mp4 | FileType::WebM => MediaKind::Video,
            FileType::M4a | FileType::Mp3 => MediaKind::Audio,
            FileType::Png | FileType::Jpeg | FileType::Webp => MediaKind::Image,
            FileType::Pdf => MediaKind::Document,
        }
    }

    /// Whether a file name's extension and a declared content type fit these
    /// bytes. Unknown or missing declarations are not held against a file;
    /// a declaration of another accepted type is (a PNG named `.mp4`).
    pub fn agrees_with(self, file_name: Option<&str>, declared: Option<&str>) -> bool {
        let extension_fits = match file_name.and_then(extension) {
            None => true,
            Some(ext) => match extension_type(&ext) {
                Some(types) => types.contains(&self),
                None => false,
            },
        };
        let declared_fits = match declared.map(|d| d.split(';').next().unwrap_or(d).trim()) {
            None | Some("") | Some("application/octet-stream") => true,
            Some(d) => {
                let d = d.to_ascii_lowercase();
                let same_family = self.content_type().split('/').next() == d.split('/').next();
                FileType::from_content_type(&d).is_some_and(|t| t == self)
                    // audio/webm, video/quicktime-like aliases of a family we sniffed
                    || (self == FileType::WebM && d == "audio/webm")
                    || (self == FileType::M4a && (d == "audio/x-m4a" || d == "audio/m4a"))
                    || (self == FileType::Mp3 && d == "audio/mp3")
                    || (self == FileType::Jpeg && d == "image/jpg")
                    || (FileType::from_content_type(&d).is_none() && same_family)
            }
        };
        extension_fits && declared_fits
    }
}

fn extension(file_name: &str) -> Option<String> {
    let (_, ext) = file_name.rsplit_once('.')?;
    Some(ext.to_ascii_lowercase())
}

fn extension_type(ext: &str) -> Option<&'static [FileType]> {
    Some(match ext {
        "mp4" | "m4v" => &[FileType::Mp4],
        "m4a" => &[FileType::M4a, FileType::Mp4],
        "webm" => &[FileType::WebM],
        "mp3" => &[FileType::Mp3],
        "png" => &[FileType::Png],
        "jpg" | "jpeg" => &[FileType::Jpeg],
        "webp" => &[FileType::Webp],
        "pdf" => &[FileType::Pdf],
        _ => return None,
    })
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
    fn files_are_told_by_their_first_bytes() {
        let cases: [(&[u8], Option<FileType>); 10] = [
            (b"\0\0\0\x20ftypisom\0\0", Some(FileType::Mp4)),
            (b"\0\0\0\x20ftypM4A \0\0", Some(FileType::M4a)),
            (&[0x1A, 0x45, 0xDF, 0xA3, 1, 2], Some(FileType::WebM)),
            (b"ID3\x04\0\0", Some(FileType::Mp3)),
            (
                &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A],
                Some(FileType::Png),
            ),
            (&[0xFF, 0xD8, 0xFF, 0xE0], Some(FileType::Jpeg)),
            (b"RIFF\x10\0\0\0WEBPVP8 ", Some(FileType::Webp)),
            (b"%PDF-1.7\n", Some(FileType::Pdf)),
            (b"MZ\x90\0\x03\0", None),
            (b"hello", None),
        ];
        for (head, expected) in cases {
            assert_eq!(FileType::sniff(head), expected, "{head:?}");
        }
    }

    #[test]
    fn a_declared_name_or_type_must_fit_the_bytes() {
        assert!(FileType::Png.agrees_with(Some("a.png"), Some("image/png")));
        assert!(FileType::Png.agrees_with(None, None));
        assert!(!FileType::Png.agrees_with(Some("a.mp4"), None));
        assert!(!FileType::Png.agrees_with(Some("a.exe"), None));
        assert!(!FileType::Png.agrees_with(None, Some("video/mp4")));
        assert!(FileType::WebM.agrees_with(Some("talk.webm"), Some("audio/webm")));
    }

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

    proptest::proptest! {
        #[test]
        fn any_bytes_are_sniffed_without_panicking(head in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            if let Some(found) = FileType::sniff(&head) {
                proptest::prop_assert_eq!(FileType::from_content_type(found.content_type()), Some(found));
            }
        }

        #[test]
        fn each_type_is_told_by_its_first_bytes_whatever_follows(
            which in 0usize..8,
            tail in proptest::collection::vec(proptest::num::u8::ANY, 0..32),
        ) {
            let (magic, expected): (&[u8], FileType) = [
                (&b"\0\0\0\x20ftypisom"[..], FileType::Mp4),
                (&b"\0\0\0\x20ftypM4A "[..], FileType::M4a),
                (&[0x1A, 0x45, 0xDF, 0xA3][..], FileType::WebM),
                (&b"ID3"[..], FileType::Mp3),
                (&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A][..], FileType::Png),
                (&[0xFF, 0xD8, 0xFF][..], FileType::Jpeg),
                (&b"RIFF\0\0\0\0WEBP"[..], FileType::Webp),
                (&b"%PDF-"[..], FileType::Pdf),
            ][which];
            let mut head = magic.to_vec();
            head.extend_from_slice(&tail);
            proptest::prop_assert_eq!(FileType::sniff(&head), Some(expected));
        }
    }
}
