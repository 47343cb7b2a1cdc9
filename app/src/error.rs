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

    /// Over a rate limit; the page says when to try again.
    #[error("Too many requests. Please try again after {}.", retry_at.format("%H:%M UTC"))]
    RateLimited {
        retry_at: chrono::DateTime<chrono::Utc>,
    },

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
            E::RateLimited { retry_at } => {
                rate_limited_response(retry_at);
                Self::RateLimited { retry_at }
            }
            E::Unavailable(cause) => {
                tracing::warn!(error = %cause, "a backing service is unavailable");
                Self::unavailable()
            }
            E::Internal(cause) => {
                tracing::error!(error = %cause, "server function failed");
                Self::Internal
            }
        }
    }
}

#[cfg(feature = "ssr")]
impl AppError {
    /// [`AppError::Unavailable`], answered with 503 as the JSON API does, so clients and
    /// load balancers see a busy service rather than a broken one.
    pub fn unavailable() -> Self {
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::SERVICE_UNAVAILABLE);
        }
        Self::Unavailable
    }
}

/// Answers 429 with `Retry-After`, as the JSON API does.
#[cfg(feature = "ssr")]
fn rate_limited_response(retry_at: chrono::DateTime<chrono::Utc>) {
    use leptos::prelude::use_context;

    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    let secs = ((retry_at - chrono::Utc::now()).num_milliseconds() + 999) / 1000;
    response.set_status(http::StatusCode::TOO_MANY_REQUESTS);
    response.insert_header(
        http::header::RETRY_AFTER,
        http::HeaderValue::from(secs.max(1)),
    );
}
