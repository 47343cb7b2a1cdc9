//! The reliable queue: taking a job moves it atomically into a processing list under a
//! lease; a worker renews the lease while it works, and a job whose lease lapses (its
//! worker died or lost Redis for too long) goes back to the queue.
//!
//! Every transition that ends a taken job (complete, fail, retry later, hand back) checks
//! that the caller still owns it, so a worker that lost its lease can never overwrite the
//! outcome of the worker that took the job over.

use std::time::Duration;

use chrono::{DateTime, Utc};
use fred::{
    clients::{Client, Pool},
    interfaces::{ClientLike, ListInterface, LuaInterface, SortedSetsInterface},
    prelude::{Builder, Config, ReconnectPolicy},
    types::Value,
};

use crate::{
    CompletedExport, ExportJob, JobId, Phase, Progress, StoreError, keys,
    store::{UNFINISHED_JOB_TTL, decode_fields, progress_fields, timestamp},
};

/// Claims a job that was just moved into the processing list.
///
/// KEYS: job, processing, leases. ARGV: id, worker id, lease ms, then field pairs.
/// Returns `{'gone'}`, `{'finished', status}` or `{'claimed', attempts, fields...}`.
const CLAIM: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('LREM', KEYS[2], 0, ARGV[1])
  redis.call('ZREM', KEYS[3], ARGV[1])
  return {'gone'}
end
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'completed' or status == 'failed' then
  redis.call('LREM', KEYS[2], 0, ARGV[1])
  redis.call('ZREM', KEYS[3], ARGV[1])
  return {'finished', status}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[3]), ARGV[1])
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('HSET', KEYS[1], 'status', 'processing', 'worker_id', ARGV[2], unpack(ARGV, 4))
return {'claimed', tostring(attempts), unpack(redis.call('HGETALL', KEYS[1]))}
"#;

/// Extends a lease, only for its owner. KEYS: job, leases. ARGV: id, worker id, lease ms.
const RENEW: &str = r#"
if redis.call('HGET', KEYS[1], 'worker_id') ~= ARGV[2] then return 0 end
if redis.call('HGET', KEYS[1], 'status') ~= 'processing' then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
return 1
"#;

/// Ends a taken job, only for its owner: sets the fields, keeps the record for a while,
/// and takes the job out of the processing list. Returns 1, or 2 when the owner already
/// ended it this way (a retried write whose first reply was lost), 0 when not the owner.
///
/// KEYS: job, processing, leases, an index (failed jobs, or unsent emails). ARGV: id,
/// worker id, record ttl seconds, ms from now to score the job in the index ('-' for no
/// index), then field pairs, the first being the new status.
const FINISH: &str = r#"
if redis.call('HGET', KEYS[1], 'worker_id') ~= ARGV[2] then return 0 end
local status = redis.call('HGET', KEYS[1], 'status')
if status == ARGV[6] then return 2 end
if status ~= 'processing' then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
redis.call('LREM', KEYS[2], 0, ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
if ARGV[4] ~= '-' then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('ZADD', KEYS[4], now + tonumber(ARGV[4]), ARGV[1])
end
return 1
"#;

/// Takes up to ARGV[2] unsent emails that are due, for ARGV[1] ms: a worker that dies
/// while sending leaves them due again after that. KEYS: unsent.
const TAKE_UNSENT: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(due) do
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), id)
end
return due
"#;

/// How long the worker that completes a job has to send its "ready" email before any
/// worker's sweep sends it instead (the completing worker died in between).
pub const UNSENT_EMAIL_GRACE: Duration = Duration::from_secs(300);

/// Returns a taken job to waiting, only for its owner: at once to the front of the queue
/// (hand-back on shutdown, which does not count as an attempt), or after a delay.
///
/// KEYS: job, processing, leases, queue, delayed. ARGV: id, worker id, delay ms (0 for
/// now), then field pairs.
const REQUEUE: &str = r#"
if redis.call('HGET', KEYS[1], 'worker_id') ~= ARGV[2] then return 0 end
if redis.call('HGET', KEYS[1], 'status') ~= 'processing' then return 0 end
redis.call('HSET', KEYS[1], 'status', 'pending', unpack(ARGV, 4))
redis.call('HDEL', KEYS[1], 'worker_id')
redis.call('LREM', KEYS[2], 0, ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
local delay = tonumber(ARGV[3])
if delay == 0 then
  redis.call('HINCRBY', KEYS[1], 'attempts', -1)
  redis.call('RPUSH', KEYS[4], ARGV[1])
else
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('ZADD', KEYS[5], now + delay, ARGV[1])
end
return 1
"#;

/// Returns lapsed jobs to the queue and due retries to the queue. Safe to run from any
/// number of workers at once: each step is one atomic script.
///
/// A processing entry without a lease is one a worker moved but has not claimed yet (or
/// whose worker died in between): it gets a lease now, and is reclaimed if nobody renews
/// it. KEYS: processing, leases, queue, delayed. ARGV: lease ms, job key prefix.
const REAP: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local reclaimed = {}
for _, id in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  local deadline = redis.call('ZSCORE', KEYS[2], id)
  if not deadline then
    redis.call('ZADD', KEYS[2], now + tonumber(ARGV[1]), id)
  elseif tonumber(deadline) < now then
    redis.call('LREM', KEYS[1], 0, id)
    redis.call('ZREM', KEYS[2], id)
    local job = ARGV[2] .. id
    if redis.call('EXISTS', job) == 1 then
      redis.call('HSET', job, 'status', 'pending', 'phase', 'queued')
      redis.call('HDEL', job, 'worker_id')
      redis.call('RPUSH', KEYS[3], id)
      table.insert(reclaimed, id)
    end
  end
end
local due = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, 100)
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[4], id)
  redis.call('LPUSH', KEYS[3], id)
end
return {reclaimed, #due}
"#;

/// A job taken by one worker: the job and who holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    pub job_id: JobId,
    pub worker_id: String,
}

/// What claiming a job found.
#[derive(Debug)]
pub enum Claim {
    /// The job is ours; `job.attempts` counts this one.
    Claimed(Box<ExportJob>),
    /// The record is gone (expired or deleted); the entry was dropped.
    Gone,
    /// The job already ended (a second delivery after a lapse); the entry was dropped.
    Finished,
    /// The job is ours, but its record cannot be read: it can never run, and should be
    /// failed at once. `user_id` is the record's owner when that field at least is sound.
    Corrupt {
        user_id: Option<i64>,
        error: StoreError,
    },
}

/// What one reaper pass did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Reaped {
    /// Jobs whose lease lapsed, back in the queue.
    pub reclaimed: Vec<JobId>,
    /// Delayed retries that fell due and were queued.
    pub promoted: u64,
}

/// The worker's side of the queue.
pub struct JobQueue {
    /// Blocks while it waits for a job, so it is a connection of its own.
    blocking: Client,
    redis: Pool,
}

impl JobQueue {
    pub async fn connect(url: &str, redis: Pool) -> Result<Self, StoreError> {
        let config = Config::from_url(url)?;
        let blocking = Builder::from_config(config)
            .set_policy(ReconnectPolicy::new_exponential(0, 100, 5_000, 2))
            .build()?;
        blocking.init().await?;
        Ok(Self { blocking, redis })
    }

    /// Waits up to `timeout` for the next job and moves it into the processing list in
    /// the same step (BLMOVE), so it is never only in this process's memory.
    ///
    /// An entry that is not a well-formed id is dropped with a warning: it could never
    /// name a job.
    pub async fn take(&self, timeout: Duration) -> Result<Option<JobId>, StoreError> {
        let moved: Option<String> = match self
            .blocking
            .blmove(
                keys::QUEUE,
                keys::PROCESSING,
                fred::types::lists::LMoveDirection::Right,
                fred::types::lists::LMoveDirection::Left,
                timeout.as_secs_f64(),
            )
            .await
        {
            Ok(moved) => moved,
            // fred reports "nothing arrived in time" as a timeout error.
            Err(error) if *error.kind() == fred::error::ErrorKind::Timeout => None,
            Err(error) => return Err(error.into()),
        };
        let Some(raw) = moved else {
            return Ok(None);
        };

        match JobId::parse(&raw) {
            Ok(id) => Ok(Some(id)),
            Err(_) => {
                let _: i64 = self.redis.lrem(keys::PROCESSING, 0, raw.as_str()).await?;
                tracing::warn!(
                    queue.entry_len = raw.len(),
                    "dropped a malformed queue entry"
                );
                Ok(None)
            }
        }
    }

    /// Makes a taken job ours under a lease of `lease_for`, counting an attempt.
    pub async fn claim(
        &self,
        id: &JobId,
        worker_id: &str,
        lease_for: Duration,
        now: DateTime<Utc>,
    ) -> Result<Claim, StoreError> {
        let mut args = vec![
            id.to_string(),
            worker_id.to_owned(),
            millis(lease_for).to_string(),
            "started_at".to_owned(),
            timestamp(now),
        ];
        args.extend(pairs(progress_fields(&Progress::new(Phase::Profile, 0, 1))));
        let keys = vec![keys::job(id), keys::PROCESSING.into(), keys::LEASES.into()];

        let reply: Vec<Value> = self.redis.eval(CLAIM, keys, args).await?;
        let mut reply = reply.into_iter().map(|v| v.as_string().unwrap_or_default());
        match reply.next().as_deref() {
            Some("gone") => Ok(Claim::Gone),
            Some("finished") => Ok(Claim::Finished),
            Some("claimed") => {
                let _attempts = reply.next();
                let mut fields = std::collections::HashMap::new();
                while let (Some(name), Some(value)) = (reply.next(), reply.next()) {
                    fields.insert(name, value);
                }
                match decode_fields(id, &fields) {
                    Ok(job) => Ok(Claim::Claimed(Box::new(job))),
                    Err(error) => Ok(Claim::Corrupt {
                        user_id: fields.get("user_id").and_then(|raw| raw.parse().ok()),
                        error,
                    }),
                }
            }
            other => Err(StoreError::Corrupt {
                job_id: id.to_string(),
                field: "claim",
                reason: format!("unexpected reply {other:?}"),
            }),
        }
    }

    /// Extends the lease; false when the job is no longer ours.
    pub async fn renew(&self, lease: &Lease, lease_for: Duration) -> Result<bool, StoreError> {
        let keys = vec![keys::job(&lease.job_id), keys::LEASES.into()];
        let args = vec![
            lease.job_id.to_string(),
            lease.worker_id.clone(),
            millis(lease_for).to_string(),
        ];
        let renewed: i64 = self.redis.eval(RENEW, keys, args).await?;
        Ok(renewed == 1)
    }

    /// Marks the job completed and keeps its record for the archive's lifetime. False
    /// when the job is no longer ours (another worker took it over): its outcome stands.
    pub async fn complete(
        &self,
        lease: &Lease,
        export: &CompletedExport,
    ) -> Result<bool, StoreError> {
        let mut fields = vec![
            ("status", crate::JobStatus::Completed.as_str().to_owned()),
            ("completed_at", timestamp(export.completed_at)),
            ("expires_at", timestamp(export.expires_at)),
            ("storage_id", export.storage_id.clone()),
            ("download_url", export.download_url.clone()),
            ("archive_bytes", export.archive_bytes.to_string()),
            ("archive_sha256", export.archive_sha256.clone()),
        ];
        fields.push(("email_status", "pending".to_owned()));
        fields.extend(progress_fields(&Progress::new(Phase::Done, 1, 1)));
        let unsent = Some((keys::UNSENT, UNSENT_EMAIL_GRACE));
        self.finish(lease, export.keep_for, unsent, fields).await
    }

    /// Completed jobs whose "ready" email is overdue: their worker stopped between
    /// completing them and recording the email. Each is taken for `hold` (another sweep
    /// leaves it alone meanwhile); the caller sends and records the email, which takes
    /// the job out of the index (`JobStore::set_email_status`).
    pub async fn take_unsent(&self, hold: Duration, limit: u32) -> Result<Vec<JobId>, StoreError> {
        let args = vec![millis(hold).to_string(), limit.to_string()];
        let due: Vec<String> = self
            .redis
            .eval(TAKE_UNSENT, vec![keys::UNSENT.to_owned()], args)
            .await?;
        let mut ids = Vec::with_capacity(due.len());
        for raw in due {
            match JobId::parse(&raw) {
                Ok(id) => ids.push(id),
                Err(_) => {
                    let _: i64 = self.redis.zrem(keys::UNSENT, raw.as_str()).await?;
                }
            }
        }
        Ok(ids)
    }

    /// Marks the job failed with a reason the user can read, and indexes it for
    /// operators. False when the job is no longer ours.
    pub async fn fail(
        &self,
        lease: &Lease,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let fields = vec![
            ("status", crate::JobStatus::Failed.as_str().to_owned()),
            ("error", reason.to_owned()),
            ("completed_at", timestamp(now)),
        ];
        let failed = Some((keys::FAILED, Duration::ZERO));
        self.finish(lease, UNFINISHED_JOB_TTL, failed, fields).await
    }

    /// Puts the job back to wait `delay` before its next attempt; `last_error` says why
    /// (for operators, not the user).
    pub async fn retry_later(
        &self,
        lease: &Lease,
        delay: Duration,
        last_error: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let retry_at = now + chrono::Duration::milliseconds(millis(delay) as i64);
        let fields = [
            ("last_error", last_error.to_owned()),
            ("retry_at", timestamp(retry_at)),
        ];
        self.requeue(lease, millis(delay).max(1), fields).await
    }

    /// Returns the job to the front of the queue without counting the attempt (the
    /// worker is shutting down).
    pub async fn hand_back(&self, lease: &Lease) -> Result<bool, StoreError> {
        self.requeue(lease, 0, []).await
    }

    /// One reaper pass: lapsed leases back to the queue, due retries into it.
    pub async fn reap(&self, lease_for: Duration) -> Result<Reaped, StoreError> {
        let keys = vec![keys::PROCESSING, keys::LEASES, keys::QUEUE, keys::DELAYED];
        let args = vec![millis(lease_for).to_string(), keys::job_prefix().to_owned()];
        let (reclaimed, promoted): (Vec<String>, u64) = self.redis.eval(REAP, keys, args).await?;
        Ok(Reaped {
            reclaimed: reclaimed
                .iter()
                .filter_map(|raw| JobId::parse(raw).ok())
                .collect(),
            promoted,
        })
    }

    pub async fn quit(&self) {
        let _ = self.blocking.quit().await;
    }

    async fn finish(
        &self,
        lease: &Lease,
        keep_for: Duration,
        index: Option<(&'static str, Duration)>,
        fields: Vec<(&'static str, String)>,
    ) -> Result<bool, StoreError> {
        let (index_key, index_in) = match index {
            Some((key, after)) => (key, millis(after).to_string()),
            None => (keys::FAILED, "-".to_owned()),
        };
        let keys = vec![
            keys::job(&lease.job_id),
            keys::PROCESSING.into(),
            keys::LEASES.into(),
            index_key.into(),
        ];
        let mut args = vec![
            lease.job_id.to_string(),
            lease.worker_id.clone(),
            keep_for.as_secs().max(1).to_string(),
            index_in,
        ];
        args.extend(pairs(fields));
        let finished: i64 = self.redis.eval(FINISH, keys, args).await?;
        Ok(finished > 0)
    }

    async fn requeue(
        &self,
        lease: &Lease,
        delay_ms: u64,
        fields: impl IntoIterator<Item = (&'static str, String)>,
    ) -> Result<bool, StoreError> {
        let keys = vec![
            keys::job(&lease.job_id),
            keys::PROCESSING.into(),
            keys::LEASES.into(),
            keys::QUEUE.into(),
            keys::DELAYED.into(),
        ];
        let mut args = vec![
            lease.job_id.to_string(),
            lease.worker_id.clone(),
            delay_ms.to_string(),
        ];
        args.extend(pairs(progress_fields(&Progress::new(Phase::Queued, 0, 0))));
        args.extend(pairs(fields));
        let requeued: i64 = self.redis.eval(REQUEUE, keys, args).await?;
        Ok(requeued == 1)
    }
}

fn millis(duration: Duration) -> u64 {
    duration.as_millis().try_into().unwrap_or(u64::MAX)
}

fn pairs(fields: impl IntoIterator<Item = (&'static str, String)>) -> Vec<String> {
    fields
        .into_iter()
        .flat_map(|(name, value)| [name.to_owned(), value])
        .collect()
}
