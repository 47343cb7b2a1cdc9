//! One export job, as a short list of steps: claim the job, collect the user's data,
//! write and store the archive, publish the result, notify the user.
//!
//! The job is held under a lease renewed in the background. A transient failure puts it
//! back to wait with a growing delay; a permanent one, or the last allowed attempt, fails
//! it for good and tells the user. Only the worker that still holds the lease may end the
//! job, so a job run twice after a lapse completes once and sends one email.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::Utc;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use yt_jobs::{
    Claim, CompletedExport, ExportJob, JobId, JobStatus, Lease, Phase, Progress, StoreError,
    UNSENT_EMAIL_GRACE, archive_filename,
};
use yt_mail::{
    ExportFailed, ExportReady, export_failed, export_ready, mask_address, mask_address_in,
};
use yt_userdata::UserId;

use crate::{
    WorkerContext,
    pipeline::{self, ExportError, ExportPlan},
};

/// Progress is written to Redis at most this often.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(250);

/// The job record outlives its archive's deletion by this much, so the page can say
/// "expired" (see `WorkerContext::record_grace`).
pub const RECORD_GRACE: Duration = Duration::from_secs(3600);

/// Recording a job's outcome is retried this long while Redis is away.
const RECORD_PATIENCE: Duration = Duration::from_secs(60);

/// Attempts and first delay for an email that failed for a reason that may pass.
const MAIL_ATTEMPTS: u32 = 3;
const MAIL_RETRY: Duration = Duration::from_millis(500);

/// What the user reads when we gave up on a failure that kept coming back.
const TRIED_TOO_OFTEN: &str = "We could not build your export after several tries. \
                               Please try again later.";

/// What the user reads when their job's record was damaged.
const UNREADABLE: &str = "We could not read your export request. Please request a new export.";

/// How a job ended, for the caller's log and counters.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Completed,
    Failed,
    /// A transient failure; the job waits for another attempt.
    Retrying,
    /// The worker is stopping; the job went back to the front of the queue.
    HandedBack,
    /// Another worker took the job over after our lease lapsed; its outcome stands.
    LostLease,
    /// The job was gone or already ended; nothing was done.
    Skipped,
}

/// A failure the user is told about, with the reason they read.
#[derive(Debug, thiserror::Error)]
#[error("{reason}")]
struct UserFacing {
    reason: &'static str,
    /// Whether another attempt can help.
    transient: bool,
    #[source]
    cause: anyhow::Error,
}

/// Runs one job taken off the queue to its end. Failures are recorded on the job, never
/// returned: only a failure to reach Redis at all comes back as `Err` (the lease then
/// lapses and the job is run again). Cancelling `stop` hands the job back.
pub async fn run(
    ctx: &WorkerContext,
    id: &JobId,
    stop: &CancellationToken,
) -> anyhow::Result<Outcome> {
    let span = tracing::info_span!("export", job.id = %id);
    crate::measure::job(run_in_span(ctx, id, stop))
        .instrument(span)
        .await
}

async fn run_in_span(
    ctx: &WorkerContext,
    id: &JobId,
    stop: &CancellationToken,
) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let reliability = &ctx.args.reliability;

    // Claim the job under a lease.
    let claim = ctx
        .queue
        .claim(id, &ctx.worker_id, reliability.lease(), Utc::now())
        .await
        .context("claiming the job")?;
    let job = match claim {
        Claim::Claimed(job) => *job,
        Claim::Gone => {
            tracing::warn!("job record is gone; skipping");
            return Ok(Outcome::Skipped);
        }
        Claim::Finished => {
            tracing::info!("job already ended; skipping");
            return Ok(Outcome::Skipped);
        }
        Claim::Corrupt { user_id, error } => {
            return fail_unreadable(ctx, id, user_id, error).await;
        }
    };
    let lease = Lease {
        job_id: id.clone(),
        worker_id: ctx.worker_id.clone(),
    };
    tracing::info!(
        user.id = job.user_id,
        job.attempt = job.attempts,
        "export started"
    );

    if job.attempts > reliability.max_attempts {
        let failure = UserFacing {
            reason: TRIED_TOO_OFTEN,
            transient: false,
            cause: anyhow::anyhow!("taken {} times without finishing", job.attempts - 1),
        };
        return give_up(ctx, &lease, &job, failure, started).await;
    }

    // Collect, write, store and publish, while the lease is kept and a stop is watched.
    let exported = tokio::select! {
        exported = yt_metrics::time_phase("archive", export(ctx, &job, &lease)) => exported,
        () = keep_lease(ctx, &lease) => {
            tracing::warn!("lease lost to another worker; abandoning this run");
            return Ok(Outcome::LostLease);
        }
        () = stop.cancelled() => {
            let handed_back = record(|| ctx.queue.hand_back(&lease)).await?;
            tracing::warn!(job.handed_back = handed_back, "job handed back to the queue");
            return Ok(Outcome::HandedBack);
        }
    };

    match exported {
        Ok(None) => {
            tracing::warn!("lease lost before publishing; the other run's outcome stands");
            Ok(Outcome::LostLease)
        }
        Ok(Some((completed, display_name))) => {
            if !record(|| ctx.queue.complete(&lease, &completed)).await? {
                tracing::warn!("lease lost before completion; the other run's outcome stands");
                return Ok(Outcome::LostLease);
            }
            tracing::info!(
                archive.bytes = completed.archive_bytes,
                duration_ms = started.elapsed().as_millis() as u64,
                "export completed"
            );
            yt_metrics::archive_written(completed.archive_bytes);
            record(|| ctx.jobs.end_active(&job, false)).await?;
            yt_metrics::time_phase(
                "email",
                notify_ready(
                    ctx,
                    &job,
                    &completed.download_url,
                    completed.expires_at,
                    display_name.as_deref(),
                ),
            )
            .await;
            Ok(Outcome::Completed)
        }
        Err(failure) if failure.transient && job.attempts < reliability.max_attempts => {
            let delay = reliability.retry_delay(job.attempts);
            let cause = format!("{:#}", failure.cause);
            tracing::warn!(
                error = %cause,
                job.attempt = job.attempts,
                retry_in_ms = delay.as_millis() as u64,
                "export failed; will retry"
            );
            if !record(|| ctx.queue.retry_later(&lease, delay, &cause, Utc::now())).await? {
                return Ok(Outcome::LostLease);
            }
            Ok(Outcome::Retrying)
        }
        Err(failure) => give_up(ctx, &lease, &job, failure, started).await,
    }
}

/// Fails the job for good: the reason goes on the job, the quota back to the user, and
/// the user gets an email saying so.
async fn give_up(
    ctx: &WorkerContext,
    lease: &Lease,
    job: &ExportJob,
    failure: UserFacing,
    started: Instant,
) -> anyhow::Result<Outcome> {
    tracing::error!(
        error = format!("{:#}", failure.cause),
        job.attempt = job.attempts,
        duration_ms = started.elapsed().as_millis() as u64,
        "export failed"
    );
    if !record(|| ctx.queue.fail(lease, failure.reason, Utc::now())).await? {
        return Ok(Outcome::LostLease);
    }

    // The failure is ours, so the export does not count against the user's limit.
    let released = record(|| ctx.jobs.end_active(job, true)).await?;
    tracing::info!(quota.released = released, "export quota given back");

    notify_failed(ctx, job, failure.reason).await;
    Ok(Outcome::Failed)
}

/// Fails a job whose record cannot be read: no attempt could ever run it, so it ends
/// now rather than going round the queue. Its user, when known, may export again and
/// gets the quota back; no email, since the address on the record cannot be trusted.
async fn fail_unreadable(
    ctx: &WorkerContext,
    id: &JobId,
    user_id: Option<i64>,
    error: StoreError,
) -> anyhow::Result<Outcome> {
    tracing::error!(%error, "job record is unreadable; failing the job");
    let lease = Lease {
        job_id: id.clone(),
        worker_id: ctx.worker_id.clone(),
    };
    if !record(|| ctx.queue.fail(&lease, UNREADABLE, Utc::now())).await? {
        return Ok(Outcome::LostLease);
    }
    if let Some(user_id) = user_id {
        let released = record(|| ctx.jobs.end_active_of(user_id, id, true)).await?;
        tracing::info!(quota.released = released, "export quota given back");
    }
    Ok(Outcome::Failed)
}

/// Renews the lease until it is lost; returns only then. Redis errors are retried while
/// the lease may still be ours; once renewals have failed for a whole lease period it
/// has lapsed, another worker may hold the job, and this run must stop.
async fn keep_lease(ctx: &WorkerContext, lease: &Lease) {
    let reliability = &ctx.args.reliability;
    let mut ticks = tokio::time::interval(reliability.renew_every());
    ticks.tick().await;
    let mut renewed_at = Instant::now();
    loop {
        ticks.tick().await;
        match ctx.queue.renew(lease, reliability.lease()).await {
            Ok(true) => renewed_at = Instant::now(),
            Ok(false) => return,
            Err(error) if renewed_at.elapsed() < reliability.lease() => {
                tracing::warn!(%error, "could not renew the lease; retrying");
            }
            Err(error) => {
                tracing::warn!(%error, "could not renew the lease for a whole lease period");
                return;
            }
        }
    }
}

/// Runs a Redis write that records an outcome, retrying for a while when Redis is away,
/// so a finished export is not thrown away over a short outage.
async fn record<T, F, Fut>(mut write: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    let deadline = Instant::now() + RECORD_PATIENCE;
    let mut pause = Duration::from_millis(100);
    loop {
        match write().await {
            Err(error) if error.is_transient() && Instant::now() < deadline => {
                tracing::warn!(%error, retry_in_ms = pause.as_millis() as u64, "Redis write failed; retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
            other => return other,
        }
    }
}

/// Steps two to five; returns the published export and the user's display name, or
/// `None` when the lease was lost before publishing (nothing was published).
async fn export(
    ctx: &WorkerContext,
    job: &ExportJob,
    lease: &Lease,
) -> Result<Option<(CompletedExport, Option<String>)>, UserFacing> {
    let generic = "We could not build your export. Please try again later.";
    let internal = |cause: anyhow::Error| UserFacing {
        reason: generic,
        transient: true,
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
            transient: false,
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
    let still_ours = async || match ctx.queue.renew(lease, ctx.args.reliability.lease()).await {
        Ok(renewed) => renewed,
        Err(error) => {
            tracing::warn!(%error, "could not confirm the lease before publishing");
            false
        }
    };
    let written =
        pipeline::export_to_storage(&ctx.db, &ctx.storage, &plan, &progress_tx, still_ours).await;
    drop(progress_tx);
    let _ = publisher.await;

    if matches!(written, Err(ExportError::NotOurs)) {
        return Ok(None);
    }
    let manifest = written.map_err(|e| {
        let transient = e.is_transient();
        UserFacing {
            reason: if transient {
                "We could not build your export because a service was unavailable. \
                 Please try again in a few minutes."
            } else {
                generic
            },
            transient,
            cause: e.into(),
        }
    })?;

    let completed = CompletedExport {
        download_url: ctx.args.export.download_url(&key),
        storage_id: key,
        completed_at: Utc::now(),
        expires_at,
        archive_bytes: manifest.archive_bytes,
        archive_sha256: manifest.archive_sha256,
        keep_for: ctx.args.export.ttl() + ctx.record_grace(),
    };
    Ok(Some((completed, user.display_name)))
}

/// Copies the pipeline's progress into the job record, at most every 250 ms. Returns as
/// soon as the pipeline ends (drops its sender): the job's outcome, written next,
/// supersedes any progress not yet recorded.
async fn publish_progress(
    jobs: yt_jobs::JobStore,
    id: JobId,
    mut progress: watch::Receiver<Progress>,
) {
    let mut unrecorded = progress.changed().await.is_ok();
    while unrecorded {
        let current = *progress.borrow_and_update();
        if let Err(error) = jobs.record_progress(&id, &current).await {
            tracing::warn!(%error, "could not record progress");
        }

        unrecorded = false;
        let pause = tokio::time::sleep(PROGRESS_INTERVAL);
        tokio::pin!(pause);
        loop {
            tokio::select! {
                () = &mut pause => break,
                changed = progress.changed() => match changed {
                    Ok(()) => unrecorded = true,
                    Err(_) => return,
                },
            }
        }

        if !unrecorded {
            unrecorded = progress.changed().await.is_ok();
        }
    }
}

/// Emails the link. A failed email leaves the export completed; the outcome is recorded
/// on the job as `email_status`.
async fn notify_ready(
    ctx: &WorkerContext,
    job: &ExportJob,
    download_url: &str,
    expires_at: chrono::DateTime<Utc>,
    display_name: Option<&str>,
) {
    let (subject, text, html) = export_ready(&ExportReady {
        display_name,
        download_url,
        expires_at,
    });
    send(ctx, job, "ready", &subject, text, html).await;
}

/// Sends the "ready" emails that completed jobs still owe: their worker stopped between
/// completing the job and recording its email (a crash, a kill). Safe in every worker at
/// once: each overdue email is taken by one sweep. Returns how many were sent or failed.
pub async fn send_overdue_emails(ctx: &WorkerContext) -> Result<u32, StoreError> {
    let mut handled = 0;
    for id in ctx.queue.take_unsent(UNSENT_EMAIL_GRACE, 20).await? {
        let job = ctx.jobs.get(&id).await?;
        let owed = job.filter(|job| {
            job.status == JobStatus::Completed && job.email_status.as_deref() == Some("pending")
        });
        let Some((job, download_url, expires_at)) = owed.and_then(|job| {
            let url = job.download_url.clone()?;
            let expires_at = job.expires_at?;
            Some((job, url, expires_at))
        }) else {
            ctx.jobs.forget_unsent(&id).await?;
            continue;
        };

        let span = tracing::info_span!("export", job.id = %id);
        async {
            tracing::warn!("the ready email was never sent; sending it now");
            let display_name = match ctx.db.user_by_id(UserId(job.user_id)).await {
                Ok(user) => user.and_then(|user| user.display_name),
                Err(error) => {
                    tracing::warn!(%error, "could not load the user's name for the email");
                    None
                }
            };
            notify_ready(
                ctx,
                &job,
                &download_url,
                expires_at,
                display_name.as_deref(),
            )
            .await;
        }
        .instrument(span)
        .await;
        handled += 1;
    }
    Ok(handled)
}

/// Tells the user the export failed and why.
async fn notify_failed(ctx: &WorkerContext, job: &ExportJob, reason: &str) {
    let account_url = ctx.args.export.account_url();
    let (subject, text, html) = export_failed(&ExportFailed {
        display_name: None,
        reason,
        account_url: &account_url,
    });
    send(ctx, job, "failure", &subject, text, html).await;
}

/// Sends one email about `job`, retrying failures that may pass, and records the outcome
/// on the job. Never fails the job.
async fn send(
    ctx: &WorkerContext,
    job: &ExportJob,
    kind: &'static str,
    subject: &str,
    text: String,
    html: String,
) {
    let recipient = mask_address(&job.email);
    let mut pause = MAIL_RETRY;
    let mut attempt = 1;
    let outcome = loop {
        let sent = ctx
            .mailer
            .send(
                &job.email,
                subject,
                text.clone(),
                html.clone(),
                job.id.as_str(),
            )
            .await;
        match sent {
            Err(error) if error.is_transient() && attempt < MAIL_ATTEMPTS => {
                tracing::warn!(
                    mail.kind = kind,
                    mail.to = %recipient,
                    mail.attempt = attempt,
                    error = %mask_address_in(&error.to_string(), &job.email),
                    "email failed; retrying"
                );
                tokio::time::sleep(pause).await;
                pause *= 2;
                attempt += 1;
            }
            other => break other,
        }
    };
    // Mail errors may echo the recipient; neither the log nor the job record keeps it.
    let outcome = outcome.map_err(|error| mask_address_in(&error.to_string(), &job.email));

    let status = match &outcome {
        Ok(sent) => {
            tracing::info!(
                mail.kind = kind,
                mail.to = %recipient,
                mail.message_id = %sent.message_id,
                mail.outbox_file = sent.outbox_file.as_ref().map(|p| p.display().to_string()),
                "email sent"
            );
            yt_metrics::email_outcome(kind, true);
            Ok(())
        }
        Err(error) => {
            tracing::error!(mail.kind = kind, mail.to = %recipient, %error, "email failed");
            yt_metrics::email_outcome(kind, false);
            Err(error.clone())
        }
    };
    let recorded = ctx
        .jobs
        .set_email_status(&job.id, status.as_ref().map(|_| ()).map_err(String::as_str))
        .await;
    if let Err(error) = recorded {
        tracing::warn!(%error, "could not record the email status");
    }
}
