//! Rate limits, kept in Redis so every server instance counts into the same windows.
//!
//! Each limit is a sliding window: a sorted set per scope and subject holding one member
//! per admitted request, scored by Redis's own clock (so servers with skewed clocks
//! agree). One Lua script trims, counts and admits, which makes the check atomic: a
//! hundred simultaneous requests against a limit of three admit exactly three.
//!
//! Export requests add the one-active-export rule to the same script: while the user's
//! marker names a job, a request gets that job back and uses no quota. The export
//! window's members are job ids, so the worker can give a failed job's unit back.

use std::{net::IpAddr, time::Duration};

use chrono::{DateTime, Utc};
use fred::{clients::Pool, interfaces::LuaInterface};
use sha2::{Digest, Sha256};
use yt_jobs::{EXPORT_SCOPE, JobId, keys};
use yt_userdata::UserId;

use crate::AccountError;

/// KEYS[1]: the window; KEYS[2] (export only): the user's active-export marker.
/// ARGV: window in ms, limit, member, marker TTL in seconds.
/// Answers `{"admitted", ""}`, `{"limited", <ms until a unit frees>}` or
/// `{"active", <job id>}`.
const ADMIT: &str = r#"
if KEYS[2] then
  local active = redis.call('GET', KEYS[2])
  if active then return {'active', active} end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  local wait = window
  if oldest[2] then wait = tonumber(oldest[2]) + window - now end
  return {'limited', tostring(math.max(1, wait))}
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
if KEYS[2] then redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[4]) end
return {'admitted', ''}
"#;

/// Undoes an admitted export whose job was never queued, or clears a stale marker.
const RELEASE: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
if ARGV[2] == '1' then redis.call('ZREM', KEYS[2], ARGV[1]) end
return 1
"#;

/// How long an active-export marker can outlive a worker that died mid-job; the job
/// record of an unfinished job lives as long.
const ACTIVE_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// At most `max` requests in any `window`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub window: Duration,
}

impl Limit {
    pub fn per_minute(max: u32) -> Self {
        Self {
            max,
            window: Duration::from_secs(60),
        }
    }

    pub fn per_hour(max: u32) -> Self {
        Self {
            max,
            window: Duration::from_secs(3600),
        }
    }
}

/// Every limit the account operations apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Export requests per user.
    pub export: Limit,
    /// Status requests per user.
    pub status: Limit,
    /// Downloads per user.
    pub download: Limit,
    /// Login attempts per client address.
    pub login_address: Limit,
    /// Login attempts per account (the normalized email, hashed).
    pub login_account: Limit,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            export: Limit::per_hour(3),
            status: Limit::per_minute(60),
            download: Limit::per_minute(30),
            login_address: Limit::per_minute(10),
            login_account: Limit::per_minute(10),
        }
    }
}

/// The outcome of an export admission.
#[derive(Debug, PartialEq, Eq)]
pub enum ExportAdmission {
    /// Counted against the limit; the marker now names the given job id.
    Admitted,
    /// The user already has this job pending or processing; nothing was counted.
    Active(JobId),
    /// Over the limit until then.
    Limited(DateTime<Utc>),
}

/// The shared limiter.
#[derive(Clone)]
pub struct RateLimiter {
    redis: Pool,
    limits: Limits,
}

impl RateLimiter {
    pub fn new(redis: Pool, limits: Limits) -> Self {
        Self { redis, limits }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Counts a status request of `user`.
    pub async fn status(&self, user: UserId) -> Result<(), AccountError> {
        self.check("status", &user.0.to_string(), self.limits.status)
            .await
    }

    /// Counts a download of `user`.
    pub async fn download(&self, user: UserId) -> Result<(), AccountError> {
        self.check("download", &user.0.to_string(), self.limits.download)
            .await
    }

    /// Counts a login attempt from `client` for `email`, against both limits.
    pub async fn login(&self, client: IpAddr, email: &str) -> Result<(), AccountError> {
        self.check(
            "login-address",
            &client.to_string(),
            self.limits.login_address,
        )
        .await?;
        self.check(
            "login-account",
            &account_subject(email),
            self.limits.login_account,
        )
        .await
    }

    /// Admits an export request that would create job `id`, unless the user has an
    /// active job or is over the limit.
    pub async fn admit_export(
        &self,
        user: UserId,
        id: &JobId,
    ) -> Result<ExportAdmission, AccountError> {
        let keys = vec![
            keys::rate_limit(EXPORT_SCOPE, &user.0.to_string()),
            keys::active_for_user(user.0),
        ];
        let (outcome, value) = self.admit(keys, self.limits.export, id.as_str()).await?;
        match outcome.as_str() {
            "admitted" => Ok(ExportAdmission::Admitted),
            "active" => JobId::parse(&value)
                .map(ExportAdmission::Active)
                .map_err(|e| AccountError::Internal(e.into())),
            _ => {
                yt_metrics::rate_limited(EXPORT_SCOPE);
                Ok(ExportAdmission::Limited(retry_at(&value)?))
            }
        }
    }

    /// Clears the user's active marker if it still names `id`; with `give_back_quota`
    /// the admission of `id` no longer counts either.
    pub async fn release_export(
        &self,
        user: UserId,
        id: &JobId,
        give_back_quota: bool,
    ) -> Result<(), AccountError> {
        let keys = vec![
            keys::active_for_user(user.0),
            keys::rate_limit(EXPORT_SCOPE, &user.0.to_string()),
        ];
        let args = vec![id.to_string(), u8::from(give_back_quota).to_string()];
        let _: i64 = self
            .redis
            .eval(RELEASE, keys, args)
            .await
            .map_err(redis_error)?;
        Ok(())
    }

    /// Counts one request of `subject` in `scope` against `limit`: the building block of
    /// the methods above, public for other scopes and for tests.
    pub async fn check(
        &self,
        scope: &str,
        subject: &str,
        limit: Limit,
    ) -> Result<(), AccountError> {
        let member = format!("{:016x}", rand::random::<u64>());
        let (outcome, value) = self
            .admit(vec![keys::rate_limit(scope, subject)], limit, &member)
            .await?;
        if outcome == "admitted" {
            return Ok(());
        }
        let retry_at = retry_at(&value)?;
        tracing::debug!(rate_limit.scope = scope, "request rate limited");
        yt_metrics::rate_limited(scope);
        Err(AccountError::RateLimited { retry_at })
    }

    async fn admit(
        &self,
        keys: Vec<String>,
        limit: Limit,
        member: &str,
    ) -> Result<(String, String), AccountError> {
        let args = vec![
            limit.window.as_millis().to_string(),
            limit.max.to_string(),
            member.to_owned(),
            ACTIVE_TTL.as_secs().to_string(),
        ];
        let answer: Vec<String> = self
            .redis
            .eval(ADMIT, keys, args)
            .await
            .map_err(redis_error)?;
        match <[String; 2]>::try_from(answer) {
            Ok([outcome, value]) => Ok((outcome, value)),
            Err(answer) => Err(AccountError::Internal(
                format!("unexpected rate-limit answer {answer:?}").into(),
            )),
        }
    }
}

/// Whom the per-account login limit counts: a hash of the trimmed, lowercased email, so
/// Redis holds no addresses and `A@x` and `a@x ` share a window.
pub fn account_subject(email: &str) -> String {
    let digest = Sha256::digest(email.trim().to_lowercase().as_bytes());
    hex::encode(&digest[..16])
}

fn retry_at(wait_ms: &str) -> Result<DateTime<Utc>, AccountError> {
    let wait: f64 = wait_ms
        .parse()
        .map_err(|_| AccountError::Internal(format!("bad rate-limit wait {wait_ms:?}").into()))?;
    Ok(Utc::now() + chrono::Duration::milliseconds(wait.ceil().max(1.0) as i64))
}

fn redis_error(error: fred::error::Error) -> AccountError {
    AccountError::from(yt_jobs::StoreError::from(error))
}

#[cfg(test)]
mod tests {
    use super::account_subject;

    #[test]
    fn the_account_subject_ignores_case_and_spaces_and_hides_the_address() {
        let subject = account_subject("Demo@Example.com ");
        assert_eq!(subject, account_subject("demo@example.com"));
        assert_eq!(subject.len(), 32);
        assert!(!subject.contains("example"));
    }
}
