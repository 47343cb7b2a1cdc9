//! One export job, as a short list of steps: load the job, collect the user's data,
//! write and store the archive, publish the result, notify the user.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::Utc;
use tokio::sync::watch;
use tracing::Instrument;
use yt_jobs::{CompletedExport, ExportJob, JobId, JobStatus, Phase, Progress, archive_filename};
use yt_mail::{ExportReady, export_ready, mask_address};
use yt_userdata::UserId;

use crate::{
    WorkerContext,
    pipeline::{self, ExportPlan},
};

/// Progress is written to Redis at most this often.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(250);

/// The job record outlives its archive by this much, so the page can say "expired".
const RECORD_GRACE: Duration = Duration::from_secs(3600);

/// How a job ended, for the caller's log and counters.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Completed,
    Failed,
    /// The job was gone or already handled; nothing was done.
    Skipped,
}

/// A failure the user is told about, with the reason they read.
#[derive(Debug, thiserror::Error)]
#[error("{reason}")]
struct UserFacing {
    reason: &'static str,
    #[source]
    cause: anyhow::Error,
}

/// Runs one job to its end. Errors are recorded on the job, never returned: only a
/// failure to reach Redis at all comes back as `Err`.
pub async fn run(ctx: &WorkerContext, id: &JobId) -> anyhow::Result<Outcome> {
    let span = tracing::info_span!("export", job.id = %id);
    crate::measure::job(run_in_span(ctx, id))
        .instrument(span)
        .await
}

async fn run_in_span(ctx: &WorkerContext, id: &JobId) -> anyhow::Result<Outcome> {
    let started = Instant::now();

    // Load the job.
    let Some(job) = ctx.jobs.get(id).await.context("loading the job")? else {
        tracing::warn!("job record is gone; skipping");
        return Ok(Outcome::Skipped);
    };
    if job.status != JobStatus::Pending {
        tracing::warn!(job.status = %job.status, "job is not pending; skipping");
        return Ok(Outcome::Skipped);
    }
    if !ctx
        .jobs
        .mark_processing(id, Utc::now())
        .await
        .context("marking the job")?
    {
        return Ok(Outcome::Skipped);
    }
    tracing::info!(user.id = job.user_id, "export started");

    // Collect, write, store and publish.
    match yt_metrics::time_phase("archive", export(ctx, &job)).await {
        Ok((completed, display_name)) => {
            tracing::info!(
                archive.bytes = completed.archive_bytes,
                duration_ms = started.elapsed().as_millis() as u64,
                "export completed"
            );
            yt_metrics::archive_written(completed.archive_bytes);
            ctx.jobs
                .end_active(&job, false)
                .await
                .context("ending the active export")?;
            yt_metrics::time_phase(
                "email",
                notify(ctx, &job, &completed, display_name.as_deref()),
            )
            .await;
            Ok(Outcome::Completed)
        }
        Err(failure) => {
            tracing::error!(
                error = format!("{:#}", failure.cause),
                duration_ms = started.elapsed().as_millis() as u64,
                "export failed"
            );
            ctx.jobs
                .fail(id, failure.reason, Utc::now())
                .await
                .context("recording the failure")?;

            // The failure is ours, so the export does not count against the user's limit.
            let released = ctx
                .jobs
                .end_active(&job, true)
                .await
                .context("giving the export quota back")?;
            tracing::info!(quota.released = released, "export quota given back");
            Ok(Outcome::Failed)
        }
    }
}

/// Steps two to five; returns the published export and the user's display name.
async fn export(
    ctx: &WorkerContext,
    job: &ExportJob,
) -> Result<(CompletedExport, Option<String>), UserFacing> {
    let generic = "We could not build your export. Please try again later.";
    let internal = |cause: anyhow::Error| UserFacing {
        reason: generic,
        cause,
    };

    let user = ctx
        .db
        .user_by_id(UserId(job.user_id))
        .await
        .context("loading the user")
        .map_err(internal)?
        .ok_or_else(|| UserFacing {
            reason: "Your account no longer exists.",
            cause: anyhow::anyhow!("user {} not found", job.user_id),
        })?;
    let counts = ctx
        .db
        .counts(user.id)
        .await
        .context("counting rows")
        .map_err(internal)?;

    let key = archive_filename(&job.id);
    let generated_at = Utc::now();
    let expires_at = generated_at + ctx.args.export.ttl();
    let plan = ExportPlan {
        user: &user,
        counts,
        key: &key,
        generated_at,
        expires_at,
        compression_level: ctx.args.tuning.compression_level,
        batch_size: ctx.args.tuning.batch_size,
        page_pause: ctx.args.tuning.page_pause(),
    };

    let (progress_tx, progress_rx) = watch::channel(Progress::new(Phase::Profile, 0, 1));
    let publisher = tokio::spawn(
        publish_progress(ctx.jobs.clone(), job.id.clone(), progress_rx).in_current_span(),
    );
    let written = pipeline::export_to_storage(&ctx.db, &ctx.storage, &plan, &progress_tx).await;
    drop(progress_tx);
    let _ = publisher.await;

    let manifest = written.map_err(|e| UserFacing {
        reason: if e.is_transient() {
            "We could not build your export because a service was unavailable. \
             Please try again in a few minutes."
        } else {
            generic
        },
        cause: e.into(),
    })?;

    let completed = CompletedExport {
        download_url: ctx.args.export.download_url(&key),
        storage_id: key,
        completed_at: Utc::now(),
        expires_at,
        archive_bytes: manifest.archive_bytes,
        archive_sha256: manifest.archive_sha256,
        keep_for: ctx.args.export.ttl() + RECORD_GRACE,
    };
    ctx.jobs
        .complete(&job.id, &completed)
        .await
        .context("recording completion")
        .map_err(internal)?;
    Ok((completed, user.display_name))
}

/// Copies the pipeline's progress into the job record, at most every 250 ms.
async fn publish_progress(
    jobs: yt_jobs::JobStore,
    id: JobId,
    mut progress: watch::Receiver<Progress>,
) {
    while progress.changed().await.is_ok() {
        let current = *progress.borrow_and_update();
        if let Err(error) = jobs.record_progress(&id, &current).await {
            tracing::warn!(%error, "could not record progress");
        }
        tokio::time::sleep(PROGRESS_INTERVAL).await;
    }
}

/// Emails the link. A failed email leaves the export completed; the outcome is recorded
/// on the job as `email_status`.
async fn notify(
    ctx: &WorkerContext,
    job: &ExportJob,
    completed: &CompletedExport,
    display_name: Option<&str>,
) {
    let (subject, text, html) = export_ready(&ExportReady {
        display_name,
        download_url: &completed.download_url,
        expires_at: completed.expires_at,
    });
    let recipient = mask_address(&job.email);

    let status = match ctx
        .mailer
        .send(&job.email, &subject, text, html, job.id.as_str())
        .await
    {
        Ok(sent) => {
            tracing::info!(
                mail.to = %recipient,
                mail.message_id = %sent.message_id,
                mail.outbox_file = sent.outbox_file.as_ref().map(|p| p.display().to_string()),
                "ready email sent"
            );
            yt_metrics::email_outcome(true);
            "sent".to_owned()
        }
        Err(error) => {
            tracing::error!(mail.to = %recipient, %error, "ready email failed");
            yt_metrics::email_outcome(false);
            format!("failed: {error}")
        }
    };
    if let Err(error) = ctx.jobs.set_email_status(&job.id, &status).await {
        tracing::warn!(%error, "could not record the email status");
    }
}
