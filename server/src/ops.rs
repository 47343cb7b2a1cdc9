//! What operators and monitoring reach: `/metrics` (Prometheus text), `/healthz` (the
//! process answers) and `/readyz` (Redis, the database and storage answer), plus the
//! middleware counting every request by route pattern and status.
//!
//! These paths sit on the server's own listener; the public nginx site answers 404 for
//! them (`deploy/nginx.conf`), so only the internal network scrapes and probes.

use std::time::Instant;

use axum::{
    Router,
    extract::{MatchedPath, Request, State},
    middleware::Next,
    response::Response,
    routing::get,
};

use crate::AppState;

/// Route label of requests no route matched (static files, unknown paths).
const UNMATCHED: &str = "(fallback)";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { yt_metrics::endpoints::alive() }))
        .route("/readyz", get(ready))
}

/// Samples the shared gauges (jobs by state, live workers, local storage use), then
/// renders.
async fn metrics(State(state): State<AppState>) -> Response {
    yt_metrics::sample_jobs(&state.redis).await;
    if let Some(root) = state
        .account
        .storage()
        .local_root()
        .map(|p| p.to_path_buf())
    {
        let sampled = tokio::task::spawn_blocking(move || yt_metrics::sample_local_storage(&root));
        if let Ok(Err(error)) = sampled.await {
            tracing::warn!(%error, "could not measure the export folder");
        }
    }
    yt_metrics::endpoints::metrics_text()
}

async fn ready(State(state): State<AppState>) -> Response {
    let account = &state.account;
    use yt_metrics::endpoints::check;

    yt_metrics::endpoints::readiness(vec![
        (
            "redis",
            check(async { account.jobs().ping().await.map_err(|e| e.to_string()) }),
        ),
        (
            "database",
            check(async { account.db().ping().await.map_err(|e| e.to_string()) }),
        ),
        (
            "storage",
            check(async { account.storage().check().await.map_err(|e| e.to_string()) }),
        ),
    ])
    .await
}

/// Counts each answered request under its route pattern, never the path as sent.
pub async fn count_requests(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED.to_owned(), |path| path.as_str().to_owned());
    let started = Instant::now();

    let response = next.run(request).await;

    yt_metrics::http_request(
        method.as_str(),
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}
