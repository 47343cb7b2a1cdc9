//! The account pages and server functions, as a browser without WASM sees them.

mod support;

use reqwest::{StatusCode, header};
use support::TestApp;

#[tokio::test]
async fn the_account_page_needs_a_session() {
    let app = TestApp::start().await;

    let response = app.client().get(app.url("/account")).send().await.unwrap();

    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        response.headers()[header::LOCATION],
        "/login?next=%2Faccount"
    );
    let home = app.client().get(app.url("/")).send().await.unwrap();
    assert_eq!(home.headers()[header::LOCATION], "/account");
}

#[tokio::test]
async fn the_account_page_renders_the_profile_and_the_export_button() {
    let app = TestApp::start().await;
    let client = app.demo().await;

    let response = client.get(app.url("/account")).send().await.unwrap();

    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(html.contains("Export my data"), "{html}");
    assert!(html.contains("demo@example.com"));
    assert!(html.contains("2,000"), "watched count");
    assert!(html.contains("/pkg/yt-export.js"), "hydration script");
}

#[tokio::test]
async fn the_login_page_renders_and_a_signed_in_visitor_moves_on() {
    let app = TestApp::start().await;

    let page = app
        .client()
        .get(app.url("/login?next=%2Faccount"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("Sign in"));

    let client = app.demo().await;
    let response = client
        .get(app.url("/login?next=%2Faccount"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[header::LOCATION], "/account");
}

#[tokio::test]
async fn a_plain_form_login_redirects_to_next() {
    let app = TestApp::start().await;
    let client = app.client();

    let response = client
        .post(app.url("/api/fn/login"))
        .header(header::ACCEPT, "text/html")
        .header(header::REFERER, app.url("/login?next=%2Faccount"))
        .form(&[
            ("email", "demo@example.com"),
            ("password", "demo-export-123"),
            ("next", "/account"),
        ])
        .send()
        .await
        .unwrap();

    assert!(response.status().is_redirection(), "{}", response.status());
    assert_eq!(response.headers()[header::LOCATION], "/account");
    let page = client.get(app.url("/account")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_plain_form_export_request_queues_a_job_and_returns_to_the_page() {
    let app = TestApp::start().await;
    let client = app.demo().await;

    let response = client
        .post(app.url("/api/fn/request_export"))
        .header(header::ACCEPT, "text/html")
        .header(header::REFERER, app.url("/account"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .unwrap();

    assert!(response.status().is_redirection(), "{}", response.status());
    // Leptos returns to the Referer, with an empty query (no error to report).
    let location = response.headers()[header::LOCATION].to_str().unwrap();
    assert_eq!(location.trim_end_matches('?'), app.url("/account"));
    let page = client
        .get(app.url("/account"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("data-status=\"pending\""), "{page}");
}

#[tokio::test]
async fn the_status_server_function_refuses_anonymous_callers() {
    let app = TestApp::start().await;

    let response = app
        .client()
        .post(app.url("/api/fn/export_status"))
        .form(&[("job_id", "AAAAAAAAAAAAAAAAAAAAAA")])
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}
