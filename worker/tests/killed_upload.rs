//! A worker killed in the middle of an upload publishes nothing, and cleanup removes the
//! staging object it left.

mod support;

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use chrono::Utc;
use support::TestWorker;
use worker::cleanup::{CleanupPolicy, remove_expired};
use yt_jobs::{JobStatus, archive_filename};
use yt_userdata::seed;

const HEAVY_EMAIL: &str = "heavy@example.com";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_upload_publishes_nothing_and_cleanup_removes_its_staging_object() {
    let worker = TestWorker::start().await;
    let user = seed::seed_heavy_user(worker.db(), HEAVY_EMAIL, seed::DEMO_PASSWORD, 200_000)
        .await
        .unwrap();
    let id = worker.queue_export(&user).await;
    let key = archive_filename(&id);
    let published = worker.exports_dir().join(&key);
    let staging = worker.exports_dir().join("staging").join(&key);

    // The real worker binary, slowed down so the upload is caught halfway.
    let mut process = Command::new(env!("CARGO_BIN_EXE_worker"))
        .arg(format!("--redis-url={}", worker.redis.url()))
        .arg(format!("--database-url={}", worker.database_url))
        .arg(format!(
            "--export-local-path={}",
            worker.exports_dir().display()
        ))
        .arg(format!("--mail-outbox={}", worker.outbox_dir().display()))
        .args(["--batch-size=500", "--page-pause-ms=25", "--log=warn"])
        .arg("--metrics-addr=127.0.0.1:0")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();

    let deadline = Instant::now() + Duration::from_secs(60);
    let staged_bytes = loop {
        let bytes = std::fs::metadata(&staging).map(|m| m.len()).unwrap_or(0);
        if bytes >= 2 * 1024 * 1024 {
            break bytes;
        }
        assert!(Instant::now() < deadline, "the upload never reached 2 MiB");
        assert!(
            process.try_wait().unwrap().is_none(),
            "the worker exited early"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    process.kill().unwrap();
    process.wait().unwrap();

    // Halfway: a staging object, no archive, and the job never completed.
    assert!(staged_bytes > 0);
    assert!(!published.exists(), "a killed upload was published");
    assert!(matches!(
        worker.ctx.storage.stat(&key).await,
        Err(yt_storage::StorageError::NotFound)
    ));
    let job = worker.jobs().get(&id).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Processing);
    assert!(job.download_url.is_none());

    // Cleanup, with every staging object counting as abandoned, leaves nothing.
    let policy = CleanupPolicy {
        ttl: Duration::from_secs(24 * 3600),
        staging_max_age: Duration::ZERO,
        record_grace: Duration::from_secs(3600),
    };
    let later = Utc::now() + chrono::Duration::seconds(1);
    let report = remove_expired(&worker.ctx.storage, None, &policy, later)
        .await
        .unwrap();
    assert_eq!(report.staging_deleted, 1, "{report:?}");
    assert!(!staging.exists());
    assert!(worker.ctx.storage.list_staged().await.unwrap().is_empty());
    assert!(worker.ctx.storage.list().await.unwrap().is_empty());
}
