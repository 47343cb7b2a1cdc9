//! Rate limits and the one-active-export rule on a real server with real Redis.

mod support;

use chrono::{DateTime, Utc};
use futures::future::join_all;
use reqwest::{Response, StatusCode, header};
use serde_json::{Value, json};
use support::TestApp;
use worker::job::Outcome;
use yt_userdata::seed;

/// Asserts a 429 with `Retry-After` and the JSON error; returns `retry_after`.
async fn assert_rate_limited(response: Response) -> i64 {
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: i64 = response.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "rate_limited");
    assert_eq!(body["retry_after"], retry_after);
    assert!(body["message"].as_str().unwrap().contains("try again"));
    let retry_at: DateTime<Utc> = body["retry_at"].as_str().unwrap().parse().unwrap();
    assert!(retry_at > Utc::now());
    retry_after
}

async fn post_export(app: &TestApp, client: &reqwest::Client) -> Response {
    client
        .post(app.url("/api/account/export"))
        .send()
        .await
        .unwrap()
}

async fn login(app: &TestApp, email: &str, forwarded_for: Option<&str>) -> StatusCode {
    let mut request = app
        .client()
        .post(app.url("/api/auth/login"))
        .json(&json!({"email": email, "password": "wrong"}));
    if let Some(address) = forwarded_for {
        request = request.header("x-forwarded-for", address);
    }
    request.send().await.unwrap().status()
}

#[tokio::test]
async fn a_hundred_simultaneous_requests_queue_one_job_and_three_an_hour() {
    let app = TestApp::start().await;
    let demo = app.demo().await;

    // A hundred at once: one job, the others are told it is running, one unit used.
    let responses = join_all((0..100).map(|_| post_export(&app, &demo))).await;
    let mut accepted = Vec::new();
    let mut running = Vec::new();
    for response in responses {
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        let id = body["job_id"].as_str().unwrap().to_owned();
        match status {
            StatusCode::ACCEPTED => accepted.push(id),
            StatusCode::OK => {
                assert!(
                    body["message"]
                        .as_str()
                        .unwrap()
                        .contains("already running")
                );
                running.push(id);
            }
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!(accepted.len(), 1);
    assert!(running.iter().all(|id| *id == accepted[0]));
    assert_eq!(app.worker.jobs.queue_len().await.unwrap(), 1);

    // Each finished job frees the user for the next: three in the hour, then 429.
    assert_eq!(app.run_worker_once().await, Outcome::Completed);
    app.request_export(&demo).await;
    assert_eq!(app.run_worker_once().await, Outcome::Completed);
    app.request_export(&demo).await;
    assert_eq!(app.run_worker_once().await, Outcome::Completed);

    let retry_after = assert_rate_limited(post_export(&app, &demo).await).await;
    assert!((3000..=3600).contains(&retry_after), "{retry_after}");
    assert_eq!(app.worker.jobs.queue_len().await.unwrap(), 0);

    // Another user has a quota of their own.
    let other = app.other().await;
    app.request_export(&other).await;
}

#[tokio::test]
async fn an_export_that_fails_on_our_side_gives_its_quota_back() {
    // One attempt, so the storage failure below is final rather than retried.
    let app =
        TestApp::start_with_worker(&["--rate-limit-exports-per-hour=1"], &["--max-attempts=1"])
            .await;
    let demo = app.demo().await;
    let exports = app.dir.path().join("exports");

    // Storage breaks: the job fails, and the user may ask again at once.
    let failed = app.request_export(&demo).await;
    std::fs::remove_dir_all(&exports).ok();
    std::fs::write(&exports, b"not a folder").unwrap();
    assert_eq!(app.run_worker_once().await, Outcome::Failed);
    let (_, status) = app.status(&demo, &failed).await;
    assert_eq!(status["status"], "failed");

    std::fs::remove_file(&exports).unwrap();
    std::fs::create_dir_all(&exports).unwrap();
    let retried = app.request_export(&demo).await;
    assert_ne!(retried, failed);
    assert_eq!(app.run_worker_once().await, Outcome::Completed);

    // A completed export keeps its unit.
    assert_rate_limited(post_export(&app, &demo).await).await;
}

#[tokio::test]
async fn status_and_download_are_limited_per_user() {
    let app = TestApp::start_with(&[
        "--rate-limit-status-per-minute=3",
        "--rate-limit-downloads-per-minute=2",
    ])
    .await;
    let demo = app.demo().await;
    let job_id = app.request_export(&demo).await;

    for _ in 0..3 {
        assert_eq!(app.status(&demo, &job_id).await.0, StatusCode::OK);
    }
    let status = demo
        .get(app.url(&format!("/api/account/export/status/{job_id}")))
        .send()
        .await
        .unwrap();
    assert_rate_limited(status).await;

    let download = || {
        demo.get(app.url(&format!(
            "/api/account/export/download/yt-export-{job_id}.zip"
        )))
        .header(header::ACCEPT, "application/json")
        .send()
    };
    for _ in 0..2 {
        assert_eq!(download().await.unwrap().status(), StatusCode::CONFLICT);
    }
    assert_rate_limited(download().await.unwrap()).await;

    // Another user counts separately.
    let other = app.other().await;
    assert_eq!(app.status(&other, &job_id).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn logins_are_limited_per_address_and_spoofed_headers_are_ignored() {
    let app = TestApp::start_with(&[
        "--rate-limit-logins-per-address=3",
        "--rate-limit-logins-per-account=100",
    ])
    .await;

    // No trusted proxy: X-Forwarded-For changes nothing, the socket address counts.
    for n in 0..3 {
        let email = format!("nobody{n}@example.com");
        let spoofed = format!("198.51.100.{n}");
        assert_eq!(
            login(&app, &email, Some(&spoofed)).await,
            StatusCode::UNAUTHORIZED
        );
    }
    let response = app
        .client()
        .post(app.url("/api/auth/login"))
        .header("x-forwarded-for", "203.0.113.77")
        .json(&json!({"email": seed::DEMO_EMAIL, "password": seed::DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_rate_limited(response).await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_counts() {
    let app = TestApp::start_with(&[
        "--trusted-proxies=127.0.0.1",
        "--rate-limit-logins-per-address=2",
        "--rate-limit-logins-per-account=100",
    ])
    .await;

    for _ in 0..2 {
        let status = login(&app, "a@example.com", Some("198.51.100.1")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let status = login(&app, "a@example.com", Some("198.51.100.1")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);

    // Another client behind the same proxy has a window of its own.
    let status = login(&app, "a@example.com", Some("198.51.100.2")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn logins_are_limited_per_account_whatever_the_address() {
    let app = TestApp::start_with(&[
        "--trusted-proxies=127.0.0.1",
        "--rate-limit-logins-per-address=100",
        "--rate-limit-logins-per-account=2",
    ])
    .await;

    let status = login(&app, "Victim@Example.com", Some("198.51.100.1")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let status = login(&app, "victim@example.com", Some("198.51.100.2")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let status = login(&app, " VICTIM@example.com", Some("198.51.100.3")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);

    // The email is not what Redis keys the window by.
    let mut redis = std::process::Command::new("redis-cli");
    let keys = redis
        .args([
            "-u",
            &app.redis.url(),
            "--scan",
            "--pattern",
            "yt:ratelimit:*",
        ])
        .output()
        .unwrap();
    let keys = String::from_utf8(keys.stdout).unwrap();
    assert!(keys.contains("yt:ratelimit:login-account:"), "{keys}");
    assert!(!keys.to_lowercase().contains("victim"), "{keys}");
}

#[tokio::test]
async fn the_server_functions_share_the_limits() {
    let app = TestApp::start_with(&["--rate-limit-exports-per-hour=1"]).await;
    let demo = app.demo().await;
    app.request_export(&demo).await;
    assert_eq!(app.run_worker_once().await, Outcome::Completed);

    let response = demo
        .post(app.url("/api/fn/request_export"))
        .header(header::ORIGIN, &app.base)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key(header::RETRY_AFTER));
    let body: Value = response.json().await.unwrap();
    assert!(body["RateLimited"]["retry_at"].is_string(), "{body}");
}
