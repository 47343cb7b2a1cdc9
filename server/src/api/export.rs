//! Requesting an export, following it, downloading it.

use axum::{
    Json,
    body::Body,
    extract::{OriginalUri, Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::Utc;
use serde::Serialize;
use tower_sessions::Session;
use yt_jobs::JobView;
use yt_storage::Download;
use yt_userdata::UserId;

use crate::{AppState, api::ApiError, guard};

#[derive(Serialize)]
pub struct Requested {
    job_id: String,
    message: &'static str,
}

/// `POST /api/account/export` → 202 `{job_id, message}`; 200 with the running job when
/// one is already pending or processing.
pub async fn request(
    State(state): State<AppState>,
    session: Session,
) -> Result<(StatusCode, Json<Requested>), ApiError> {
    let user = signed_in(&session).await?;

    let request = state.account.request_export(user).await?;
    let (status, message) = if request.already_running {
        (
            StatusCode::OK,
            "Your export is already running. We will email you a link when it is ready.",
        )
    } else {
        (
            StatusCode::ACCEPTED,
            "Export requested. We will email you a link when it is ready.",
        )
    };
    let body = Requested {
        job_id: request.job.id.to_string(),
        message,
    };
    Ok((status, Json(body)))
}

/// `GET /api/account/export/status/{job_id}` → the job.
pub async fn status(
    State(state): State<AppState>,
    session: Session,
    Path(job_id): Path<String>,
) -> Result<Json<JobView>, ApiError> {
    let user = signed_in(&session).await?;

    let job = state.account.job(user, &job_id).await?;
    Ok(Json(JobView::new(&job, Utc::now())))
}

/// `GET /api/account/export/download/{filename}` → the ZIP, streamed; or a redirect to
/// nginx's internal location or to a signed storage URL.
pub async fn download(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    Path(filename): Path<String>,
) -> Result<Response, ApiError> {
    let Some(user) = app::auth::current_user(&session).await? else {
        // A browser following the emailed link signs in first, then comes back here.
        if accepts_html(&headers) {
            return Ok(guard::login_redirect(&uri).into_response());
        }
        return Err(ApiError::Unauthorized);
    };

    let authorized = state.account.authorize_download(user, &filename).await?;
    let disposition = authorized.content_disposition();
    tracing::info!(job.id = %authorized.job.id, user.id = user.0, "download authorized");

    if state.args.accel_redirect {
        let internal = format!("/internal/exports/{}", authorized.storage_key);
        return Ok((
            [
                (
                    header::HeaderName::from_static("x-accel-redirect"),
                    header_value(&internal)?,
                ),
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/zip"),
                ),
                (header::CONTENT_DISPOSITION, header_value(&disposition)?),
            ],
            Body::empty(),
        )
            .into_response());
    }

    match state.account.open_download(&authorized).await? {
        // 302, as the specification says: the signed URL is for this request only.
        Download::Redirect { url } => Ok((
            StatusCode::FOUND,
            [
                (header::LOCATION, header_value(&url)?),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
        )
            .into_response()),
        Download::Stream { bytes, body } => Ok((
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/zip"),
                ),
                (header::CONTENT_LENGTH, HeaderValue::from(bytes)),
                (header::CONTENT_DISPOSITION, header_value(&disposition)?),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("private, no-store"),
                ),
            ],
            Body::from_stream(body),
        )
            .into_response()),
    }
}

async fn signed_in(session: &Session) -> Result<UserId, ApiError> {
    app::auth::current_user(session)
        .await?
        .ok_or(ApiError::Unauthorized)
}

fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

fn header_value(value: &str) -> Result<HeaderValue, ApiError> {
    HeaderValue::from_str(value).map_err(|_| ApiError::Internal)
}
