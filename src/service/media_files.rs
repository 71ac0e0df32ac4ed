//! Who may fetch an item's file, and the signed URLs players use.
//!
//! A `<video>` element cannot send a Bearer token and, inside an LMS iframe,
//! often has no cookie, so its URL carries a signature for one item and one
//! viewer, valid for `media_url_seconds`; the page renews it. Browsers fetch
//! a playing video in Range requests, and a signature that ages mid-play
//! must not cut it off: requests continuing a stream (a range starting after
//! byte 0) are honoured for [`STREAM_GRACE_SECONDS`] more. Starting over
//! needs a fresh signature.

use std::path::PathBuf;

use super::media::media_dir;
use super::{ServiceError, ServiceResult, Tool};
use crate::domain::ids::UserId;
use crate::domain::media::{Media, MediaId};
use crate::domain::session::LaunchSession;
use crate::store::media as store;

/// How long after its expiry a signature still serves the rest of a stream
/// it started (a long lecture recording).
pub const STREAM_GRACE_SECONDS: i64 = 4 * 60 * 60;

/// Whom a signature was made for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Viewer {
    /// A launched user of the item's course.
    Member(UserId),
    /// A guest, by the visit that admitted them.
    Guest(i64),
}

impl Viewer {
    fn encode(self) -> String {
        match self {
            Viewer::Member(user) => format!("u{}", user.0),
            Viewer::Guest(visit) => format!("g{visit}"),
        }
    }

    fn decode(raw: &str) -> Option<Viewer> {
        let (kind, id) = raw.split_at_checked(1)?;
        let id: i64 = id.parse().ok()?;
        match kind {
            "u" => Some(Viewer::Member(UserId(id))),
            "g" => Some(Viewer::Guest(id)),
            _ => None,
        }
    }
}

/// A signed URL and when it stops starting new streams.
#[derive(Clone, Debug)]
pub struct FileUrl {
    pub url: String,
    pub expires_at: i64,
}

/// The signature fields of a file URL's query.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct SignedQuery {
    pub v: Option<String>,
    pub exp: Option<i64>,
    pub sig: Option<String>,
}

impl SignedQuery {
    pub fn is_present(&self) -> bool {
        self.v.is_some() || self.exp.is_some() || self.sig.is_some()
    }
}

fn message(id: &MediaId, viewer: &str, expires_at: i64) -> String {
    format!("media-file|{id}|{viewer}|{expires_at}")
}

/// A file URL for `media` signed for `viewer`, or None if it has no file.
pub fn signed_url(tool: &Tool, media: &Media, viewer: Viewer) -> Option<FileUrl> {
    media.file()?;
    let expires_at = tool.clock.unix() + tool.settings.media_url_seconds;
    let viewer = viewer.encode();
    let sig = tool.url_key.sign(&message(&media.id, &viewer, expires_at));
    Some(FileUrl {
        url: tool.settings.public_url.join(&format!(
            "/media/{}/file?v={viewer}&exp={expires_at}&sig={sig}",
            media.id
        )),
        expires_at,
    })
}

/// The signed URL of one of the session's course's items, for a page that
/// renews its player's URL.
pub async fn url_for_session(
    tool: &Tool,
    session: &LaunchSession,
    id: &str,
) -> ServiceResult<FileUrl> {
    let media = super::media::get(tool, session, id).await?;
    signed_url(tool, &media, Viewer::Member(session.user_id)).ok_or(ServiceError::Rejected {
        status: 404,
        code: "no_file",
        field: None,
        message: "This item has no uploaded file.".into(),
    })
}

/// A file that may be sent, with where it lies on disk.
pub struct Deliverable {
    pub media: Media,
    pub path: PathBuf,
}

fn forbidden(code: &'static str, message: &str) -> ServiceError {
    ServiceError::Rejected {
        status: 403,
        code,
        field: None,
        message: message.into(),
    }
}

/// The file behind a signed URL. `continues_stream` tells, given the file's
/// size, whether the request's Range starts after byte 0: only continuing
/// requests enjoy the grace after expiry.
pub async fn by_signature(
    tool: &Tool,
    id: &str,
    query: &SignedQuery,
    continues_stream: impl FnOnce(u64) -> bool,
) -> ServiceResult<Deliverable> {
    let id = MediaId::parse(id).ok_or(ServiceError::NotFound)?;
    let (Some(viewer), Some(expires_at), Some(sig)) = (&query.v, query.exp, &query.sig) else {
        return Err(forbidden(
            "bad_signature",
            "This media address is incomplete.",
        ));
    };
    if Viewer::decode(viewer).is_none()
        || !tool.url_key.verify(&message(&id, viewer, expires_at), sig)
    {
        return Err(forbidden(
            "bad_signature",
            "This media address is not valid.",
        ));
    }
    let deliverable = deliverable(tool, id, |_| true).await?;
    let size = deliverable.media.file().map_or(0, |f| f.size);
    let now = tool.clock.unix();
    let deadline = if continues_stream(size) {
        expires_at + STREAM_GRACE_SECONDS
    } else {
        expires_at
    };
    if now > deadline {
        return Err(forbidden(
            "signature_expired",
            "This media address has expired; reload the page.",
        ));
    }
    Ok(deliverable)
}

/// The file of one of the session's course's items.
pub async fn by_session(
    tool: &Tool,
    session: &LaunchSession,
    id: &str,
) -> ServiceResult<Deliverable> {
    let id = MediaId::parse(id).ok_or(ServiceError::NotFound)?;
    let course = session.course.as_ref().map(|c| c.id);
    deliverable(tool, id, |media| Some(media.course_id) == course).await
}

async fn deliverable(
    tool: &Tool,
    id: MediaId,
    allowed: impl FnOnce(&Media) -> bool,
) -> ServiceResult<Deliverable> {
    let media = tool
        .db
        .read(move |conn| store::find(conn, &id))
        .await?
        .filter(allowed)
        .ok_or(ServiceError::NotFound)?;
    let file = media.file().ok_or(ServiceError::NotFound)?;
    let path = media_dir(tool).join(&file.name);
    Ok(Deliverable { media, path })
}
