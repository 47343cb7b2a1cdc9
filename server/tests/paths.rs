//! Hostile download names and job ids, sent byte for byte (no client normalises them)
//! to a real server: each is refused with 400, or 404 where the router matches no route,
//! never 500, and nothing outside the export folder is ever served.

mod support;

use reqwest::StatusCode;
use support::TestApp;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use yt_userdata::seed;

const CANARY: &str = "canary-outside-the-export-folder";

/// Names as they appear in the request line, so percent-encodings arrive undecoded.
fn corpus() -> Vec<String> {
    let mut names: Vec<String> = [
        "../canary.txt",
        "..%2Fcanary.txt",
        "..%2fcanary.txt",
        "%2e%2e%2fcanary.txt",
        "%2E%2E%2Fcanary.txt",
        "%252e%252e%252fcanary.txt",
        "..%252fcanary.txt",
        "..\\canary.txt",
        "..%5Ccanary.txt",
        "%5C..%5Ccanary.txt",
        "yt-export-AAAAAAAAAAAAAAAAAAAAAA.zip%00.txt",
        "yt-export-AAAAAAAAAAAAAAAAAAAAAA%00.zip",
        "%00",
        "%2Fetc%2Fpasswd",
        "%2F..%2Fcanary.txt",
        "C:%5Cwindows%5Cwin.ini",
        "file:%2F%2F%2Fetc%2Fpasswd",
        // Look-alikes: fullwidth and cyrillic letters, a fullwidth percent sign.
        "%EF%BD%99t-export-AAAAAAAAAAAAAAAAAAAAAA.zip",
        "yt-%D0%B5xport-AAAAAAAAAAAAAAAAAAAAAA.zip",
        "%EF%BC%852e%EF%BC%852e%EF%BC%852fcanary.txt",
        "yt-export-AAAAAAAAAAAAAAAAAAAAAA%E2%80%A4zip",
        "yt-export-AAAAAAAAAAAAAAAAAAAAAA.zip%2F..%2F..%2Fcanary.txt",
        "yt-export-..%2F..%2Fcanary.zip",
        "yt-export-.zip",
        "yt-export-AAAAAAAAAAAAAAAAAAAAAA.zip.",
        "yt-export-AAAAAAAAAAAAAAAAAAAAAA.ZIP",
        "%20",
        "canary.txt",
        ".",
        "..",
        "%2e",
        "%2e%2e",
        "",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    names.push("A".repeat(10 * 1024));
    names.push(format!("yt-export-{}.zip", "A".repeat(10 * 1024)));
    names
}

/// Sends `GET {path}` as raw bytes; returns the status and the whole answer.
async fn raw_get(app: &TestApp, path: &str, cookie: &str) -> (StatusCode, String) {
    let authority = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(authority).await.unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nCookie: {cookie}\r\n\
         Accept: application/json\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();

    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let code: u16 = answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line for {path:?}: {answer:?}"));
    (StatusCode::from_u16(code).unwrap(), answer)
}

/// Signs the demo user in over plain HTTP and returns `yt_session=…`.
async fn session_cookie(app: &TestApp) -> String {
    let response = app
        .login(&app.client(), seed::DEMO_EMAIL, seed::DEMO_PASSWORD)
        .await;
    support::session_cookie(&response)
}

#[tokio::test]
async fn hostile_names_and_ids_are_refused_without_touching_other_files() {
    let app = TestApp::start_with(&[
        "--rate-limit-status-per-minute=100000",
        "--rate-limit-downloads-per-minute=100000",
    ])
    .await;
    std::fs::write(app.dir.path().join("canary.txt"), CANARY).unwrap();
    std::fs::write(app.dir.path().join("canary.zip"), CANARY).unwrap();
    let cookie = session_cookie(&app).await;
    let routes = [
        "/api/account/export/download/",
        "/api/account/export/status/",
    ];

    let mut unexpected = Vec::new();
    for route in routes {
        for name in corpus() {
            let path = format!("{route}{name}");
            let (status, answer) = raw_get(&app, &path, &cookie).await;

            assert!(!answer.contains(CANARY), "{path:?} served the canary");
            let refused = matches!(status, StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND);
            if !refused {
                let shown: String = path.chars().take(120).collect();
                unexpected.push(format!("{status} {shown}"));
            }
        }
    }

    assert!(unexpected.is_empty(), "{unexpected:#?}");
}

#[tokio::test]
async fn no_endpoint_answers_500_to_the_corpus() {
    let app = TestApp::start().await;
    let cookie = session_cookie(&app).await;

    for name in corpus() {
        for path in [
            format!("/{name}"),
            format!("/pkg/{name}"),
            format!("/api/{name}"),
            format!("/login?next={name}"),
            format!("/api/account/export/download/{name}/x"),
        ] {
            let (status, answer) = raw_get(&app, &path, &cookie).await;

            assert!(!status.is_server_error(), "{status} for {path:?}");
            assert!(!answer.contains(CANARY));
        }
    }
}
