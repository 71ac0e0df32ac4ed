//! The two ways an error leaves the tool: as an HTML page (launches, pages,
//! guest routes) with `data-error-code`, or as the JSON envelope of
//! CONTRACT.md for `/api/`. The status table lives here and in `LaunchError`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;
use serde::Serialize;

use crate::lti::LaunchError;
use crate::service::ServiceError;

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
    pub status: StatusCode,
    pub code: &'static str,
    pub title: &'static str,
    pub message: String,
    pub hint: Option<String>,
    pub recovery: SessionRecovery,
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.code, self.status)
    }
}

impl PageError {
    pub fn bad_request() -> Self {
        PageError {
            status: StatusCode::BAD_REQUEST,
            code: "bad_request",
            title: "This request could not be understood",
            message: "The address or form was malformed.".into(),
            hint: None,
            recovery: SessionRecovery::None,
        }
    }

    pub fn not_found() -> Self {
        PageError {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            title: "Page not found",
            message: "There is nothing at this address.".into(),
            hint: None,
            recovery: SessionRecovery::None,
        }
    }

    pub fn forbidden() -> Self {
        PageError {
            status: StatusCode::FORBIDDEN,
            code: "forbidden",
            title: "Not allowed",
            message: "Your role in this course does not allow this.".into(),
            hint: None,
            recovery: SessionRecovery::None,
        }
    }

    /// A tool page reached without a credential: the tab may still hold the
    /// session (a Reload inside a frame without cookies), so the page asks
    /// its script to resume it before saying the session is gone.
    pub fn session_required() -> Self {
        PageError {
            status: StatusCode::UNAUTHORIZED,
            code: "session_required",
            title: "Your session has ended",
            message: "Open guestlink again from your course in the LMS.".into(),
            hint: None,
            recovery: SessionRecovery::Resume,
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
        PageError {
            status: StatusCode::BAD_REQUEST,
            code: "session_in_url",
            title: "This address cannot be used",
            message: "guestlink does not accept a session in a web address. Open guestlink again from your course in the LMS.".into(),
            hint: None,
            recovery: SessionRecovery::None,
        }
    }

    /// Too many attempts from one client address in the last minute.
    pub fn rate_limited(message: &str) -> Self {
        PageError {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: "rate_limited",
            title: "Too many attempts",
            message: message.into(),
            hint: None,
            recovery: SessionRecovery::None,
        }
    }

    /// A form that came from another site where only the tool's own pages may post.
    pub fn cross_site() -> Self {
        PageError {
            status: StatusCode::FORBIDDEN,
            code: "cross_site_request",
            title: "This request came from another site",
            message: "guestlink accepts this form only from its own pages. Open guestlink again from your course in the LMS.".into(),
            hint: None,
            recovery: SessionRecovery::None,
        }
    }

    pub fn unavailable() -> Self {
        PageError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "database_unavailable",
            title: "guestlink is briefly unavailable",
            message: "The tool cannot reach its database. Please try again in a minute.".into(),
            hint: None,
            recovery: SessionRecovery::None,
        }
    }

    pub fn internal() -> Self {
        PageError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal",
            title: "Something went wrong",
            message: "An unexpected error occurred. Please try again.".into(),
            hint: None,
            recovery: SessionRecovery::None,
        }
    }

    /// A refused login or launch, with what an LMS admin should check.
    pub fn launch(err: &LaunchError, base: &str) -> Self {
        PageError {
            status: StatusCode::from_u16(err.status()).unwrap_or(StatusCode::BAD_REQUEST),
            code: err.code(),
            title: "This launch could not be completed",
            message: format!("guestlink refused the launch: {err}."),
            hint: Some(err.admin_hint().replace("{base}", base)),
            recovery: SessionRecovery::None,
        }
    }

    pub fn from_service(err: ServiceError, base: &str) -> Self {
        match err {
            ServiceError::Launch(e) => PageError::launch(&e, base),
            ServiceError::Unavailable(what) => {
                tracing::warn!(reason = %what, "database unavailable");
                PageError::unavailable()
            }
            ServiceError::NotFound => PageError::not_found(),
            ServiceError::Forbidden => PageError::forbidden(),
            ServiceError::Conflict(_) => PageError::bad_request(),
            ServiceError::Invalid { problem, .. } => PageError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: "invalid",
                title: "This request could not be completed",
                message: problem,
                hint: None,
                recovery: SessionRecovery::None,
            },
            ServiceError::Rejected {
                status,
                code,
                message,
                ..
            } => PageError {
                status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
                code,
                title: "This request could not be completed",
                message,
                hint: None,
                recovery: SessionRecovery::None,
            },
            ServiceError::Internal(e) => {
                tracing::error!(error = ?e, "internal error");
                PageError::internal()
            }
        }
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        self.status
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
        super::render::html(self.status, &page)
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
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<&'static str>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.code, self.status)
    }
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }

    pub fn session_in_url() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "session_in_url",
            "A session token is never accepted in a URL; send it as Authorization: Bearer.",
        )
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "session_required",
            "A launch session token is required (Authorization: Bearer).",
        )
    }

    pub fn from_service(err: ServiceError) -> Self {
        match err {
            ServiceError::Launch(e) => Self::new(StatusCode::BAD_REQUEST, e.code(), e.to_string()),
            ServiceError::Unavailable(what) => {
                tracing::warn!(reason = %what, "database unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "database_unavailable",
                    "The database is unavailable; try again shortly.",
                )
            }
            ServiceError::NotFound => Self::new(StatusCode::NOT_FOUND, "not_found", "Not found."),
            ServiceError::Forbidden => Self::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Your role in this course does not allow this.",
            ),
            ServiceError::Rejected {
                status,
                code,
                field,
                message,
            } => ApiError {
                status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
                code,
                message,
                field,
            },
            ServiceError::Conflict(what) => Self::new(StatusCode::CONFLICT, "conflict", what),
            ServiceError::Invalid { field, problem } => ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: "invalid",
                message: problem,
                field: Some(field),
            },
            ServiceError::Internal(e) => {
                tracing::error!(error = ?e, "internal error");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "An unexpected error occurred.",
                )
            }
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status).json(ErrorEnvelope {
            error: ErrorBody {
                code: self.code,
                message: &self.message,
                field: self.field,
            },
        })
    }
}
