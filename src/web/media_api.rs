//! The media part of the JSON API (`/api/media...`, README.md "What a
//! launch shows"): list, create by JSON or multipart upload, get, edit,
//! delete, and the renewal of a player's signed file URL.

use actix_multipart::Multipart;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use serde::Serialize;

use super::error::ApiError;
use super::json_body;
use super::render::rfc3339;
use super::session::ApiSession;
use crate::domain::field::{Field, FieldError};
use crate::domain::media::{Media, MediaEdit, NewMedia};
use crate::service::failure::Kind;
use crate::service::media::{self, MediaError, Upload, UploadFields};
use crate::service::{Tool, media_files};

/// A text field of an upload form (title, kind, description).
const LARGEST_TEXT_FIELD: usize = 64 * 1024;
/// What parts the form does not name may carry in all: browsers add none, so
/// anything beyond a little is not an upload from the tool's page.
const LARGEST_UNKNOWN_PARTS: usize = 64 * 1024;
/// Parts an upload form may have in all (file, title, kind, description,
/// and a few a browser or script may add).
const MOST_PARTS: usize = 16;
/// What multipart framing (boundaries, part headers, text fields) may add
/// to an upload's file.
const MULTIPART_OVERHEAD: u64 = 256 * 1024;

/// `media` as the JSON API answers it; scripts read these names, so they
/// stay stable.
#[derive(Serialize)]
pub struct MediaJson<'a> {
    id: &'a str,
    title: &'a str,
    kind: &'static str,
    description: &'a str,
    source_url: Option<&'a str>,
    has_file: bool,
    created_at: String,
    page_url: String,
}

impl<'a> MediaJson<'a> {
    pub fn of(tool: &Tool, media: &'a Media) -> MediaJson<'a> {
        MediaJson {
            id: media.id.as_str(),
            title: &media.title,
            kind: media.kind.as_str(),
            description: &media.description,
            source_url: media.source_url(),
            has_file: media.file().is_some(),
            created_at: rfc3339(media.created_at),
            page_url: tool
                .settings
                .server
                .public_url
                .join(&format!("/media/{}", media.id)),
        }
    }
}

#[derive(Serialize)]
struct MediaList<'a> {
    media: Vec<MediaJson<'a>>,
}

#[derive(Serialize)]
struct FileUrlJson {
    url: String,
    expires_at: String,
}

pub async fn list(tool: web::Data<Tool>, api: ApiSession) -> Result<HttpResponse, ApiError> {
    let items = media::list(&tool, &api.session).await?;
    Ok(HttpResponse::Ok().json(MediaList {
        media: items.iter().map(|m| MediaJson::of(&tool, m)).collect(),
    }))
}

pub async fn get(
    tool: web::Data<Tool>,
    api: ApiSession,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let item = media::get(&tool, &api.session, &id).await?;
    Ok(HttpResponse::Ok().json(MediaJson::of(&tool, &item)))
}

/// POST /api/media: JSON fields, or a multipart upload with `file`.
pub async fn create(
    tool: web::Data<Tool>,
    api: ApiSession,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    // Checked before the body is read: a learner's upload is not streamed.
    media::require_manage(&api.session)?;
    let content_type = essence(&req);
    let item = match content_type.as_str() {
        "application/json" => {
            let body = json_body::object(payload).await?;
            let new = NewMedia::from_fields(
                body.required_text(Field::Title)?,
                body.required_text(Field::Kind)?,
                body.optional_text(Field::Description)?,
                body.optional_text(Field::SourceUrl)?,
            )?;
            media::create(&tool, &api.session, new).await?
        }
        "multipart/form-data" => {
            refuse_oversized_upload(&tool, &req)?;
            let multipart = Multipart::new(req.headers(), payload);
            let (fields, upload) = read_upload(&tool, &api.session, multipart).await?;
            let file =
                upload.ok_or_else(|| FieldError::new(Field::File, "Choose a file to upload."))?;
            media::create_uploaded(&tool, &api.session, fields, file).await?
        }
        _ => return Err(unsupported_media_type()),
    };
    Ok(HttpResponse::Created().json(MediaJson::of(&tool, &item)))
}

pub async fn edit(
    tool: web::Data<Tool>,
    api: ApiSession,
    id: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    media::require_manage(&api.session)?;
    let content_type = essence(&req);
    if !content_type.is_empty() && content_type != "application/json" {
        return Err(unsupported_media_type());
    }
    let body = json_body::object(payload).await?;
    let change = MediaEdit::parse(
        body.changed_text(Field::Title)?,
        body.changed_text(Field::Description)?,
    )?;
    let item = media::edit(&tool, &api.session, &id, change).await?;
    Ok(HttpResponse::Ok().json(MediaJson::of(&tool, &item)))
}

pub async fn delete(
    tool: web::Data<Tool>,
    api: ApiSession,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    media::delete(&tool, &api.session, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A fresh URL for the item's file: the media page calls this to renew its
/// player's URL before the old one expires, naming the grant it plays
/// (`?grant=`), which the call keeps alive.
pub async fn file_url(
    tool: web::Data<Tool>,
    api: ApiSession,
    id: web::Path<String>,
    query: web::Query<media_files::GrantQuery>,
) -> Result<HttpResponse, ApiError> {
    let url =
        media_files::renew_for_member(&tool, &api.session, &api.token, &id, query.grant.as_deref())
            .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(FileUrlJson {
            url: url.url,
            expires_at: rfc3339(url.expires_at),
        }))
}

/// The media type of the request body without parameters, lower-case.
fn essence(req: &HttpRequest) -> String {
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or(v).trim().to_ascii_lowercase())
        .unwrap_or_default()
}

fn unsupported_media_type() -> ApiError {
    ApiError::new(
        Kind::UnsupportedType,
        "unsupported_media_type",
        "Send JSON (application/json) or an upload (multipart/form-data).",
    )
}

fn too_large_field() -> ApiError {
    ApiError::new(
        Kind::TooLarge,
        "too_large",
        format!(
            "A text field of an upload is larger than {} KB.",
            LARGEST_TEXT_FIELD / 1024
        ),
    )
}

/// An upload whose declared length is already over the limit is refused
/// before a byte of it is read.
fn refuse_oversized_upload(tool: &Tool, req: &HttpRequest) -> Result<(), ApiError> {
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let limit = tool.settings.media.upload_max_bytes;
    match declared {
        Some(length) if length > limit + MULTIPART_OVERHEAD => {
            Err(MediaError::TooLarge(limit).into())
        }
        _ => Ok(()),
    }
}

fn bad_multipart(err: actix_multipart::MultipartError) -> ApiError {
    ApiError::new(
        Kind::Malformed,
        "bad_request",
        format!("The upload could not be read: {err}"),
    )
}

/// The next piece of an upload's body, or a 408 when the client stops
/// sending for longer than the idle timeout (a stalled or slowloris upload
/// would otherwise hold its connection and part file open).
async fn next_within<T>(
    tool: &Tool,
    stream: &mut (impl futures_util::Stream<Item = T> + Unpin),
) -> Result<Option<T>, ApiError> {
    let idle = tool.settings.media.upload_idle.unsigned_abs();
    tokio::time::timeout(idle, stream.next())
        .await
        .map_err(|_| {
            ApiError::new(
                Kind::ClientTimeout,
                "upload_timeout",
                "The upload stopped arriving. Please try again.",
            )
        })
}

/// Reads an upload form: its text fields, and its `file` streamed to disk.
async fn read_upload(
    tool: &Tool,
    session: &crate::domain::session::LaunchSession,
    mut multipart: Multipart,
) -> Result<(UploadFields, Option<media::UploadedFile>), ApiError> {
    let mut fields = UploadFields::default();
    let mut uploaded = None;
    let mut unknown_bytes = 0usize;
    let mut parts = 0usize;
    while let Some(field) = next_within(tool, &mut multipart).await? {
        let mut field = field.map_err(bad_multipart)?;
        parts += 1;
        if parts > MOST_PARTS {
            return Err(unexpected_parts());
        }
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "file" => {
                if uploaded.is_some() {
                    return Err(FieldError::new(Field::File, "Upload one file at a time.").into());
                }
                let file_name = field
                    .content_disposition()
                    .and_then(|cd| cd.get_filename())
                    .map(str::to_string);
                let declared = field.content_type().map(|m| m.essence_str().to_string());
                let mut upload = Upload::start(tool, session, file_name, declared).await?;
                while let Some(chunk) = next_within(tool, &mut field).await? {
                    let chunk = chunk.map_err(bad_multipart)?;
                    upload.write(&chunk).await?;
                }
                uploaded = Some(upload.finish().await?);
            }
            "title" | "kind" | "description" => {
                let (named, slot) = match name.as_str() {
                    "title" => (Field::Title, &mut fields.title),
                    "kind" => (Field::Kind, &mut fields.kind),
                    _ => (Field::Description, &mut fields.description),
                };
                let text = read_text(tool, &mut field, named).await?;
                if slot.replace(text).is_some() {
                    return Err(unexpected_parts());
                }
            }
            // Unknown parts are read past, not refused, but only a little of
            // them: a client could otherwise stream without end into nothing.
            _ => {
                while let Some(chunk) = next_within(tool, &mut field).await? {
                    unknown_bytes += chunk.map_err(bad_multipart)?.len();
                    if unknown_bytes > LARGEST_UNKNOWN_PARTS {
                        return Err(unexpected_parts());
                    }
                }
            }
        }
    }
    Ok((fields, uploaded))
}

fn unexpected_parts() -> ApiError {
    ApiError::new(
        Kind::Malformed,
        "bad_request",
        "The upload carries parts other than one file, title, kind and description.",
    )
}

async fn read_text(
    tool: &Tool,
    field: &mut actix_multipart::Field,
    named: Field,
) -> Result<String, ApiError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = next_within(tool, field).await? {
        let chunk = chunk.map_err(bad_multipart)?;
        if bytes.len() + chunk.len() > LARGEST_TEXT_FIELD {
            return Err(too_large_field());
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes)
        .map_err(|_| FieldError::new(named, format!("{named} must be UTF-8 text.")).into())
}
