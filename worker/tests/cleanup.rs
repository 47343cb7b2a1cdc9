//! Expired archives are deleted from storage, whether or not their job record remains.

mod support;

use std::time::{Duration, SystemTime};

use chrono::Utc;
use support::TestWorker;
use worker::cleanup::remove_expired;

fn write_aged(path: &std::path::Path, age: Duration) {
    std::fs::write(path, b"PK archive bytes").unwrap();
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::now() - age).unwrap();
}

#[tokio::test]
async fn only_archives_past_their_ttl_are_deleted() {
    let worker = TestWorker::start().await;
    let dir = worker.exports_dir();
    let old = dir.join("yt-export-AAAAAAAAAAAAAAAAAAAAAA.zip");
    let fresh = dir.join("yt-export-BBBBBBBBBBBBBBBBBBBBBB.zip");
    let almost = dir.join("yt-export-CCCCCCCCCCCCCCCCCCCCCC.zip");
    write_aged(&old, Duration::from_secs(49 * 3600));
    write_aged(&fresh, Duration::from_secs(60));
    write_aged(&almost, Duration::from_secs(23 * 3600));

    let report = remove_expired(
        &worker.ctx.storage,
        Duration::from_secs(24 * 3600),
        Utc::now(),
    )
    .await
    .unwrap();

    assert_eq!(report.deleted, 1);
    assert_eq!(report.kept, 2);
    assert!(!old.exists());
    assert!(fresh.exists());
    assert!(almost.exists());
}

#[tokio::test]
async fn files_outside_the_naming_scheme_are_left_alone() {
    let worker = TestWorker::start().await;
    let dir = worker.exports_dir();
    let stray = dir.join("backup.zip");
    write_aged(&stray, Duration::from_secs(100 * 3600));

    let report = remove_expired(&worker.ctx.storage, Duration::from_secs(3600), Utc::now())
        .await
        .unwrap();

    assert_eq!(report.deleted, 0);
    assert!(stray.exists());
}
