//! What can go wrong for a user, in terms a response can be built from.

use chrono::{DateTime, Utc};
use yt_jobs::StoreError;
use yt_storage::StorageError;
use yt_userdata::DbError;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// No such thing for this user (including other users' things).
    #[error("not found")]
    NotFound,

    /// Malformed input; the string names what was malformed.
    #[error("invalid {0}")]
    InvalidInput(&'static str),

    /// The export exists but is not finished yet.
    #[error("the export is not ready yet")]
    NotReady,

    /// The export was deleted after its time to live.
    #[error("the export has expired")]
    Expired,

    /// Over a rate limit; a request at `retry_at` or later will be counted again.
    #[error("rate limited until {retry_at}")]
    RateLimited { retry_at: DateTime<Utc> },

    /// Redis, the database or storage is down or busy; trying later can help.
    #[error("a backing service is unavailable: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),

    /// A bug or corrupt data.
    #[error("internal error: {0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<DbError> for AccountError {
    fn from(e: DbError) -> Self {
        if e.is_transient() {
            Self::Unavailable(e.into())
        } else {
            Self::Internal(e.into())
        }
    }
}

impl From<StoreError> for AccountError {
    fn from(e: StoreError) -> Self {
        if e.is_transient() {
            Self::Unavailable(e.into())
        } else {
            Self::Internal(e.into())
        }
    }
}

impl From<StorageError> for AccountError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound => Self::NotFound,
            e if e.is_transient() => Self::Unavailable(e.into()),
            e => Self::Internal(e.into()),
        }
    }
}
