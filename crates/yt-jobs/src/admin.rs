//! What operators ask of the queue: counts, the jobs in progress, failed jobs and their
//! reasons, and the two repairs (retry a failed job, cancel a waiting one). No KEYS: every
//! listing reads an index.

use std::time::Duration;

use chrono::{DateTime, Utc};
use fred::{
    clients::Pool,
    interfaces::{ListInterface, LuaInterface, SortedSetsInterface},
};

use crate::{
    EXPORT_SCOPE, ExportJob, JobId, JobStore, Phase, Progress, StoreError, keys,
    store::{UNFINISHED_JOB_TTL, progress_fields, timestamp},
};

/// Puts a failed job back in the queue as a fresh job, if its user has no other active
/// export. KEYS: job, queue, failed, active. ARGV: id, ttl seconds, then field pairs.
const RETRY_FAILED: &str = r#"
if redis.call('HGET', KEYS[1], 'status') ~= 'failed' then return 'not_failed' end
local active = redis.call('GET', KEYS[4])
if active and active ~= ARGV[1] then return 'busy' end
redis.call('SET', KEYS[4], ARGV[1], 'EX', tonumber(ARGV[2]))
redis.call('HDEL', KEYS[1], 'error', 'completed_at', 'worker_id', 'last_error', 'retry_at',
  'email_status', 'email_error')
redis.call('HSET', KEYS[1], 'status', 'pending', 'attempts', 0, unpack(ARGV, 3))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('LPUSH', KEYS[2], ARGV[1])
return 'queued'
"#;

/// Cancels a job that waits (queued or delayed), failing it with the reason and giving
/// the user's quota back. KEYS: job, queue, delayed, failed, active, export window.
/// ARGV: id, reason, now.
const CANCEL_PENDING: &str = r#"
if redis.call('HGET', KEYS[1], 'status') ~= 'pending' then return 'not_pending' end
local removed = redis.call('LREM', KEYS[2], 0, ARGV[1]) + redis.call('ZREM', KEYS[3], ARGV[1])
if removed == 0 then return 'not_waiting' end
redis.call('HSET', KEYS[1], 'status', 'failed', 'error', ARGV[2], 'completed_at', ARGV[3])
local t = redis.call('TIME')
redis.call('ZADD', KEYS[4], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), ARGV[1])
if redis.call('GET', KEYS[5]) == ARGV[1] then redis.call('DEL', KEYS[5]) end
redis.call('ZREM', KEYS[6], ARGV[1])
return 'cancelled'
"#;

/// The reason a cancelled job shows its user.
pub const CANCELLED_REASON: &str = "This export was cancelled. You can request a new one.";

/// How many jobs are where.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// `LLEN yt:export:queue`: jobs waiting for a worker.
    pub waiting: u64,
    /// Jobs waiting to be retried after a transient failure.
    pub delayed: u64,
    /// Jobs taken by a worker.
    pub processing: u64,
    /// Failed jobs whose record still exists.
    pub failed: u64,
}

/// A job a worker holds, and when its lease ends.
#[derive(Debug)]
pub struct ProcessingJob {
    pub job: Option<ExportJob>,
    pub job_id: String,
    pub lease_until: Option<DateTime<Utc>>,
}

/// The outcome of an operator's repair.
#[derive(Debug, PartialEq, Eq)]
pub enum Repair {
    Done,
    NotFound,
    /// The job is not in a state the repair applies to; the string says which state.
    WrongState(&'static str),
}

/// Operator queries and repairs.
#[derive(Clone)]
pub struct QueueAdmin {
    redis: Pool,
    jobs: JobStore,
}

impl QueueAdmin {
    pub fn new(redis: Pool) -> Self {
        Self {
            jobs: JobStore::new(redis.clone()),
            redis,
        }
    }

    pub async fn stats(&self) -> Result<QueueStats, StoreError> {
        Ok(QueueStats {
            waiting: self.redis.llen(keys::QUEUE).await?,
            delayed: self.redis.zcard(keys::DELAYED).await?,
            processing: self.redis.llen(keys::PROCESSING).await?,
            failed: self.redis.zcard(keys::FAILED).await?,
        })
    }

    /// Every job a worker holds, with its lease.
    pub async fn processing(&self) -> Result<Vec<ProcessingJob>, StoreError> {
        let ids: Vec<String> = self.redis.lrange(keys::PROCESSING, 0, -1).await?;
        let mut jobs = Vec::with_capacity(ids.len());
        for raw in ids {
            let score: Option<f64> = self.redis.zscore(keys::LEASES, raw.as_str()).await?;
            let job = match JobId::parse(&raw) {
                Ok(id) => self.jobs.get(&id).await?,
                Err(_) => None,
            };
            jobs.push(ProcessingJob {
                job,
                job_id: raw,
                lease_until: score.and_then(|ms| DateTime::from_timestamp_millis(ms as i64)),
            });
        }
        Ok(jobs)
    }

    /// The most recent failed jobs, newest first. Index entries whose record expired are
    /// pruned on the way.
    pub async fn failed(&self, limit: usize) -> Result<Vec<ExportJob>, StoreError> {
        let ids: Vec<String> = self
            .redis
            .zrange(keys::FAILED, 0, -1, None, true, None, false)
            .await?;
        let mut failed = Vec::new();
        for raw in ids {
            let job = match JobId::parse(&raw) {
                Ok(id) => self.jobs.get(&id).await?,
                Err(_) => None,
            };
            match job {
                Some(job) if failed.len() < limit => failed.push(job),
                Some(_) => {}
                None => {
                    let () = self.redis.zrem(keys::FAILED, raw.as_str()).await?;
                }
            }
        }
        Ok(failed)
    }

    /// Queues a failed job again, as new. Refused while its user has another export
    /// pending or processing.
    pub async fn retry_failed(&self, id: &JobId) -> Result<Repair, StoreError> {
        let Some(job) = self.jobs.get(id).await? else {
            return Ok(Repair::NotFound);
        };
        let keys = vec![
            keys::job(id),
            keys::QUEUE.into(),
            keys::FAILED.into(),
            keys::active_for_user(job.user_id),
        ];
        let mut args = vec![id.to_string(), UNFINISHED_JOB_TTL.as_secs().to_string()];
        args.extend(
            progress_fields(&Progress::new(Phase::Queued, 0, 0))
                .into_iter()
                .flat_map(|(name, value)| [name.to_owned(), value]),
        );
        let reply: String = self.redis.eval(RETRY_FAILED, keys, args).await?;
        Ok(match reply.as_str() {
            "queued" => Repair::Done,
            "busy" => Repair::WrongState("its user has another export in progress"),
            _ => Repair::WrongState("not failed"),
        })
    }

    /// Cancels a job that waits for a worker or a retry; the user may ask again.
    pub async fn cancel_pending(&self, id: &JobId) -> Result<Repair, StoreError> {
        let Some(job) = self.jobs.get(id).await? else {
            return Ok(Repair::NotFound);
        };
        let keys = vec![
            keys::job(id),
            keys::QUEUE.into(),
            keys::DELAYED.into(),
            keys::FAILED.into(),
            keys::active_for_user(job.user_id),
            keys::rate_limit(EXPORT_SCOPE, &job.user_id.to_string()),
        ];
        let args = vec![
            id.to_string(),
            CANCELLED_REASON.to_owned(),
            timestamp(Utc::now()),
        ];
        let reply: String = self.redis.eval(CANCEL_PENDING, keys, args).await?;
        Ok(match reply.as_str() {
            "cancelled" => Repair::Done,
            "not_waiting" => Repair::WrongState("already taken by a worker"),
            _ => Repair::WrongState("not pending"),
        })
    }
}

/// Age of `since` at `now`, for listings.
pub fn age(since: DateTime<Utc>, now: DateTime<Utc>) -> Duration {
    (now - since).to_std().unwrap_or_default()
}
