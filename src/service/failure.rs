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
    /// The refused value behind this error, for errors that wrap one (an
    /// `Invalid(FieldError)` variant): its field and words are the error's.
    fn invalid(&self) -> Option<&FieldError> {
        None
    }
    /// The field a refused value came in, if one did.
    fn field(&self) -> Option<Field> {
        self.invalid().map(|e| e.field)
    }
    /// The words for the person who made the request (faults' words are
    /// for the log, and the web replaces them).
    fn message(&self) -> String {
        self.invalid()
            .map_or_else(|| self.to_string(), |e| e.problem.clone())
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

/// Gives a use case that reads course items (through `service::media`)
/// `From<MediaError>`: its enum has the variants `NoCourse`, `NotFound`,
/// `Forbidden`, `Invalid(FieldError)` and `Fault(Fault)`. Such a use case
/// never uploads, so an upload's refusals would be a bug (a fault).
#[macro_export]
macro_rules! media_refusals_into {
    ($($error:ident),* $(,)?) => { $(
        impl From<$crate::service::media::MediaError> for $error {
            fn from(err: $crate::service::media::MediaError) -> Self {
                use $crate::service::media::MediaError;
                match err {
                    MediaError::NoCourse => $error::NoCourse,
                    MediaError::NotFound => $error::NotFound,
                    MediaError::Forbidden => $error::Forbidden,
                    MediaError::Invalid(e) => $error::Invalid(e),
                    MediaError::Fault(f) => $error::Fault(f),
                    other @ (MediaError::TooLarge(_) | MediaError::QuotaExceeded(_)) => {
                        $error::Fault($crate::service::failure::Fault::Internal(anyhow::anyhow!("{other}")))
                    }
                }
            }
        }
    )* };
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lti::LaunchError;

    #[test]
    fn a_store_that_cannot_reach_its_database_is_an_unavailable_fault() {
        let fault = Fault::from(StoreError::Unavailable("pool timed out".into()));
        assert!(matches!(&fault, Fault::Unavailable(why) if why == "pool timed out"));
        assert_eq!(
            (fault.code(), fault.kind()),
            ("database_unavailable", Kind::Unavailable)
        );
    }

    #[test]
    fn every_other_store_error_is_an_internal_fault() {
        for err in [
            StoreError::NotFound,
            StoreError::Conflict("UNIQUE constraint failed".into()),
            StoreError::Other(anyhow::anyhow!("disk I/O error")),
        ] {
            let fault = Fault::from(err);
            assert_eq!((fault.code(), fault.kind()), ("internal", Kind::Internal));
        }
    }

    #[test]
    fn a_field_error_is_invalid_names_its_field_and_says_only_its_problem() {
        let err = FieldError::new(Field::Email, "Enter your email address.");
        assert_eq!((err.code(), err.kind()), ("invalid", Kind::Invalid));
        assert_eq!(err.field(), Some(Field::Email));
        assert_eq!(err.message(), "Enter your email address.");
    }

    #[test]
    fn a_launch_too_large_is_too_large_and_a_foreign_browser_forbidden() {
        assert_eq!(LaunchError::RequestTooLarge.kind(), Kind::TooLarge);
        for err in [
            LaunchError::StateMismatch,
            LaunchError::StateCookieMissing,
            LaunchError::CrossSiteStorageBinding,
        ] {
            assert_eq!(err.kind(), Kind::Forbidden, "{err:?}");
        }
    }

    #[test]
    fn a_token_that_does_not_verify_now_is_unauthenticated() {
        for err in [
            LaunchError::InvalidSignature,
            LaunchError::UnknownKid,
            LaunchError::TokenExpired,
            LaunchError::IssuedInFuture,
            LaunchError::NotYetValid,
            LaunchError::NonceReused,
            LaunchError::NonceMismatch,
        ] {
            assert_eq!(err.kind(), Kind::Unauthenticated, "{err:?}");
        }
    }

    #[test]
    fn other_launch_refusals_are_malformed_requests() {
        for err in [
            LaunchError::MissingParameter("iss"),
            LaunchError::UnknownIssuer,
            LaunchError::UnknownDeployment,
            LaunchError::JwksUnavailable("down".into()),
            LaunchError::MissingSub,
        ] {
            assert_eq!(err.kind(), Kind::Malformed, "{err:?}");
        }
    }

    #[test]
    fn a_launch_refusal_says_so_and_carries_the_admins_hint() {
        let err = LaunchError::UnknownIssuer;
        assert_eq!(Failure::code(&err), "unknown_issuer");
        assert_eq!(
            err.message(),
            "guestlink refused the launch: no platform is registered with this issuer."
        );
        assert_eq!(err.title(), Some("This launch could not be completed"));
        assert_eq!(err.hint().as_deref(), Some(err.admin_hint()));
        assert_eq!(err.field(), None);
    }

    #[test]
    fn a_fault_has_no_field_title_or_hint() {
        let fault = Fault::Unavailable("x".into());
        assert_eq!(
            (fault.field(), fault.title(), fault.hint()),
            (None, None, None)
        );
    }
}
