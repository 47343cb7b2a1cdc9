//! Export jobs: what one is, how it is named, and where it lives in Redis.
//!
//! The Redis layout is a public contract that operators query with `redis-cli`:
//!
//! ```text
//! yt:export:queue                    list of job ids; the API LPUSHes, workers pop the other end
//! yt:export:job:{job_id}             hash: user_id, email, status, created_at, completed_at,
//!                                    storage_id, download_url, error, plus our additions
//!                                    (phase, progress_done, progress_total, expires_at, ...)
//! yt:export:user:{user_id}:latest    the id of the user's most recent job
//! yt:export:user:{user_id}:active    the id of the user's pending or processing job
//! yt:ratelimit:{scope}:{subject}     sorted set: one member per admitted request, scored
//!                                    by its time in ms (the export scope's members are
//!                                    job ids, so a failed job gives its unit back)
//! yt:export:processing               list of job ids taken by workers (BLMOVE from the queue)
//! yt:export:leases                   sorted set: taken job id -> lease end (ms)
//! yt:export:delayed                  sorted set: job id -> when to retry it (ms)
//! yt:export:failed                   sorted set: failed job id -> when it failed (ms)
//! yt:export:workers                  sorted set: worker id -> last heartbeat (ms)
//! yt:export:worker:{worker_id}       hash with a TTL: host, pid, current_job, jobs_done, ...
//! ```
//!
//! The model (ids, statuses, progress, the public [`JobView`]) compiles for the browser too;
//! the Redis store sits behind the `store` feature.

mod id;
mod model;
mod view;

#[cfg(feature = "store")]
pub mod admin;
#[cfg(feature = "store")]
pub mod keys;
#[cfg(feature = "store")]
mod queue;
#[cfg(feature = "store")]
mod store;
#[cfg(feature = "store")]
mod workers;

pub use id::{InvalidJobId, JobId, archive_filename, job_id_from_filename};
pub use model::{ExportJob, JobStatus, Phase, Progress, thousands};
pub use view::{JobView, ProgressView};

#[cfg(feature = "store")]
pub use queue::{Claim, JobQueue, Lease, Reaped, UNSENT_EMAIL_GRACE};
#[cfg(feature = "store")]
pub use store::{CompletedExport, EXPORT_SCOPE, JobStore, StoreError, connect_pool};
#[cfg(feature = "store")]
pub use workers::{WorkerBeat, WorkerRegistry};
