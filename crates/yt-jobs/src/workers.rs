//! Worker heartbeats: each worker keeps a short-lived hash saying who it is and what it
//! does, and an index entry so operators can list workers without KEYS.

use std::{collections::HashMap, time::Duration};

use chrono::{DateTime, Utc};
use fred::{
    clients::Pool,
    interfaces::{HashesInterface, KeysInterface, SortedSetsInterface, TransactionInterface},
    types::Value,
};

use crate::{StoreError, keys, store::timestamp};

/// What a worker says about itself at each beat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerBeat {
    pub worker_id: String,
    pub host: String,
    pub pid: u32,
    pub started_at: DateTime<Utc>,
    /// The job it is working on, if any.
    pub current_job: Option<String>,
    pub jobs_done: u64,
    pub jobs_failed: u64,
    pub beat_at: DateTime<Utc>,
}

/// Heartbeats on Redis.
#[derive(Clone)]
pub struct WorkerRegistry {
    redis: Pool,
}

impl WorkerRegistry {
    pub fn new(redis: Pool) -> Self {
        Self { redis }
    }

    /// Publishes a beat that lives for `ttl` unless renewed.
    pub async fn beat(&self, beat: &WorkerBeat, ttl: Duration) -> Result<(), StoreError> {
        let key = keys::worker(&beat.worker_id);
        let fields: Vec<(&str, String)> = vec![
            ("worker_id", beat.worker_id.clone()),
            ("host", beat.host.clone()),
            ("pid", beat.pid.to_string()),
            ("started_at", timestamp(beat.started_at)),
            ("current_job", beat.current_job.clone().unwrap_or_default()),
            ("jobs_done", beat.jobs_done.to_string()),
            ("jobs_failed", beat.jobs_failed.to_string()),
            ("beat_at", timestamp(beat.beat_at)),
        ];

        let trx = self.redis.next().multi();
        let () = trx.hset(&key, fields).await?;
        let () = trx.pexpire(&key, ttl.as_millis() as i64, None).await?;
        let () = trx
            .zadd(
                keys::WORKERS,
                None,
                None,
                false,
                false,
                (
                    beat.beat_at.timestamp_millis() as f64,
                    beat.worker_id.as_str(),
                ),
            )
            .await?;
        let _: Value = trx.exec(true).await?;
        Ok(())
    }

    /// Removes a worker that is stopping.
    pub async fn remove(&self, worker_id: &str) -> Result<(), StoreError> {
        let trx = self.redis.next().multi();
        let () = trx.del(keys::worker(worker_id)).await?;
        let () = trx.zrem(keys::WORKERS, worker_id).await?;
        let _: Value = trx.exec(true).await?;
        Ok(())
    }

    /// The workers whose heartbeat is alive, oldest first. Index entries of workers that
    /// stopped beating are pruned on the way.
    pub async fn live(&self) -> Result<Vec<WorkerBeat>, StoreError> {
        let ids: Vec<String> = self
            .redis
            .zrange(keys::WORKERS, 0, -1, None, false, None, false)
            .await?;

        let mut live = Vec::with_capacity(ids.len());
        for id in ids {
            let fields: HashMap<String, String> = self.redis.hgetall(keys::worker(&id)).await?;
            match decode_beat(&fields) {
                Some(beat) => live.push(beat),
                None => {
                    let () = self.redis.zrem(keys::WORKERS, id.as_str()).await?;
                }
            }
        }
        live.sort_by_key(|beat| beat.started_at);
        Ok(live)
    }

    /// How many workers beat in the last `within`.
    pub async fn count_recent(&self, within: Duration) -> Result<u64, StoreError> {
        let since = Utc::now().timestamp_millis() - within.as_millis() as i64;
        let count: u64 = self
            .redis
            .zcount(keys::WORKERS, since as f64, f64::INFINITY)
            .await?;
        Ok(count)
    }
}

fn decode_beat(fields: &HashMap<String, String>) -> Option<WorkerBeat> {
    let time = |name: &str| {
        DateTime::parse_from_rfc3339(fields.get(name)?)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    };
    let number = |name: &str| fields.get(name)?.parse::<u64>().ok();
    Some(WorkerBeat {
        worker_id: fields.get("worker_id")?.clone(),
        host: fields.get("host").cloned().unwrap_or_default(),
        pid: number("pid").unwrap_or(0) as u32,
        started_at: time("started_at")?,
        current_job: fields.get("current_job").filter(|j| !j.is_empty()).cloned(),
        jobs_done: number("jobs_done").unwrap_or(0),
        jobs_failed: number("jobs_failed").unwrap_or(0),
        beat_at: time("beat_at")?,
    })
}
