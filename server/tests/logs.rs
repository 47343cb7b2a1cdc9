//! The server's log, read from a real server process: one line per refused request, and
//! never an email address or a session id.

use std::{
    process::{Command, Stdio},
    time::Duration,
};

use reqwest::{StatusCode, header, redirect::Policy};
use serde_json::{Value, json};
use yt_testkit::{RedisServer, free_port};
use yt_userdata::{Database, seed};

#[tokio::test]
async fn refused_requests_are_logged_once_without_personal_data() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("app.db").display());
    let db = Database::connect(&database).await.unwrap();
    db.migrate().await.unwrap();
    seed::seed_demo(&db).await.unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let log_path = dir.path().join("server.log");

    let mut server = Command::new(env!("CARGO_BIN_EXE_server"))
        .env("YT_REDIS_URL", redis.url())
        .env("YT_DATABASE_URL", &database)
        .env("YT_EXPORT_LOCAL_PATH", dir.path().join("exports"))
        .env("YT_SITE_ROOT", dir.path())
        .env("YT_LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("YT_EXPORT_URL_BASE", &base)
        .env("YT_LOG_FORMAT", "json")
        .env("YT_LOG", "info")
        .stderr(Stdio::from(std::fs::File::create(&log_path).unwrap()))
        .spawn()
        .unwrap();
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap();
    for _ in 0..200 {
        if client.get(format!("{base}/login")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Seven refused requests of different kinds.
    let login = |body: Value| {
        client
            .post(format!("{base}/api/auth/login"))
            .json(&body)
            .send()
    };
    let wrong = login(json!({"email": "demo@example.com", "password": "wrong"}))
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let malformed = client
        .post(format!("{base}/api/auth/login"))
        .header(header::CONTENT_TYPE, "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    let status_url = |id: &str| format!("{base}/api/account/export/status/{id}");
    let anonymous = client
        .get(status_url("AAAAAAAAAAAAAAAAAAAAAA"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    let signed_in = login(json!({"email": "demo@example.com", "password": "demo-export-123"}))
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::NO_CONTENT);
    let cookie = signed_in.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    let session_id = cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("yt_session=")
        .to_owned();

    let bad_id = client.get(status_url("not-an-id")).send().await.unwrap();
    assert_eq!(bad_id.status(), StatusCode::BAD_REQUEST);
    let unknown = client
        .get(status_url("AAAAAAAAAAAAAAAAAAAAAA"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let bad_name = client
        .get(format!("{base}/api/account/export/download/..%2Fapp.db"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_name.status(), StatusCode::BAD_REQUEST);
    let cross_site = client
        .post(format!("{base}/api/account/export"))
        .header(header::ORIGIN, "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);

    let _ = server.kill();
    let _ = server.wait();
    let log = std::fs::read_to_string(&log_path).unwrap();

    let refused: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).expect("every log line is JSON"))
        .filter(|entry| entry["message"] == "request refused")
        .collect();
    assert_eq!(refused.len(), 7, "{log}");
    assert!(
        !log.contains("example.com"),
        "an email address was logged:\n{log}"
    );
    assert!(
        !log.contains(&session_id),
        "a session id was logged:\n{log}"
    );
}
