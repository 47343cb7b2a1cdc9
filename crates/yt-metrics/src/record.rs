//! One-line helpers for call sites: each records one event under its name in
//! [`crate::names`], with labels from a closed set.

use std::time::{Duration, Instant};

use metrics::{counter, gauge, histogram};

use crate::names::*;

/// Job statuses a worker reports, zeroed at start so dashboards show them from the
/// first scrape.
const JOB_STATUSES: [&str; 7] = [
    "completed",
    "failed",
    "retrying",
    "handed_back",
    "lost_lease",
    "skipped",
    "aborted",
];

/// One answered HTTP request. `route` must be a route pattern (`MatchedPath`), not the
/// path as sent: labels stay few whatever clients ask for.
pub fn http_request(method: &str, route: &str, status: u16, elapsed: Duration) {
    let method = known_method(method);
    counter!(
        HTTP_REQUESTS,
        "method" => method,
        "route" => route.to_owned(),
        "status" => status.to_string()
    )
    .increment(1);
    histogram!(HTTP_REQUEST_DURATION, "method" => method, "route" => route.to_owned())
        .record(elapsed.as_secs_f64());
}

/// A request refused by the rate limit of `scope`.
pub fn rate_limited(scope: &str) {
    counter!(RATE_LIMIT_REFUSALS, "scope" => scope.to_owned()).increment(1);
}

/// The queue's length, as just read from Redis.
fn set_queue_length(jobs: u64) {
    gauge!(QUEUE_LENGTH).set(jobs as f64);
}

/// Jobs by state, as counted from Redis by the caller; `waiting` is the queue length.
pub(crate) fn set_jobs_by_state(waiting: u64, delayed: u64, processing: u64, failed: u64) {
    set_queue_length(waiting);
    for (state, jobs) in [
        ("waiting", waiting),
        ("delayed", delayed),
        ("processing", processing),
        ("failed", failed),
    ] {
        gauge!(JOBS, "state" => state).set(jobs as f64);
    }
}

/// A run of a job ended with `status` (one of [`JOB_STATUSES`]) after
/// `elapsed`.
pub fn job_finished(status: &'static str, elapsed: Duration) {
    counter!(JOBS_FINISHED, "status" => status).increment(1);
    histogram!(JOB_DURATION, "status" => status).record(elapsed.as_secs_f64());
}

/// Runs `work` as the job phase `phase` (`archive`, `email`) and records its duration.
pub async fn time_phase<F: Future>(phase: &'static str, work: F) -> F::Output {
    let started = Instant::now();
    let output = work.await;
    histogram!(JOB_PHASE_DURATION, "phase" => phase).record(started.elapsed().as_secs_f64());
    output
}

/// An archive of `bytes` was stored.
pub fn archive_written(bytes: u64) {
    counter!(ARCHIVE_BYTES).increment(bytes);
}

/// An email of `kind` (`ready`, `failure`) was sent (`true`) or failed.
pub fn email_outcome(kind: &'static str, sent: bool) {
    let outcome = if sent { "sent" } else { "failed" };
    counter!(EMAILS, "kind" => kind, "outcome" => outcome).increment(1);
}

/// One cleanup pass deleted `archives` archives of `bytes` in all.
pub fn cleanup_finished(archives: u64, bytes: u64) {
    counter!(CLEANUP_DELETED).increment(archives);
    counter!(CLEANUP_DELETED_BYTES).increment(bytes);
}

/// Marks this process as a running worker, and zeroes the worker's counters so every
/// series exists from the first scrape.
pub fn worker_up() {
    gauge!(WORKER_UP).set(1.0);
    for status in JOB_STATUSES {
        counter!(JOBS_FINISHED, "status" => status).absolute(0);
    }
    for kind in ["ready", "failure"] {
        for outcome in ["sent", "failed"] {
            counter!(EMAILS, "kind" => kind, "outcome" => outcome).absolute(0);
        }
    }
    counter!(ARCHIVE_BYTES).absolute(0);
    counter!(CLEANUP_DELETED).absolute(0);
    counter!(CLEANUP_DELETED_BYTES).absolute(0);
}

/// Workers with a fresh heartbeat, as counted from Redis by the caller.
pub(crate) fn set_live_workers(workers: u64) {
    gauge!(WORKERS_LIVE).set(workers as f64);
}

/// The method as a label: the standard ones by name, anything else as `other`.
fn known_method(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "PATCH" => "PATCH",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_methods_share_one_label() {
        assert_eq!(known_method("POST"), "POST");
        assert_eq!(known_method("BREW"), "other");
    }
}
