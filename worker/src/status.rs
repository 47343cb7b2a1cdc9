//! The operator commands: what the queue and the workers are doing, and the repairs.
//!
//! Everything here reads indexes (`yt:export:workers`, `yt:export:processing`,
//! `yt:export:failed`, ...), never KEYS, so it is safe on a busy production Redis.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use fred::clients::Pool;
use yt_jobs::{
    JobId, WorkerRegistry,
    admin::{QueueAdmin, Repair, age},
};

/// Failed jobs shown by `worker status`.
const FAILED_SHOWN: usize = 20;

/// The report `worker status` prints.
pub async fn report(redis: &Pool, now: DateTime<Utc>) -> anyhow::Result<String> {
    let admin = QueueAdmin::new(redis.clone());
    let workers = WorkerRegistry::new(redis.clone()).live().await?;
    let stats = admin.stats().await?;
    let processing = admin.processing().await?;
    let failed = admin.failed(FAILED_SHOWN).await?;

    let mut out = String::new();
    writeln!(out, "workers: {}", workers.len())?;
    for worker in &workers {
        writeln!(
            out,
            "  {}  host={} pid={} up={} jobs_done={} jobs_failed={} current_job={} last_beat={}s ago",
            worker.worker_id,
            worker.host,
            worker.pid,
            human(age(worker.started_at, now)),
            worker.jobs_done,
            worker.jobs_failed,
            worker.current_job.as_deref().unwrap_or("-"),
            age(worker.beat_at, now).as_secs(),
        )?;
    }

    writeln!(
        out,
        "queue: waiting={} delayed={} processing={} failed={}",
        stats.waiting, stats.delayed, stats.processing, stats.failed
    )?;

    writeln!(out, "processing: {}", processing.len())?;
    for taken in &processing {
        let (worker, started, attempts, phase) = match &taken.job {
            Some(job) => (
                job.worker_id.as_deref().unwrap_or("-"),
                job.started_at.map(|at| human(age(at, now))),
                job.attempts,
                job.progress.label(),
            ),
            None => ("-", None, 0, "record gone".to_owned()),
        };
        let lease = match taken.lease_until {
            Some(until) if until > now => format!("{}s left", (until - now).num_seconds()),
            Some(_) => "lapsed".to_owned(),
            None => "none yet".to_owned(),
        };
        writeln!(
            out,
            "  {}  worker={worker} age={} attempt={attempts} lease={lease} {phase}",
            taken.job_id,
            started.unwrap_or_else(|| "-".to_owned()),
        )?;
    }

    writeln!(
        out,
        "failed (newest first, up to {FAILED_SHOWN}): {}",
        failed.len()
    )?;
    for job in &failed {
        writeln!(
            out,
            "  {}  user={} failed_at={} attempts={} reason={:?} last_error={:?}",
            job.id,
            job.user_id,
            job.completed_at
                .map(|at| at.format("%Y-%m-%d %H:%M:%S UTC").to_string())
                .unwrap_or_else(|| "-".to_owned()),
            job.attempts,
            job.error.as_deref().unwrap_or(""),
            job.last_error.as_deref().unwrap_or(""),
        )?;
    }
    Ok(out)
}

/// `worker retry <job-id>`: queue a failed job again.
pub async fn retry(redis: &Pool, raw_id: &str) -> anyhow::Result<String> {
    let id = parse(raw_id)?;
    let repair = QueueAdmin::new(redis.clone()).retry_failed(&id).await?;
    describe(repair, &id, "queued again")
}

/// `worker cancel <job-id>`: cancel a job that waits for a worker.
pub async fn cancel(redis: &Pool, raw_id: &str) -> anyhow::Result<String> {
    let id = parse(raw_id)?;
    let repair = QueueAdmin::new(redis.clone()).cancel_pending(&id).await?;
    describe(repair, &id, "cancelled")
}

fn parse(raw_id: &str) -> anyhow::Result<JobId> {
    JobId::parse(raw_id.trim_start_matches("yt:export:job:"))
        .map_err(|e| anyhow::anyhow!("{raw_id:?} is not a job id: {e}"))
}

fn describe(repair: Repair, id: &JobId, done: &str) -> anyhow::Result<String> {
    match repair {
        Repair::Done => Ok(format!("job {id} {done}")),
        Repair::NotFound => anyhow::bail!("job {id} not found"),
        Repair::WrongState(state) => anyhow::bail!("job {id} left as it is: {state}"),
    }
}

/// "3h05m", "12m30s", "45s".
fn human(duration: std::time::Duration) -> String {
    let secs = duration.as_secs();
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m{:02}s", secs / 60, secs % 60),
        _ => format!("{}h{:02}m", secs / 3600, (secs % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::human;
    use std::time::Duration;

    #[test]
    fn ages_read_at_a_glance() {
        assert_eq!(human(Duration::from_secs(45)), "45s");
        assert_eq!(human(Duration::from_secs(750)), "12m30s");
        assert_eq!(human(Duration::from_secs(11_100)), "3h05m");
    }
}
