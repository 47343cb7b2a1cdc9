//! Export jobs end to end on real Redis, SQLite or PostgreSQL, local storage and mail.

mod support;

use std::time::Duration;

use support::{TestWorker, assert_unzips, read_entry};
use worker::job::{Outcome, send_overdue_emails};
use yt_jobs::{JobStatus, Phase};
use yt_testkit::{Postgres, SmtpCapture};
use yt_userdata::seed;

#[tokio::test]
async fn demo_export_holds_every_row_and_a_readme() {
    let worker = TestWorker::start().await;
    let demo = worker.seeded_user(seed::DEMO_EMAIL).await;

    let id = worker.queue_export(&demo).await;
    assert_eq!(worker.run_next().await, Outcome::Completed);

    let job = worker.jobs().get(&id).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Completed);
    assert_eq!(job.progress.phase, Phase::Done);
    assert_eq!(
        job.storage_id.as_deref(),
        Some(yt_jobs::archive_filename(&id).as_str())
    );
    assert_eq!(
        job.download_url.as_deref(),
        Some(
            format!("http://exports.test/api/account/export/download/yt-export-{id}.zip").as_str()
        )
    );
    assert!(job.expires_at.unwrap() > job.completed_at.unwrap());
    assert_eq!(job.email_status.as_deref(), Some("sent"));
    assert_eq!(redis_cli(&worker, &["ZCARD", yt_jobs::keys::UNSENT]), "0");

    let archive = worker.archive_path(&id);
    assert_unzips(&archive);
    assert_eq!(
        std::fs::metadata(&archive).unwrap().len(),
        job.archive_bytes.unwrap()
    );

    let profile = read_entry(&archive, "profile.json");
    assert_eq!(profile["email"], seed::DEMO_EMAIL);
    assert!(profile.get("password_hash").is_none());
    let subscriptions = read_entry(&archive, "subscriptions.json");
    assert_eq!(subscriptions.as_array().unwrap().len(), 50);
    assert!(
        subscriptions
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["channel_title"] == "日本の音楽 🎵 Channel")
    );
    let watched = read_entry(&archive, "watched_videos.json");
    let watched = watched.as_array().unwrap();
    assert_eq!(watched.len(), 2_000);
    let stamp = watched[0]["watched_at"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(stamp).is_ok() && stamp.ends_with('Z'),
        "{stamp}"
    );
    assert!(watched.iter().any(|v| {
        v["title"]
            .as_str()
            .is_some_and(|t| t.contains('"') && t.contains('\\'))
    }));

    let readme = {
        use std::io::Read;
        let mut zip = zip::ZipArchive::new(std::fs::File::open(&archive).unwrap()).unwrap();
        let mut text = String::new();
        zip.by_name("README.txt")
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        text
    };
    assert!(readme.contains("watched_videos.json"));
    assert!(readme.contains("2000 entries"));

    // The outbox got the "ready" email with the link.
    let mails: Vec<_> = std::fs::read_dir(worker.outbox_dir()).unwrap().collect();
    assert_eq!(mails.len(), 1);
}

#[tokio::test]
async fn a_user_with_100_000_watched_videos_exports_completely() {
    let worker = TestWorker::start().await;
    let heavy = seed::seed_heavy_user(worker.db(), "heavy@example.com", "heavy-pass-123", 100_000)
        .await
        .unwrap();

    let id = worker.queue_export(&heavy).await;
    assert_eq!(worker.run_next().await, Outcome::Completed);

    let archive = worker.archive_path(&id);
    assert_unzips(&archive);
    let watched = read_entry(&archive, "watched_videos.json");
    assert_eq!(watched.as_array().unwrap().len(), 100_000);
    let profile = read_entry(&archive, "profile.json");
    assert_eq!(profile["watched_video_count"], 100_000);
}

#[tokio::test]
async fn exports_run_on_postgres_too() {
    let postgres = Postgres::start();
    let worker = TestWorker::start_with(Some(postgres.url()), &[]).await;
    let demo = worker.seeded_user(seed::DEMO_EMAIL).await;

    let id = worker.queue_export(&demo).await;
    assert_eq!(worker.run_next().await, Outcome::Completed);

    let archive = worker.archive_path(&id);
    assert_unzips(&archive);
    assert_eq!(
        read_entry(&archive, "watched_videos.json")
            .as_array()
            .unwrap()
            .len(),
        2_000
    );
    assert_eq!(
        read_entry(&archive, "subscriptions.json")
            .as_array()
            .unwrap()
            .len(),
        50
    );
}

#[tokio::test]
async fn a_deleted_user_fails_the_job_with_a_reason() {
    let worker = TestWorker::start().await;
    let other = worker.seeded_user(seed::OTHER_EMAIL).await;
    let id = worker.queue_export(&other).await;
    worker.db().delete_user(other.id).await.unwrap();

    assert_eq!(worker.run_next().await, Outcome::Failed);

    let job = worker.jobs().get(&id).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Failed);
    assert_eq!(job.error.as_deref(), Some("Your account no longer exists."));
    assert!(!worker.archive_path(&id).exists());
}

#[tokio::test]
async fn broken_storage_on_the_last_attempt_fails_the_job_tells_the_user_and_leaves_no_archive() {
    let worker = TestWorker::start_with(None, &["--max-attempts=1"]).await;
    let demo = worker.seeded_user(seed::DEMO_EMAIL).await;
    let id = worker.queue_export(&demo).await;

    // The export folder turns into a plain file: every write into it fails.
    std::fs::remove_dir_all(worker.exports_dir()).unwrap();
    std::fs::write(worker.exports_dir(), b"not a folder").unwrap();

    assert_eq!(worker.run_next().await, Outcome::Failed);

    let job = worker.jobs().get(&id).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Failed);
    assert!(
        job.error
            .as_deref()
            .unwrap()
            .contains("could not build your export"),
        "{job:?}"
    );
    assert!(job.download_url.is_none());
    assert_eq!(job.email_status.as_deref(), Some("sent"));
    let mails: Vec<_> = std::fs::read_dir(worker.outbox_dir())
        .unwrap()
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        .collect();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("could not be completed"), "{}", mails[0]);
    assert!(
        !mails[0].contains("/download/"),
        "no link to a missing file"
    );
}

#[tokio::test]
async fn the_ready_email_goes_through_real_smtp_with_the_link() {
    let smtp = SmtpCapture::start();
    let url = format!("--smtp-url={}", smtp.url());
    let worker =
        TestWorker::start_with(None, &[&url, "--mail-from=Exports <exports@feeds.test>"]).await;
    let demo = worker.seeded_user(seed::DEMO_EMAIL).await;

    let id = worker.queue_export(&demo).await;
    assert_eq!(worker.run_next().await, Outcome::Completed);

    let mails = smtp.wait_for(1, Duration::from_secs(10));
    assert_eq!(mails.len(), 1);
    let mail = mails[0].decoded();
    assert!(mail.contains("To: demo@example.com"), "{mail}");
    assert!(
        mail.contains("From: Exports <exports@feeds.test>"),
        "{mail}"
    );
    assert!(
        mail.contains(&format!("Message-ID: <export.{id}.")),
        "{mail}"
    );
    assert!(mail.contains(&format!(
        "http://exports.test/api/account/export/download/yt-export-{id}.zip"
    )));
    assert!(mail.contains("text/html"));
}

#[tokio::test]
async fn a_failed_email_leaves_the_export_completed() {
    // Nothing listens on this port.
    let dead = format!("--smtp-url=smtp://127.0.0.1:{}", yt_testkit::free_port());
    let worker = TestWorker::start_with(None, &[&dead]).await;
    let demo = worker.seeded_user(seed::DEMO_EMAIL).await;

    let id = worker.queue_export(&demo).await;
    assert_eq!(worker.run_next().await, Outcome::Completed);

    let job = worker.jobs().get(&id).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Completed);
    assert_eq!(job.email_status.as_deref(), Some("failed"), "{job:?}");
    assert!(job.email_error.is_some(), "{job:?}");
    assert_unzips(&worker.archive_path(&id));
}

#[tokio::test]
async fn a_job_already_taken_is_not_run_twice() {
    let worker = TestWorker::start().await;
    let demo = worker.seeded_user(seed::DEMO_EMAIL).await;
    let id = worker.queue_export(&demo).await;
    assert_eq!(worker.run_next().await, Outcome::Completed);

    let stop = tokio_util::sync::CancellationToken::new();
    assert_eq!(
        worker::job::run(&worker.ctx, &id, &stop).await.unwrap(),
        Outcome::Skipped
    );

    let unknown = yt_jobs::JobId::generate();
    assert_eq!(
        worker::job::run(&worker.ctx, &unknown, &stop)
            .await
            .unwrap(),
        Outcome::Skipped
    );
}

#[tokio::test]
async fn a_failed_job_gives_its_export_quota_back_and_ends_the_active_export() {
    let worker = TestWorker::start_with(None, &["--max-attempts=1"]).await;
    let demo = worker.seeded_user(seed::DEMO_EMAIL).await;
    let id = worker.queue_export(&demo).await;

    // What the server records when it admits the request.
    let window = format!("yt:ratelimit:export:{}", demo.id.0);
    let active = format!("yt:export:user:{}:active", demo.id.0);
    redis_cli(&worker, &["ZADD", &window, "1", "earlier-job"]);
    redis_cli(&worker, &["ZADD", &window, "2", id.as_str()]);
    redis_cli(&worker, &["SET", &active, id.as_str()]);

    std::fs::remove_dir_all(worker.exports_dir()).ok();
    std::fs::write(worker.exports_dir(), b"not a folder").unwrap();
    assert_eq!(worker.run_next().await, Outcome::Failed);

    assert_eq!(
        redis_cli(&worker, &["ZRANGE", &window, "0", "-1"]),
        "earlier-job"
    );
    assert_eq!(redis_cli(&worker, &["EXISTS", &active]), "0");
}

#[tokio::test]
async fn an_unreadable_job_record_fails_at_once_and_frees_its_user() {
    let worker = TestWorker::start().await;
    let demo = worker.seeded_user(seed::DEMO_EMAIL).await;
    let id = worker.queue_export(&demo).await;
    let key = yt_jobs::keys::job(&id);
    let active = format!("yt:export:user:{}:active", demo.id.0);
    redis_cli(&worker, &["SET", &active, id.as_str()]);
    redis_cli(
        &worker,
        &["HSET", &key, "created_at", "the day before yesterday"],
    );

    assert_eq!(worker.run_next().await, Outcome::Failed);

    assert_eq!(redis_cli(&worker, &["HGET", &key, "status"]), "failed");
    assert!(redis_cli(&worker, &["HGET", &key, "error"]).contains("could not read"));
    assert_eq!(
        redis_cli(&worker, &["LLEN", yt_jobs::keys::PROCESSING]),
        "0"
    );
    assert_eq!(redis_cli(&worker, &["LLEN", yt_jobs::keys::QUEUE]), "0");
    assert_eq!(redis_cli(&worker, &["ZCARD", yt_jobs::keys::LEASES]), "0");
    assert_eq!(
        redis_cli(&worker, &["ZRANGE", yt_jobs::keys::FAILED, "0", "-1"]),
        id.as_str()
    );
    assert_eq!(redis_cli(&worker, &["EXISTS", &active]), "0");
    assert!(!worker.archive_path(&id).exists());
}

#[tokio::test]
async fn a_ready_email_lost_to_a_crash_is_sent_once_by_the_sweep() {
    let worker = TestWorker::start().await;
    let demo = worker.seeded_user(seed::DEMO_EMAIL).await;
    let id = worker.queue_export(&demo).await;
    let key = yt_jobs::archive_filename(&id);

    // The job completes, and its worker dies before sending the email.
    let now = chrono::Utc::now();
    let completed = yt_jobs::CompletedExport {
        download_url: format!("http://exports.test/api/account/export/download/{key}"),
        storage_id: key,
        completed_at: now,
        expires_at: now + chrono::Duration::hours(24),
        archive_bytes: 16,
        archive_sha256: "0".repeat(64),
        keep_for: Duration::from_secs(25 * 3600),
    };
    worker.complete_next(&id, &completed).await;
    let job = worker.jobs().get(&id).await.unwrap().unwrap();
    assert_eq!(job.email_status.as_deref(), Some("pending"));

    // Within its grace the completing worker may still be sending: the sweep waits.
    assert_eq!(send_overdue_emails(&worker.ctx).await.unwrap(), 0);
    assert!(outbox(&worker).is_empty());

    // Overdue: one sweep sends it, and no later sweep sends it again.
    redis_cli(&worker, &["ZADD", yt_jobs::keys::UNSENT, "0", id.as_str()]);
    assert_eq!(send_overdue_emails(&worker.ctx).await.unwrap(), 1);
    assert_eq!(send_overdue_emails(&worker.ctx).await.unwrap(), 0);

    let job = worker.jobs().get(&id).await.unwrap().unwrap();
    assert_eq!(job.email_status.as_deref(), Some("sent"));
    assert_eq!(redis_cli(&worker, &["ZCARD", yt_jobs::keys::UNSENT]), "0");
    let sent = outbox(&worker);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(
        sent[0].contains(id.as_str()),
        "the email names its job: {}",
        sent[0]
    );
}

/// The messages in the worker's outbox folder.
fn outbox(worker: &TestWorker) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(worker.outbox_dir()) else {
        return Vec::new();
    };
    entries
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        .collect()
}

fn redis_cli(worker: &TestWorker, args: &[&str]) -> String {
    let out = std::process::Command::new("redis-cli")
        .args(["-u", &worker.redis.url()])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}
