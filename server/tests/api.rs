//! The JSON API on a real server with real Redis and SQLite.

mod support;

use std::io::Read;

use reqwest::{StatusCode, header};
use serde_json::{Value, json};
use support::TestApp;

#[tokio::test]
async fn without_a_session_every_account_endpoint_answers_401() {
    let app = TestApp::start().await;
    let client = app.client();

    let export = client
        .post(app.url("/api/account/export"))
        .send()
        .await
        .unwrap();
    let status = client
        .get(app.url("/api/account/export/status/AAAAAAAAAAAAAAAAAAAAAA"))
        .send()
        .await
        .unwrap();
    let download = client
        .get(app.url("/api/account/export/download/yt-export-AAAAAAAAAAAAAAAAAAAAAA.zip"))
        .header(header::ACCEPT, "application/json")
        .send()
        .await
        .unwrap();

    for response in [export, status, download] {
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "unauthorized");
    }
}

#[tokio::test]
async fn a_browser_opening_a_download_link_is_sent_through_login() {
    let app = TestApp::start().await;
    let path = "/api/account/export/download/yt-export-AAAAAAAAAAAAAAAAAAAAAA.zip";

    let response = app
        .client()
        .get(app.url(path))
        .header(header::ACCEPT, "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[header::LOCATION].to_str().unwrap();
    assert_eq!(
        location,
        "/login?next=%2Fapi%2Faccount%2Fexport%2Fdownload%2Fyt-export-AAAAAAAAAAAAAAAAAAAAAA.zip"
    );
}

#[tokio::test]
async fn login_checks_the_password_and_logout_ends_the_session() {
    let app = TestApp::start().await;
    let client = app.client();

    let wrong = client
        .post(app.url("/api/auth/login"))
        .json(&json!({"email": "demo@example.com", "password": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let unknown = client
        .post(app.url("/api/auth/login"))
        .json(&json!({"email": "nobody@example.com", "password": "demo-export-123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let malformed = client
        .post(app.url("/api/auth/login"))
        .header(header::CONTENT_TYPE, "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);

    let client = app.demo().await;
    let job_id = app.request_export(&client).await;
    assert_eq!(app.status(&client, &job_id).await.0, StatusCode::OK);

    let logout = client
        .post(app.url("/api/auth/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.status(&client, &job_id).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site_lax() {
    let app = TestApp::start().await;

    let response = app
        .client()
        .post(app.url("/api/auth/login"))
        .json(&json!({"email": "demo@example.com", "password": "demo-export-123"}))
        .send()
        .await
        .unwrap();

    let cookie = response.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("yt_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "http site: {cookie}");
}

#[tokio::test]
async fn export_request_status_and_download_work_end_to_end() {
    let app = TestApp::start().await;
    let client = app.demo().await;

    let response = client
        .post(app.url("/api/account/export"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let body: Value = response.json().await.unwrap();
    let job_id = body["job_id"].as_str().unwrap().to_owned();
    assert!(body["message"].as_str().unwrap().contains("email"));

    let (status, pending) = app.status(&client, &job_id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(pending["status"], "pending");
    assert_eq!(pending["job_id"], job_id);
    assert!(pending["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(pending.get("download_url").is_none());
    assert!(pending.get("email").is_none());

    assert_eq!(app.run_worker_once().await, worker::job::Outcome::Completed);

    let (_, done) = app.status(&client, &job_id).await;
    assert_eq!(done["status"], "completed");
    assert_eq!(done["progress"]["percent"], 100);
    let url = done["download_url"].as_str().unwrap();
    assert_eq!(
        url,
        app.url(&format!(
            "/api/account/export/download/yt-export-{job_id}.zip"
        ))
    );
    assert!(done["completed_at"].is_string());
    assert!(done["expires_at"].is_string());

    let download = client.get(url).send().await.unwrap();
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.headers()[header::CONTENT_TYPE], "application/zip");
    let disposition = download.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"youtube-feed-export-"),
        "{disposition}"
    );
    let bytes = download.bytes().await.unwrap();

    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.as_ref())).unwrap();
    let mut watched = String::new();
    zip.by_name("watched_videos.json")
        .unwrap()
        .read_to_string(&mut watched)
        .unwrap();
    let watched: Vec<Value> = serde_json::from_str(&watched).unwrap();
    assert_eq!(watched.len(), 2_000);
    assert!(zip.by_name("README.txt").is_ok());
}

#[tokio::test]
async fn another_users_job_is_not_found_and_never_downloadable() {
    let app = TestApp::start().await;
    let demo = app.demo().await;
    let job_id = app.request_export(&demo).await;
    app.run_worker_once().await;
    let other = app.other().await;

    let (status, body) = app.status(&other, &job_id).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "not_found");

    let download = app.download(&other, &job_id).await;
    assert_eq!(download.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn malformed_ids_and_names_answer_400_and_unknown_ones_404() {
    let app = TestApp::start().await;
    let client = app.demo().await;

    for bad in [
        "short",
        "AAAAAAAAAAAAAAAAAAAAAA.zip",
        "%2E%2E%2Fetc%2Fpasswd",
        "AAAAAAAAAAAAAAAAAAAAA%00",
    ] {
        let (status, body) = app.status(&client, bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(body["error"], "bad_request");
    }
    for bad in [
        "export.zip",
        "yt-export-short.zip",
        "..%2F..%2Fapp.db",
        "yt-export-AAAAAAAAAAAAAAAAAAAAAA.tar",
    ] {
        let response = client
            .get(app.url(&format!("/api/account/export/download/{bad}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
    }

    let (status, _) = app.status(&client, "AAAAAAAAAAAAAAAAAAAAAA").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let response = client
        .get(app.url("/api/account/export/download/yt-export-A-_AAAAAAAAAAAAAAAAAAA.zip"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_download_before_completion_is_refused_as_not_ready() {
    let app = TestApp::start().await;
    let client = app.demo().await;
    let job_id = app.request_export(&client).await;

    let response = app.download(&client, &job_id).await;

    assert_eq!(response.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn an_archive_deleted_by_cleanup_answers_410() {
    let app = TestApp::start().await;
    let client = app.demo().await;
    let job_id = app.request_export(&client).await;
    app.run_worker_once().await;
    std::fs::remove_file(
        app.dir
            .path()
            .join(format!("exports/yt-export-{job_id}.zip")),
    )
    .unwrap();

    let response = app.download(&client, &job_id).await;

    assert_eq!(response.status(), StatusCode::GONE);
}

#[tokio::test]
async fn with_accel_redirect_nginx_is_told_which_file_to_serve() {
    let app = TestApp::start_with(&["--accel-redirect=true"]).await;
    let client = app.demo().await;
    let job_id = app.request_export(&client).await;
    app.run_worker_once().await;

    let response = app.download(&client, &job_id).await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["x-accel-redirect"],
        format!("/internal/exports/yt-export-{job_id}.zip").as_str()
    );
    assert!(response.bytes().await.unwrap().is_empty());
}
