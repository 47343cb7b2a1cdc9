//! JSON errors: a status, a stable code and a message safe to show. Causes of 5xx
//! answers are logged once here and never sent.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use yt_account::AccountError;

#[derive(Debug)]
pub enum ApiError {
    Unauthorized,
    BadCredentials,
    BadRequest(String),
    CrossSite,
    NotFound,
    NotReady,
    Gone,
    /// Over a rate limit: 429 with `Retry-After` and the time in the body.
    RateLimited {
        retry_at: DateTime<Utc>,
    },
    Unavailable,
    Internal,
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_at: Option<String>,
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str, String) {
        match self {
            Self::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Sign in first.".into(),
            ),
            Self::BadCredentials => (
                StatusCode::UNAUTHORIZED,
                "bad_credentials",
                "Wrong email or password.".into(),
            ),
            Self::BadRequest(message) => (StatusCode::BAD_REQUEST, "bad_request", message.clone()),
            Self::CrossSite => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "Requests from other sites are refused.".into(),
            ),
            Self::NotFound => (StatusCode::NOT_FOUND, "not_found", "No such export.".into()),
            Self::NotReady => (
                StatusCode::CONFLICT,
                "not_ready",
                "The export is not ready yet.".into(),
            ),
            Self::Gone => (
                StatusCode::GONE,
                "expired",
                "This export has expired. Request a new one from your account page.".into(),
            ),
            Self::RateLimited { retry_at } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!(
                    "Too many requests. Please try again after {}.",
                    retry_at.format("%H:%M UTC")
                ),
            ),
            Self::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "The service is busy. Please try again in a moment.".into(),
            ),
            Self::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Something went wrong on our side.".into(),
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, error, message) = self.parts();
        let Self::RateLimited { retry_at } = self else {
            let body = Body {
                error,
                message,
                retry_after: None,
                retry_at: None,
            };
            return (status, Json(body)).into_response();
        };

        let retry_after = retry_after_secs(retry_at, Utc::now());
        let body = Body {
            error,
            message,
            retry_after: Some(retry_after),
            retry_at: Some(retry_at.to_rfc3339_opts(SecondsFormat::Secs, true)),
        };
        let headers = [(header::RETRY_AFTER, HeaderValue::from(retry_after))];
        (status, headers, Json(body)).into_response()
    }
}

impl From<AccountError> for ApiError {
    fn from(error: AccountError) -> Self {
        match error {
            AccountError::NotFound => Self::NotFound,
            AccountError::InvalidInput(what) => Self::BadRequest(format!("Invalid {what}.")),
            AccountError::NotReady => Self::NotReady,
            AccountError::Expired => Self::Gone,
            AccountError::RateLimited { retry_at } => Self::RateLimited { retry_at },
            AccountError::Unavailable(cause) => {
                tracing::warn!(error = %cause, "a backing service is unavailable");
                Self::Unavailable
            }
            AccountError::Internal(cause) => {
                tracing::error!(error = %cause, "request failed");
                Self::Internal
            }
        }
    }
}

impl From<app::AppError> for ApiError {
    fn from(error: app::AppError) -> Self {
        match error {
            app::AppError::Unauthorized => Self::Unauthorized,
            app::AppError::BadCredentials => Self::BadCredentials,
            app::AppError::NotFound => Self::NotFound,
            app::AppError::InvalidInput(what) => Self::BadRequest(format!("Invalid {what}.")),
            app::AppError::RateLimited { retry_at } => Self::RateLimited { retry_at },
            app::AppError::Unavailable => Self::Unavailable,
            app::AppError::Internal | app::AppError::Transport(_) => Self::Internal,
        }
    }
}

/// Whole seconds until `retry_at`, rounded up and at least one.
fn retry_after_secs(retry_at: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    let millis = (retry_at - now).num_milliseconds();
    ((millis + 999) / 1000).max(1)
}
