//! `deploy/local-cluster` driven from a test: starts the script on a fresh state folder,
//! reads the addresses it writes, and stops it (and so every process it started) when
//! dropped. Plus a reader of the Prometheus text format and small API helpers.
//!
//! The script runs the `server` and `worker` binaries next to this test's server binary
//! (`target/debug`): `cargo test --workspace` builds both, `scripts/test` too.

pub mod prometheus;

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use reqwest::{Client, StatusCode, redirect::Policy};
use serde_json::{Value, json};
use tempfile::TempDir;

/// How long the whole cluster may take to answer.
const START_TIMEOUT: Duration = Duration::from_secs(90);

pub struct Cluster {
    pub nginx: String,
    pub servers: Vec<String>,
    pub workers: Vec<String>,
    pub database_url: String,
    pub export_dir: PathBuf,
    pub log_dir: PathBuf,
    script: Child,
    state: TempDir,
}

impl Cluster {
    /// Starts `servers` servers and `workers` workers behind nginx, with extra `YT_*`
    /// settings for all of them.
    pub async fn start(servers: u32, workers: u32, settings: &[(&str, &str)]) -> Self {
        let state = tempfile::tempdir().unwrap();
        let bin = Path::new(env!("CARGO_BIN_EXE_server")).parent().unwrap();
        let script_log = std::fs::File::create(state.path().join("script.log")).unwrap();
        let script = Command::new(repo_file("deploy/local-cluster"))
            .arg(state.path())
            .env("YT_CLUSTER_BIN", bin)
            .env("YT_CLUSTER_SERVERS", servers.to_string())
            .env("YT_CLUSTER_WORKERS", workers.to_string())
            .envs(settings.iter().copied())
            .stdout(Stdio::null())
            .stderr(script_log)
            .spawn()
            .expect("bash runs deploy/local-cluster");
        let mut cluster = Self {
            nginx: String::new(),
            servers: Vec::new(),
            workers: Vec::new(),
            database_url: String::new(),
            export_dir: PathBuf::new(),
            log_dir: PathBuf::new(),
            script,
            state,
        };

        let env = cluster.wait_for_env().await;
        let list = |key: &str| env[key].split_whitespace().map(str::to_owned).collect();
        cluster.nginx = env["NGINX_URL"].clone();
        cluster.servers = list("SERVER_URLS");
        cluster.workers = list("WORKER_METRICS_URLS");
        cluster.database_url = env["DATABASE_URL"].clone();
        cluster.export_dir = PathBuf::from(&env["EXPORT_DIR"]);
        cluster.log_dir = PathBuf::from(&env["LOG_DIR"]);
        cluster
    }

    /// Waits for `cluster.env`, which the script writes once everything answers.
    async fn wait_for_env(&mut self) -> HashMap<String, String> {
        let path = self.state.path().join("cluster.env");
        let started = std::time::Instant::now();
        while started.elapsed() < START_TIMEOUT {
            if let Ok(text) = std::fs::read_to_string(&path) {
                return text
                    .lines()
                    .filter_map(|line| line.split_once('='))
                    .map(|(key, value)| (key.to_owned(), value.to_owned()))
                    .collect();
            }
            if let Some(status) = self.script.try_wait().unwrap() {
                panic!(
                    "deploy/local-cluster ended ({status}):\n{}",
                    self.script_log()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the cluster did not start in time:\n{}", self.script_log());
    }

    fn script_log(&self) -> String {
        std::fs::read_to_string(self.state.path().join("script.log")).unwrap_or_default()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // SIGTERM lets the script stop what it started; it exits once all are gone.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.script.id().to_string())
            .status();
        let _ = self.script.wait();
    }
}

pub fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

/// A client with its own cookie jar that does not follow redirects. Cookies are kept
/// per host, not per port, so its session also reaches each server directly.
pub fn client() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// A client signed in through `base` (nginx or one server).
pub async fn signed_in(base: &str, email: &str, password: &str) -> Client {
    let client = client();
    let response = client
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::NO_CONTENT,
        "login as a seeded user"
    );
    client
}

/// Requests an export through `base`; returns the answer's status and body.
pub async fn request_export(client: &Client, base: &str) -> (StatusCode, Value) {
    let response = client
        .post(format!("{base}/api/account/export"))
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Polls the job's status through `base` until it is completed (or fails the test).
pub async fn wait_until_completed(client: &Client, base: &str, job_id: &str) -> Value {
    let url = format!("{base}/api/account/export/status/{job_id}");
    for _ in 0..300 {
        let job: Value = client.get(&url).send().await.unwrap().json().await.unwrap();
        match job["status"].as_str() {
            Some("completed") => return job,
            Some("failed") => panic!("job {job_id} failed: {job}"),
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    panic!("job {job_id} did not complete within 30 s");
}

/// GETs a text answer, asserting 200.
pub async fn get_text(url: &str) -> String {
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{url}");
    response.text().await.unwrap()
}
