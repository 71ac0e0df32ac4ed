//! The two ways an error leaves the tool: as an HTML page (launches, pages,
//! guest routes) with `data-error-code`, or as the JSON envelope of the API,
//! `{"error": {"code", "message", "field"?}}`.
//!
//! Every use case's error says what kind of refusal it is
//! ([`crate::service::failure::Kind`]); [`status_of`] is the one table that
//! turns a kind into an HTTP status, for pages and JSON alike. Faults (the
//! database away, a bug) are logged here, once, with their cause; the
//! answer never carries it.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;
use serde::Serialize;

use crate::service::failure::{Failure, Kind};

/// The HTTP status of each kind of refusal.
pub fn status_of(kind: Kind) -> StatusCode {
    match kind {
        Kind::Malformed => StatusCode::BAD_REQUEST,
        Kind::Unauthenticated => StatusCode::UNAUTHORIZED,
        Kind::Forbidden => StatusCode::FORBIDDEN,
        Kind::NotFound => StatusCode::NOT_FOUND,
        Kind::WrongMethod => StatusCode::METHOD_NOT_ALLOWED,
        Kind::Conflict => StatusCode::CONFLICT,
        Kind::Gone => StatusCode::GONE,
        Kind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        Kind::UnsupportedType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Kind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        Kind::TooMany => StatusCode::TOO_MANY_REQUESTS,
        Kind::ClientTimeout => StatusCode::REQUEST_TIMEOUT,
        Kind::Upstream => StatusCode::BAD_GATEWAY,
        Kind::UpstreamTimeout => StatusCode::GATEWAY_TIMEOUT,
        Kind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Kind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// A page's title for a kind of refusal, unless the error brings its own.
fn title_of(kind: Kind) -> &'static str {
    match kind {
        Kind::Malformed => "This request could not be understood",
        Kind::Unauthenticated => "Your session has ended",
        Kind::Forbidden => "Not allowed",
        Kind::NotFound => "Page not found",
        Kind::TooMany => "Too many attempts",
        Kind::ClientTimeout => "This request took too long",
        Kind::Upstream | Kind::UpstreamTimeout => "Another server did not answer as expected",
        Kind::Unavailable => "guestlink is briefly unavailable",
        Kind::Internal => "Something went wrong",
        Kind::WrongMethod
        | Kind::Conflict
        | Kind::Gone
        | Kind::TooLarge
        | Kind::UnsupportedType
        | Kind::Invalid => "This request could not be completed",
    }
}

/// What the person who made the request is told: the error's own words,
/// except for faults, whose words are for the log.
fn message_of(err: &dyn Failure) -> String {
    match err.kind() {
        Kind::Unavailable => {
            "The tool cannot reach its database. Please try again in a minute.".into()
        }
        Kind::Internal => "An unexpected error occurred. Please try again.".into(),
        _ => err.message(),
    }
}

/// What a fault's page says, the fault logged with its cause.
pub fn told_and_logged(err: &dyn Failure) -> String {
    log(err);
    message_of(err)
}

/// Logs a fault once, at the boundary, with its whole cause.
fn log(err: &dyn Failure) {
    match err.kind() {
        Kind::Internal => tracing::error!(error = %chain(err), "internal error"),
        Kind::Unavailable => {
            tracing::warn!(reason = %chain(err), "a service the tool needs is unavailable")
        }
        _ => {}
    }
}

/// An error and its sources, as one line.
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[derive(Template)]
#[template(path = "pages/error.html")]
struct ErrorPage<'a> {
    version: &'a str,
    title: &'a str,
    code: &'a str,
    message: &'a str,
    hint: Option<&'a str>,
    recovery: Option<&'static str>,
}

/// What a page without a usable session asks the tab's script to do with the
/// token it kept (see `static/js/session.js`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionRecovery {
    /// Not a session page.
    None,
    /// Post the kept token to this address again (a Reload or Back in a frame
    /// whose cookies are refused).
    Resume,
    /// The token was refused (the session ended): drop it.
    Forget,
}

impl SessionRecovery {
    fn attribute(self) -> Option<&'static str> {
        match self {
            SessionRecovery::None => None,
            SessionRecovery::Resume => Some("resume"),
            SessionRecovery::Forget => Some("forget"),
        }
    }
}

/// An error shown as a page.
#[derive(Debug)]
pub struct PageError {
    pub kind: Kind,
    pub code: &'static str,
    pub title: &'static str,
    pub message: String,
    pub hint: Option<String>,
    pub recovery: SessionRecovery,
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({:?})", self.code, self.kind)
    }
}

impl PageError {
    /// A refusal of the web layer's own (no session, a malformed address).
    pub fn new(kind: Kind, code: &'static str, title: &'static str, message: &str) -> Self {
        PageError {
            kind,
            code,
            title,
            message: message.into(),
            hint: None,
            recovery: SessionRecovery::None,
        }
    }

    /// A use case's refusal, its administrator hint filled in with the
    /// tool's public URL.
    pub fn of(err: &dyn Failure, base: &str) -> Self {
        log(err);
        PageError {
            kind: err.kind(),
            code: err.code(),
            title: err.title().unwrap_or_else(|| title_of(err.kind())),
            message: message_of(err),
            hint: err.hint().map(|h| h.replace("{base}", base)),
            recovery: SessionRecovery::None,
        }
    }

    pub fn status(&self) -> StatusCode {
        status_of(self.kind)
    }

    pub fn bad_request() -> Self {
        Self::new(
            Kind::Malformed,
            "bad_request",
            "This request could not be understood",
            "The address or form was malformed.",
        )
    }

    pub fn not_found() -> Self {
        Self::new(
            Kind::NotFound,
            "not_found",
            "Page not found",
            "There is nothing at this address.",
        )
    }

    /// A tool page reached without a credential: the tab may still hold the
    /// session (a Reload inside a frame without cookies), so the page asks
    /// its script to resume it before saying the session is gone.
    pub fn session_required() -> Self {
        PageError {
            recovery: SessionRecovery::Resume,
            ..Self::new(
                Kind::Unauthenticated,
                "session_required",
                "Your session has ended",
                "Open guestlink again from your course in the LMS.",
            )
        }
    }

    /// A session token that no longer opens a session.
    pub fn session_ended() -> Self {
        PageError {
            recovery: SessionRecovery::Forget,
            ..Self::session_required()
        }
    }

    /// A session token in a URL is never accepted: URLs end up in history,
    /// copied links and proxy logs.
    pub fn session_in_url() -> Self {
        Self::new(
            Kind::Malformed,
            "session_in_url",
            "This address cannot be used",
            "guestlink does not accept a session in a web address. Open guestlink again from your course in the LMS.",
        )
    }

    /// Too many attempts from one client address in the last minute.
    pub fn rate_limited(message: &str) -> Self {
        Self::new(Kind::TooMany, "rate_limited", "Too many attempts", message)
    }

    /// A form that came from another site where only the tool's own pages may post.
    pub fn cross_site() -> Self {
        Self::new(
            Kind::Forbidden,
            "cross_site_request",
            "This request came from another site",
            "guestlink accepts this form only from its own pages. Open guestlink again from your course in the LMS.",
        )
    }

    pub fn internal() -> Self {
        Self::new(
            Kind::Internal,
            "internal",
            "Something went wrong",
            "An unexpected error occurred. Please try again.",
        )
    }
}

impl<E: Failure> From<E> for PageError {
    fn from(err: E) -> Self {
        PageError::of(&err, "")
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        let page = ErrorPage {
            version: super::render::ASSET_VERSION,
            title: self.title,
            code: self.code,
            message: &self.message,
            hint: self.hint.as_deref(),
            recovery: self.recovery.attribute(),
        };
        super::render::html(self.status(), &page)
    }
}

#[derive(Serialize)]
struct ErrorEnvelope<'a> {
    error: ErrorBody<'a>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

/// An error answered as JSON: `{"error": {"code", "message", "field"?}}`.
#[derive(Debug)]
pub struct ApiError {
    pub kind: Kind,
    pub code: &'static str,
    pub message: String,
    pub field: Option<&'static str>,
    /// A member the answer carries beside `error` (`invite_exists` carries
    /// the existing `invite`).
    pub beside: Option<(&'static str, serde_json::Value)>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({:?})", self.code, self.kind)
    }
}

impl ApiError {
    /// A refusal of the web layer's own (no bearer, a body that is not JSON).
    pub fn new(kind: Kind, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            kind,
            code,
            message: message.into(),
            field: None,
            beside: None,
        }
    }

    /// A use case's refusal.
    pub fn of(err: &dyn Failure) -> Self {
        log(err);
        ApiError {
            kind: err.kind(),
            code: err.code(),
            message: message_of(err),
            field: err.field().map(|f| f.as_str()),
            beside: None,
        }
    }

    /// The same answer with `name` beside `error`.
    pub fn with(mut self, name: &'static str, value: serde_json::Value) -> Self {
        self.beside = Some((name, value));
        self
    }

    pub fn status(&self) -> StatusCode {
        status_of(self.kind)
    }

    pub fn session_in_url() -> Self {
        Self::new(
            Kind::Malformed,
            "session_in_url",
            "A session token is never accepted in a URL; send it as Authorization: Bearer.",
        )
    }

    pub fn unauthorized() -> Self {
        Self::new(
            Kind::Unauthenticated,
            "session_required",
            "A launch session token is required (Authorization: Bearer).",
        )
    }
}

impl<E: Failure> From<E> for ApiError {
    fn from(err: E) -> Self {
        ApiError::of(&err)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        let envelope = ErrorEnvelope {
            error: ErrorBody {
                code: self.code,
                message: &self.message,
                field: self.field,
            },
        };
        let mut answer = HttpResponse::build(self.status());
        match &self.beside {
            None => answer.json(envelope),
            Some((name, value)) => {
                let mut body = serde_json::to_value(envelope).unwrap_or_default();
                if let serde_json::Value::Object(map) = &mut body {
                    map.insert((*name).to_string(), value.clone());
                }
                answer.json(body)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_its_status() {
        let table = [
            (Kind::Malformed, 400),
            (Kind::Unauthenticated, 401),
            (Kind::Forbidden, 403),
            (Kind::NotFound, 404),
            (Kind::WrongMethod, 405),
            (Kind::ClientTimeout, 408),
            (Kind::Conflict, 409),
            (Kind::Gone, 410),
            (Kind::TooLarge, 413),
            (Kind::UnsupportedType, 415),
            (Kind::Invalid, 422),
            (Kind::TooMany, 429),
            (Kind::Internal, 500),
            (Kind::Upstream, 502),
            (Kind::Unavailable, 503),
            (Kind::UpstreamTimeout, 504),
        ];
        for (kind, status) in table {
            assert_eq!(status_of(kind).as_u16(), status, "{kind:?}");
        }
    }

    #[test]
    fn a_fault_keeps_its_cause_out_of_the_answer() {
        let fault = crate::service::failure::Fault::Internal(anyhow::anyhow!(
            "UNIQUE constraint failed: platforms.issuer"
        ));
        let api = ApiError::of(&fault);
        assert_eq!(api.code, "internal");
        assert!(!api.message.contains("UNIQUE"), "{}", api.message);
        let page = PageError::of(&fault, "");
        assert!(!page.message.contains("UNIQUE"));
        assert_eq!(page.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn a_field_error_names_its_field_in_json() {
        let err = crate::domain::field::FieldError::new(
            crate::domain::field::Field::SourceUrl,
            "The source must be a full https:// address.",
        );
        let api = ApiError::of(&err);
        assert_eq!(api.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(api.field, Some("source_url"));
        assert_eq!(api.message, "The source must be a full https:// address.");
    }

    #[test]
    fn a_page_error_keeps_the_use_cases_code_kind_and_own_title() {
        let page = PageError::of(&crate::lti::LaunchError::StateExpired, "https://t.example");
        assert_eq!(page.code, "state_expired");
        assert_eq!(page.kind, Kind::Malformed);
        assert_eq!(page.title, "This launch could not be completed");
        assert_eq!(page.status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn a_page_error_without_a_title_of_its_own_takes_its_kinds() {
        let page = PageError::of(
            &crate::service::media::MediaError::Forbidden,
            "https://t.example",
        );
        assert_eq!(page.title, "Not allowed");
        let conflict = PageError::of(
            &crate::service::guest_links::GuestAccessError::LinkLimitReached,
            "",
        );
        assert_eq!(conflict.title, "This request could not be completed");
    }

    #[test]
    fn the_admins_hint_names_the_tools_own_address() {
        let page = PageError::of(
            &crate::lti::LaunchError::MissingIdToken,
            "https://media.example.edu",
        );
        let hint = page.hint.unwrap();
        assert!(
            hint.contains("https://media.example.edu/lti/login"),
            "{hint}"
        );
        assert!(!hint.contains("{base}"), "{hint}");
    }

    #[test]
    fn an_unavailable_database_is_told_as_such_without_its_cause() {
        let fault = crate::service::failure::Fault::Unavailable(
            "connection to server at \"db.internal\" (10.0.0.5), port 5432 failed".into(),
        );
        let api = ApiError::of(&fault);
        assert_eq!(api.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            api.message,
            "The tool cannot reach its database. Please try again in a minute."
        );
        let page = PageError::of(&fault, "");
        assert!(!page.message.contains("db.internal"));
        assert_eq!(page.title, "guestlink is briefly unavailable");
    }

    #[test]
    fn a_fault_inside_a_use_case_error_is_answered_without_its_cause_too() {
        let err = crate::service::media::MediaError::from(
            crate::service::failure::Fault::Internal(anyhow::anyhow!("no such table: media_items")),
        );
        let api = ApiError::from(err);
        assert_eq!((api.code, api.kind), ("internal", Kind::Internal));
        assert!(!api.message.contains("media_items"), "{}", api.message);
    }

    #[test]
    fn an_api_error_keeps_the_use_cases_code_and_has_no_field_unless_one_was_refused() {
        let api = ApiError::from(crate::service::guest_links::GuestAccessError::Disabled);
        assert_eq!(api.code, "guest_access_disabled");
        assert_eq!(api.status(), StatusCode::CONFLICT);
        assert_eq!(api.field, None);
        let quota = ApiError::from(crate::service::media::MediaError::QuotaExceeded(1 << 20));
        assert_eq!(quota.field, Some("file"));
        assert_eq!(quota.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[test]
    fn the_json_envelope_leaves_out_a_field_it_does_not_have() {
        let without = serde_json::to_value(ErrorEnvelope {
            error: ErrorBody {
                code: "not_found",
                message: "m",
                field: None,
            },
        })
        .unwrap();
        assert_eq!(
            without,
            serde_json::json!({"error": {"code": "not_found", "message": "m"}})
        );
        let with = serde_json::to_value(ErrorEnvelope {
            error: ErrorBody {
                code: "invalid",
                message: "m",
                field: Some("title"),
            },
        })
        .unwrap();
        assert_eq!(with["error"]["field"], "title");
    }

    #[test]
    fn a_missing_session_asks_the_page_to_resume_and_an_ended_one_to_forget() {
        let required = PageError::session_required();
        let ended = PageError::session_ended();
        assert_eq!(required.recovery, SessionRecovery::Resume);
        assert_eq!(ended.recovery, SessionRecovery::Forget);
        assert_eq!(
            (required.code, ended.code),
            ("session_required", "session_required")
        );
        assert_eq!(ended.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(SessionRecovery::Resume.attribute(), Some("resume"));
        assert_eq!(SessionRecovery::Forget.attribute(), Some("forget"));
        assert_eq!(SessionRecovery::None.attribute(), None);
    }

    #[test]
    fn a_session_token_in_a_url_is_a_malformed_request_for_pages_and_api_alike() {
        let page = PageError::session_in_url();
        let api = ApiError::session_in_url();
        assert_eq!(
            (page.code, page.status()),
            ("session_in_url", StatusCode::BAD_REQUEST)
        );
        assert_eq!(
            (api.code, api.status()),
            ("session_in_url", StatusCode::BAD_REQUEST)
        );
    }

    #[test]
    fn an_error_chain_is_logged_as_one_line_with_every_cause() {
        let err = anyhow::anyhow!("disk full").context("writing an upload");
        let boxed: &dyn std::error::Error = err.as_ref();
        assert_eq!(chain(boxed), "writing an upload: disk full");
    }
}
