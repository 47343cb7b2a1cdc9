//! Job metrics recorded around the job code, so `job.rs` carries one call per event.

use std::{future::Future, time::Instant};

use crate::job::Outcome;

/// Runs one attempt at a job and counts how it ended, with its duration, under
/// `yt_export_jobs_finished_total` and `yt_export_job_duration_seconds`. A job whose
/// record could not even be read or written (Redis gone) counts as `aborted`.
pub async fn job<F>(work: F) -> anyhow::Result<Outcome>
where
    F: Future<Output = anyhow::Result<Outcome>>,
{
    let started = Instant::now();
    let outcome = work.await;
    let status = match &outcome {
        Ok(Outcome::Completed) => "completed",
        Ok(Outcome::Failed) => "failed",
        Ok(Outcome::Retrying) => "retrying",
        Ok(Outcome::HandedBack) => "handed_back",
        Ok(Outcome::LostLease) => "lost_lease",
        Ok(Outcome::Skipped) => "skipped",
        Err(_) => "aborted",
    };
    yt_metrics::job_finished(status, started.elapsed());
    outcome
}
