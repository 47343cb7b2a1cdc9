//! The export worker: takes jobs off the Redis queue and turns each into a ZIP archive in
//! storage and a "ready" email.
//!
//! A job goes through named steps ([`job`]): load the job, collect the user's data, write
//! the archive, store it, publish the result, notify the user. The archive is written by
//! a three-stage [`pipeline`] (database pages → ZIP on a blocking thread → upload), so
//! memory stays flat whatever the size of the watch history. Any number of workers can
//! share one Redis; each takes one job at a time, under a lease (see [`runner`]), so a job
//! whose worker dies goes back to the queue.

pub mod cleanup;
pub mod cleanup_lock;
pub mod config;
pub mod context;
pub mod job;
pub mod measure;
pub mod ops;
pub mod pipeline;
pub mod readme;
pub mod runner;
pub mod status;

pub use config::WorkerArgs;
pub use context::WorkerContext;
