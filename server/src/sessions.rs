//! Sessions: an opaque cookie, the data in Redis.
//!
//! Two limits end a session. The idle limit is the store's TTL, renewed by every request
//! (tower-sessions does that). The absolute limit counts from sign-in, so a stolen cookie
//! kept alive by a script still dies: [`absolute_expiry`] deletes sessions older than
//! `YT_SESSION_MAX_HOURS` before any handler sees them.

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::Response,
};
use chrono::Utc;
use tower_sessions::{Expiry, Session, SessionManagerLayer, cookie::SameSite};
use tower_sessions_redis_store::RedisStore;

use crate::AppState;

pub const COOKIE_NAME: &str = "yt_session";

pub fn layer(
    state: &AppState,
) -> anyhow::Result<SessionManagerLayer<RedisStore<fred::clients::Pool>>> {
    let idle =
        tower_sessions::cookie::time::Duration::seconds_f64(state.args.session_idle_hours * 3600.0);
    Ok(
        SessionManagerLayer::new(RedisStore::new(state.redis.clone()))
            .with_name(COOKIE_NAME)
            .with_http_only(true)
            .with_same_site(SameSite::Lax)
            .with_secure(state.args.export.is_https())
            .with_expiry(Expiry::OnInactivity(idle)),
    )
}

/// Signs out a session whose sign-in is older than the absolute limit (or unknown), so
/// the request goes on as an anonymous one.
pub async fn absolute_expiry(
    State(state): State<AppState>,
    session: Session,
    request: Request,
    next: Next,
) -> Response {
    let max_secs = (state.args.session_max_hours * 3600.0) as i64;
    if let Some(age_secs) = signed_in_age(&session).await
        && age_secs >= max_secs
    {
        match session.flush().await {
            Ok(()) => tracing::info!(session.age_secs = age_secs, "session expired"),
            Err(error) => tracing::warn!(%error, "could not delete an expired session"),
        }
    }
    next.run(request).await
}

/// Seconds since this session signed in; `i64::MAX` for a signed-in session that does
/// not say when; `None` for an anonymous one (or when the store cannot answer).
async fn signed_in_age(session: &Session) -> Option<i64> {
    app::auth::current_user(session).await.ok()??;
    let signed_in_at = session.get::<i64>(app::auth::SIGNED_IN_AT_KEY).await.ok()?;
    Some(signed_in_at.map_or(i64::MAX, |at| Utc::now().timestamp() - at))
}
