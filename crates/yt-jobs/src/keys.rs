//! Redis key names. Operators rely on these; extend the layout, never rename it.

use crate::JobId;

/// List of waiting job ids: the API LPUSHes, workers pop from the right.
pub const QUEUE: &str = "yt:export:queue";

/// The hash of one job.
pub fn job(id: &JobId) -> String {
    format!("yt:export:job:{id}")
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
