//! One cleanup at a time across all workers: a Redis lock with an owner token.
//!
//! `SET yt:export:cleanup:lock <token> NX PX <ms>` takes the lock; a Lua script deletes it
//! only while it still holds our token, so a worker whose lock expired never releases
//! another worker's. The lock expires by itself if its holder dies. A pass that outlives
//! the lock could overlap the next worker's; that is harmless (deletes are idempotent),
//! only wasteful.

use std::time::Duration;

use fred::{
    clients::Pool,
    interfaces::{KeysInterface, LuaInterface},
    types::{Expiration, SetOptions},
};

/// The lock's key, beside the other `yt:export:*` keys.
pub const LOCK_KEY: &str = "yt:export:cleanup:lock";

/// KEYS[1]: the lock; ARGV[1]: our token. Deletes the lock only if it is still ours.
const RELEASE: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"#;

/// A held cleanup lock. Release it with [`CleanupLock::release`]; dropped, it expires.
pub struct CleanupLock {
    redis: Pool,
    token: String,
}

impl CleanupLock {
    /// Takes the lock for at most `hold_for`, or `None` when another worker holds it.
    pub async fn acquire(
        redis: &Pool,
        hold_for: Duration,
    ) -> Result<Option<Self>, fred::error::Error> {
        let token = format!("{:032x}", rand::random::<u128>());
        let millis = i64::try_from(hold_for.as_millis())
            .unwrap_or(i64::MAX)
            .max(1);
        let taken: Option<String> = redis
            .set(
                LOCK_KEY,
                token.as_str(),
                Some(Expiration::PX(millis)),
                Some(SetOptions::NX),
                false,
            )
            .await?;
        Ok(taken.map(|_| Self {
            redis: redis.clone(),
            token,
        }))
    }

    /// Gives the lock back; returns whether it was still ours.
    pub async fn release(self) -> Result<bool, fred::error::Error> {
        let released: i64 = self
            .redis
            .eval(RELEASE, vec![LOCK_KEY], vec![self.token.as_str()])
            .await?;
        Ok(released == 1)
    }
}
