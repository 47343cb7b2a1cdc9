//! Deleting exports past their time to live.
//!
//! Cleanup looks at storage itself rather than at job records, so an archive is deleted
//! even when its job record is long gone.

use std::time::Duration;

use chrono::{DateTime, Utc};
use yt_storage::{ExportStorage, StorageError};

/// What one cleanup pass did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CleanupReport {
    pub deleted: u64,
    pub deleted_bytes: u64,
    pub kept: u64,
}

/// Deletes every archive last written more than `ttl` before `now`.
pub async fn remove_expired(
    storage: &ExportStorage,
    ttl: Duration,
    now: DateTime<Utc>,
) -> Result<CleanupReport, StorageError> {
    let cutoff = now - ttl;
    let mut report = CleanupReport::default();

    for object in storage.list().await? {
        // Only our archives: whatever else an operator keeps in the folder stays.
        if yt_jobs::job_id_from_filename(&object.key).is_err() {
            continue;
        }
        let expired = object
            .last_modified
            .is_some_and(|modified| modified < cutoff);
        if !expired {
            report.kept += 1;
            continue;
        }
        match storage.delete(&object.key).await {
            Ok(()) | Err(StorageError::NotFound) => {
                report.deleted += 1;
                report.deleted_bytes += object.bytes;
            }
            Err(error) => {
                tracing::warn!(storage.key = %object.key, %error, "could not delete an expired export");
            }
        }
    }

    yt_metrics::cleanup_finished(report.deleted, report.deleted_bytes);
    tracing::info!(
        cleanup.deleted = report.deleted,
        cleanup.deleted_bytes = report.deleted_bytes,
        cleanup.kept = report.kept,
        "expired exports removed"
    );
    Ok(report)
}
