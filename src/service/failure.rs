//! What every use case's error says about itself, so that the web and the
//! command line can answer it without knowing the use case: a stable code, a
//! kind of refusal, and the field it concerns. Which HTTP status a kind gets
//! is decided in one table (`web::error::status_of`), which exit code in
//! another (`main.rs`); no use case picks either.

use crate::domain::field::{Field, FieldError};
use crate::store::StoreError;

/// What sort of refusal an error is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The request is not of the expected form (a malformed launch).
    Malformed,
    /// Who is asking is not known (no session, a token that does not verify).
    Unauthenticated,
    /// Known, but not allowed.
    Forbidden,
    NotFound,
    /// Asked with a method the address does not take (a GET of the launch URL).
    WrongMethod,
    /// It would break a rule of what exists already (a fourth link).
    Conflict,
    /// It existed and no longer works (an expired guest link).
    Gone,
    TooLarge,
    /// A body of a type the address does not take.
    UnsupportedType,
    /// A field's value is refused.
    Invalid,
    /// Too many attempts in the last minute.
    TooMany,
    /// The client stopped sending.
    ClientTimeout,
    /// A server the tool needed (an LMS) refused or failed.
    Upstream,
    /// A server the tool needed did not answer in time.
    UpstreamTimeout,
    /// The database is away; try again shortly.
    Unavailable,
    /// A bug: logged with its cause, answered without it.
    Internal,
}

/// An error a use case returns.
pub trait Failure: std::error::Error {
    /// The stable code (`data-error-code`, the API's `code`).
    fn code(&self) -> &'static str;
    fn kind(&self) -> Kind;
    /// The field a refused value came in, if one did.
    fn field(&self) -> Option<Field> {
        None
    }
    /// The words for the person who made the request (faults' words are
    /// for the log, and the web replaces them).
    fn message(&self) -> String {
        self.to_string()
    }
    /// A page's title when the kind's default does not fit.
    fn title(&self) -> Option<&'static str> {
        None
    }
    /// What an administrator should check (launch and registration errors);
    /// `{base}` stands for the tool's public URL.
    fn hint(&self) -> Option<String> {
        None
    }
}

/// What goes wrong below the rules: the database away, or a bug. Every use
/// case's error has this as one of its variants.
#[derive(Debug, thiserror::Error)]
pub enum Fault {
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<StoreError> for Fault {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(what) => Fault::Unavailable(what),
            other => Fault::Internal(anyhow::Error::new(other)),
        }
    }
}

impl Failure for Fault {
    fn code(&self) -> &'static str {
        match self {
            Fault::Unavailable(_) => "database_unavailable",
            Fault::Internal(_) => "internal",
        }
    }

    fn kind(&self) -> Kind {
        match self {
            Fault::Unavailable(_) => Kind::Unavailable,
            Fault::Internal(_) => Kind::Internal,
        }
    }
}

impl Failure for FieldError {
    fn code(&self) -> &'static str {
        "invalid"
    }

    fn kind(&self) -> Kind {
        Kind::Invalid
    }

    fn field(&self) -> Option<Field> {
        Some(self.field)
    }

    fn message(&self) -> String {
        self.problem.clone()
    }
}

impl Failure for crate::lti::LaunchError {
    fn code(&self) -> &'static str {
        crate::lti::LaunchError::code(self)
    }

    fn kind(&self) -> Kind {
        use crate::lti::LaunchError::*;
        match self {
            RequestTooLarge => Kind::TooLarge,
            StateMismatch | StateCookieMissing | CrossSiteStorageBinding => Kind::Forbidden,
            InvalidSignature | UnknownKid | TokenExpired | IssuedInFuture | NotYetValid
            | NonceReused | NonceMismatch => Kind::Unauthenticated,
            _ => Kind::Malformed,
        }
    }

    fn message(&self) -> String {
        format!("guestlink refused the launch: {self}.")
    }

    fn title(&self) -> Option<&'static str> {
        Some("This launch could not be completed")
    }

    fn hint(&self) -> Option<String> {
        Some(self.admin_hint().to_string())
    }
}

/// Gives a use case's error enum `From<StoreError>` (through [`Fault`]), so
/// store calls can use `?`.
#[macro_export]
macro_rules! faults_from_store {
    ($($error:ty),* $(,)?) => { $(
        impl From<$crate::store::StoreError> for $error {
            fn from(err: $crate::store::StoreError) -> Self {
                <$error>::from($crate::service::failure::Fault::from(err))
            }
        }
    )* };
}
