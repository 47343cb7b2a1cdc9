//! The one error type of this crate, sorted by what a caller can do about it.
//!
//! `Unavailable` means the database could not be reached or was busy: the same call may
//! succeed later, so jobs retry it. Everything else is a fault in the request, the data or
//! the code, and retrying would only repeat it. Messages never contain connection URLs,
//! so they are safe to log.

use sqlx::error::{DatabaseError, ErrorKind};

/// Why a user-data operation failed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The connection, the pool or the disk failed, or the database was busy; a retry may
    /// help.
    #[error("the user database is unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),

    /// The database refused or could not answer a statement (constraint, syntax, decoding).
    #[error("a user database query failed: {0}")]
    Query(#[source] sqlx::Error),

    /// A schema migration failed or the schema is newer than this build.
    #[error("migrating the user database failed: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),

    /// The database URL is not one this crate can open; the reason never repeats the URL.
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),

    /// Hashing or verifying a password failed (not a wrong password: that is `Ok(None)`).
    #[error("password hashing failed: {0}")]
    Password(String),
}

impl DbError {
    /// Whether the same call may succeed if tried again later.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unavailable(_) => true,
            Self::Migrate(sqlx::migrate::MigrateError::Execute(inner)) => is_unavailable(inner),
            Self::Query(_) | Self::Migrate(_) | Self::InvalidUrl(_) | Self::Password(_) => false,
        }
    }

    /// Whether a unique constraint refused the write (an email already registered, a
    /// channel already subscribed).
    pub fn is_unique_violation(&self) -> bool {
        match self {
            Self::Query(sqlx::Error::Database(e)) => e.kind() == ErrorKind::UniqueViolation,
            _ => false,
        }
    }
}

impl From<sqlx::Error> for DbError {
    fn from(error: sqlx::Error) -> Self {
        if is_unavailable(&error) {
            Self::Unavailable(error)
        } else {
            Self::Query(error)
        }
    }
}

impl From<sqlx::migrate::MigrateError> for DbError {
    fn from(error: sqlx::migrate::MigrateError) -> Self {
        match error {
            sqlx::migrate::MigrateError::Execute(inner) if is_unavailable(&inner) => {
                Self::Unavailable(inner)
            }
            other => Self::Migrate(other),
        }
    }
}

/// Errors of reaching the database rather than of the statement sent to it.
fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(e) => is_transient_code(e.as_ref()),
        _ => false,
    }
}

/// Database error codes that describe the server's state, not the statement.
///
/// SQLite reports numeric extended codes whose low byte is the primary code: busy (5),
/// locked (6), I/O error (10), disk full (13), cannot open (14). PostgreSQL: connection
/// exceptions (class 08), insufficient resources (53), operator intervention such as a
/// shutdown (57P), serialization failures and deadlocks (40001, 40P01).
fn is_transient_code(error: &dyn DatabaseError) -> bool {
    let Some(code) = error.code() else {
        return false;
    };

    if error
        .try_downcast_ref::<sqlx::sqlite::SqliteError>()
        .is_some()
    {
        let primary = code.parse::<u32>().map_or(0, |extended| extended & 0xff);
        return matches!(primary, 5 | 6 | 10 | 13 | 14);
    }
    ["08", "53", "57P", "40001", "40P01"]
        .iter()
        .any(|prefix| code.starts_with(prefix))
}
