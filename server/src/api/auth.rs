//! Signing in and out with JSON.

use std::net::{IpAddr, Ipv4Addr};

use axum::{Extension, Json, extract::State, http::StatusCode};
use serde::Deserialize;
use tower_sessions::Session;
use yt_account::ClientAddr;

use crate::{AppState, api::ApiError};

#[derive(Deserialize)]
pub struct Credentials {
    email: String,
    password: String,
}

/// `POST /api/auth/login` → 204 with the session cookie, or 401.
pub async fn login(
    State(state): State<AppState>,
    client: Option<Extension<ClientAddr>>,
    session: Session,
    credentials: Result<Json<Credentials>, axum::extract::rejection::JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let Json(credentials) = credentials.map_err(|e| ApiError::BadRequest(e.body_text()))?;

    let user = state
        .account
        .login(client_ip(client), &credentials.email, &credentials.password)
        .await?;
    let Some(user) = user else {
        // Logged once, as every refusal, by `protect::headers_and_log`.
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

/// The resolved client address; without one (a router run without the resolver) every
/// request counts as one client.
fn client_ip(client: Option<Extension<ClientAddr>>) -> IpAddr {
    client.map_or(
        IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        |Extension(ClientAddr(ip))| ip,
    )
}
