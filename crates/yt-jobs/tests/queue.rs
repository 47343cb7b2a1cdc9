//! The reliable queue against a real redis-server: taking, leases, the reaper, retries,
//! hand-back, and that only the lease holder can end a job.

use std::time::{Duration, Instant};

use chrono::Utc;
use fred::{
    clients::Pool,
    interfaces::{ListInterface, SortedSetsInterface},
};
use yt_jobs::{
    Claim, CompletedExport, ExportJob, JobId, JobQueue, JobStatus, JobStore, Lease,
    admin::{QueueAdmin, Repair},
};
use yt_testkit::RedisServer;

const LONG: Duration = Duration::from_secs(30);
const SHORT: Duration = Duration::from_millis(300);

struct Kit {
    _redis: RedisServer,
    raw: Pool,
    jobs: JobStore,
    queue: JobQueue,
}

async fn kit() -> Kit {
    let redis = RedisServer::start();
    let raw = yt_jobs::connect_pool(&redis.url(), 1).await.unwrap();
    let queue = JobQueue::connect(&redis.url(), raw.clone()).await.unwrap();
    Kit {
        jobs: JobStore::new(raw.clone()),
        raw,
        queue,
        _redis: redis,
    }
}

impl Kit {
    async fn queued(&self, user_id: i64) -> JobId {
        let job = ExportJob::new_pending(
            JobId::generate(),
            user_id,
            "demo@example.com".into(),
            Utc::now(),
        );
        self.jobs.create(&job).await.unwrap();
        job.id
    }

    /// Takes the next job and claims it for `worker`.
    async fn take_as(&self, worker: &str, lease_for: Duration) -> Lease {
        let id = self
            .queue
            .take(Duration::from_secs(1))
            .await
            .unwrap()
            .unwrap();
        match self
            .queue
            .claim(&id, worker, lease_for, Utc::now())
            .await
            .unwrap()
        {
            Claim::Claimed(_) => {}
            other => panic!("expected a claim, got {other:?}"),
        }
        Lease {
            job_id: id,
            worker_id: worker.into(),
        }
    }

    async fn list(&self, key: &str) -> Vec<String> {
        self.raw.lrange(key, 0, -1).await.unwrap()
    }

    async fn status(&self, id: &JobId) -> JobStatus {
        self.jobs.get(id).await.unwrap().unwrap().status
    }
}

fn completed() -> CompletedExport {
    let now = Utc::now();
    CompletedExport {
        storage_id: "yt-export-x.zip".into(),
        download_url: "http://localhost/x".into(),
        completed_at: now,
        expires_at: now + chrono::Duration::hours(24),
        archive_bytes: 10,
        archive_sha256: "ab".repeat(32),
        keep_for: Duration::from_secs(3600),
    }
}

#[tokio::test]
async fn taking_moves_jobs_in_order_into_the_processing_list() {
    let kit = kit().await;
    let (first, second) = (kit.queued(1).await, kit.queued(2).await);

    let taken = kit.queue.take(Duration::from_secs(1)).await.unwrap();

    assert_eq!(taken, Some(first.clone()));
    assert_eq!(kit.list("yt:export:queue").await, [second.to_string()]);
    assert_eq!(kit.list("yt:export:processing").await, [first.to_string()]);

    kit.queue.take(Duration::from_secs(1)).await.unwrap();
    let started = Instant::now();
    assert_eq!(kit.queue.take(Duration::from_secs(1)).await.unwrap(), None);
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[tokio::test]
async fn a_malformed_queue_entry_is_dropped_from_both_lists() {
    let kit = kit().await;
    let () = kit
        .raw
        .lpush("yt:export:queue", "../../not-a-job")
        .await
        .unwrap();

    assert_eq!(kit.queue.take(Duration::from_secs(1)).await.unwrap(), None);

    assert!(kit.list("yt:export:queue").await.is_empty());
    assert!(kit.list("yt:export:processing").await.is_empty());
}

#[tokio::test]
async fn a_claim_counts_attempts_and_marks_the_job_processing() {
    let kit = kit().await;
    let id = kit.queued(1).await;

    let lease = kit.take_as("w1", LONG).await;

    let job = kit.jobs.get(&lease.job_id).await.unwrap().unwrap();
    assert_eq!(job.id, id);
    assert_eq!(job.status, JobStatus::Processing);
    assert_eq!(job.attempts, 1);
    assert_eq!(job.worker_id.as_deref(), Some("w1"));
    let lease_end: Option<f64> = kit
        .raw
        .zscore("yt:export:leases", id.as_str())
        .await
        .unwrap();
    assert!(lease_end.is_some());
}

#[tokio::test]
async fn a_lapsed_lease_returns_the_job_to_the_queue_and_the_old_owner_cannot_end_it() {
    let kit = kit().await;
    let id = kit.queued(1).await;
    let stale = kit.take_as("w1", SHORT).await;

    tokio::time::sleep(SHORT * 2).await;
    let reaped = kit.queue.reap(LONG).await.unwrap();

    assert_eq!(reaped.reclaimed, std::slice::from_ref(&id));
    assert_eq!(kit.status(&id).await, JobStatus::Pending);
    assert_eq!(kit.list("yt:export:queue").await, [id.to_string()]);
    assert!(kit.list("yt:export:processing").await.is_empty());
    assert!(!kit.queue.renew(&stale, LONG).await.unwrap());

    let fresh = kit.take_as("w2", LONG).await;
    assert!(!kit.queue.complete(&stale, &completed()).await.unwrap());
    assert!(!kit.queue.fail(&stale, "stale", Utc::now()).await.unwrap());
    assert_eq!(kit.jobs.get(&id).await.unwrap().unwrap().attempts, 2);
    assert!(kit.queue.complete(&fresh, &completed()).await.unwrap());
    assert_eq!(kit.status(&id).await, JobStatus::Completed);
    assert!(kit.list("yt:export:processing").await.is_empty());
}

#[tokio::test]
async fn a_renewed_lease_is_not_reaped() {
    let kit = kit().await;
    let id = kit.queued(1).await;
    let lease = kit.take_as("w1", SHORT).await;

    for _ in 0..4 {
        tokio::time::sleep(SHORT / 3).await;
        assert!(kit.queue.renew(&lease, SHORT).await.unwrap());
        assert!(kit.queue.reap(SHORT).await.unwrap().reclaimed.is_empty());
    }

    assert_eq!(kit.status(&id).await, JobStatus::Processing);
}

#[tokio::test]
async fn a_job_moved_but_not_yet_claimed_gets_a_lease_before_it_can_be_reaped() {
    let kit = kit().await;
    let id = kit.queued(1).await;
    kit.queue.take(Duration::from_secs(1)).await.unwrap();

    // The worker died between the move and the claim: the first pass only starts a lease.
    assert!(kit.queue.reap(SHORT).await.unwrap().reclaimed.is_empty());
    tokio::time::sleep(SHORT * 2).await;
    let reaped = kit.queue.reap(SHORT).await.unwrap();

    assert_eq!(reaped.reclaimed, std::slice::from_ref(&id));
    assert_eq!(kit.list("yt:export:queue").await, [id.to_string()]);
}

#[tokio::test]
async fn a_retry_waits_in_the_delayed_set_until_due() {
    let kit = kit().await;
    let id = kit.queued(1).await;
    let lease = kit.take_as("w1", LONG).await;

    assert!(
        kit.queue
            .retry_later(&lease, SHORT, "storage: timed out", Utc::now())
            .await
            .unwrap()
    );

    let waiting = kit.jobs.get(&id).await.unwrap().unwrap();
    assert_eq!(waiting.status, JobStatus::Pending);
    assert_eq!(waiting.last_error.as_deref(), Some("storage: timed out"));
    assert!(kit.list("yt:export:queue").await.is_empty());
    assert_eq!(kit.queue.reap(LONG).await.unwrap().promoted, 0);
    tokio::time::sleep(SHORT * 2).await;
    assert_eq!(kit.queue.reap(LONG).await.unwrap().promoted, 1);
    assert_eq!(kit.list("yt:export:queue").await, [id.to_string()]);
    let again = kit.take_as("w2", LONG).await;
    assert_eq!(
        kit.jobs.get(&again.job_id).await.unwrap().unwrap().attempts,
        2
    );
}

#[tokio::test]
async fn a_handed_back_job_goes_first_and_keeps_its_attempt_count() {
    let kit = kit().await;
    let first = kit.queued(1).await;
    let second = kit.queued(2).await;
    let lease = kit.take_as("w1", LONG).await;

    assert!(kit.queue.hand_back(&lease).await.unwrap());

    assert_eq!(kit.status(&first).await, JobStatus::Pending);
    let next = kit.take_as("w2", LONG).await;
    assert_eq!(next.job_id, first);
    assert_eq!(kit.jobs.get(&first).await.unwrap().unwrap().attempts, 1);
    assert_eq!(kit.list("yt:export:queue").await, [second.to_string()]);
}

#[tokio::test]
async fn a_second_delivery_of_an_ended_job_is_dropped() {
    let kit = kit().await;
    let id = kit.queued(1).await;
    let lease = kit.take_as("w1", LONG).await;
    assert!(kit.queue.complete(&lease, &completed()).await.unwrap());

    let () = kit.raw.lpush("yt:export:queue", id.as_str()).await.unwrap();
    let again = kit
        .queue
        .take(Duration::from_secs(1))
        .await
        .unwrap()
        .unwrap();
    let claim = kit
        .queue
        .claim(&again, "w2", LONG, Utc::now())
        .await
        .unwrap();

    assert!(matches!(claim, Claim::Finished), "{claim:?}");
    assert!(kit.list("yt:export:processing").await.is_empty());
    assert_eq!(kit.status(&id).await, JobStatus::Completed);
}

#[tokio::test]
async fn failed_jobs_are_indexed_and_an_operator_can_retry_them() {
    let kit = kit().await;
    let id = kit.queued(5).await;
    let lease = kit.take_as("w1", LONG).await;
    assert!(
        kit.queue
            .fail(&lease, "Your account no longer exists.", Utc::now())
            .await
            .unwrap()
    );
    let admin = QueueAdmin::new(kit.raw.clone());

    let failed = admin.failed(10).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        failed[0].error.as_deref(),
        Some("Your account no longer exists.")
    );
    assert_eq!(admin.stats().await.unwrap().failed, 1);

    assert_eq!(admin.retry_failed(&id).await.unwrap(), Repair::Done);
    let retried = kit.jobs.get(&id).await.unwrap().unwrap();
    assert_eq!(retried.status, JobStatus::Pending);
    assert_eq!((retried.attempts, retried.error), (0, None));
    assert_eq!(kit.list("yt:export:queue").await, [id.to_string()]);
    assert_eq!(admin.stats().await.unwrap().failed, 0);
    assert!(matches!(
        admin.retry_failed(&id).await.unwrap(),
        Repair::WrongState(_)
    ));
}

#[tokio::test]
async fn an_operator_can_cancel_a_waiting_job_but_not_a_running_one() {
    let kit = kit().await;
    let running = kit.queued(1).await;
    let waiting = kit.queued(2).await;
    kit.take_as("w1", LONG).await;
    let admin = QueueAdmin::new(kit.raw.clone());

    assert_eq!(admin.cancel_pending(&waiting).await.unwrap(), Repair::Done);
    assert!(matches!(
        admin.cancel_pending(&running).await.unwrap(),
        Repair::WrongState(_)
    ));
    assert_eq!(
        admin.cancel_pending(&JobId::generate()).await.unwrap(),
        Repair::NotFound
    );

    let cancelled = kit.jobs.get(&waiting).await.unwrap().unwrap();
    assert_eq!(cancelled.status, JobStatus::Failed);
    assert!(cancelled.error.unwrap().contains("cancelled"));
    assert!(kit.list("yt:export:queue").await.is_empty());
    assert_eq!(kit.status(&running).await, JobStatus::Processing);
}
