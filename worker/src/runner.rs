//! The worker's main loop: wait for a job, run it, repeat; clean up on a timer; stop
//! taking jobs on shutdown and let the current one finish.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use crate::{WorkerContext, cleanup, job};

/// Pause after Redis errors before waiting on the queue again.
const REDIS_RETRY: Duration = Duration::from_secs(1);

/// Runs until `shutdown` is cancelled. A job in progress is finished first.
pub async fn run(ctx: Arc<WorkerContext>, shutdown: CancellationToken) {
    let cleaner = tokio::spawn(cleanup_loop(ctx.clone(), shutdown.clone()));
    tracing::info!("worker waiting for jobs");

    loop {
        let popped = tokio::select! {
            () = shutdown.cancelled() => break,
            popped = ctx.queue.pop(ctx.args.tuning.poll_timeout()) => popped,
        };
        match popped {
            Ok(Some(id)) => {
                if let Err(error) = job::run(&ctx, &id).await {
                    tracing::error!(job.id = %id, error = format!("{error:#}"), "job aborted");
                }
            }
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(%error, "waiting on the queue failed; retrying");
                tokio::time::sleep(REDIS_RETRY).await;
            }
        }
    }

    cleaner.abort();
    ctx.queue.quit().await;
    tracing::info!("worker stopped");
}

async fn cleanup_loop(ctx: Arc<WorkerContext>, shutdown: CancellationToken) {
    let mut interval = tokio::time::interval(ctx.args.tuning.cleanup_interval());
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
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
        tracing::info!("shutdown requested; finishing the current job");
        token.cancel();
    });
}
