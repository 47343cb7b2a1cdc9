//! The job store and queue against a real redis-server.

use std::time::Duration;

use chrono::Utc;
use fred::interfaces::{HashesInterface, KeysInterface, ListInterface};
use yt_jobs::{
    Claim, CompletedExport, ExportJob, JobId, JobQueue, JobStatus, JobStore, Lease, Phase, Progress,
};
use yt_testkit::RedisServer;

const LEASE: Duration = Duration::from_secs(30);

async fn store(redis: &RedisServer) -> (JobStore, fred::clients::Pool) {
    let pool = yt_jobs::connect_pool(&redis.url(), 1).await.unwrap();
    (JobStore::new(pool.clone()), pool)
}

fn job(user_id: i64) -> ExportJob {
    ExportJob::new_pending(
        JobId::generate(),
        user_id,
        "demo@example.com".into(),
        Utc::now(),
    )
}

/// Takes the queued job as worker `w1` and claims it, as a worker does.
async fn take_and_claim(redis: &RedisServer, raw: &fred::clients::Pool) -> (JobQueue, Lease) {
    let queue = JobQueue::connect(&redis.url(), raw.clone()).await.unwrap();
    let id = queue.take(Duration::from_secs(1)).await.unwrap().unwrap();
    let Claim::Claimed(_) = queue.claim(&id, "w1", LEASE, Utc::now()).await.unwrap() else {
        panic!("the job should be claimed");
    };
    let lease = Lease {
        job_id: id,
        worker_id: "w1".into(),
    };
    (queue, lease)
}

#[tokio::test]
async fn a_new_job_is_queued_with_the_spec_fields() {
    let redis = RedisServer::start();
    let (jobs, raw) = store(&redis).await;
    let job = job(7);

    jobs.create(&job).await.unwrap();

    let key = format!("yt:export:job:{}", job.id);
    let fields: std::collections::HashMap<String, String> = raw.hgetall(&key).await.unwrap();
    assert_eq!(fields["user_id"], "7");
    assert_eq!(fields["email"], "demo@example.com");
    assert_eq!(fields["status"], "pending");
    assert!(fields["created_at"].ends_with('Z'));
    let queued: Vec<String> = raw.lrange("yt:export:queue", 0, -1).await.unwrap();
    assert_eq!(queued, [job.id.to_string()]);
    let ttl: i64 = raw.ttl(&key).await.unwrap();
    assert!(ttl > 0, "unfinished jobs still expire eventually");
    assert_eq!(jobs.latest_for_user(7).await.unwrap().unwrap().id, job.id);
    assert_eq!(jobs.get(&job.id).await.unwrap().unwrap(), job);
}

#[tokio::test]
async fn lifecycle_updates_never_resurrect_a_deleted_job() {
    let redis = RedisServer::start();
    let (jobs, raw) = store(&redis).await;
    let job = job(3);
    jobs.create(&job).await.unwrap();

    let (queue, lease) = take_and_claim(&redis, &raw).await;
    assert!(
        jobs.record_progress(&job.id, &Progress::new(Phase::WatchHistory, 5, 10))
            .await
            .unwrap()
    );
    let running = jobs.get(&job.id).await.unwrap().unwrap();
    assert_eq!(running.status, JobStatus::Processing);
    assert_eq!(running.progress, Progress::new(Phase::WatchHistory, 5, 10));

    let () = raw.del(format!("yt:export:job:{}", job.id)).await.unwrap();
    assert!(
        !jobs
            .record_progress(&job.id, &Progress::new(Phase::WatchHistory, 6, 10))
            .await
            .unwrap()
    );
    assert!(!queue.fail(&lease, "gone", Utc::now()).await.unwrap());
    assert!(jobs.get(&job.id).await.unwrap().is_none());
}

#[tokio::test]
async fn progress_arriving_after_a_hand_back_is_dropped() {
    let redis = RedisServer::start();
    let (jobs, raw) = store(&redis).await;
    let job = job(5);
    jobs.create(&job).await.unwrap();
    let (queue, lease) = take_and_claim(&redis, &raw).await;

    assert!(queue.hand_back(&lease).await.unwrap());
    let late = Progress::new(Phase::WatchHistory, 7, 10);
    assert!(!jobs.record_progress(&job.id, &late).await.unwrap());

    let waiting = jobs.get(&job.id).await.unwrap().unwrap();
    assert_eq!(waiting.status, JobStatus::Pending);
    assert_eq!(waiting.progress.phase, Phase::Queued);
}

#[tokio::test]
async fn completion_records_the_result_and_keeps_the_record_for_its_lifetime() {
    let redis = RedisServer::start();
    let (jobs, raw) = store(&redis).await;
    let job = job(4);
    jobs.create(&job).await.unwrap();
    let now = Utc::now();

    let completed = CompletedExport {
        storage_id: "yt-export-x.zip".into(),
        download_url: "http://localhost/x".into(),
        completed_at: now,
        expires_at: now + chrono::Duration::hours(24),
        archive_bytes: 1234,
        archive_sha256: "ab".repeat(32),
        keep_for: Duration::from_secs(25 * 3600),
    };
    let (queue, lease) = take_and_claim(&redis, &raw).await;
    assert!(queue.complete(&lease, &completed).await.unwrap());

    let done = jobs.get(&job.id).await.unwrap().unwrap();
    assert_eq!(done.status, JobStatus::Completed);
    assert_eq!(done.storage_id.as_deref(), Some("yt-export-x.zip"));
    assert_eq!(done.archive_bytes, Some(1234));
    assert_eq!(done.progress.phase, Phase::Done);
    let ttl: i64 = raw.ttl(format!("yt:export:job:{}", job.id)).await.unwrap();
    assert!((24 * 3600..=25 * 3600).contains(&ttl), "{ttl}");
}

#[tokio::test]
async fn a_corrupt_record_is_an_error_not_a_panic() {
    let redis = RedisServer::start();
    let (jobs, raw) = store(&redis).await;
    let id = JobId::generate();
    let () = raw
        .hset(
            format!("yt:export:job:{id}"),
            [("user_id", "x"), ("status", "pending")],
        )
        .await
        .unwrap();

    let error = jobs.get(&id).await.unwrap_err();

    assert!(!error.is_transient());
    assert!(error.to_string().contains("user_id"), "{error}");
}

#[tokio::test]
async fn a_vanished_redis_is_a_transient_error() {
    let mut redis = RedisServer::start();
    let (jobs, _) = store(&redis).await;
    redis.kill();

    let error = tokio::time::timeout(Duration::from_secs(30), jobs.get(&JobId::generate()))
        .await
        .expect("an answer, not a hang")
        .unwrap_err();

    assert!(error.is_transient(), "{error}");
}
