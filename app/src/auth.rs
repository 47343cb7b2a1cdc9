//! Who is signed in: the session holds the user id, nothing else.

use tower_sessions::Session;
use yt_userdata::UserId;

use crate::AppError;

const USER_KEY: &str = "user_id";

/// When the user signed in (Unix seconds): the server ends sessions older than its
/// absolute limit, however active they are.
pub const SIGNED_IN_AT_KEY: &str = "signed_in_at";

/// The signed-in user, if any.
pub async fn current_user(session: &Session) -> Result<Option<UserId>, AppError> {
    session
        .get::<i64>(USER_KEY)
        .await
        .map(|id| id.map(UserId))
        .map_err(session_error)
}

/// Signs `user` in with a fresh session id, so an id planted before login is worthless.
pub async fn sign_in(session: &Session, user: UserId) -> Result<(), AppError> {
    session.cycle_id().await.map_err(session_error)?;
    session
        .insert(SIGNED_IN_AT_KEY, chrono::Utc::now().timestamp())
        .await
        .map_err(session_error)?;
    session
        .insert(USER_KEY, user.0)
        .await
        .map_err(session_error)
}

/// Deletes the server-side session.
pub async fn sign_out(session: &Session) -> Result<(), AppError> {
    session.flush().await.map_err(session_error)
}

/// Where to send the user after login: a path on this site, or the account page.
/// Anything that could leave the site (`//host`, `https://…`, `/\host`) is refused.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.starts_with("/\\")
                && !path.chars().any(|c| c.is_control()) =>
        {
            path.to_owned()
        }
        _ => "/account".to_owned(),
    }
}

fn session_error(error: tower_sessions::session::Error) -> AppError {
    tracing::warn!(%error, "session store failed");
    AppError::unavailable()
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/account")), "/account");
        assert_eq!(
            safe_next(Some("/api/account/export/download/yt-export-a.zip")),
            "/api/account/export/download/yt-export-a.zip"
        );
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "account",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/account", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/account");
    }
}
