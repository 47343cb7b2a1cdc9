//! The worker's operator listener on `YT_WORKER_METRICS_ADDR`: `/metrics`, `/healthz`
//! and `/readyz`, the same answers as the server's. Started by `worker run` only.

use std::{net::SocketAddr, sync::Arc};

use anyhow::Context as _;
use axum::{Router, extract::State, response::Response, routing::get};
use tokio_util::sync::CancellationToken;
use yt_jobs::admin::QueueAdmin;

use crate::WorkerContext;

/// Binds `addr` (port 0 picks a free one) and serves until `shutdown`; returns the bound
/// address and the serving task.
pub async fn serve(
    ctx: Arc<WorkerContext>,
    addr: SocketAddr,
    shutdown: CancellationToken,
) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    yt_metrics::install().context("setting up metrics")?;
    yt_metrics::worker_up();

    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding the metrics listener (YT_WORKER_METRICS_ADDR {addr})"))?;
    let bound = listener.local_addr()?;
    tracing::info!(metrics.addr = %bound, "metrics and health listening");

    let router = Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { yt_metrics::endpoints::alive() }))
        .route("/readyz", get(ready))
        .with_state(ctx);
    let task = tokio::spawn(async move {
        let stopped = axum::serve(listener, router)
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await;
        if let Err(error) = stopped {
            tracing::error!(%error, "metrics listener stopped");
        }
    });
    Ok((bound, task))
}

/// Samples the shared gauges (jobs by state, live workers, local storage use), then
/// renders.
async fn metrics(State(ctx): State<Arc<WorkerContext>>) -> Response {
    match QueueAdmin::new(ctx.redis.clone()).stats().await {
        Ok(jobs) => {
            yt_metrics::set_jobs_by_state(jobs.waiting, jobs.delayed, jobs.processing, jobs.failed)
        }
        Err(error) => tracing::warn!(%error, "could not count the jobs"),
    }
    match ctx.workers.live().await {
        Ok(workers) => yt_metrics::set_live_workers(workers.len() as u64),
        Err(error) => tracing::warn!(%error, "could not count the live workers"),
    }
    if let Some(root) = ctx.storage.local_root().map(|p| p.to_path_buf()) {
        let sampled = tokio::task::spawn_blocking(move || yt_metrics::sample_local_storage(&root));
        if let Ok(Err(error)) = sampled.await {
            tracing::warn!(%error, "could not measure the export folder");
        }
    }
    yt_metrics::endpoints::metrics_text()
}

async fn ready(State(ctx): State<Arc<WorkerContext>>) -> Response {
    use yt_metrics::endpoints::check;

    yt_metrics::endpoints::readiness(vec![
        (
            "redis",
            check(async { ctx.jobs.ping().await.map_err(|e| e.to_string()) }),
        ),
        (
            "database",
            check(async { ctx.db.ping().await.map_err(|e| e.to_string()) }),
        ),
        (
            "storage",
            check(async { ctx.storage.check().await.map_err(|e| e.to_string()) }),
        ),
    ])
    .await
}
