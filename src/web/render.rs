//! Rendering askama templates into responses.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use askama::Template;

/// The version in static asset URLs, so a new release is never served a stale script.
pub const ASSET_VERSION: &str = env!("CARGO_PKG_VERSION");

pub fn html<T: Template>(status: StatusCode, page: &T) -> HttpResponse {
    match page.render() {
        Ok(body) => HttpResponse::build(status)
            .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
            // Pages carry session tokens and personal data: never cache them.
            .insert_header((CACHE_CONTROL, "no-store"))
            .body(body),
        Err(err) => {
            tracing::error!(error = %err, "a template failed to render");
            HttpResponse::InternalServerError()
                .insert_header((CONTENT_TYPE, "text/plain; charset=utf-8"))
                .body("Internal error")
        }
    }
}

use crate::domain::time::Timestamp;

/// An instant as RFC 3339 (UTC), the form of every time in the JSON API.
pub fn rfc3339(at: Timestamp) -> String {
    at.rfc3339()
}

/// An instant as a date people read: "April 16, 2026" (UTC).
pub fn long_date(at: Timestamp) -> String {
    match time::OffsetDateTime::from_unix_timestamp(at.unix()) {
        Ok(t) => format!("{} {}, {}", t.month(), t.day(), t.year()),
        Err(_) => String::new(),
    }
}

/// A sentence's first letter in upper case (messages are written to follow
/// other words, pages show them alone).
pub fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_as_people_write_them() {
        let at = Timestamp::from_unix(1_776_297_600);
        assert_eq!(long_date(at), "April 16, 2026");
        assert_eq!(rfc3339(at), "2026-04-16T00:00:00Z");
    }

    #[derive(askama::Template)]
    #[template(source = "<p>{{ text }}</p>", ext = "html")]
    struct Snippet<'a> {
        text: &'a str,
    }

    #[test]
    fn a_rendered_page_is_html_that_is_never_cached() {
        let response = html(StatusCode::NOT_FOUND, &Snippet { text: "<b>" });
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let header = |name| response.headers().get(name).unwrap().to_str().unwrap();
        assert_eq!(header(CONTENT_TYPE), "text/html; charset=utf-8");
        assert_eq!(header(CACHE_CONTROL), "no-store");
    }

    #[test]
    fn a_single_digit_day_is_written_without_a_leading_zero() {
        assert_eq!(long_date(Timestamp::from_unix(0)), "January 1, 1970");
    }

    #[test]
    fn a_date_past_the_calendar_is_empty() {
        assert_eq!(long_date(Timestamp::from_unix(i64::MAX)), "");
    }

    #[test]
    fn only_the_first_letter_of_a_message_is_raised() {
        assert_eq!(
            capitalised("the state has expired"),
            "The state has expired"
        );
        assert_eq!(capitalised("élan vital"), "Élan vital");
        assert_eq!(capitalised(""), "");
    }
}
