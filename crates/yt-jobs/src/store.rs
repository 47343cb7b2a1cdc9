//! The job store on Redis: creating jobs, recording their progress and outcome, and
//! popping them off the queue.

use std::{collections::HashMap, time::Duration};

use chrono::{DateTime, SecondsFormat, Utc};
use fred::{
    clients::Pool,
    interfaces::{
        ClientLike, HashesInterface, KeysInterface, ListInterface, LuaInterface,
        SortedSetsInterface, TransactionInterface,
    },
    prelude::{Builder, Config, ReconnectPolicy},
    types::Expiration,
};

use crate::{ExportJob, JobId, Phase, Progress, keys};

/// How long a job nobody has finished stays visible, so its owner can still see it.
pub(crate) const UNFINISHED_JOB_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// Sets hash fields only on a job that exists, so a late update never resurrects an
/// expired job as a fragment.
const UPDATE_EXISTING: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
"#;

/// Records progress only while the job is being processed: a write that arrives after
/// the job was handed back, retried or finished must not show a stale phase.
const RECORD_PROGRESS: &str = r#"
if redis.call('HGET', KEYS[1], 'status') ~= 'processing' then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
"#;

/// Ends a user's active export: clears the marker if it still names this job, and on
/// failure removes the job from the user's export window, giving the unit back.
const END_ACTIVE: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
if ARGV[2] == '1' then return redis.call('ZREM', KEYS[2], ARGV[1]) end
return 0
"#;

/// The rate-limit scope whose window holds job ids (see [`keys::rate_limit`]).
pub const EXPORT_SCOPE: &str = "export";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("redis: {0}")]
    Redis(#[from] fred::error::Error),

    #[error("job {job_id} has a bad {field} field: {reason}")]
    Corrupt {
        job_id: String,
        field: &'static str,
        reason: String,
    },
}

impl StoreError {
    /// Whether trying again later can help (Redis down or busy, as opposed to bad data).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Redis(_))
    }
}

/// A command that gets no answer in this time fails, so a request never hangs on a Redis
/// that is away: the server answers 503 and the worker retries.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(3);

/// Connects a pool of clients that reconnect with backoff when Redis goes away.
pub async fn connect_pool(url: &str, size: usize) -> Result<Pool, StoreError> {
    let config = Config::from_url(url)?;
    let pool = Builder::from_config(config)
        .set_policy(ReconnectPolicy::new_exponential(0, 100, 5_000, 2))
        .with_performance_config(|perf| {
            perf.default_command_timeout = COMMAND_TIMEOUT;
        })
        .build_pool(size)?;
    pool.init().await?;
    Ok(pool)
}

/// What the worker records when an archive is published.
#[derive(Clone, Debug)]
pub struct CompletedExport {
    pub storage_id: String,
    pub download_url: String,
    pub completed_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub archive_bytes: u64,
    pub archive_sha256: String,
    /// How long the job hash stays after completion: a little longer than the archive,
    /// so the page can say "expired" instead of "not found".
    pub keep_for: Duration,
}

/// Job hashes and the per-user index.
#[derive(Clone)]
pub struct JobStore {
    redis: Pool,
}

impl JobStore {
    pub fn new(redis: Pool) -> Self {
        Self { redis }
    }

    /// Records a new pending job and queues it, in one transaction.
    pub async fn create(&self, job: &ExportJob) -> Result<(), StoreError> {
        let key = keys::job(&job.id);
        let ttl = UNFINISHED_JOB_TTL.as_secs() as i64;

        let trx = self.redis.next().multi();
        let () = trx.hset(&key, encode(job)).await?;
        let () = trx.expire(&key, ttl, None).await?;
        let () = trx
            .set(
                keys::latest_for_user(job.user_id),
                job.id.as_str(),
                Some(Expiration::EX(ttl)),
                None,
                false,
            )
            .await?;
        let () = trx.lpush(keys::QUEUE, job.id.as_str()).await?;
        let _: fred::types::Value = trx.exec(true).await?;

        tracing::info!(job.id = %job.id, user.id = job.user_id, "export job queued");
        Ok(())
    }

    pub async fn get(&self, id: &JobId) -> Result<Option<ExportJob>, StoreError> {
        let fields: HashMap<String, String> = self.redis.hgetall(keys::job(id)).await?;
        if fields.is_empty() {
            return Ok(None);
        }
        decode_fields(id, &fields).map(Some)
    }

    /// The user's most recent job, if its record still exists.
    pub async fn latest_for_user(&self, user_id: i64) -> Result<Option<ExportJob>, StoreError> {
        let latest: Option<String> = self.redis.get(keys::latest_for_user(user_id)).await?;
        let Some(id) = latest.and_then(|raw| JobId::parse(&raw).ok()) else {
            return Ok(None);
        };
        self.get(&id).await
    }

    /// Writes a running job's progress; `false` when the job is no longer processing
    /// (handed back, waiting for a retry, finished) or gone.
    pub async fn record_progress(
        &self,
        id: &JobId,
        progress: &Progress,
    ) -> Result<bool, StoreError> {
        let fields = progress_fields(progress).into();
        self.set_fields(RECORD_PROGRESS, id, fields).await
    }

    /// Called by the worker when a job ends: the user may request another export, and a
    /// job that failed on our side (`give_back_quota`) no longer counts against the
    /// export limit. Returns whether a unit of quota was given back.
    pub async fn end_active(
        &self,
        job: &ExportJob,
        give_back_quota: bool,
    ) -> Result<bool, StoreError> {
        self.end_active_of(job.user_id, &job.id, give_back_quota)
            .await
    }

    /// `end_active` for a job known only by its id and its user's id.
    pub async fn end_active_of(
        &self,
        user_id: i64,
        id: &JobId,
        give_back_quota: bool,
    ) -> Result<bool, StoreError> {
        let keys = vec![
            keys::active_for_user(user_id),
            keys::rate_limit(EXPORT_SCOPE, &user_id.to_string()),
        ];
        let args = vec![id.to_string(), u8::from(give_back_quota).to_string()];
        let released: i64 = self.redis.eval(END_ACTIVE, keys, args).await?;
        Ok(released == 1)
    }

    /// Records whether the job's email went out: `sent`, or `failed` with the reason. The
    /// job no longer waits in the unsent-email index either way.
    pub async fn set_email_status(
        &self,
        id: &JobId,
        outcome: Result<(), &str>,
    ) -> Result<bool, StoreError> {
        let fields = match outcome {
            Ok(()) => vec![("email_status", "sent".to_owned())],
            Err(reason) => vec![
                ("email_status", "failed".to_owned()),
                ("email_error", reason.to_owned()),
            ],
        };
        let updated = self.update(id, fields).await?;
        self.forget_unsent(id).await?;
        Ok(updated)
    }

    /// Takes a job out of the unsent-email index (its email needs no more sending).
    pub async fn forget_unsent(&self, id: &JobId) -> Result<(), StoreError> {
        let _: i64 = self.redis.zrem(keys::UNSENT, id.as_str()).await?;
        Ok(())
    }

    /// How many jobs wait in the queue.
    pub async fn queue_len(&self) -> Result<u64, StoreError> {
        Ok(self.redis.llen(keys::QUEUE).await?)
    }

    /// Whether Redis answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let _: String = self.redis.next().ping(None).await?;
        Ok(())
    }

    async fn update(
        &self,
        id: &JobId,
        fields: Vec<(&'static str, String)>,
    ) -> Result<bool, StoreError> {
        self.set_fields(UPDATE_EXISTING, id, fields).await
    }

    /// Runs `script`, one that sets the field pairs it is given on the job's hash when its
    /// condition holds, and says whether it did.
    async fn set_fields(
        &self,
        script: &str,
        id: &JobId,
        fields: Vec<(&'static str, String)>,
    ) -> Result<bool, StoreError> {
        let args: Vec<String> = fields
            .into_iter()
            .flat_map(|(name, value)| [name.to_owned(), value])
            .collect();
        let set: i64 = self.redis.eval(script, vec![keys::job(id)], args).await?;
        Ok(set == 1)
    }
}

pub(crate) fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(crate) fn progress_fields(progress: &Progress) -> [(&'static str, String); 3] {
    [
        ("phase", progress.phase.as_str().to_owned()),
        ("progress_done", progress.done.to_string()),
        ("progress_total", progress.total.to_string()),
    ]
}

fn encode(job: &ExportJob) -> HashMap<&'static str, String> {
    let mut fields = HashMap::from([
        ("user_id", job.user_id.to_string()),
        ("email", job.email.clone()),
        ("status", job.status.as_str().to_owned()),
        ("created_at", timestamp(job.created_at)),
    ]);
    fields.extend(progress_fields(&job.progress));
    fields
}

pub(crate) fn decode_fields(
    id: &JobId,
    fields: &HashMap<String, String>,
) -> Result<ExportJob, StoreError> {
    let corrupt = |field: &'static str, reason: String| StoreError::Corrupt {
        job_id: id.to_string(),
        field,
        reason,
    };
    let required = |field: &'static str| {
        fields
            .get(field)
            .ok_or_else(|| corrupt(field, "missing".to_owned()))
    };
    let optional = |field: &'static str| fields.get(field).filter(|v| !v.is_empty()).cloned();
    let time = |field: &'static str| -> Result<Option<DateTime<Utc>>, StoreError> {
        optional(field)
            .map(|raw| {
                DateTime::parse_from_rfc3339(&raw)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|e| corrupt(field, e.to_string()))
            })
            .transpose()
    };
    let number = |field: &'static str| -> Result<Option<u64>, StoreError> {
        optional(field)
            .map(|raw| {
                raw.parse::<u64>()
                    .map_err(|e| corrupt(field, e.to_string()))
            })
            .transpose()
    };

    let progress = Progress {
        phase: match optional("phase") {
            Some(raw) => raw.parse().map_err(|e| corrupt("phase", e))?,
            None => Phase::Queued,
        },
        done: number("progress_done")?.unwrap_or(0),
        total: number("progress_total")?.unwrap_or(0),
    };

    Ok(ExportJob {
        id: id.clone(),
        user_id: required("user_id")?
            .parse()
            .map_err(|e| corrupt("user_id", format!("{e}")))?,
        email: required("email")?.clone(),
        status: required("status")?
            .parse()
            .map_err(|e| corrupt("status", e))?,
        created_at: time("created_at")?.ok_or_else(|| corrupt("created_at", "missing".into()))?,
        started_at: time("started_at")?,
        completed_at: time("completed_at")?,
        expires_at: time("expires_at")?,
        storage_id: optional("storage_id"),
        download_url: optional("download_url"),
        error: optional("error"),
        progress,
        archive_bytes: number("archive_bytes")?,
        archive_sha256: optional("archive_sha256"),
        email_status: optional("email_status"),
        email_error: optional("email_error"),
        attempts: number("attempts")?.unwrap_or(0) as u32,
        worker_id: optional("worker_id"),
        last_error: optional("last_error"),
    })
}
