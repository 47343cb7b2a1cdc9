//! The operator commands as an operator runs them: `worker status`, `retry` and `cancel`
//! against a real Redis, reading what real jobs left there.

mod support;

use std::process::{Command, Output};

use support::TestWorker;
use worker::job::Outcome;
use yt_jobs::JobStatus;
use yt_userdata::seed;

fn operator(worker: &TestWorker, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_worker"))
        .args(args)
        .env("YT_REDIS_URL", worker.redis.url())
        .env("YT_LOG", "warn")
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[tokio::test]
async fn status_shows_failed_and_waiting_jobs_and_the_repairs_work() {
    let worker = TestWorker::start_with(None, &["--max-attempts=1"]).await;
    let demo = worker.seeded_user(seed::DEMO_EMAIL).await;
    let other = worker.seeded_user(seed::OTHER_EMAIL).await;

    // One job fails for good (storage is a file, not a folder); another waits.
    let failed = worker.queue_export(&demo).await;
    std::fs::remove_dir_all(worker.exports_dir()).ok();
    std::fs::write(worker.exports_dir(), b"not a folder").unwrap();
    assert_eq!(worker.run_next().await, Outcome::Failed);
    let waiting = worker.queue_export(&other).await;

    let report = stdout(&operator(&worker, &["status"]));
    assert!(report.contains("workers: 0"), "{report}");
    assert!(
        report.contains("queue: waiting=1 delayed=0 processing=0 failed=1"),
        "{report}"
    );
    let line = report
        .lines()
        .find(|line| line.contains(failed.as_str()))
        .unwrap_or_else(|| panic!("the failed job is listed: {report}"));
    assert!(line.contains(&format!("user={}", demo.id.0)), "{line}");
    assert!(line.contains("attempts=1"), "{line}");
    assert!(
        line.contains("reason=\"We could not build your export"),
        "{line}"
    );
    assert!(!report.contains(seed::DEMO_EMAIL), "no addresses: {report}");

    // Cancel the waiting job; it cannot be cancelled twice, nor can a failed one.
    let cancelled = stdout(&operator(&worker, &["cancel", waiting.as_str()]));
    assert!(cancelled.contains("cancelled"), "{cancelled}");
    assert!(
        !operator(&worker, &["cancel", waiting.as_str()])
            .status
            .success()
    );
    assert!(
        !operator(&worker, &["cancel", failed.as_str()])
            .status
            .success()
    );

    // Retry the failed job: it waits again, and runs to completion once storage is back.
    let retried = stdout(&operator(&worker, &["retry", failed.as_str()]));
    assert!(retried.contains("queued again"), "{retried}");
    let report = stdout(&operator(&worker, &["status"]));
    assert!(
        report.contains("queue: waiting=1 delayed=0 processing=0 failed=1"),
        "the retried job waits; the cancelled one is listed as failed: {report}"
    );
    assert!(
        !report.contains(&format!("{}  user=", failed.as_str())),
        "{report}"
    );
    assert!(
        report.contains("reason=\"This export was cancelled"),
        "{report}"
    );
    std::fs::remove_file(worker.exports_dir()).unwrap();
    assert_eq!(worker.run_next().await, Outcome::Completed);
    let job = worker.jobs().get(&failed).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Completed);

    // Bad input: a clear refusal, nothing changed.
    let bad = operator(&worker, &["retry", "not-a-job"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not a job id"));
    let unknown = operator(&worker, &["retry", yt_jobs::JobId::generate().as_str()]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("not found"));
}
