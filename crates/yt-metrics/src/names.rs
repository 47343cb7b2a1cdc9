//! Every metric name and what it means. Names follow Prometheus conventions: a `yt_`
//! prefix, base units in the name (`_seconds`, `_bytes`), `_total` on counters.

use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};

/// Counter; labels `method`, `route` (the route pattern, never the path as sent),
/// `status`. Server.
pub const HTTP_REQUESTS: &str = "yt_http_requests_total";

/// Histogram; labels `method`, `route`. Server.
pub const HTTP_REQUEST_DURATION: &str = "yt_http_request_duration_seconds";

/// Counter; label `scope` (`export`, `status`, `download`, `login-address`,
/// `login-account`). Server.
pub const RATE_LIMIT_REFUSALS: &str = "yt_rate_limit_refusals_total";

/// Gauge, sampled at scrape time (LLEN of the queue). Server and worker.
pub const QUEUE_LENGTH: &str = "yt_export_queue_length";

/// Counter; label `status` (`completed`, `failed`, `skipped`, `aborted`: Redis was
/// unreachable mid-job). Worker.
pub const JOBS_FINISHED: &str = "yt_export_jobs_finished_total";

/// Histogram of whole jobs, from taking the job to the email; label `status`. Worker.
pub const JOB_DURATION: &str = "yt_export_job_duration_seconds";

/// Histogram; label `phase` (`archive`: read, write, store and publish; `email`).
/// Worker.
pub const JOB_PHASE_DURATION: &str = "yt_export_job_phase_duration_seconds";

/// Gauge, sampled at scrape time: jobs by `state` (`waiting`, `delayed`, `processing`,
/// `failed`: failed jobs whose record remains). Server and worker.
pub const JOBS: &str = "yt_export_jobs";

/// Counter of the bytes of every archive stored. Worker.
pub const ARCHIVE_BYTES: &str = "yt_export_archive_bytes_total";

/// Counter of emails to users; labels `kind` (`ready`, `failure`) and `outcome` (`sent`,
/// `failed`). Worker.
pub const EMAILS: &str = "yt_export_emails_total";

/// Counter of archives deleted by cleanup. Worker.
pub const CLEANUP_DELETED: &str = "yt_export_cleanup_deleted_total";

/// Counter of the bytes cleanup freed. Worker.
pub const CLEANUP_DELETED_BYTES: &str = "yt_export_cleanup_deleted_bytes_total";

/// Gauge, sampled at scrape time: bytes of archives in the local export folder (local
/// backend only). Server and worker.
pub const STORAGE_BYTES: &str = "yt_export_storage_bytes";

/// Gauge, sampled at scrape time: archives in the local export folder. Server and worker.
pub const STORAGE_ARCHIVES: &str = "yt_export_storage_archives";

/// Gauge: 1 while this worker runs. `sum(yt_export_worker_up)` counts scraped workers.
pub const WORKER_UP: &str = "yt_export_worker_up";

/// Gauge: workers whose heartbeat in Redis is fresh, as one process sees them.
pub const WORKERS_LIVE: &str = "yt_export_workers_live";

/// Describes every metric to the recorder (the `# HELP` and unit lines).
pub(crate) fn describe() {
    describe_counter!(HTTP_REQUESTS, "HTTP requests answered, by route and status");
    describe_histogram!(
        HTTP_REQUEST_DURATION,
        Unit::Seconds,
        "Time to answer an HTTP request, up to its head"
    );
    describe_counter!(
        RATE_LIMIT_REFUSALS,
        "Requests refused with 429 by a rate limit"
    );
    describe_gauge!(QUEUE_LENGTH, "Export jobs waiting in the queue");
    describe_gauge!(
        JOBS,
        "Export jobs by state: waiting, delayed, processing, failed"
    );
    describe_counter!(JOBS_FINISHED, "Export jobs this worker finished, by status");
    describe_histogram!(
        JOB_DURATION,
        Unit::Seconds,
        "Time an export job took, by status"
    );
    describe_histogram!(
        JOB_PHASE_DURATION,
        Unit::Seconds,
        "Time an export job spent in each phase"
    );
    describe_counter!(ARCHIVE_BYTES, Unit::Bytes, "Bytes of archives stored");
    describe_counter!(
        EMAILS,
        "Emails to users (export ready, export failed), by outcome"
    );
    describe_counter!(CLEANUP_DELETED, "Expired archives deleted by cleanup");
    describe_counter!(
        CLEANUP_DELETED_BYTES,
        Unit::Bytes,
        "Bytes freed by deleting expired archives"
    );
    describe_gauge!(
        STORAGE_BYTES,
        Unit::Bytes,
        "Bytes of archives in the local export folder"
    );
    describe_gauge!(STORAGE_ARCHIVES, "Archives in the local export folder");
    describe_gauge!(WORKER_UP, "1 while this worker process runs");
    describe_gauge!(WORKERS_LIVE, "Workers with a fresh heartbeat in Redis");
}
