//! The worker's main loop: take a job, run it, repeat. Beside it run the heartbeat, the
//! reaper that returns lapsed jobs to the queue, and the hourly cleanup.
//!
//! On shutdown the worker stops taking jobs and gives the current one the grace period
//! to finish; after that the job is handed back to the queue for another worker.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;
use yt_jobs::{JobId, WorkerBeat};

use crate::{
    WorkerContext, cleanup,
    job::{self, Outcome},
};

/// The longest pause after Redis errors before waiting on the queue again.
const MAX_REDIS_PAUSE: Duration = Duration::from_secs(10);

/// What the heartbeat reports: the current job and the counts so far.
#[derive(Default)]
struct WorkerState {
    current_job: Mutex<Option<JobId>>,
    jobs_done: AtomicU64,
    jobs_failed: AtomicU64,
}

/// Runs until `shutdown` is cancelled, then lets the current job finish within the grace
/// period or hands it back.
pub async fn run(ctx: Arc<WorkerContext>, shutdown: CancellationToken) {
    let state = Arc::new(WorkerState::default());
    let started_at = Utc::now();
    let background = CancellationToken::new();
    let tasks = [
        tokio::spawn(heartbeat_loop(
            ctx.clone(),
            state.clone(),
            started_at,
            background.clone(),
        )),
        tokio::spawn(reaper_loop(ctx.clone(), background.clone())),
        tokio::spawn(cleanup_loop(ctx.clone(), background.clone())),
    ];
    tracing::info!(worker.id = %ctx.worker_id, "worker waiting for jobs");

    let mut pause = Duration::from_millis(250);
    loop {
        // Biased: once shutdown is requested no new BLMOVE may be sent, or a job just
        // handed back could be moved again by a worker that is leaving. (One already
        // waiting when the signal comes is dropped; a job it moves in that instant has
        // no lease and the reaper returns it.)
        let taken = tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            taken = ctx.queue.take(ctx.args.tuning.poll_timeout()) => taken,
        };
        match taken {
            Ok(Some(id)) => {
                pause = Duration::from_millis(250);
                run_job(&ctx, &state, &id, &shutdown).await;
            }
            Ok(None) => pause = Duration::from_millis(250),
            Err(error) => {
                tracing::warn!(%error, retry_in_ms = pause.as_millis() as u64,
                    "waiting on the queue failed; retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_REDIS_PAUSE);
            }
        }
    }

    background.cancel();
    for task in tasks {
        let _ = task.await;
    }
    if let Err(error) = ctx.workers.remove(&ctx.worker_id).await {
        tracing::warn!(%error, "could not remove the heartbeat");
    }
    ctx.queue.quit().await;
    tracing::info!(worker.id = %ctx.worker_id, "worker stopped");
}

/// Runs one job; once shutdown is requested it has the grace period left to finish.
async fn run_job(
    ctx: &WorkerContext,
    state: &WorkerState,
    id: &JobId,
    shutdown: &CancellationToken,
) {
    *state.current_job.lock().expect("worker state lock") = Some(id.clone());

    let hand_back = CancellationToken::new();
    let grace = ctx.args.reliability.shutdown_grace();
    let watchdog = {
        let (shutdown, hand_back) = (shutdown.clone(), hand_back.clone());
        tokio::spawn(async move {
            shutdown.cancelled().await;
            tracing::info!(
                grace_ms = grace.as_millis() as u64,
                "shutdown requested; the current job may finish within the grace period"
            );
            tokio::time::sleep(grace).await;
            hand_back.cancel();
        })
    };
    let outcome = job::run(ctx, id, &hand_back).await;
    watchdog.abort();

    match outcome {
        Ok(Outcome::Completed) => {
            state.jobs_done.fetch_add(1, Ordering::Relaxed);
        }
        Ok(Outcome::Failed) => {
            state.jobs_failed.fetch_add(1, Ordering::Relaxed);
        }
        Ok(_) => {}
        Err(error) => {
            tracing::error!(job.id = %id, error = format!("{error:#}"),
                "job interrupted; its lease will lapse and it will run again");
        }
    }
    *state.current_job.lock().expect("worker state lock") = None;
}

async fn heartbeat_loop(
    ctx: Arc<WorkerContext>,
    state: Arc<WorkerState>,
    started_at: DateTime<Utc>,
    stop: CancellationToken,
) {
    let every = ctx.args.reliability.heartbeat();
    let mut ticks = tokio::time::interval(every);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = ticks.tick() => {}
        }
        let beat = WorkerBeat {
            worker_id: ctx.worker_id.clone(),
            host: ctx.host.clone(),
            pid: std::process::id(),
            started_at,
            current_job: state
                .current_job
                .lock()
                .expect("worker state lock")
                .as_ref()
                .map(JobId::to_string),
            jobs_done: state.jobs_done.load(Ordering::Relaxed),
            jobs_failed: state.jobs_failed.load(Ordering::Relaxed),
            beat_at: Utc::now(),
        };
        if let Err(error) = ctx.workers.beat(&beat, every * 3).await {
            tracing::warn!(%error, "could not publish the heartbeat");
        }
    }
}

/// Returns jobs whose lease lapsed to the queue, and queues retries that fell due.
async fn reaper_loop(ctx: Arc<WorkerContext>, stop: CancellationToken) {
    let lease = ctx.args.reliability.lease();
    let mut ticks = tokio::time::interval(ctx.args.reliability.reap_every());
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = ticks.tick() => {}
        }
        match ctx.queue.reap(lease).await {
            Ok(reaped) => {
                for id in &reaped.reclaimed {
                    tracing::warn!(job.id = %id, "lease lapsed; job returned to the queue");
                }
                if reaped.promoted > 0 {
                    tracing::info!(jobs.count = reaped.promoted, "retries queued");
                }
            }
            Err(error) => tracing::warn!(%error, "reaping lapsed jobs failed; will try again"),
        }
        if let Err(error) = job::send_overdue_emails(&ctx).await {
            tracing::warn!(%error, "sending overdue emails failed; will try again");
        }
    }
}

async fn cleanup_loop(ctx: Arc<WorkerContext>, stop: CancellationToken) {
    let mut interval = tokio::time::interval(ctx.args.tuning.cleanup_interval());
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = interval.tick() => {}
        }
        if let Err(error) = cleanup::run(&ctx, Utc::now()).await {
            tracing::warn!(
                error = format!("{error:#}"),
                "cleanup failed; will try again"
            );
        }
    }
}

/// Cancels `token` on SIGTERM or Ctrl-C.
pub fn cancel_on_signal(token: CancellationToken) {
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("installing the SIGTERM handler");
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutdown requested; no new jobs will be taken");
        token.cancel();
    });
}
