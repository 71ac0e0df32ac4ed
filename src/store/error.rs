use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// What can go wrong in the store, in the terms the layers above act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique or check constraint refused the write.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database cannot be reached (pool timeout, connection lost): 503.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl From<DieselError> for StoreError {
    fn from(err: DieselError) -> Self {
        match err {
            DieselError::NotFound => StoreError::NotFound,
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info)
            | DieselError::DatabaseError(DatabaseErrorKind::CheckViolation, info) => {
                StoreError::Conflict(info.message().to_string())
            }
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, info)
            | DieselError::DatabaseError(DatabaseErrorKind::UnableToSendCommand, info) => {
                StoreError::Unavailable(info.message().to_string())
            }
            DieselError::BrokenTransactionManager => {
                StoreError::Unavailable("connection broken".into())
            }
            // libpq reports a lost server without a SQLSTATE ("server closed
            // the connection unexpectedly", "SSL SYSCALL error: EOF detected").
            DieselError::DatabaseError(DatabaseErrorKind::Unknown, info)
                if lost_connection(info.message()) =>
            {
                StoreError::Unavailable(info.message().to_string())
            }
            other => StoreError::Other(anyhow::Error::new(other)),
        }
    }
}

/// Read from libpq's text because it is all libpq gives: a lost server has
/// no SQLSTATE. Only the choice between 503 and 500 depends on it.
fn lost_connection(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    ["connection", "eof detected", "terminating", "server closed"]
        .iter()
        .any(|m| message.contains(m))
}

impl From<r2d2::Error> for StoreError {
    fn from(err: r2d2::Error) -> Self {
        StoreError::Unavailable(err.to_string())
    }
}

impl From<diesel::ConnectionError> for StoreError {
    fn from(err: diesel::ConnectionError) -> Self {
        StoreError::Unavailable(err.to_string())
    }
}
