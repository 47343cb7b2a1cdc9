//! Cleanup on local storage with real Redis: expired archives and abandoned uploads are
//! deleted whether or not their job record remains, records outlive their archive, and
//! only one worker cleans at a time.

mod support;

use std::time::{Duration, SystemTime};

use chrono::Utc;
use fred::interfaces::KeysInterface;
use support::TestWorker;
use worker::{
    cleanup::{self, CleanupPolicy, remove_expired},
    cleanup_lock::{CleanupLock, LOCK_KEY},
};
use yt_jobs::{CompletedExport, JobId, archive_filename};

fn write_aged(path: &std::path::Path, age: Duration) {
    std::fs::write(path, b"PK archive bytes").unwrap();
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::now() - age).unwrap();
}

fn policy(ttl_hours: u64) -> CleanupPolicy {
    CleanupPolicy {
        ttl: Duration::from_secs(ttl_hours * 3600),
        staging_max_age: Duration::from_secs(3600),
        record_grace: Duration::from_secs(3600),
    }
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

    let report = remove_expired(&worker.ctx.storage, None, &policy(24), Utc::now())
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
    let stray_staged = dir.join("staging/notes.txt");
    write_aged(&stray, Duration::from_secs(100 * 3600));
    write_aged(&stray_staged, Duration::from_secs(100 * 3600));

    let report = remove_expired(&worker.ctx.storage, None, &policy(1), Utc::now())
        .await
        .unwrap();

    assert_eq!((report.deleted, report.staging_deleted), (0, 0));
    assert!(stray.exists());
    assert!(stray_staged.exists());
}

#[tokio::test]
async fn a_record_outlives_its_archive_until_its_own_keep_time() {
    let worker = TestWorker::start().await;
    let user = worker.seeded_user(yt_userdata::seed::DEMO_EMAIL).await;
    let dir = worker.exports_dir();

    // Two completed jobs whose archives are past the TTL: one expired a moment ago (its
    // record must stay, so the page says "expired"), one long ago with a record that
    // somehow lost its Redis expiry (cleanup deletes it).
    let recent = worker.queue_export(&user).await;
    let stale = worker.queue_export(&user).await;
    for (id, expired_ago) in [(&recent, 60), (&stale, 3 * 3600)] {
        let expires_at = Utc::now() - chrono::Duration::seconds(expired_ago);
        let completed = CompletedExport {
            download_url: format!("http://exports.test/{}", archive_filename(id)),
            storage_id: archive_filename(id),
            completed_at: expires_at - chrono::Duration::hours(24),
            expires_at,
            archive_bytes: 16,
            archive_sha256: "0".repeat(64),
            keep_for: Duration::from_secs(3600),
        };
        worker.complete_next(id, &completed).await;
        write_aged(
            &dir.join(archive_filename(id)),
            Duration::from_secs(30 * 3600),
        );
    }
    let stale_key = yt_jobs::keys::job(&stale);
    let _: i64 = worker.ctx.redis.persist(&stale_key).await.unwrap();

    let report = cleanup::run(&worker.ctx, Utc::now())
        .await
        .unwrap()
        .unwrap();

    assert_eq!(report.deleted, 2, "{report:?}");
    assert_eq!(report.records_deleted, 1, "{report:?}");
    assert!(worker.jobs().get(&recent).await.unwrap().is_some());
    assert!(worker.jobs().get(&stale).await.unwrap().is_none());
}

#[tokio::test]
async fn one_worker_cleans_at_a_time() {
    let worker = TestWorker::start().await;
    let old = worker
        .exports_dir()
        .join(archive_filename(&JobId::generate()));
    write_aged(&old, Duration::from_secs(49 * 3600));

    // Another worker holds the lock: this pass does nothing.
    let held = CleanupLock::acquire(&worker.ctx.redis, Duration::from_secs(60))
        .await
        .unwrap()
        .expect("a free lock");
    assert!(
        CleanupLock::acquire(&worker.ctx.redis, Duration::from_secs(60))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(cleanup::run(&worker.ctx, Utc::now()).await.unwrap(), None);
    assert!(old.exists());

    // Released, the next pass runs and gives the lock back.
    assert!(held.release().await.unwrap());
    let report = cleanup::run(&worker.ctx, Utc::now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.deleted, 1);
    assert!(!old.exists());
    let lock: Option<String> = worker.ctx.redis.get(LOCK_KEY).await.unwrap();
    assert_eq!(lock, None);
}

#[tokio::test]
async fn a_lock_that_expired_is_not_released_by_its_old_holder() {
    let worker = TestWorker::start().await;
    let first = CleanupLock::acquire(&worker.ctx.redis, Duration::from_millis(50))
        .await
        .unwrap()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(120)).await;
    let second = CleanupLock::acquire(&worker.ctx.redis, Duration::from_secs(60))
        .await
        .unwrap()
        .expect("the first lock expired");

    assert!(!first.release().await.unwrap());
    let lock: Option<String> = worker.ctx.redis.get(LOCK_KEY).await.unwrap();
    assert!(lock.is_some(), "the second holder's lock was released");
    assert!(second.release().await.unwrap());
}
