//! A worker wired to real services for one test: its own redis-server, a SQLite file, an
//! export folder and a mail outbox (or a real SMTP capture), all in temporary folders.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the kit"
)]

pub mod fleet;

use std::{path::PathBuf, sync::Arc};

use chrono::Utc;
use clap::Parser;
use tempfile::TempDir;
use worker::{WorkerArgs, WorkerContext};
use yt_jobs::{ExportJob, JobId, JobStore};
use yt_testkit::RedisServer;
use yt_userdata::{Database, User};

pub mod backends;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: WorkerArgs,
}

pub struct TestWorker {
    pub redis: RedisServer,
    pub dir: TempDir,
    pub database_url: String,
    pub ctx: Arc<WorkerContext>,
}

impl TestWorker {
    /// A worker on SQLite with mail going to an outbox folder.
    pub async fn start() -> Self {
        Self::start_with(None, &[]).await
    }

    /// A worker on `database_url` (SQLite in the temp folder when `None`), with extra
    /// flags.
    pub async fn start_with(database_url: Option<String>, extra: &[&str]) -> Self {
        let redis = RedisServer::start();
        let dir = tempfile::tempdir().unwrap();
        let database_url = database_url
            .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("app.db").display()));

        let exports = dir.path().join("exports");
        let outbox = dir.path().join("outbox");
        let mut argv = vec![
            "worker".to_owned(),
            format!("--redis-url={}", redis.url()),
            format!("--database-url={database_url}"),
            format!("--export-local-path={}", exports.display()),
            format!("--mail-outbox={}", outbox.display()),
            "--export-url-base=http://exports.test".to_owned(),
            "--poll-timeout-secs=1".to_owned(),
        ];
        argv.extend(extra.iter().map(|s| s.to_string()));
        let Cli { args } = Cli::try_parse_from(argv).unwrap();

        let ctx = WorkerContext::connect(args).await.unwrap();
        Self {
            redis,
            dir,
            database_url,
            ctx,
        }
    }

    pub fn db(&self) -> &Database {
        &self.ctx.db
    }

    pub fn jobs(&self) -> &JobStore {
        &self.ctx.jobs
    }

    pub fn exports_dir(&self) -> PathBuf {
        self.dir.path().join("exports")
    }

    pub fn outbox_dir(&self) -> PathBuf {
        self.dir.path().join("outbox")
    }

    /// Seeds the demo users and returns the one with `email`.
    pub async fn seeded_user(&self, email: &str) -> User {
        yt_userdata::seed::seed_demo(self.db()).await.unwrap();
        self.db()
            .user_by_email(email)
            .await
            .unwrap()
            .expect("a seeded user")
    }

    /// Queues a job for `user` the way the API does.
    pub async fn queue_export(&self, user: &User) -> JobId {
        let job =
            ExportJob::new_pending(JobId::generate(), user.id.0, user.email.clone(), Utc::now());
        self.jobs().create(&job).await.unwrap();
        job.id
    }

    /// Pops the next job and runs it, as the worker loop would.
    pub async fn run_next(&self) -> worker::job::Outcome {
        let id = self
            .ctx
            .queue
            .take(std::time::Duration::from_secs(1))
            .await
            .unwrap()
            .expect("a queued job");
        let stop = tokio_util::sync::CancellationToken::new();
        worker::job::run(&self.ctx, &id, &stop).await.unwrap()
    }

    /// Takes the next queued job, which must be `id`, and records it completed as its
    /// worker would, under this worker's lease.
    pub async fn complete_next(&self, id: &JobId, export: &yt_jobs::CompletedExport) {
        let queue = &self.ctx.queue;
        let taken = queue.take(std::time::Duration::from_secs(1)).await.unwrap();
        assert_eq!(taken.as_ref(), Some(id), "the oldest queued job");
        let claim = queue
            .claim(
                id,
                &self.ctx.worker_id,
                std::time::Duration::from_secs(30),
                Utc::now(),
            )
            .await
            .unwrap();
        assert!(matches!(claim, yt_jobs::Claim::Claimed(_)), "{claim:?}");
        let lease = yt_jobs::Lease {
            job_id: id.clone(),
            worker_id: self.ctx.worker_id.clone(),
        };
        assert!(queue.complete(&lease, export).await.unwrap(), "still ours");
    }

    /// The stored archive of a job.
    pub fn archive_path(&self, id: &JobId) -> PathBuf {
        self.exports_dir().join(yt_jobs::archive_filename(id))
    }
}

/// The JSON entries of an archive, parsed.
pub fn read_entry(archive: &std::path::Path, name: &str) -> serde_json::Value {
    use std::io::Read;

    let file = std::fs::File::open(archive).unwrap();
    let mut zip = zip::ZipArchive::new(file).unwrap();
    let mut body = String::new();
    zip.by_name(name)
        .unwrap()
        .read_to_string(&mut body)
        .unwrap();
    serde_json::from_str(&body).unwrap()
}

/// `unzip -t`: the archive opens with a standard tool.
pub fn assert_unzips(archive: &std::path::Path) {
    let out = std::process::Command::new("unzip")
        .arg("-t")
        .arg(archive)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "unzip -t failed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}
