//! Prometheus metrics of the server and the worker, in one place.
//!
//! Every metric name is a constant in [`names`], described once by [`install`]; call
//! sites use the one-line helpers in [`record`] (`yt_metrics::job_finished(..)`), so a
//! metric is renamed or relabelled here and nowhere else. Each process keeps its own
//! registry and renders it as Prometheus text on its `/metrics`: the server on its own
//! listener (nginx hides the path from the public site), each worker on
//! `YT_WORKER_METRICS_ADDR`.
//!
//! Gauges of shared state (jobs by state, live workers, stored archives) are sampled when
//! scraped ([`sample_jobs`], [`sample_local_storage`]), so they are as fresh as the
//! scrape and cost nothing in between.

pub mod endpoints;
pub mod names;
mod record;
mod recorder;
mod sample;

pub use record::{
    archive_written, cleanup_finished, email_outcome, http_request, job_finished, rate_limited,
    time_phase, worker_up,
};
pub use recorder::{MetricsError, install, render};
pub use sample::{LocalStorageUse, sample_jobs, sample_local_storage};
