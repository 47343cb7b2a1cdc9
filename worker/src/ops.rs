//! The worker's operator listener on `YT_WORKER_METRICS_ADDR`: `/metrics`, `/healthz`
//! and `/readyz`, the same answers as the server's. Started by `worker run` only.

use std::{net::SocketAddr, sync::Arc};

use anyhow::Context as _;
use axum::{Router, extract::State, response::Response, routing::get};
use tokio_util::sync::CancellationToken;

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
    yt_metrics::sample_jobs(&ctx.redis).await;
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
