//! Signing in and out with JSON.

use axum::{Json, extract::State, http::StatusCode};
use serde::Deserialize;
use tower_sessions::Session;

use crate::{AppState, api::ApiError};

#[derive(Deserialize)]
pub struct Credentials {
    email: String,
    password: String,
}

/// `POST /api/auth/login` → 204 with the session cookie, or 401.
pub async fn login(
    State(state): State<AppState>,
    session: Session,
    credentials: Result<Json<Credentials>, axum::extract::rejection::JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let Json(credentials) = credentials.map_err(|e| ApiError::BadRequest(e.body_text()))?;

    let user = state
        .account
        .login(&credentials.email, &credentials.password)
        .await?;
    let Some(user) = user else {
        tracing::info!("login refused");
        return Err(ApiError::BadCredentials);
    };
    app::auth::sign_in(&session, user.id).await?;
    tracing::info!(user.id = user.id.0, "signed in");
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/auth/logout` → 204; the server-side session is deleted.
pub async fn logout(session: Session) -> Result<StatusCode, ApiError> {
    app::auth::sign_out(&session).await?;
    Ok(StatusCode::NO_CONTENT)
}
