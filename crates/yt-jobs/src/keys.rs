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
