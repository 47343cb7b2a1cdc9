//! The answers of the operator endpoints both binaries serve: `/metrics`, `/healthz`
//! and `/readyz`. Each binary routes them and supplies its own readiness checks.

use std::{future::Future, pin::Pin, time::Duration};

use axum::{
    Json,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Map, Value, json};

/// The longest one readiness check may take before it counts as failing.
const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// One dependency check; `Err` holds the cause, which is logged and never sent.
pub type Check<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// Wraps one readiness check for [`readiness`].
pub fn check<'a>(work: impl Future<Output = Result<(), String>> + Send + 'a) -> Check<'a> {
    Box::pin(work)
}

/// `/metrics`: the registry in the Prometheus text format.
pub fn metrics_text() -> Response {
    let Some(text) = crate::render() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let content_type = [(
        header::CONTENT_TYPE,
        "text/plain; version=0.0.4; charset=utf-8",
    )];
    (content_type, text).into_response()
}

/// `/healthz`: the process is alive and answers.
pub fn alive() -> Response {
    Json(json!({"status": "alive"})).into_response()
}

/// `/readyz`: runs every check at once; 200 when all pass, otherwise 503 naming the
/// failing parts (`{"status": "unavailable", "failing": ["redis"], ...}`).
pub async fn readiness(checks: Vec<(&'static str, Check<'_>)>) -> Response {
    let results = futures::future::join_all(checks.into_iter().map(|(part, work)| async move {
        let result = tokio::time::timeout(CHECK_TIMEOUT, work)
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {CHECK_TIMEOUT:?}")));
        (part, result)
    }))
    .await;

    let mut parts = Map::new();
    let mut failing = Vec::new();
    for (part, result) in results {
        let state = match result {
            Ok(()) => "ok",
            Err(cause) => {
                tracing::warn!(health.part = part, error = %cause, "readiness check failed");
                failing.push(part);
                "failing"
            }
        };
        parts.insert(part.to_owned(), Value::from(state));
    }

    if failing.is_empty() {
        return Json(json!({"status": "ready", "checks": parts})).into_response();
    }
    let body = json!({"status": "unavailable", "failing": failing, "checks": parts});
    (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn readiness_names_the_failing_part_and_keeps_the_cause() {
        let response = readiness(vec![
            (
                "redis",
                check(async { Err("connection refused".to_owned()) }),
            ),
            ("database", check(async { Ok(()) })),
        ])
        .await;

        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["failing"], json!(["redis"]));
        assert_eq!(body["checks"]["database"], "ok");
        assert!(
            !body.to_string().contains("refused"),
            "causes are logged only"
        );
    }

    #[tokio::test]
    async fn readiness_passes_when_every_part_answers() {
        let response = readiness(vec![("storage", check(async { Ok(()) }))]).await;
        assert_eq!(response.status(), StatusCode::OK);
    }
}
