//! Redis key names. Operators rely on these; extend the layout, never rename it.

use crate::JobId;

/// List of waiting job ids: the API LPUSHes, workers pop from the right.
pub const QUEUE: &str = "yt:export:queue";

/// The hash of one job.
pub fn job(id: &JobId) -> String {
    format!("{}{id}", job_prefix())
}

/// What every job hash's key starts with.
pub fn job_prefix() -> &'static str {
    "yt:export:job:"
}

/// The id of a user's most recent job.
pub fn latest_for_user(user_id: i64) -> String {
    format!("yt:export:user:{user_id}:latest")
}

/// The id of a user's pending or processing job, while there is one: set when a request
/// is admitted, cleared by the worker when the job ends. One active export per user.
pub fn active_for_user(user_id: i64) -> String {
    format!("yt:export:user:{user_id}:active")
}

/// A rate-limit window: a sorted set of admitted requests scored by time in ms.
/// `scope` names the limit (`export`, `status`, ...), `subject` whom it counts.
pub fn rate_limit(scope: &str, subject: &str) -> String {
    format!("yt:ratelimit:{scope}:{subject}")
}

/// List of job ids that workers have taken off the queue and not yet finished. A job
/// moves here atomically (BLMOVE), so a worker that dies still leaves it somewhere.
pub const PROCESSING: &str = "yt:export:processing";

/// Sorted set of taken job ids scored by the end of their lease (ms since the epoch, by
/// Redis's clock). A job whose lease lapsed goes back to the queue.
pub const LEASES: &str = "yt:export:leases";

/// Sorted set of job ids waiting to be retried, scored by when (ms since the epoch).
pub const DELAYED: &str = "yt:export:delayed";

/// Sorted set of failed job ids scored by when they failed (ms), for operators.
pub const FAILED: &str = "yt:export:failed";

/// Sorted set: completed job id → when its "ready" email is due to be sent by a sweep
/// (ms), until the email's outcome is recorded.
pub const UNSENT: &str = "yt:export:unsent";

/// Sorted set of worker ids scored by their last heartbeat (ms).
pub const WORKERS: &str = "yt:export:workers";

/// The heartbeat hash of one worker; it expires when the worker stops beating.
pub fn worker(worker_id: &str) -> String {
    format!("yt:export:worker:{worker_id}")
}
