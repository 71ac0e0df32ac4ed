//! An item's file with HTTP Range support: `/media/{id}/file` for a member's
//! page (its grant) or a session sent as Bearer or cookie, and, through
//! [`send`], a guest's `/g/{token}/file`.

use actix_web::body::SizedStream;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::stream;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::error::PageError;
use super::session::{bearer_token, cookie_token};
use crate::service::failure::Fault;
use crate::service::media_files::{self, Deliverable, GrantQuery};
use crate::service::{Tool, sessions};

const CHUNK: usize = 64 * 1024;

/// What a `Range` header asks of a file of `size` bytes (RFC 9110 §14, Range
/// Requests: https://www.rfc-editor.org/rfc/rfc9110#section-14).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeRequest {
    /// No range, or one we ignore (malformed, several ranges): the whole file.
    Full,
    /// Bytes `start..=end`.
    Part { start: u64, end: u64 },
    /// A well-formed range that misses the file: 416.
    Unsatisfiable,
}

impl RangeRequest {
    pub fn parse(header: Option<&str>, size: u64) -> RangeRequest {
        let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
            return RangeRequest::Full;
        };
        if spec.contains(',') {
            return RangeRequest::Full;
        }
        let Some((first, last)) = spec.trim().split_once('-') else {
            return RangeRequest::Full;
        };
        let number = |s: &str| -> Option<u64> {
            let s = s.trim();
            (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse().ok())
                .flatten()
        };
        match (first.trim().is_empty(), number(first), number(last)) {
            // bytes=-N: the last N bytes.
            (true, _, Some(suffix)) => {
                if suffix == 0 || size == 0 {
                    RangeRequest::Unsatisfiable
                } else {
                    RangeRequest::Part {
                        start: size.saturating_sub(suffix),
                        end: size - 1,
                    }
                }
            }
            (false, Some(start), last) if last.is_some() || last_is_empty(last, spec) => {
                if let Some(end) = last
                    && end < start
                {
                    return RangeRequest::Full;
                }
                if start >= size {
                    return RangeRequest::Unsatisfiable;
                }
                let end = last.map_or(size - 1, |end| end.min(size - 1));
                RangeRequest::Part { start, end }
            }
            _ => RangeRequest::Full,
        }
    }

    /// Where the response starts, for a file of `size` bytes.
    pub fn start(self) -> u64 {
        match self {
            RangeRequest::Part { start, .. } => start,
            _ => 0,
        }
    }
}

/// `bytes=N-` has an empty last position, which is not "malformed".
fn last_is_empty(last: Option<u64>, spec: &str) -> bool {
    last.is_none() && spec.trim().ends_with('-')
}

/// The request's `Range` header, as text.
pub fn range_header(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Whether a request with this `Range` continues a stream of a file of a
/// given size (starts after its first byte).
pub fn continues_stream(range_header: Option<String>) -> impl FnOnce(u64) -> bool {
    move |size| RangeRequest::parse(range_header.as_deref(), size).start() > 0
}

pub async fn file(
    tool: web::Data<Tool>,
    req: HttpRequest,
    id: web::Path<String>,
    query: web::Query<GrantQuery>,
) -> Result<HttpResponse, PageError> {
    let base = tool.settings.server.public_url.as_str();
    let range_header = range_header(&req);
    let deliverable = if let Some(grant) = query.grant.as_deref() {
        media_files::by_member_grant(&tool, &id, grant, continues_stream(range_header.clone()))
            .await
    } else {
        let token = bearer_token(&req)
            .or_else(|| cookie_token(&req))
            .ok_or_else(PageError::session_required)?;
        let session = sessions::find(&tool, &token)
            .await
            .map_err(|e| PageError::of(&e, base))?
            .ok_or_else(PageError::session_required)?;
        media_files::by_session(&tool, &session, &id).await
    }
    .map_err(|e| PageError::of(&e, base))?;
    send(&tool, deliverable, range_header.as_deref()).await
}

pub async fn send(
    tool: &Tool,
    deliverable: Deliverable,
    range_header: Option<&str>,
) -> Result<HttpResponse, PageError> {
    let Deliverable { media, path } = deliverable;
    let stored = media.file().ok_or_else(PageError::not_found)?;
    let mut file = match tokio::fs::File::open(&path).await {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::warn!(media = %media.id, "a media item's file is missing from the data directory");
            return Err(PageError::not_found());
        }
        Err(e) => {
            return Err(Fault::Internal(anyhow::anyhow!("opening a media file: {e}")).into());
        }
    };
    let size = file
        .metadata()
        .await
        .map(|m| m.len())
        .unwrap_or(stored.size);
    let etag = format!("\"{}-{size}\"", media.id);
    let range = RangeRequest::parse(range_header, size);

    let mut response = match range {
        RangeRequest::Unsatisfiable => {
            return Ok(HttpResponse::build(StatusCode::RANGE_NOT_SATISFIABLE)
                .insert_header((header::CONTENT_RANGE, format!("bytes */{size}")))
                .insert_header((header::ACCEPT_RANGES, "bytes"))
                .finish());
        }
        RangeRequest::Full => HttpResponse::Ok(),
        RangeRequest::Part { start, end } => {
            let mut partial = HttpResponse::PartialContent();
            partial.insert_header((header::CONTENT_RANGE, format!("bytes {start}-{end}/{size}")));
            partial
        }
    };
    let (start, length) = match range {
        RangeRequest::Part { start, end } => (start, end - start + 1),
        _ => (0, size),
    };
    if start > 0 {
        file.seek(std::io::SeekFrom::Start(start))
            .await
            .map_err(|e| PageError::from(Fault::Internal(anyhow::anyhow!("seek: {e}"))))?;
    }
    let body = stream::unfold((file, length), |(mut file, remaining)| async move {
        if remaining == 0 {
            return None;
        }
        let mut buf = vec![0u8; CHUNK.min(remaining as usize)];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((
                    Ok::<_, std::io::Error>(web::Bytes::from(buf)),
                    (file, remaining - n as u64),
                ))
            }
            Err(e) => Some((Err(e), (file, 0))),
        }
    });
    let disposition = content_disposition(stored.original_name.as_deref(), &media.title);
    Ok(response
        .insert_header((header::CONTENT_TYPE, stored.file_type.content_type()))
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((header::ETAG, etag))
        // Private: each URL is one viewer's; short, because it may stop
        // working when its session ends.
        .insert_header((
            header::CACHE_CONTROL,
            file_cache_control(tool.settings.media.url_start_window),
        ))
        .insert_header((
            header::CONTENT_DISPOSITION,
            HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("inline")),
        ))
        .body(SizedStream::new(length, Box::pin(body))))
}

/// `inline` with the file's name: an ASCII fallback and the UTF-8 original.
fn content_disposition(original: Option<&str>, title: &str) -> String {
    let name = original.unwrap_or(title);
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = url::form_urlencoded::byte_serialize(name.as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    format!("inline; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// A served file's caching: private, as each URL is one viewer's; for no
/// longer than its URL may start a stream, as it may stop working after.
fn file_cache_control(url_start_window: crate::domain::time::Duration) -> String {
    format!("private, max-age={}", url_start_window.whole_seconds())
}

#[cfg(test)]
mod tests {
    use super::RangeRequest::{self, *};

    fn parse(h: &str) -> RangeRequest {
        RangeRequest::parse(Some(h), 1000)
    }

    #[test]
    fn ranges_are_read_as_rfc_9110_says() {
        assert_eq!(parse("bytes=0-9"), Part { start: 0, end: 9 });
        assert_eq!(
            parse("bytes=100-199"),
            Part {
                start: 100,
                end: 199
            }
        );
        assert_eq!(
            parse("bytes=100-"),
            Part {
                start: 100,
                end: 999
            }
        );
        assert_eq!(
            parse("bytes=-50"),
            Part {
                start: 950,
                end: 999
            }
        );
        assert_eq!(parse("bytes=-5000"), Part { start: 0, end: 999 });
        assert_eq!(
            parse("bytes=990-5000"),
            Part {
                start: 990,
                end: 999
            }
        );
        assert_eq!(parse("bytes=1000-"), Unsatisfiable);
        assert_eq!(parse("bytes=-0"), Unsatisfiable);
        assert_eq!(parse("bytes=5-1"), Full);
        assert_eq!(parse("bytes=0-1,5-9"), Full);
        assert_eq!(parse("items=0-1"), Full);
        assert_eq!(parse("bytes=abc"), Full);
        assert_eq!(parse("bytes=1-x"), Full);
        assert_eq!(RangeRequest::parse(None, 10), Full);
        assert_eq!(RangeRequest::parse(Some("bytes=0-"), 0), Unsatisfiable);
    }

    proptest::proptest! {
        /// Whatever the header, a part lies inside the file.
        #[test]
        fn any_range_header_gives_a_part_inside_the_file(header in ".{0,40}", size in 0u64..5_000) {
            if let Part { start, end } = RangeRequest::parse(Some(&header), size) {
                proptest::prop_assert!(start <= end && end < size, "{start}-{end} of {size}");
            }
        }

        #[test]
        fn range_like_headers_with_huge_numbers_stay_inside_the_file(
            header in "bytes=[0-9]{0,25}-[0-9]{0,25}(,[0-9]{0,5}-[0-9]{0,5})?",
            size in proptest::num::u64::ANY,
        ) {
            if let Part { start, end } = RangeRequest::parse(Some(&header), size) {
                proptest::prop_assert!(start <= end && end < size);
            }
        }

        #[test]
        fn a_well_formed_range_reads_back(size in 1u64..u64::MAX, a in proptest::num::u64::ANY, b in proptest::num::u64::ANY) {
            let start = a % size;
            let end = start.saturating_add(b % 1_000_000);
            proptest::prop_assert_eq!(
                RangeRequest::parse(Some(&format!("bytes={start}-{end}")), size),
                Part { start, end: end.min(size - 1) }
            );
            let suffix = 1 + b % size;
            proptest::prop_assert_eq!(
                RangeRequest::parse(Some(&format!("bytes=-{suffix}")), size),
                Part { start: size - suffix, end: size - 1 }
            );
        }
    }

    #[test]
    fn the_first_byte_alone_is_a_one_byte_part() {
        assert_eq!(parse("bytes=0-0"), Part { start: 0, end: 0 });
        assert_eq!(
            parse("bytes=999-999"),
            Part {
                start: 999,
                end: 999
            }
        );
    }

    #[test]
    fn a_suffix_of_an_empty_file_cannot_be_satisfied() {
        assert_eq!(RangeRequest::parse(Some("bytes=-10"), 0), Unsatisfiable);
    }

    #[test]
    fn a_whole_answer_starts_at_byte_zero() {
        assert_eq!(Full.start(), 0);
        assert_eq!(Unsatisfiable.start(), 0);
        assert_eq!(Part { start: 7, end: 9 }.start(), 7);
    }

    #[test]
    fn only_a_range_past_the_first_byte_continues_a_stream() {
        assert!(!super::continues_stream(None)(1000));
        assert!(!super::continues_stream(Some("bytes=0-".into()))(1000));
        assert!(super::continues_stream(Some("bytes=100-".into()))(1000));
        assert!(super::continues_stream(Some("bytes=-10".into()))(1000));
        assert!(
            !super::continues_stream(Some("bytes=5000-".into()))(1000),
            "a range past the end continues nothing"
        );
    }

    #[test]
    fn a_download_is_named_by_its_original_name_in_ascii_and_in_utf_8() {
        assert_eq!(
            super::content_disposition(Some("Übung 1.pdf"), "Title"),
            "inline; filename=\"_bung 1.pdf\"; filename*=UTF-8''%C3%9Cbung%201.pdf"
        );
    }

    #[test]
    fn a_download_without_an_original_name_is_named_by_its_title() {
        assert_eq!(
            super::content_disposition(None, "Week 1"),
            "inline; filename=\"Week 1\"; filename*=UTF-8''Week%201"
        );
    }

    #[test]
    fn quotes_and_backslashes_never_break_out_of_the_file_name() {
        let header = super::content_disposition(Some("a\"b\\c\r\n.pdf"), "t");
        assert!(
            header.starts_with("inline; filename=\"a_b_c__.pdf\"; "),
            "{header}"
        );
        assert!(
            header.ends_with("filename*=UTF-8''a%22b%5Cc%0D%0A.pdf"),
            "{header}"
        );
    }
}
