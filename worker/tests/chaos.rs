//! Chaos tests: real worker processes against a real redis-server, killed, stopped and
//! starved of Redis or storage mid-job. No job may be lost, finished twice or announced
//! twice.

mod support;

use std::time::Duration;

use fred::interfaces::{KeysInterface, ListInterface, SortedSetsInterface};
use support::{
    assert_unzips,
    fleet::{Fleet, array_len},
};
use yt_jobs::{JobId, JobStatus, Phase};
use yt_testkit::RedisServer;
use yt_userdata::{Database, User, seed};

const HEAVY: &str = "heavy@example.com";

async fn user(fleet: &Fleet, email: &str) -> User {
    let db = Database::connect(&fleet.database_url()).await.unwrap();
    db.user_by_email(email)
        .await
        .unwrap()
        .expect("a seeded user")
}

/// Waits until the job is writing its watch history, past `rows` rows.
async fn wait_until_exporting(fleet: &Fleet, id: &JobId, rows: u64) {
    fleet
        .wait_until(
            "the export to be under way",
            Duration::from_secs(60),
            || async {
                let job = fleet.job(id).await;
                job.progress.phase == Phase::WatchHistory && job.progress.done >= rows
            },
        )
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_killed_mid_export_loses_nothing_and_another_finishes_it() {
    let mut fleet = Fleet::start(RedisServer::start()).await;
    fleet.seed(Some((HEAVY, 200_000)));
    let heavy = user(&fleet, HEAVY).await;
    let slow = [("YT_EXPORT_PAGE_PAUSE_MS", "20")];

    let first = fleet.spawn_worker(&slow);
    let id = fleet.queue_export(heavy.id.0, HEAVY).await;
    wait_until_exporting(&fleet, &id, 20_000).await;
    fleet.signal(first, "KILL");
    fleet.wait_exit(first, Duration::from_secs(10));

    let _second = fleet.spawn_worker(&[]);
    fleet
        .wait_for_status(
            std::slice::from_ref(&id),
            JobStatus::Completed,
            Duration::from_secs(120),
        )
        .await;

    let job = fleet.job(&id).await;
    assert_eq!(job.attempts, 2, "{job:?}");
    let archive = fleet.archive_path(&id);
    assert_unzips(&archive);
    assert_eq!(array_len(&archive, "watched_videos.json"), 200_000);
    assert_eq!(fleet.emails().get(id.as_str()), Some(&(1, 0)));
    assert!(
        fleet
            .log(1)
            .contains("lease lapsed; job returned to the queue")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redis_restart_mid_batch_completes_every_job_once() {
    let mut fleet = Fleet::start(RedisServer::start_persistent()).await;
    fleet.seed(None);
    let demo = user(&fleet, seed::DEMO_EMAIL).await;
    let mut ids = Vec::new();
    for _ in 0..50 {
        ids.push(fleet.queue_export(demo.id.0, seed::DEMO_EMAIL).await);
    }

    fleet.spawn_worker(&[]);
    fleet.spawn_worker(&[]);
    fleet
        .wait_until(
            "a few jobs to complete",
            Duration::from_secs(60),
            || async {
                let mut done = 0;
                for id in &ids {
                    done += u32::from(fleet.job(id).await.status == JobStatus::Completed);
                }
                done >= 5
            },
        )
        .await;
    fleet.redis.restart(Duration::from_millis(500));

    fleet
        .wait_for_status(&ids, JobStatus::Completed, Duration::from_secs(180))
        .await;

    let emails = fleet.emails();
    for id in &ids {
        assert_eq!(emails.get(id.as_str()), Some(&(1, 0)), "emails of job {id}");
        assert_unzips(&fleet.archive_path(id));
    }
    assert_eq!(emails.len(), 50);
}

#[tokio::test(flavor = "multi_thread")]
async fn storage_that_recovers_is_retried_until_the_job_completes() {
    let mut fleet = Fleet::start(RedisServer::start()).await;
    fleet.seed(None);
    let demo = user(&fleet, seed::DEMO_EMAIL).await;
    fleet.spawn_worker(&[("YT_JOB_MAX_ATTEMPTS", "20")]);
    fleet
        .wait_until("the worker to beat", Duration::from_secs(30), || async {
            let workers: u64 = fleet.raw.zcard("yt:export:workers").await.unwrap();
            workers == 1
        })
        .await;
    let away = fleet.break_storage();

    let id = fleet.queue_export(demo.id.0, seed::DEMO_EMAIL).await;
    fleet
        .wait_until("two failed attempts", Duration::from_secs(60), || async {
            let job = fleet.job(&id).await;
            job.attempts >= 2 && job.last_error.is_some()
        })
        .await;
    fleet.repair_storage(&away);

    fleet
        .wait_for_status(
            std::slice::from_ref(&id),
            JobStatus::Completed,
            Duration::from_secs(60),
        )
        .await;
    assert_unzips(&fleet.archive_path(&id));
    assert_eq!(fleet.emails().get(id.as_str()), Some(&(1, 0)));
}

#[tokio::test(flavor = "multi_thread")]
async fn storage_failing_for_good_fails_the_job_tells_the_user_and_gives_the_quota_back() {
    let mut fleet = Fleet::start(RedisServer::start()).await;
    fleet.seed(None);
    let demo = user(&fleet, seed::DEMO_EMAIL).await;
    fleet.spawn_worker(&[("YT_JOB_MAX_ATTEMPTS", "3")]);
    fleet
        .wait_until("the worker to beat", Duration::from_secs(30), || async {
            let workers: u64 = fleet.raw.zcard("yt:export:workers").await.unwrap();
            workers == 1
        })
        .await;
    fleet.break_storage();

    // What the server records when it admits the request.
    let id = fleet.queue_export(demo.id.0, seed::DEMO_EMAIL).await;
    let window = format!("yt:ratelimit:export:{}", demo.id.0);
    let active = format!("yt:export:user:{}:active", demo.id.0);
    let () = fleet
        .raw
        .zadd(&window, None, None, false, false, (1.0, id.as_str()))
        .await
        .unwrap();
    let () = fleet
        .raw
        .set(&active, id.as_str(), None, None, false)
        .await
        .unwrap();

    fleet
        .wait_for_status(
            std::slice::from_ref(&id),
            JobStatus::Failed,
            Duration::from_secs(60),
        )
        .await;

    let job = fleet.job(&id).await;
    assert_eq!(job.attempts, 3);
    assert!(job.error.unwrap().contains("a service was unavailable"));
    assert_eq!(job.email_status.as_deref(), Some("sent"));
    assert_eq!(fleet.emails().get(id.as_str()), Some(&(0, 1)));
    let in_window: Option<f64> = fleet.raw.zscore(&window, id.as_str()).await.unwrap();
    assert_eq!(in_window, None, "the quota is given back");
    let still_active: bool = fleet.raw.exists(&active).await.unwrap();
    assert!(!still_active);
}

#[tokio::test(flavor = "multi_thread")]
async fn three_workers_complete_three_hundred_jobs_exactly_once() {
    let mut fleet = Fleet::start(RedisServer::start()).await;
    fleet.seed(None);
    let other = user(&fleet, seed::OTHER_EMAIL).await;
    let mut ids = Vec::new();
    for _ in 0..300 {
        ids.push(fleet.queue_export(other.id.0, seed::OTHER_EMAIL).await);
    }

    for _ in 0..3 {
        fleet.spawn_worker(&[]);
    }
    fleet
        .wait_for_status(&ids, JobStatus::Completed, Duration::from_secs(300))
        .await;

    let emails = fleet.emails();
    assert_eq!(emails.len(), 300);
    assert!(emails.values().all(|&count| count == (1, 0)));
    let mut by_worker = std::collections::HashMap::<String, u32>::new();
    for index in 0..3 {
        let log = fleet.log(index);
        by_worker.insert(
            index.to_string(),
            log.matches("\"export completed\"").count() as u32,
        );
    }
    assert_eq!(by_worker.values().sum::<u32>(), 300, "{by_worker:?}");
    assert!(
        by_worker.values().filter(|&&n| n > 0).count() >= 2,
        "{by_worker:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_hands_a_long_export_back_after_the_grace_period() {
    let mut fleet = Fleet::start(RedisServer::start()).await;
    fleet.seed(Some((HEAVY, 100_000)));
    let heavy = user(&fleet, HEAVY).await;
    let first = fleet.spawn_worker(&[
        ("YT_EXPORT_PAGE_PAUSE_MS", "50"),
        ("YT_WORKER_SHUTDOWN_GRACE_SECS", "1"),
    ]);
    let id = fleet.queue_export(heavy.id.0, HEAVY).await;
    wait_until_exporting(&fleet, &id, 2_000).await;

    fleet.signal(first, "TERM");

    assert!(
        fleet.wait_exit(first, Duration::from_secs(20)),
        "a clean exit"
    );
    let log = fleet.log(first);
    assert!(log.contains("job handed back to the queue"), "{log}");
    let job = fleet.job(&id).await;
    assert_eq!(job.status, JobStatus::Pending);
    assert_eq!(job.attempts, 0, "a hand-back is not an attempt");
    let queued: Vec<String> = fleet.raw.lrange("yt:export:queue", 0, -1).await.unwrap();
    assert_eq!(queued, [id.to_string()]);

    fleet.spawn_worker(&[]);
    fleet
        .wait_for_status(
            std::slice::from_ref(&id),
            JobStatus::Completed,
            Duration::from_secs(120),
        )
        .await;
    assert_eq!(fleet.emails().get(id.as_str()), Some(&(1, 0)));
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_lets_a_job_within_the_grace_period_finish() {
    let mut fleet = Fleet::start(RedisServer::start()).await;
    fleet.seed(None);
    let demo = user(&fleet, seed::DEMO_EMAIL).await;
    let first = fleet.spawn_worker(&[
        ("YT_EXPORT_PAGE_PAUSE_MS", "300"),
        ("YT_EXPORT_BATCH_SIZE", "500"),
        ("YT_WORKER_SHUTDOWN_GRACE_SECS", "60"),
    ]);
    let id = fleet.queue_export(demo.id.0, seed::DEMO_EMAIL).await;
    wait_until_exporting(&fleet, &id, 1).await;

    fleet.signal(first, "TERM");

    assert!(
        fleet.wait_exit(first, Duration::from_secs(60)),
        "a clean exit"
    );
    assert_eq!(fleet.job(&id).await.status, JobStatus::Completed);
    assert_eq!(fleet.emails().get(id.as_str()), Some(&(1, 0)));
    assert!(!fleet.log(first).contains("handed back"));
}
