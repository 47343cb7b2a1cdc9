//! Sessions, the cross-site check, size limits and security headers, on a real server.

mod support;

use std::time::Duration;

use reqwest::{Client, StatusCode, header};
use serde_json::{Value, json};
use support::TestApp;

const EVIL: &str = "https://evil.example";

/// Every state-changing route, with a body it accepts.
fn unsafe_routes() -> [(&'static str, &'static str, &'static str); 5] {
    let credentials = r#"{"email":"demo@example.com","password":"demo-export-123"}"#;
    let form = "application/x-www-form-urlencoded";
    [
        ("/api/auth/login", "application/json", credentials),
        ("/api/auth/logout", form, ""),
        ("/api/account/export", form, ""),
        ("/api/fn/request_export", form, ""),
        (
            "/api/fn/login",
            form,
            "email=demo%40example.com&password=demo-export-123&next=%2F",
        ),
    ]
}

async fn post(client: &Client, url: String, (kind, body): (&str, &str)) -> reqwest::Response {
    client
        .post(url)
        .header(header::CONTENT_TYPE, kind)
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn cross_site_requests_are_refused_on_every_state_changing_route() {
    let app = TestApp::start().await;
    let client = app.demo().await;

    for (path, kind, body) in unsafe_routes() {
        for (name, value) in [("origin", EVIL), ("sec-fetch-site", "cross-site")] {
            let response = client
                .post(app.url(path))
                .header(name, value)
                .header(header::CONTENT_TYPE, kind)
                .body(body)
                .send()
                .await
                .unwrap();

            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path} {name}");
            let error: Value = response.json().await.unwrap();
            assert_eq!(error["error"], "forbidden");
        }
    }
    let (status, _) = app.status(&client, "AAAAAAAAAAAAAAAAAAAAAA").await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "still signed in: logout was refused"
    );
}

#[tokio::test]
async fn same_origin_requests_pass() {
    let app = TestApp::start().await;
    let client = app.client();

    let login = client
        .post(app.url("/api/auth/login"))
        .header("origin", &app.base)
        .json(&json!({"email": "demo@example.com", "password": "demo-export-123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::NO_CONTENT);

    let export = client
        .post(app.url("/api/account/export"))
        .header("sec-fetch-site", "same-origin")
        .header("origin", &app.base)
        .send()
        .await
        .unwrap();
    assert_eq!(export.status(), StatusCode::ACCEPTED);

    let logout = post(&client, app.url("/api/auth/logout"), ("text/plain", "")).await;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let app = TestApp::start().await;
    let client = app.demo().await;

    let page = client.get(app.url("/account")).send().await.unwrap();
    let api = app
        .client()
        .get(app.url("/api/account/export/status/x"))
        .send()
        .await
        .unwrap();

    for response in [page, api] {
        let headers = response.headers();
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(headers[header::REFERRER_POLICY], "same-origin");
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
        let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(csp.contains("'wasm-unsafe-eval'"), "{csp}");
    }
}

#[tokio::test]
async fn the_page_policy_allows_exactly_the_hydration_script_nonce() {
    let app = TestApp::start().await;
    let client = app.demo().await;

    let page = client.get(app.url("/account")).send().await.unwrap();
    let csp = page.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    let html = page.text().await.unwrap();

    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce in the page policy");
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "{csp}\n{html}"
    );

    let missing = client.get(app.url("/no-such-page")).send().await.unwrap();
    let csp = missing.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(
        csp.contains("'nonce-"),
        "the error page hydrates too: {csp}"
    );
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let app = TestApp::start().await;

    let body = "x".repeat(200 * 1024);
    let response = post(
        &app.client(),
        app.url("/api/auth/login"),
        ("application/json", &body),
    )
    .await;

    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn an_idle_session_ends() {
    // 0.0005 hours = 1.8 s
    let app = TestApp::start_with(&["--session-idle-hours=0.0005"]).await;
    let client = app.demo().await;

    tokio::time::sleep(Duration::from_millis(3500)).await;

    let (status, _) = app.status(&client, "AAAAAAAAAAAAAAAAAAAAAA").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_active_session_still_ends_at_its_absolute_limit() {
    // 0.001 hours = 3.6 s; the session is used every half second meanwhile.
    let app = TestApp::start_with(&["--session-max-hours=0.001"]).await;
    let client = app.demo().await;

    let (early, _) = app.status(&client, "AAAAAAAAAAAAAAAAAAAAAA").await;
    assert_eq!(early, StatusCode::NOT_FOUND, "signed in at first");
    let mut last = early;
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        (last, _) = app.status(&client, "AAAAAAAAAAAAAAAAAAAAAA").await;
    }

    assert_eq!(last, StatusCode::UNAUTHORIZED);
    let keys = std::process::Command::new("redis-cli")
        .args(["-p", &app.redis.port().to_string(), "--scan"])
        .output()
        .unwrap();
    let keys = String::from_utf8(keys.stdout).unwrap();
    assert!(
        keys.lines().all(|k| k.starts_with("yt:")),
        "session deleted: {keys}"
    );
}

#[tokio::test]
async fn a_plain_form_post_from_our_own_page_passes() {
    let app = TestApp::start().await;
    let client = app.client();

    // What a browser without WASM sends for the login form.
    let response = client
        .post(app.url("/api/fn/login"))
        .header(header::ACCEPT, "text/html")
        .header(header::REFERER, app.url("/login"))
        .header("origin", &app.base)
        .header("sec-fetch-site", "same-origin")
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
}

#[tokio::test]
async fn signing_in_issues_a_new_session_id_and_retires_the_old_one() {
    let app = TestApp::start().await;
    let login = |cookie: Option<String>| {
        let mut request = reqwest::Client::new()
            .post(app.url("/api/auth/login"))
            .json(&serde_json::json!({"email": "demo@example.com", "password": "demo-export-123"}));
        if let Some(cookie) = cookie {
            request = request.header(reqwest::header::COOKIE, cookie);
        }
        request.send()
    };
    let status_with = |cookie: String| {
        reqwest::Client::new()
            .get(app.url("/api/account/export/status/AAAAAAAAAAAAAAAAAAAAAA"))
            .header(reqwest::header::COOKIE, cookie)
            .send()
    };

    let first = support::session_cookie(&login(None).await.unwrap());
    let second = support::session_cookie(&login(Some(first.clone())).await.unwrap());

    assert_ne!(first, second);
    assert_eq!(
        status_with(first).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status_with(second).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn session_cookies_are_secure_when_the_site_is_https() {
    let app = TestApp::start_with(&["--export-url-base=https://exports.example"]).await;

    let response = app
        .login(&app.client(), "demo@example.com", "demo-export-123")
        .await;

    let cookie = response.headers()[reqwest::header::SET_COOKIE]
        .to_str()
        .unwrap();
    assert!(cookie.contains("Secure"), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
}
