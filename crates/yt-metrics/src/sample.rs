//! Gauges read when scraped, from state other processes share.

use std::path::Path;

use fred::clients::Pool;
use metrics::gauge;
use yt_jobs::{WorkerRegistry, admin::QueueAdmin};

use crate::{
    names::{STORAGE_ARCHIVES, STORAGE_BYTES},
    record::{set_jobs_by_state, set_live_workers},
};

/// Counts jobs by state and live workers in Redis (indexes only, no KEYS) and sets their
/// gauges. A Redis that does not answer is logged and leaves the last values.
pub async fn sample_jobs(redis: &Pool) {
    match QueueAdmin::new(redis.clone()).stats().await {
        Ok(jobs) => set_jobs_by_state(jobs.waiting, jobs.delayed, jobs.processing, jobs.failed),
        Err(error) => tracing::warn!(%error, "could not count the jobs"),
    }
    match WorkerRegistry::new(redis.clone()).live().await {
        Ok(workers) => set_live_workers(workers.len() as u64),
        Err(error) => tracing::warn!(%error, "could not count the live workers"),
    }
}

/// What the local export folder holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LocalStorageUse {
    pub archives: u64,
    pub bytes: u64,
}

/// Sums the `.zip` files directly in `root` (the local backend keeps archives flat) and
/// sets the storage gauges. Blocking: call it off the async runtime.
pub fn sample_local_storage(root: &Path) -> std::io::Result<LocalStorageUse> {
    let mut used = LocalStorageUse::default();
    for entry in std::fs::read_dir(root)? {
        let entry = entry?;
        let is_archive = entry.path().extension().is_some_and(|ext| ext == "zip");
        let metadata = entry.metadata()?;
        if is_archive && metadata.is_file() {
            used.archives += 1;
            used.bytes += metadata.len();
        }
    }
    gauge!(STORAGE_BYTES).set(used.bytes as f64);
    gauge!(STORAGE_ARCHIVES).set(used.archives as f64);
    Ok(used)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_only_archives() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.zip"), [0u8; 10]).unwrap();
        std::fs::write(dir.path().join("b.zip"), [0u8; 5]).unwrap();
        std::fs::write(dir.path().join("notes.txt"), [0u8; 100]).unwrap();

        let used = sample_local_storage(dir.path()).unwrap();

        assert_eq!(
            used,
            LocalStorageUse {
                archives: 2,
                bytes: 15
            }
        );
    }
}
