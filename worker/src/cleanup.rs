//! Deleting exports past their time to live, and what crashed uploads left behind.
//!
//! Cleanup finds files by listing storage, never through job records, so it deletes
//! archives whose record is long gone (the Python version leaked exactly those) and
//! staging objects of uploads that never finished. A published archive goes once it is
//! older than the TTL, a staging object once it is older than the longest upload can
//! take. The job record of a deleted archive is left to expire a little later (an hour
//! by default), so the page can say "expired" rather than "not found"; cleanup deletes a
//! record itself only when it is past that time and still there.
//!
//! One pass runs at a time across all workers ([`crate::cleanup_lock`]).

use std::time::Duration;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use fred::{clients::Pool, interfaces::KeysInterface};
use yt_jobs::{JobStore, job_id_from_filename};
use yt_storage::{ExportStorage, StorageError, StoredObject};

use crate::{WorkerContext, cleanup_lock::CleanupLock};

/// How long one pass may hold the lock before another worker may start one.
const LOCK_HOLD: Duration = Duration::from_secs(15 * 60);

/// What counts as old.
#[derive(Clone, Copy, Debug)]
pub struct CleanupPolicy {
    /// Published archives older than this are deleted (`YT_EXPORT_TTL_HOURS`).
    pub ttl: Duration,
    /// Staging objects older than this are leftovers of failed uploads.
    pub staging_max_age: Duration,
    /// How much longer than its archive a job record is kept.
    pub record_grace: Duration,
}

/// What one cleanup pass did, for logs and metrics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CleanupReport {
    /// Published archives deleted, and their bytes.
    pub deleted: u64,
    pub deleted_bytes: u64,
    /// Published archives still within their TTL.
    pub kept: u64,
    /// Staging objects (interrupted or failed uploads) deleted, and their bytes.
    pub staging_deleted: u64,
    pub staging_deleted_bytes: u64,
    /// Staging objects young enough to be uploads in progress.
    pub staging_kept: u64,
    /// Job records deleted because they had outlived their keep time.
    pub records_deleted: u64,
    /// Deletions that failed (tried again next pass).
    pub failed: u64,
}

/// One pass under the cluster-wide lock. `None` when another worker holds the lock.
pub async fn run(ctx: &WorkerContext, now: DateTime<Utc>) -> anyhow::Result<Option<CleanupReport>> {
    let Some(lock) = CleanupLock::acquire(&ctx.redis, LOCK_HOLD)
        .await
        .context("taking the cleanup lock")?
    else {
        tracing::info!("another worker is cleaning up; skipping this pass");
        return Ok(None);
    };

    let report = remove_expired(&ctx.storage, Some(&ctx.redis), &ctx.cleanup_policy(), now).await;

    match lock.release().await {
        Ok(true) => {}
        Ok(false) => tracing::warn!("the cleanup lock expired before the pass ended"),
        Err(error) => tracing::warn!(%error, "could not release the cleanup lock"),
    }
    Ok(Some(report.context("listing storage")?))
}

/// Deletes every archive and staging object that `policy` calls old at `now`, and the
/// job records past their keep time of the archives it deleted (when `records` is set).
pub async fn remove_expired(
    storage: &ExportStorage,
    records: Option<&Pool>,
    policy: &CleanupPolicy,
    now: DateTime<Utc>,
) -> Result<CleanupReport, StorageError> {
    let mut report = CleanupReport::default();

    for object in storage.list().await? {
        // Only our archives: whatever else an operator keeps in the store stays.
        if job_id_from_filename(&object.key).is_err() {
            continue;
        }
        if !older_than(&object, policy.ttl, now) {
            report.kept += 1;
            continue;
        }
        match storage.delete(&object.key).await {
            Ok(()) | Err(StorageError::NotFound) => {
                tracing::info!(storage.key = %object.key, archive.bytes = object.bytes, "expired export deleted");
                report.deleted += 1;
                report.deleted_bytes += object.bytes;
                if let Some(redis) = records {
                    report.records_deleted +=
                        remove_stale_record(redis, &object.key, policy, now).await;
                }
            }
            Err(error) => {
                report.failed += 1;
                tracing::warn!(storage.key = %object.key, %error, "could not delete an expired export");
            }
        }
    }

    for object in storage.list_staged().await? {
        if job_id_from_filename(&object.key).is_err() {
            continue;
        }
        if !older_than(&object, policy.staging_max_age, now) {
            report.staging_kept += 1;
            continue;
        }
        match storage.delete_staged(&object.key).await {
            Ok(()) | Err(StorageError::NotFound) => {
                tracing::info!(storage.key = %object.key, archive.bytes = object.bytes, "abandoned upload deleted");
                report.staging_deleted += 1;
                report.staging_deleted_bytes += object.bytes;
            }
            Err(error) => {
                report.failed += 1;
                tracing::warn!(storage.key = %object.key, %error, "could not delete an abandoned upload");
            }
        }
    }

    yt_metrics::cleanup_finished(report.deleted, report.deleted_bytes);
    tracing::info!(
        cleanup.deleted = report.deleted,
        cleanup.deleted_bytes = report.deleted_bytes,
        cleanup.kept = report.kept,
        cleanup.staging_deleted = report.staging_deleted,
        cleanup.staging_deleted_bytes = report.staging_deleted_bytes,
        cleanup.staging_kept = report.staging_kept,
        cleanup.records_deleted = report.records_deleted,
        cleanup.failed = report.failed,
        "cleanup pass finished"
    );
    Ok(report)
}

/// Whether `object` was last written more than `age` before `now`. An object without a
/// time is kept: its age cannot be told.
fn older_than(object: &StoredObject, age: Duration, now: DateTime<Utc>) -> bool {
    object
        .last_modified
        .is_some_and(|modified| modified + age < now)
}

/// Deletes the job record of a deleted archive if it is past its keep time (normally
/// Redis has expired it already). Returns 1 when a record was deleted.
async fn remove_stale_record(
    redis: &Pool,
    key: &str,
    policy: &CleanupPolicy,
    now: DateTime<Utc>,
) -> u64 {
    let Ok(id) = job_id_from_filename(key) else {
        return 0;
    };
    let job = match JobStore::new(redis.clone()).get(&id).await {
        Ok(Some(job)) => job,
        Ok(None) => return 0,
        Err(error) => {
            tracing::warn!(job.id = %id, %error, "could not read the job of a deleted export");
            return 0;
        }
    };
    let keep_until = job.expires_at.map(|expires| expires + policy.record_grace);
    if keep_until.is_none_or(|until| until > now) {
        return 0;
    }
    match redis.del::<i64, _>(yt_jobs::keys::job(&id)).await {
        Ok(deleted) => u64::from(deleted > 0),
        Err(error) => {
            tracing::warn!(job.id = %id, %error, "could not delete a stale job record");
            0
        }
    }
}
