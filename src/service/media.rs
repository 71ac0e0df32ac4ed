//! The course's media: list, add (by fields or by upload), edit, delete, all
//! scoped to the session's course. Reading needs a session of the course;
//! changing needs its manage rights.

use std::path::{Path, PathBuf};

use tokio::io::AsyncWriteExt;

use super::Tool;
use super::failure::{Failure, Fault, Kind};
use crate::domain::field::{Field, FieldError};
use crate::domain::media::{FileType, Media, MediaEdit, MediaId, NewMedia, StoredFile};
use crate::domain::session::{Course, LaunchSession};
use crate::store::media::{self as store, Placement};

/// Where uploaded files live.
pub fn media_dir(tool: &Tool) -> PathBuf {
    tool.settings.data_dir.join("media")
}

/// Why a media use case refused.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("This launch did not come from a course, so there is no course media.")]
    NoCourse,
    #[error("There is no such item in this course.")]
    NotFound,
    #[error("Your role in this course does not allow this.")]
    Forbidden,
    #[error(transparent)]
    Invalid(#[from] FieldError),
    /// An upload over the size limit (in bytes).
    #[error(
        "The file is larger than the {} MB an upload may be.",
        (*.0 as f64 / (1024.0 * 1024.0) * 10.0).round() / 10.0
    )]
    TooLarge(u64),
    /// An upload that would take the course's files over its quota (bytes).
    #[error(
        "This file would take the course's media over its {} MB. Delete media the course no longer needs, or ask guestlink's administrator for a larger quota.",
        .0 / (1024 * 1024)
    )]
    QuotaExceeded(u64),
    #[error(transparent)]
    Fault(#[from] Fault),
}

crate::faults_from_store!(MediaError);

impl Failure for MediaError {
    fn code(&self) -> &'static str {
        match self {
            MediaError::NoCourse => "no_course",
            MediaError::NotFound => "not_found",
            MediaError::Forbidden => "forbidden",
            MediaError::Invalid(e) => e.code(),
            MediaError::TooLarge(_) => "too_large",
            MediaError::QuotaExceeded(_) => "quota_exceeded",
            MediaError::Fault(f) => f.code(),
        }
    }

    fn kind(&self) -> Kind {
        match self {
            MediaError::NoCourse | MediaError::NotFound => Kind::NotFound,
            MediaError::Forbidden => Kind::Forbidden,
            MediaError::Invalid(e) => e.kind(),
            MediaError::TooLarge(_) | MediaError::QuotaExceeded(_) => Kind::TooLarge,
            MediaError::Fault(f) => f.kind(),
        }
    }

    fn field(&self) -> Option<Field> {
        match self {
            MediaError::Invalid(e) => e.field(),
            MediaError::TooLarge(_) | MediaError::QuotaExceeded(_) => Some(Field::File),
            _ => None,
        }
    }

    fn invalid(&self) -> Option<&FieldError> {
        match self {
            MediaError::Invalid(e) => Some(e),
            _ => None,
        }
    }
}

pub type MediaResult<T> = Result<T, MediaError>;

fn course_of(session: &LaunchSession) -> MediaResult<&Course> {
    session.course.as_ref().ok_or(MediaError::NoCourse)
}

/// Refuses sessions that may not change the course's media.
pub fn require_manage(session: &LaunchSession) -> MediaResult<&Course> {
    let course = course_of(session)?;
    if session.can_manage() {
        Ok(course)
    } else {
        Err(MediaError::Forbidden)
    }
}

pub async fn list(tool: &Tool, session: &LaunchSession) -> MediaResult<Vec<Media>> {
    let course = course_of(session)?.id;
    let items = tool
        .db
        .read(move |conn| store::list_for_course(conn, course))
        .await?;
    Ok(items.into_iter().filter(|m| session.sees(m)).collect())
}

/// A live item of the session's course; `NotFound` for anything else, so
/// other courses' ids cannot be probed.
pub async fn get(tool: &Tool, session: &LaunchSession, id: &str) -> MediaResult<Media> {
    let course = course_of(session)?.id;
    let id = MediaId::parse(id).ok_or(MediaError::NotFound)?;
    let media = tool.db.read(move |conn| store::find(conn, &id)).await?;
    media
        .filter(|m| m.course_id == course && session.sees(m))
        .ok_or(MediaError::NotFound)
}

/// The session behind `token` and its course's live item `id`, read in one
/// trip to the database (a media page's load); None when `token` has no
/// live session. The item is refused as [`get`] refuses it.
pub async fn with_session(
    tool: &Tool,
    token: &str,
    id: &str,
) -> Result<Option<(LaunchSession, MediaResult<Media>)>, Fault> {
    let id = MediaId::parse(id);
    let found = super::sessions::find_with(tool, token, move |conn, hash, now| match id {
        Some(id) => crate::store::sessions::find_with_media(
            conn,
            hash,
            now,
            &id,
            crate::store::sessions::Holders::Launched,
        ),
        None => Ok(crate::store::sessions::find(conn, hash, now)?.map(|s| (s, None))),
    })
    .await?;
    Ok(found.map(|(session, media)| {
        let item = course_of(&session).and_then(|course| {
            media
                .filter(|m| m.course_id == course.id)
                .ok_or(MediaError::NotFound)
        });
        (session, item)
    }))
}

pub async fn create(tool: &Tool, session: &LaunchSession, new: NewMedia) -> MediaResult<Media> {
    let course = require_manage(session)?;
    let placement = Placement {
        platform_id: session.platform_id,
        course_id: course.id,
        owner_id: session.user_id,
    };
    let now = tool.clock.now();
    let id = MediaId::generate();
    Ok(tool
        .db
        .write(move |conn| store::insert(conn, &id, &placement, &new, now))
        .await?)
}

/// Adds an item whose content is an upload that [`Upload::finish`] accepted.
pub async fn create_uploaded(
    tool: &Tool,
    session: &LaunchSession,
    fields: UploadFields,
    file: UploadedFile,
) -> MediaResult<Media> {
    let course = require_manage(session)?;
    let new = NewMedia::from_upload(
        fields.title.as_deref().unwrap_or(""),
        fields.kind.as_deref(),
        fields.description.as_deref(),
        file.stored.clone(),
    )?;
    let placement = Placement {
        platform_id: session.platform_id,
        course_id: course.id,
        owner_id: session.user_id,
    };
    let now = tool.clock.now();
    let id = file.id.clone();
    let kept = file.keep().await?;
    let quota = course_quota(tool);
    let inserted = tool
        .db
        .write(move |conn| store::insert_within_quota(conn, &id, &placement, &new, now, quota))
        .await;
    match inserted {
        Ok(Some(media)) => Ok(media),
        // No row, no file: a refused or failed insert leaves no orphan behind.
        Ok(None) => {
            let _ = tokio::fs::remove_file(&kept).await;
            Err(MediaError::QuotaExceeded(quota.unwrap_or(0)))
        }
        Err(err) => {
            let _ = tokio::fs::remove_file(&kept).await;
            Err(err.into())
        }
    }
}

/// The course quota in bytes, if there is one.
fn course_quota(tool: &Tool) -> Option<u64> {
    Some(tool.settings.media.course_quota_bytes).filter(|q| *q > 0)
}

pub async fn edit(
    tool: &Tool,
    session: &LaunchSession,
    id: &str,
    edit: MediaEdit,
) -> MediaResult<Media> {
    let course = require_manage(session)?.id;
    let id = MediaId::parse(id).ok_or(MediaError::NotFound)?;
    let now = tool.clock.now();
    tool.db
        .write(move |conn| store::update(conn, &id, course, &edit, now))
        .await?
        .ok_or(MediaError::NotFound)
}

/// Marks the item deleted and removes its file; nothing of it is served again.
pub async fn delete(tool: &Tool, session: &LaunchSession, id: &str) -> MediaResult<()> {
    let course = require_manage(session)?.id;
    let id = MediaId::parse(id).ok_or(MediaError::NotFound)?;
    let now = tool.clock.now();
    // A room's running sessions go with it: their media rooms, read before
    // they are forgotten, are destroyed once the delete was allowed.
    let media_rooms = super::av::media_rooms_of(tool, &id).await;
    let deleted = tool
        .db
        .write(move |conn| store::mark_deleted(conn, &id, course, now))
        .await?
        .ok_or(MediaError::NotFound)?;
    super::av::close_media_rooms(tool, media_rooms).await;
    super::live::changed_here(tool, &deleted.id);
    if let Some(file) = deleted.file() {
        remove_stored_file(&media_dir(tool), &file.name).await;
    }
    Ok(())
}

/// Removes a stored file; one already gone is fine.
pub async fn remove_stored_file(dir: &Path, name: &str) {
    match tokio::fs::remove_file(dir.join(name)).await {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!(file = name, error = %e, "could not remove a media file"),
    }
}

/// A `.part` file this old belongs to no upload still running: its process
/// was killed mid-upload (a dropped upload removes its own part).
const ABANDONED_UPLOAD: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);

/// Removes partial uploads left by a killed process; returns how many.
pub async fn remove_abandoned_uploads(tool: &Tool) -> usize {
    let dir = media_dir(tool);
    let Ok(mut entries) = tokio::fs::read_dir(&dir).await else {
        return 0;
    };
    let mut removed = 0;
    while let Ok(Some(entry)) = entries.next_entry().await {
        let is_part = entry.file_name().to_string_lossy().ends_with(".part");
        let age = entry
            .metadata()
            .await
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.elapsed().ok());
        if is_part
            && age.is_some_and(|a| a > ABANDONED_UPLOAD)
            && tokio::fs::remove_file(entry.path()).await.is_ok()
        {
            removed += 1;
        }
    }
    removed
}

/// May guest access be offered for this session's course? Only when the
/// platform has both the invite-to-media module and the media page on.
pub async fn guest_access_offered(tool: &Tool, session: &LaunchSession) -> MediaResult<bool> {
    let platform = tool.registrations.by_id(tool, session.platform_id).await?;
    Ok(platform.is_some_and(|p| p.modules.guest_access_offered()))
}

/// The text fields that came with an upload.
#[derive(Debug, Default)]
pub struct UploadFields {
    pub title: Option<String>,
    pub kind: Option<String>,
    pub description: Option<String>,
}

/// A file arriving in pieces. It is written to a `.part` file next to its
/// final place; its type is checked as soon as its first bytes are in, and
/// its size on every piece, so a wrong or oversized upload stops early. A
/// dropped `Upload` (the client went away, a check failed) removes the part.
pub struct Upload {
    id: MediaId,
    dir: PathBuf,
    part: Option<PathBuf>,
    file: Option<tokio::fs::File>,
    head: Vec<u8>,
    size: u64,
    limit: u64,
    /// What passing `limit` means: the course's quota (Some), or the
    /// largest upload (None).
    quota: Option<u64>,
    file_name: Option<String>,
    declared: Option<String>,
}

/// An upload whose bytes passed every check, still in its `.part` file.
pub struct UploadedFile {
    id: MediaId,
    dir: PathBuf,
    part: Option<PathBuf>,
    pub stored: StoredFile,
}

fn not_allowed() -> MediaError {
    FieldError::new(
        Field::File,
        "This type of file cannot be uploaded. Allowed: MP4, WebM, MP3, M4A, PNG, JPEG, WebP and PDF.",
    )
    .into()
}

fn io_failure(e: std::io::Error) -> MediaError {
    Fault::Internal(anyhow::anyhow!("writing an upload: {e}")).into()
}

impl Upload {
    /// Starts an upload to the session's course, which must leave room for
    /// it under the course's quota.
    pub async fn start(
        tool: &Tool,
        session: &LaunchSession,
        file_name: Option<String>,
        declared: Option<String>,
    ) -> MediaResult<Upload> {
        let course = require_manage(session)?.id;
        let (mut limit, mut quota) = (tool.settings.media.upload_max_bytes, None);
        if let Some(course_quota) = course_quota(tool) {
            let used = tool
                .db
                .read(move |conn| store::course_usage(conn, course))
                .await?;
            let room = course_quota.saturating_sub(used);
            if room < limit {
                (limit, quota) = (room, Some(course_quota));
            }
        }
        let dir = media_dir(tool);
        tokio::fs::create_dir_all(&dir).await.map_err(io_failure)?;
        let id = MediaId::generate();
        let part = dir.join(format!("{id}.part"));
        // Readable by the tool's own user only, like everything in the data directory.
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&part)
            .await
            .map_err(io_failure)?;
        Ok(Upload {
            id,
            dir,
            part: Some(part),
            file: Some(file),
            head: Vec::with_capacity(FileType::SNIFF_LEN),
            size: 0,
            limit,
            quota,
            file_name: file_name.filter(|n| !n.trim().is_empty()),
            declared,
        })
    }

    pub async fn write(&mut self, chunk: &[u8]) -> MediaResult<()> {
        self.size += chunk.len() as u64;
        if self.size > self.limit {
            return Err(match self.quota {
                Some(quota) => MediaError::QuotaExceeded(quota),
                None => MediaError::TooLarge(self.limit),
            });
        }
        if self.head.len() < FileType::SNIFF_LEN {
            let wanted = (FileType::SNIFF_LEN - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..wanted]);
            if self.head.len() == FileType::SNIFF_LEN {
                self.check_type()?;
            }
        }
        let file = self.file.as_mut().expect("an open upload has its file");
        file.write_all(chunk).await.map_err(io_failure)
    }

    fn check_type(&self) -> MediaResult<FileType> {
        let file_type = FileType::sniff(&self.head).ok_or_else(not_allowed)?;
        if !file_type.agrees_with(self.file_name.as_deref(), self.declared.as_deref()) {
            return Err(FieldError::new(
                Field::File,
                format!(
                    "The file's content is {}, which does not match its name or declared type.",
                    file_type.content_type()
                ),
            )
            .into());
        }
        Ok(file_type)
    }

    /// Ends the upload: the file is complete and of an allowed type.
    pub async fn finish(mut self) -> MediaResult<UploadedFile> {
        if self.size == 0 {
            return Err(FieldError::new(Field::File, "The file is empty.").into());
        }
        let file_type = self.check_type()?;
        let mut file = self.file.take().expect("an open upload has its file");
        file.flush().await.map_err(io_failure)?;
        file.sync_all().await.map_err(io_failure)?;
        drop(file);
        Ok(UploadedFile {
            id: self.id.clone(),
            dir: self.dir.clone(),
            part: self.part.take(),
            stored: StoredFile {
                name: self.id.to_string(),
                file_type,
                size: self.size,
                original_name: self.file_name.take().map(|n| clean_file_name(&n)),
            },
        })
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if let Some(part) = self.part.take() {
            let _ = std::fs::remove_file(part);
        }
    }
}

impl UploadedFile {
    /// Moves the file to its final place and returns that path.
    async fn keep(mut self) -> MediaResult<PathBuf> {
        let part = self.part.take().expect("an uploaded file has its part");
        let path = self.dir.join(&self.stored.name);
        if let Err(e) = tokio::fs::rename(&part, &path).await {
            let _ = tokio::fs::remove_file(&part).await;
            return Err(io_failure(e));
        }
        Ok(path)
    }
}

impl Drop for UploadedFile {
    fn drop(&mut self) {
        if let Some(part) = self.part.take() {
            let _ = std::fs::remove_file(part);
        }
    }
}

/// The last path segment of an uploaded file's name, printable and short, for
/// the `filename` of its Content-Disposition.
fn clean_file_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(200)
        .collect();
    if cleaned.trim().is_empty() {
        "file".into()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::clean_file_name;

    #[test]
    fn uploaded_names_lose_paths_quotes_and_controls() {
        assert_eq!(clean_file_name("C:\\Users\\a\\talk.mp4"), "talk.mp4");
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("a\"b\n.pdf"), "ab.pdf");
        assert_eq!(clean_file_name("/"), "file");
    }

    use super::{Failure, Fault, Field, FieldError, Kind, MediaError, require_manage};
    use crate::domain::permissions::CourseRights;
    use crate::domain::session::session;
    use crate::store::StoreError;

    const MB: u64 = 1024 * 1024;

    #[test]
    fn media_refusals_have_distinct_codes() {
        let errors = [
            MediaError::NoCourse,
            MediaError::NotFound,
            MediaError::Forbidden,
            MediaError::TooLarge(MB),
            MediaError::QuotaExceeded(MB),
        ];
        let mut codes: Vec<&str> = errors.iter().map(|e| e.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), errors.len());
    }

    #[test]
    fn no_course_and_no_such_item_are_both_not_found() {
        assert_eq!(MediaError::NoCourse.kind(), Kind::NotFound);
        assert_eq!(MediaError::NotFound.kind(), Kind::NotFound);
        assert_eq!(MediaError::Forbidden.kind(), Kind::Forbidden);
    }

    #[test]
    fn an_oversized_upload_and_an_exceeded_quota_are_too_large_and_name_the_file() {
        for err in [MediaError::TooLarge(MB), MediaError::QuotaExceeded(MB)] {
            assert_eq!(err.kind(), Kind::TooLarge, "{err:?}");
            assert_eq!(err.field(), Some(Field::File), "{err:?}");
        }
        assert_eq!(MediaError::NotFound.field(), None);
    }

    #[test]
    fn the_upload_limit_is_told_in_megabytes_to_one_decimal() {
        assert!(
            MediaError::TooLarge(1024 * MB)
                .message()
                .contains("the 1024 MB")
        );
        assert!(
            MediaError::TooLarge(1_500_000)
                .message()
                .contains("the 1.4 MB")
        );
    }

    #[test]
    fn the_quota_is_told_in_whole_megabytes() {
        let message = MediaError::QuotaExceeded(20 * 1024 * MB + 5).message();
        assert!(message.contains("over its 20480 MB"), "{message}");
    }

    #[test]
    fn an_invalid_field_keeps_its_field_and_says_only_its_problem() {
        let err = MediaError::from(FieldError::new(Field::Title, "A title is required."));
        assert_eq!((err.code(), err.kind()), ("invalid", Kind::Invalid));
        assert_eq!(err.field(), Some(Field::Title));
        assert_eq!(err.message(), "A title is required.");
    }

    #[test]
    fn a_store_failure_becomes_a_fault_of_the_same_kind() {
        let away = MediaError::from(StoreError::Unavailable("pool timed out".into()));
        assert_eq!(
            (away.code(), away.kind()),
            ("database_unavailable", Kind::Unavailable)
        );
        let bug = MediaError::from(Fault::Internal(anyhow::anyhow!("x")));
        assert_eq!(bug.kind(), Kind::Internal);
    }

    #[test]
    fn only_a_known_manager_of_the_course_may_change_its_media() {
        let manager = session(Some(1), true, CourseRights::Manage);
        assert_eq!(
            require_manage(&manager).unwrap().id,
            manager.course.as_ref().unwrap().id,
            "the session's own course"
        );
        assert!(matches!(
            require_manage(&session(Some(1), true, CourseRights::View)),
            Err(MediaError::Forbidden)
        ));
        assert!(matches!(
            require_manage(&session(None, true, CourseRights::Manage)),
            Err(MediaError::Forbidden)
        ));
    }

    #[test]
    fn without_a_course_there_is_no_media_to_manage() {
        assert!(matches!(
            require_manage(&session(Some(1), false, CourseRights::Manage)),
            Err(MediaError::NoCourse)
        ));
    }

    #[test]
    fn an_uploaded_name_is_cut_to_200_characters_and_keeps_its_letters() {
        let long = format!("{}.mp4", "é".repeat(300));
        assert_eq!(clean_file_name(&long).chars().count(), 200);
        assert_eq!(
            clean_file_name("Vortrag – Woche 1.mp4"),
            "Vortrag – Woche 1.mp4"
        );
        assert_eq!(clean_file_name("  "), "file");
    }
}
