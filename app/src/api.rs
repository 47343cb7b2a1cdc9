//! Server functions of the account area, and the data they return.
//!
//! Each is a thin adapter: find the signed-in user, call `yt_account::Account`, map the
//! result. The JSON API in the `server` crate adapts the same service the same way.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use yt_jobs::JobView;

use crate::AppError;

/// What the account page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountView {
    pub email: String,
    pub display_name: Option<String>,
    pub subscriptions: u64,
    pub watched_videos: u64,
    pub latest_job: Option<JobView>,
}

/// Signs in and returns where to go next (a path on this site; the account page
/// otherwise). A plain form post is redirected there instead.
///
/// The page leaves by a full navigation rather than the router's, because `next` may be a
/// download, which is no page of the app.
#[server(name = Login, prefix = "/api/fn", endpoint = "login")]
pub async fn login(
    email: String,
    password: String,
    next: Option<String>,
) -> Result<String, AppError> {
    use ssr::*;

    let account = account()?;
    let session = session().await?;
    let next = crate::auth::safe_next(next.as_deref());

    match account
        .login(client_ip(), &email, &password)
        .await
        .map_err(AppError::from_account)?
    {
        Some(user) => {
            crate::auth::sign_in(&session, user.id).await?;
            if is_plain_form_post() {
                leptos_axum::redirect(&next);
            }
            Ok(next)
        }
        None => {
            if is_plain_form_post() {
                // Without the WASM there is no page state to show the error in: come back
                // to the form with a flag it displays.
                let query = query_value(&next);
                leptos_axum::redirect(&format!("/login?failed=1&next={query}"));
            }
            Err(AppError::BadCredentials)
        }
    }
}

/// Signs out and returns to the login page.
#[server(name = Logout, prefix = "/api/fn", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use ssr::*;

    crate::auth::sign_out(&session().await?).await?;
    leptos_axum::redirect("/login");
    Ok(())
}

/// The signed-in user's profile summary and latest export job.
#[server(name = GetAccount, prefix = "/api/fn", endpoint = "account")]
pub async fn get_account() -> Result<AccountView, AppError> {
    use ssr::*;

    let account = account()?;
    let user = signed_in().await?;

    let profile = account
        .profile(user)
        .await
        .map_err(AppError::from_account)?;
    let latest = account
        .latest_job(user)
        .await
        .map_err(AppError::from_account)?;

    Ok(AccountView {
        email: profile.user.email,
        display_name: profile.user.display_name,
        subscriptions: profile.counts.subscriptions,
        watched_videos: profile.counts.watched_videos,
        latest_job: latest
            .as_ref()
            .map(|job| JobView::new(job, chrono::Utc::now())),
    })
}

/// Queues an export of the signed-in user's data; while one is pending or processing,
/// returns that one instead.
#[server(name = RequestExport, prefix = "/api/fn", endpoint = "request_export")]
pub async fn request_export() -> Result<JobView, AppError> {
    use ssr::*;

    let account = account()?;
    let user = signed_in().await?;

    let request = account
        .request_export(user)
        .await
        .map_err(AppError::from_account)?;
    Ok(JobView::new(&request.job, chrono::Utc::now()))
}

/// The status of one of the signed-in user's export jobs.
#[server(name = ExportStatus, prefix = "/api/fn", endpoint = "export_status")]
pub async fn export_status(job_id: String) -> Result<JobView, AppError> {
    use ssr::*;

    let account = account()?;
    let user = signed_in().await?;

    let job = account
        .job(user, &job_id)
        .await
        .map_err(AppError::from_account)?;
    Ok(JobView::new(&job, chrono::Utc::now()))
}

#[cfg(feature = "ssr")]
mod ssr {
    pub use leptos::prelude::*;
    use tower_sessions::Session;
    use yt_account::Account;
    use yt_userdata::UserId;

    use crate::AppError;

    pub fn account() -> Result<Account, AppError> {
        use_context::<Account>().ok_or_else(|| {
            tracing::error!("server functions were mounted without the Account context");
            AppError::Internal
        })
    }

    pub async fn session() -> Result<Session, AppError> {
        leptos_axum::extract::<Session>().await.map_err(|error| {
            tracing::error!(%error, "no session layer in front of the server functions");
            AppError::Internal
        })
    }

    pub async fn signed_in() -> Result<UserId, AppError> {
        let user = crate::auth::current_user(&session().await?).await?;
        if user.is_none()
            && let Some(response) = use_context::<leptos_axum::ResponseOptions>()
        {
            response.set_status(http::StatusCode::UNAUTHORIZED);
        }
        user.ok_or(AppError::Unauthorized)
    }

    /// The client address the server resolved (see the server's `client_addr`); the
    /// unspecified address, counted as one client, if it resolved none.
    pub fn client_ip() -> std::net::IpAddr {
        use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<yt_account::ClientAddr>().copied())
            .map_or(std::net::Ipv4Addr::UNSPECIFIED.into(), |client| client.0)
    }

    /// Whether the request is a plain HTML form post (the page's WASM not running).
    pub fn is_plain_form_post() -> bool {
        use_context::<http::request::Parts>()
            .and_then(|parts| parts.headers.get(http::header::ACCEPT).cloned())
            .and_then(|accept| accept.to_str().ok().map(|a| a.contains("text/html")))
            .unwrap_or(false)
    }

    /// `next` as a query-string value.
    pub fn query_value(next: &str) -> String {
        url::form_urlencoded::byte_serialize(next.as_bytes()).collect()
    }
}
