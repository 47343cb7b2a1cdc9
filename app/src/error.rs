//! The error type of every server function: what the browser may know of a failure.

use serde::{Deserialize, Serialize};
use server_fn::{
    ServerFnError,
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};

/// A failure as the user sees it. Internal causes are logged on the server, never sent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("Please sign in again.")]
    Unauthorized,

    #[error("Wrong email or password.")]
    BadCredentials,

    #[error("That export does not exist.")]
    NotFound,

    #[error("Invalid {0}.")]
    InvalidInput(String),

    #[error("The service is busy right now. Please try again in a moment.")]
    Unavailable,

    #[error("Something went wrong on our side. Please try again.")]
    Internal,

    #[error("Could not reach the server: {0}")]
    Transport(String),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(message) | ServerFnErrorErr::Response(message) => {
                Self::Transport(message)
            }
            _ => Self::Internal,
        }
    }
}

impl From<ServerFnError> for AppError {
    fn from(_: ServerFnError) -> Self {
        Self::Internal
    }
}

#[cfg(feature = "ssr")]
impl AppError {
    /// Maps an account error, logging the cause of server-side failures once.
    pub fn from_account(error: yt_account::AccountError) -> Self {
        use yt_account::AccountError as E;
        match error {
            E::NotFound | E::NotReady | E::Expired => Self::NotFound,
            E::InvalidInput(what) => Self::InvalidInput(what.to_owned()),
            E::Unavailable(cause) => {
                tracing::warn!(error = %cause, "a backing service is unavailable");
                Self::Unavailable
            }
            E::Internal(cause) => {
                tracing::error!(error = %cause, "server function failed");
                Self::Internal
            }
        }
    }
}
