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
#[path = "media_tests.rs"]
mod tests;
