//! Worker processes for chaos tests: real `worker` binaries sharing one redis-server, one
//! SQLite file, one export folder and one outbox, each of which a test may kill, stop or
//! break.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use chrono::Utc;
use tempfile::TempDir;
use yt_jobs::{ExportJob, JobId, JobStatus, JobStore};
use yt_testkit::RedisServer;

/// Lease and retry timings short enough for tests, long enough for a loaded machine.
pub const LEASE_MS: u64 = 1_500;

pub struct Fleet {
    pub redis: RedisServer,
    pub dir: TempDir,
    pub jobs: JobStore,
    pub raw: fred::clients::Pool,
    workers: Vec<Child>,
}

impl Fleet {
    pub async fn start(redis: RedisServer) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let raw = yt_jobs::connect_pool(&redis.url(), 1).await.unwrap();
        let fleet = Self {
            jobs: JobStore::new(raw.clone()),
            raw,
            redis,
            dir,
            workers: Vec::new(),
        };
        std::fs::create_dir_all(fleet.exports_dir()).unwrap();
        fleet
    }

    pub fn exports_dir(&self) -> PathBuf {
        self.dir.path().join("exports")
    }

    pub fn outbox_dir(&self) -> PathBuf {
        self.dir.path().join("outbox")
    }

    pub fn database_url(&self) -> String {
        format!("sqlite://{}", self.dir.path().join("app.db").display())
    }

    /// A `worker` command with this fleet's settings.
    pub fn command(&self, extra_env: &[(&str, &str)]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_worker"));
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("YT_REDIS_URL", self.redis.url())
            .env("YT_DATABASE_URL", self.database_url())
            .env("YT_EXPORT_LOCAL_PATH", self.exports_dir())
            .env("YT_MAIL_OUTBOX", self.outbox_dir())
            .env("YT_EXPORT_URL_BASE", "http://exports.test")
            // Any free port: several workers, and several tests, run side by side.
            .env("YT_WORKER_METRICS_ADDR", "127.0.0.1:0")
            .env("YT_WORKER_POLL_TIMEOUT_SECS", "1")
            .env("YT_WORKER_LEASE_MS", LEASE_MS.to_string())
            .env("YT_WORKER_HEARTBEAT_MS", "200")
            .env("YT_JOB_RETRY_BASE_MS", "200")
            .env("YT_JOB_RETRY_MAX_MS", "800")
            .env("YT_LOG_FORMAT", "json")
            .env("YT_LOG", "info");
        for (name, value) in extra_env {
            command.env(name, value);
        }
        command
    }

    /// Migrates and seeds the demo users, and a heavy user with `watched` rows if asked.
    pub fn seed(&self, heavy: Option<(&str, u64)>) {
        let mut command = self.command(&[]);
        command.arg("seed");
        if let Some((email, watched)) = heavy {
            command.args(["--heavy-user", email, "--watched", &watched.to_string()]);
        }
        let out = command.output().unwrap();
        assert!(
            out.status.success(),
            "seed failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts one more worker process; its log goes to `worker-{n}.log`.
    pub fn spawn_worker(&mut self, extra_env: &[(&str, &str)]) -> usize {
        let index = self.workers.len();
        let log = std::fs::File::create(self.log_path(index)).unwrap();
        let child = self
            .command(extra_env)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        self.workers.push(child);
        index
    }

    pub fn log_path(&self, index: usize) -> PathBuf {
        self.dir.path().join(format!("worker-{index}.log"))
    }

    pub fn log(&self, index: usize) -> String {
        std::fs::read_to_string(self.log_path(index)).unwrap_or_default()
    }

    pub fn pid(&self, index: usize) -> u32 {
        self.workers[index].id()
    }

    /// Sends a signal (`KILL`, `TERM`) to a worker.
    pub fn signal(&mut self, index: usize, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.pid(index).to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for a worker process to exit and returns whether it exited cleanly.
    pub fn wait_exit(&mut self, index: usize, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.workers[index].try_wait().unwrap() {
                return status.success();
            }
            assert!(Instant::now() < deadline, "worker {index} did not exit");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Queues an export for `user_id` the way the API does.
    pub async fn queue_export(&self, user_id: i64, email: &str) -> JobId {
        let job = ExportJob::new_pending(JobId::generate(), user_id, email.into(), Utc::now());
        self.jobs.create(&job).await.unwrap();
        job.id
    }

    pub async fn job(&self, id: &JobId) -> ExportJob {
        self.jobs.get(id).await.unwrap().expect("the job record")
    }

    /// Polls until every job in `ids` has `status`, or panics after `within`.
    pub async fn wait_for_status(&self, ids: &[JobId], status: JobStatus, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let mut pending = 0;
            for id in ids {
                if self.jobs.get(id).await.ok().flatten().map(|j| j.status) != Some(status) {
                    pending += 1;
                }
            }
            if pending == 0 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{pending} of {} jobs not {status} after {within:?}",
                ids.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Polls `check` until it holds, or panics with `what` after `within`.
    pub async fn wait_until<F, Fut>(&self, what: &str, within: Duration, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + within;
        while !check().await {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Emails in the outbox per job id, split into "ready" and "failed" messages.
    pub fn emails(&self) -> HashMap<String, (u32, u32)> {
        let mut counts: HashMap<String, (u32, u32)> = HashMap::new();
        let Ok(entries) = std::fs::read_dir(self.outbox_dir()) else {
            return counts;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("eml") {
                continue;
            }
            let mail = std::fs::read_to_string(&path).unwrap();
            let job = mail
                .split("Message-ID: <export.")
                .nth(1)
                .and_then(|rest| rest.split('.').next())
                .expect("a Message-ID naming the job")
                .to_owned();
            let count = counts.entry(job).or_default();
            if mail.contains("is ready") {
                count.0 += 1;
            } else {
                count.1 += 1;
            }
        }
        counts
    }

    /// The stored archive of a job.
    pub fn archive_path(&self, id: &JobId) -> PathBuf {
        self.exports_dir().join(yt_jobs::archive_filename(id))
    }

    /// Replaces the export folder with a plain file, so every write fails; returns where
    /// the folder went.
    pub fn break_storage(&self) -> PathBuf {
        let away = self.dir.path().join("exports.away");
        std::fs::rename(self.exports_dir(), &away).unwrap();
        std::fs::write(self.exports_dir(), b"not a folder").unwrap();
        away
    }

    pub fn repair_storage(&self, away: &Path) {
        std::fs::remove_file(self.exports_dir()).unwrap();
        std::fs::rename(away, self.exports_dir()).unwrap();
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for child in &mut self.workers {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The number of entries in a JSON array inside a ZIP archive.
pub fn array_len(archive: &Path, name: &str) -> usize {
    super::read_entry(archive, name).as_array().unwrap().len()
}
