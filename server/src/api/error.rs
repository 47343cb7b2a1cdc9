//! JSON errors: a status, a stable code and a message safe to show. Causes of 5xx
//! answers are logged once here and never sent.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;
use yt_account::AccountError;

#[derive(Debug)]
pub enum ApiError {
    Unauthorized,
    BadCredentials,
    BadRequest(String),
    NotFound,
    NotReady,
    Gone,
    Unavailable,
    Internal,
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    message: String,
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
        (status, Json(Body { error, message })).into_response()
    }
}

impl From<AccountError> for ApiError {
    fn from(error: AccountError) -> Self {
        match error {
            AccountError::NotFound => Self::NotFound,
            AccountError::InvalidInput(what) => Self::BadRequest(format!("Invalid {what}.")),
            AccountError::NotReady => Self::NotReady,
            AccountError::Expired => Self::Gone,
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
            app::AppError::Unavailable => Self::Unavailable,
            app::AppError::Internal | app::AppError::Transport(_) => Self::Internal,
        }
    }
}
