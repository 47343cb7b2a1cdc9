//! `TestApp`: the real server on a free port, with its own redis-server, SQLite file and
//! export folder, seeded with the demo users; plus an in-process worker to run its jobs.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the kit"
)]

use std::sync::Arc;

use clap::Parser;
use reqwest::{Client, StatusCode, redirect::Policy};
use serde_json::{Value, json};
use tempfile::TempDir;
use yt_testkit::RedisServer;
use yt_userdata::seed;

/// Later flags (a test's extras) override the kit's defaults.
#[derive(Parser)]
#[command(args_override_self = true)]
struct ServerCli {
    #[command(flatten)]
    args: server::ServerArgs,
}

#[derive(Parser)]
struct WorkerCli {
    #[command(flatten)]
    args: worker::WorkerArgs,
}

pub struct TestApp {
    pub base: String,
    pub redis: RedisServer,
    pub dir: TempDir,
    pub worker: Arc<worker::WorkerContext>,
    server: tokio::task::JoinHandle<()>,
}

impl TestApp {
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// Starts with extra server flags (e.g. `--accel-redirect=true`).
    pub async fn start_with(extra: &[&str]) -> Self {
        Self::start_with_worker(extra, &[]).await
    }

    /// Starts with extra server flags and extra worker flags (e.g. `--max-attempts=1`).
    pub async fn start_with_worker(extra: &[&str], worker_extra: &[&str]) -> Self {
        let redis = RedisServer::start();
        let dir = tempfile::tempdir().unwrap();
        let database = format!("sqlite://{}", dir.path().join("app.db").display());
        let exports = dir.path().join("exports");
        let site = dir.path().join("site");
        std::fs::create_dir_all(site.join("pkg")).unwrap();

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());

        let common = [
            format!("--redis-url={}", redis.url()),
            format!("--database-url={database}"),
            format!("--export-local-path={}", exports.display()),
            format!("--export-url-base={base}"),
        ];

        let mut argv = vec![
            "server".to_owned(),
            format!("--site-root={}", site.display()),
        ];
        argv.extend(common.iter().cloned());
        argv.extend(extra.iter().map(|s| s.to_string()));
        let ServerCli { args } = ServerCli::try_parse_from(argv).unwrap();
        let router = server::build(args).await.unwrap();

        let mut argv = vec!["worker".to_owned()];
        argv.extend(common.iter().cloned());
        argv.push(format!(
            "--mail-outbox={}",
            dir.path().join("outbox").display()
        ));
        argv.extend(worker_extra.iter().map(|s| s.to_string()));
        let WorkerCli { args } = WorkerCli::try_parse_from(argv).unwrap();
        let worker = worker::WorkerContext::connect(args).await.unwrap();
        seed::seed_demo(&worker.db).await.unwrap();

        let server = tokio::spawn(async move {
            let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
            axum::serve(listener, service).await.unwrap();
        });
        Self {
            base,
            redis,
            dir,
            worker,
            server,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A browser-like client with its own cookie jar that does not follow redirects.
    pub fn client(&self) -> Client {
        Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .build()
            .unwrap()
    }

    /// Posts credentials to the JSON login as `client`.
    pub async fn login(&self, client: &Client, email: &str, password: &str) -> reqwest::Response {
        client
            .post(self.url("/api/auth/login"))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap()
    }

    /// A client signed in as `email`.
    pub async fn signed_in(&self, email: &str, password: &str) -> Client {
        let client = self.client();
        let response = self.login(&client, email, password).await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        client
    }

    pub async fn demo(&self) -> Client {
        self.signed_in(seed::DEMO_EMAIL, seed::DEMO_PASSWORD).await
    }

    pub async fn other(&self) -> Client {
        self.signed_in(seed::OTHER_EMAIL, seed::OTHER_PASSWORD)
            .await
    }

    /// Requests an export as `client`; returns the job id.
    pub async fn request_export(&self, client: &Client) -> String {
        let response = client
            .post(self.url("/api/account/export"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        let body: Value = response.json().await.unwrap();
        body["job_id"].as_str().unwrap().to_owned()
    }

    /// Runs the next queued job in the in-process worker.
    pub async fn run_worker_once(&self) -> worker::job::Outcome {
        let id = self
            .worker
            .queue
            .take(std::time::Duration::from_secs(1))
            .await
            .unwrap()
            .expect("a queued job");
        let stop = tokio_util::sync::CancellationToken::new();
        worker::job::run(&self.worker, &id, &stop).await.unwrap()
    }

    /// Downloads a job's archive as `client`.
    pub async fn download(&self, client: &Client, job_id: &str) -> reqwest::Response {
        client
            .get(self.url(&format!(
                "/api/account/export/download/yt-export-{job_id}.zip"
            )))
            .send()
            .await
            .unwrap()
    }

    pub async fn status(&self, client: &Client, job_id: &str) -> (StatusCode, Value) {
        let response = client
            .get(self.url(&format!("/api/account/export/status/{job_id}")))
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

/// The `yt_session=…` pair a response sets.
pub fn session_cookie(response: &reqwest::Response) -> String {
    let cookie = response.headers()[reqwest::header::SET_COOKIE]
        .to_str()
        .unwrap();
    assert!(cookie.starts_with("yt_session="), "{cookie}");
    cookie.split(';').next().unwrap().to_owned()
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}
