//! The JSON API under `/api`, as the spec names it.
//!
//! ```text
//! POST /api/auth/login                            {"email","password"} → 204 + cookie
//! POST /api/auth/logout                           → 204
//! POST /api/account/export                        → {job_id, message}
//! GET  /api/account/export/status/{job_id}        → the job
//! GET  /api/account/export/download/{filename}    → the ZIP
//! ```
//!
//! Without a session every route but login answers 401 (a browser opening a download
//! link is sent through the login page instead).

mod auth;
mod error;
mod export;

use axum::{
    Router,
    routing::{get, post},
};

pub use error::ApiError;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/account/export", post(export::request))
        .route("/account/export/status/{job_id}", get(export::status))
        .route("/account/export/download/{filename}", get(export::download))
}
