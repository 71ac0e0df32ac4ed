//! Media items. Deleting marks a row (`deleted_at`); no query here returns a
//! deleted item, so nothing of it can be served again.

use diesel::prelude::*;

use super::schema::{courses, media_items};
use super::{Conn, StoreError, StoreResult};
use crate::domain::ids::{CourseId, PlatformId, UserId};
use crate::domain::media::{
    FileType, Media, MediaEdit, MediaId, MediaKind, NewMedia, Source, StoredFile,
};
use crate::domain::time::Timestamp;
use crate::{with_conn, write_tx};

#[derive(Queryable, Selectable)]
#[diesel(table_name = media_items)]
pub(super) struct MediaRow {
    id: String,
    platform_id: i64,
    course_id: i64,
    owner_id: Option<i64>,
    kind: String,
    title: String,
    description: String,
    source_url: Option<String>,
    file_name: Option<String>,
    content_type: Option<String>,
    file_size: Option<i64>,
    original_name: Option<String>,
    created_at: Timestamp,
    updated_at: Timestamp,
    guest_access_enabled: bool,
}

/// [`MediaRow`]'s columns in the order of its fields: what a query that
/// joins an item beside other tables selects (nullable, for a left join).
pub(super) const MEDIA_ROW_COLUMNS: (
    media_items::id,
    media_items::platform_id,
    media_items::course_id,
    media_items::owner_id,
    media_items::kind,
    media_items::title,
    media_items::description,
    media_items::source_url,
    media_items::file_name,
    media_items::content_type,
    media_items::file_size,
    media_items::original_name,
    media_items::created_at,
    media_items::updated_at,
    media_items::guest_access_enabled,
) = (
    media_items::id,
    media_items::platform_id,
    media_items::course_id,
    media_items::owner_id,
    media_items::kind,
    media_items::title,
    media_items::description,
    media_items::source_url,
    media_items::file_name,
    media_items::content_type,
    media_items::file_size,
    media_items::original_name,
    media_items::created_at,
    media_items::updated_at,
    media_items::guest_access_enabled,
);

impl MediaRow {
    pub(super) fn into_media(self) -> StoreResult<Media> {
        let corrupt =
            |what: String| StoreError::Other(anyhow::anyhow!("media {}: {what}", self.id));
        let kind: MediaKind = self
            .kind
            .parse()
            .map_err(|_| corrupt(format!("unknown kind {}", self.kind)))?;
        let source = match (self.file_name, self.source_url) {
            (Some(name), _) => {
                let content_type = self.content_type.unwrap_or_default();
                Source::File(StoredFile {
                    name,
                    file_type: FileType::from_content_type(&content_type)
                        .ok_or_else(|| corrupt(format!("unknown content type {content_type}")))?,
                    size: self.file_size.unwrap_or(0).max(0) as u64,
                    original_name: self.original_name,
                })
            }
            (None, Some(url)) => Source::Url(url),
            (None, None) => Source::None,
        };
        Ok(Media {
            id: MediaId(self.id),
            platform_id: PlatformId(self.platform_id),
            course_id: CourseId(self.course_id),
            owner_id: self.owner_id.map(UserId),
            kind,
            title: self.title,
            description: self.description,
            source,
            created_at: self.created_at,
            updated_at: self.updated_at,
            guest_access_enabled: self.guest_access_enabled,
        })
    }
}

/// Who adds an item, and where.
pub struct Placement {
    pub platform_id: PlatformId,
    pub course_id: CourseId,
    /// None for items the tool made itself (the demo's samples).
    pub owner_id: Option<UserId>,
}

/// Adds an item. With a `quota`, an item with a file is added only while the
/// course's live files and it stay within the quota (None if they would not).
/// The course row is locked for the check, so concurrent uploads to one
/// course cannot both squeeze under it.
pub fn insert_within_quota(
    conn: &mut Conn,
    id: &MediaId,
    placement: &Placement,
    new: &NewMedia,
    now: Timestamp,
    quota: Option<u64>,
) -> StoreResult<Option<Media>> {
    let file = match &new.source {
        Source::File(file) => Some(file),
        _ => None,
    };
    let source_url = match &new.source {
        Source::Url(url) => Some(url.as_str()),
        _ => None,
    };
    let course = placement.course_id.0;
    // The size to check against the quota, when there are both.
    let checked = quota.zip(file.map(|f| f.size));
    let row: Option<MediaRow> = write_tx!(conn, c => {
        if let Some((quota, size)) = checked {
            // A no-op write takes the course row's lock until commit
            // (SQLite's write transaction is exclusive already).
            diesel::update(courses::table.find(course))
                .set(courses::updated_at.eq(courses::updated_at))
                .execute(c)?;
            let sizes: Vec<Option<i64>> = media_items::table
                .filter(media_items::course_id.eq(course))
                .filter(media_items::deleted_at.is_null())
                .select(media_items::file_size)
                .load(c)?;
            let used: u64 = sizes.into_iter().flatten().map(|s| s.max(0) as u64).sum();
            if used.saturating_add(size) > quota {
                return Ok(None);
            }
        }
        diesel::insert_into(media_items::table)
            .values((
                media_items::id.eq(id.as_str()),
                media_items::platform_id.eq(placement.platform_id.0),
                media_items::course_id.eq(course),
                media_items::owner_id.eq(placement.owner_id.map(|u| u.0)),
                media_items::kind.eq(new.kind.as_str()),
                media_items::title.eq(&new.title),
                media_items::description.eq(&new.description),
                media_items::source_url.eq(source_url),
                media_items::file_name.eq(file.map(|f| f.name.as_str())),
                media_items::content_type.eq(file.map(|f| f.file_type.content_type())),
                media_items::file_size.eq(file.map(|f| f.size as i64)),
                media_items::original_name.eq(file.and_then(|f| f.original_name.as_deref())),
                media_items::created_at.eq(now),
                media_items::updated_at.eq(now),
            ))
            .returning(MediaRow::as_returning())
            .get_result(c)
            .map(Some)
            .map_err(StoreError::from)
    })?;
    row.map(MediaRow::into_media).transpose()
}

/// Bytes of file the course's live items hold.
pub fn course_usage(conn: &mut Conn, course: CourseId) -> StoreResult<u64> {
    let sizes: Vec<Option<i64>> = with_conn!(conn, c => media_items::table
        .filter(media_items::course_id.eq(course.0))
        .filter(media_items::deleted_at.is_null())
        .select(media_items::file_size)
        .load(c)?);
    Ok(sizes.into_iter().flatten().map(|s| s.max(0) as u64).sum())
}

pub fn insert(
    conn: &mut Conn,
    id: &MediaId,
    placement: &Placement,
    new: &NewMedia,
    now: Timestamp,
) -> StoreResult<Media> {
    insert_within_quota(conn, id, placement, new, now, None)?
        .ok_or_else(|| StoreError::Other(anyhow::anyhow!("an insert without a quota was refused")))
}

/// The course's items, newest first.
pub fn list_for_course(conn: &mut Conn, course: CourseId) -> StoreResult<Vec<Media>> {
    let rows: Vec<MediaRow> = with_conn!(conn, c => media_items::table
        .filter(media_items::course_id.eq(course.0))
        .filter(media_items::deleted_at.is_null())
        .order((media_items::created_at.desc(), media_items::id))
        .select(MediaRow::as_select())
        .load(c)?);
    rows.into_iter().map(MediaRow::into_media).collect()
}

/// An item that exists and is not deleted, wherever it belongs.
pub fn find(conn: &mut Conn, id: &MediaId) -> StoreResult<Option<Media>> {
    let row: Option<MediaRow> = with_conn!(conn, c => media_items::table
        .find(id.as_str())
        .filter(media_items::deleted_at.is_null())
        .select(MediaRow::as_select())
        .first(c)
        .optional()?);
    row.map(MediaRow::into_media).transpose()
}

/// The live item `id` of `course`, as an update target.
macro_rules! live_item_of_course {
    ($id:expr, $course:expr) => {
        media_items::table
            .filter(media_items::id.eq($id.as_str()))
            .filter(media_items::course_id.eq($course.0))
            .filter(media_items::deleted_at.is_null())
    };
}

/// Changes title and/or description of a course's item; None if the course
/// has no such (live) item.
pub fn update(
    conn: &mut Conn,
    id: &MediaId,
    course: CourseId,
    edit: &MediaEdit,
    now: Timestamp,
) -> StoreResult<Option<Media>> {
    let row: Option<MediaRow> = write_tx!(conn, c => {
        if let Some(title) = &edit.title {
            diesel::update(live_item_of_course!(id, course))
                .set(media_items::title.eq(title))
                .execute(c)?;
        }
        if let Some(description) = &edit.description {
            diesel::update(live_item_of_course!(id, course))
                .set(media_items::description.eq(description))
                .execute(c)?;
        }
        diesel::update(live_item_of_course!(id, course))
            .set(media_items::updated_at.eq(now))
            .returning(MediaRow::as_returning())
            .get_result(c)
            .optional()
            .map_err(StoreError::from)
    })?;
    row.map(MediaRow::into_media).transpose()
}

/// Marks a course's item deleted and returns it (its file is the caller's
/// to remove); None if there was no such live item.
pub fn mark_deleted(
    conn: &mut Conn,
    id: &MediaId,
    course: CourseId,
    now: Timestamp,
) -> StoreResult<Option<Media>> {
    let row: Option<MediaRow> = write_tx!(conn, c => {
        diesel::update(live_item_of_course!(id, course))
        .set((media_items::deleted_at.eq(now), media_items::updated_at.eq(now)))
        .returning(MediaRow::as_returning())
        .get_result(c)
        .optional()
        .map_err(StoreError::from)
    })?;
    if row.is_some() {
        // A room's sessions, lobby and chat go with it.
        super::rooms::forget(conn, id)?;
    }
    row.map(MediaRow::into_media).transpose()
}

/// How many live items the platform's courses hold.
pub fn count_for_platform(conn: &mut Conn, platform: PlatformId) -> StoreResult<i64> {
    Ok(with_conn!(conn, c => media_items::table
        .filter(media_items::platform_id.eq(platform.0))
        .filter(media_items::deleted_at.is_null())
        .count()
        .get_result(c)?))
}

/// Marks every live item of a platform deleted and returns their file names.
pub fn mark_platform_deleted(
    conn: &mut Conn,
    platform: PlatformId,
    now: Timestamp,
) -> StoreResult<Vec<String>> {
    write_tx!(conn, c => {
        let files: Vec<Option<String>> = diesel::update(
            media_items::table
                .filter(media_items::platform_id.eq(platform.0))
                .filter(media_items::deleted_at.is_null()),
        )
        .set((media_items::deleted_at.eq(now), media_items::updated_at.eq(now)))
        .returning(media_items::file_name)
        .get_results(c)?;
        Ok::<_, StoreError>(files.into_iter().flatten().collect())
    })
}

/// Whether a course ever had an item (deleted ones count).
pub fn course_has_history(conn: &mut Conn, course: CourseId) -> StoreResult<bool> {
    let count: i64 = with_conn!(conn, c => media_items::table
        .filter(media_items::course_id.eq(course.0))
        .count()
        .get_result(c)?);
    Ok(count > 0)
}
