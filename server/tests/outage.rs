//! Redis going away: the server answers 503 with a JSON error (never 500, never a hang)
//! and serves again once Redis is back.

mod support;

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;
use support::TestApp;
use yt_userdata::seed;

/// Longer than any answer may take while Redis is down: a hang fails the request.
const PATIENCE: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread")]
async fn a_redis_outage_answers_503_and_the_service_recovers() {
    let mut app = TestApp::start().await;
    let demo = app.demo().await;
    let job_id = app.request_export(&demo).await;

    app.redis.kill();

    let status = demo
        .get(app.url(&format!("/api/account/export/status/{job_id}")))
        .timeout(PATIENCE)
        .send()
        .await
        .expect("an answer, not a hang");
    assert_unavailable(status).await;

    let export = demo
        .post(app.url("/api/account/export"))
        .timeout(PATIENCE)
        .send()
        .await
        .expect("an answer, not a hang");
    assert_unavailable(export).await;

    let login = app
        .client()
        .post(app.url("/api/auth/login"))
        .json(&serde_json::json!({"email": seed::DEMO_EMAIL, "password": seed::DEMO_PASSWORD}))
        .timeout(PATIENCE)
        .send()
        .await
        .expect("an answer, not a hang");
    assert_unavailable(login).await;

    let server_fn = demo
        .post(app.url("/api/fn/export_status"))
        .form(&[("job_id", job_id.as_str())])
        .timeout(PATIENCE)
        .send()
        .await
        .expect("an answer, not a hang");
    assert_eq!(server_fn.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = server_fn.text().await.unwrap();
    assert!(body.contains("Unavailable"), "{body}");

    // Redis comes back empty (it kept nothing on disk): signing in works again.
    app.redis.restart(Duration::ZERO);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let client = app.client();
        let response = app
            .login(&client, seed::DEMO_EMAIL, seed::DEMO_PASSWORD)
            .await;
        if response.status() == StatusCode::NO_CONTENT {
            let job = app.request_export(&client).await;
            let (status, _) = app.status(&client, &job).await;
            assert_eq!(status, StatusCode::OK);
            break;
        }
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            Instant::now() < deadline,
            "the server did not reconnect to Redis"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn assert_unavailable(response: reqwest::Response) {
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "unavailable", "{body}");
}
