//! The worker's settings.

use std::{net::SocketAddr, time::Duration};

use clap::Args;
use yt_config::{DatabaseArgs, ExportArgs, LogArgs, MailArgs, RedisArgs, StorageArgs};

#[derive(Args, Clone, Debug)]
pub struct WorkerArgs {
    #[command(flatten)]
    pub redis: RedisArgs,

    #[command(flatten)]
    pub database: DatabaseArgs,

    #[command(flatten)]
    pub storage: StorageArgs,

    #[command(flatten)]
    pub export: ExportArgs,

    #[command(flatten)]
    pub mail: MailArgs,

    #[command(flatten)]
    pub log: LogArgs,

    #[command(flatten)]
    pub tuning: TuningArgs,

    #[command(flatten)]
    pub reliability: ReliabilityArgs,

    /// Where `worker run` serves /metrics, /healthz and /readyz (one port per worker).
    #[arg(
        long = "metrics-addr",
        env = "YT_WORKER_METRICS_ADDR",
        default_value = "127.0.0.1:9187"
    )]
    pub metrics_addr: SocketAddr,
}

#[derive(Args, Clone, Debug)]
pub struct TuningArgs {
    /// How long one wait on the queue lasts (BRPOP timeout).
    #[arg(
        long = "poll-timeout-secs",
        env = "YT_WORKER_POLL_TIMEOUT_SECS",
        default_value_t = 5
    )]
    pub poll_timeout_secs: u64,

    /// How often expired exports are deleted.
    #[arg(
        long = "cleanup-interval-secs",
        env = "YT_EXPORT_CLEANUP_INTERVAL_SECS",
        default_value_t = 3600
    )]
    pub cleanup_interval_secs: u64,

    /// Uploads older than this that never published are leftovers of a crash, and
    /// cleanup deletes them; keep it above the longest upload.
    #[arg(
        long = "staging-max-age-secs",
        env = "YT_EXPORT_STAGING_MAX_AGE_SECS",
        default_value_t = 3600
    )]
    pub staging_max_age_secs: u64,

    /// Deflate level of the archive, 1 (fastest) to 9 (smallest).
    #[arg(long = "compression-level", env = "YT_EXPORT_COMPRESSION_LEVEL", default_value_t = 6,
          value_parser = clap::value_parser!(u8).range(1..=9))]
    pub compression_level: u8,

    /// Rows read from the database per query.
    #[arg(long = "batch-size", env = "YT_EXPORT_BATCH_SIZE", default_value_t = 2000,
          value_parser = clap::value_parser!(u32).range(100..=100_000))]
    pub batch_size: u32,

    /// Pause between database pages, to spread an export's load on a busy database
    /// (also makes progress easy to watch in a demo).
    #[arg(
        long = "page-pause-ms",
        env = "YT_EXPORT_PAGE_PAUSE_MS",
        default_value_t = 0
    )]
    pub page_pause_ms: u64,
}

/// How jobs are held, retried and handed back.
#[derive(Args, Clone, Debug)]
pub struct ReliabilityArgs {
    /// How long a taken job stays ours without renewal; a job whose worker stops renewing
    /// goes back to the queue this long after.
    #[arg(long = "lease-ms", env = "YT_WORKER_LEASE_MS", default_value_t = 30_000,
          value_parser = clap::value_parser!(u64).range(100..))]
    pub lease_ms: u64,

    /// How often the worker publishes its heartbeat.
    #[arg(long = "heartbeat-ms", env = "YT_WORKER_HEARTBEAT_MS", default_value_t = 5_000,
          value_parser = clap::value_parser!(u64).range(50..))]
    pub heartbeat_ms: u64,

    /// Attempts a job gets before a transient failure becomes final.
    #[arg(long = "max-attempts", env = "YT_JOB_MAX_ATTEMPTS", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..=100))]
    pub max_attempts: u32,

    /// The first retry's delay; each further retry doubles it (with jitter).
    #[arg(
        long = "retry-base-ms",
        env = "YT_JOB_RETRY_BASE_MS",
        default_value_t = 5_000
    )]
    pub retry_base_ms: u64,

    /// The longest delay between two attempts.
    #[arg(
        long = "retry-max-ms",
        env = "YT_JOB_RETRY_MAX_MS",
        default_value_t = 300_000
    )]
    pub retry_max_ms: u64,

    /// On SIGTERM, how long the current job may take to finish before it is handed back.
    #[arg(
        long = "shutdown-grace-secs",
        env = "YT_WORKER_SHUTDOWN_GRACE_SECS",
        default_value_t = 30
    )]
    pub shutdown_grace_secs: u64,
}

impl ReliabilityArgs {
    pub fn lease(&self) -> Duration {
        Duration::from_millis(self.lease_ms)
    }

    /// Leases are renewed three times per lease, so one slow renewal does not lose it.
    pub fn renew_every(&self) -> Duration {
        self.lease() / 3
    }

    /// Reapers look for lapsed leases twice per lease.
    pub fn reap_every(&self) -> Duration {
        self.lease() / 2
    }

    pub fn heartbeat(&self) -> Duration {
        Duration::from_millis(self.heartbeat_ms)
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }

    /// The delay after attempt `attempt` failed: exponential and capped, then between half
    /// and all of that at random, so jobs that failed together do not retry together.
    pub fn retry_delay(&self, attempt: u32) -> Duration {
        let exponent = attempt.saturating_sub(1).min(30);
        let ceiling = self
            .retry_base_ms
            .saturating_mul(1 << exponent)
            .min(self.retry_max_ms)
            .max(1);
        let jittered = rand::random_range(ceiling / 2..=ceiling);
        Duration::from_millis(jittered)
    }
}

impl TuningArgs {
    pub fn poll_timeout(&self) -> Duration {
        Duration::from_secs(self.poll_timeout_secs.max(1))
    }

    pub fn page_pause(&self) -> Duration {
        Duration::from_millis(self.page_pause_ms)
    }

    pub fn cleanup_interval(&self) -> Duration {
        Duration::from_secs(self.cleanup_interval_secs.max(1))
    }

    pub fn staging_max_age(&self) -> Duration {
        Duration::from_secs(self.staging_max_age_secs)
    }
}
