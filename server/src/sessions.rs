//! Sessions: an opaque cookie, the data in Redis.

use tower_sessions::{Expiry, SessionManagerLayer, cookie::SameSite};
use tower_sessions_redis_store::RedisStore;

use crate::AppState;

pub const COOKIE_NAME: &str = "yt_session";

pub fn layer(
    state: &AppState,
) -> anyhow::Result<SessionManagerLayer<RedisStore<fred::clients::Pool>>> {
    let idle = tower_sessions::cookie::time::Duration::hours(i64::from(
        state.args.session_idle_hours.max(1),
    ));
    Ok(
        SessionManagerLayer::new(RedisStore::new(state.redis.clone()))
            .with_name(COOKIE_NAME)
            .with_http_only(true)
            .with_same_site(SameSite::Lax)
            .with_secure(state.args.export.is_https())
            .with_expiry(Expiry::OnInactivity(idle)),
    )
}
