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
}
