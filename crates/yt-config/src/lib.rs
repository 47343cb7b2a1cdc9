//! Configuration from the environment, shared by the server and the worker.
//!
//! Every setting is a `YT_*` variable (or the matching flag), listed with its default by
//! `server --help` and `worker --help`. Each area has one struct that the binaries
//! flatten into their own argument parser; a bad value stops start-up with a message that
//! names the variable.

mod cli;
mod limits;
mod logging;
mod mail;

use std::{path::PathBuf, time::Duration};

use clap::{Args, ValueEnum};
use url::Url;
use yt_storage::{BackendConfig, GcsConfig};

pub use cli::parse_or_exit;
pub use limits::{RateLimitArgs, parse_network};
pub use logging::{LogArgs, LogFormat, init_logging};
pub use mail::MailArgs;

/// A setting that parsed but cannot work, with the variable to fix.
#[derive(Debug)]
pub struct ConfigError {
    pub variable: &'static str,
    pub reason: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.variable, self.reason)
    }
}

impl std::error::Error for ConfigError {}

#[derive(Args, Clone, Debug)]
pub struct RedisArgs {
    /// Redis holding the job queue, job records and sessions.
    #[arg(
        long = "redis-url",
        env = "YT_REDIS_URL",
        default_value = "redis://127.0.0.1:6379"
    )]
    pub redis_url: String,
}

#[derive(Args, Clone, Debug)]
pub struct DatabaseArgs {
    /// User data: `sqlite://path/to/file.db` or `postgres://user@host/db`.
    #[arg(
        long = "database-url",
        env = "YT_DATABASE_URL",
        default_value = "sqlite://data/app.db"
    )]
    pub database_url: String,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum StorageBackend {
    Local,
    Gcs,
}

#[derive(Args, Clone, Debug)]
pub struct StorageArgs {
    /// Where archives are stored.
    #[arg(
        long = "storage-backend",
        env = "YT_EXPORT_STORAGE_BACKEND",
        value_enum,
        default_value = "local"
    )]
    pub storage_backend: StorageBackend,

    /// Folder for archives with the local backend.
    #[arg(
        long = "export-local-path",
        env = "YT_EXPORT_LOCAL_PATH",
        default_value = "./exports"
    )]
    pub local_path: PathBuf,

    /// Bucket for the gcs backend.
    #[arg(long = "gcs-bucket", env = "YT_GCS_BUCKET_NAME")]
    pub gcs_bucket: Option<String>,

    /// Service-account JSON key for the gcs backend (default credentials without it).
    #[arg(long = "gcs-credentials-file", env = "YT_GCS_CREDENTIALS_FILE")]
    pub gcs_credentials_file: Option<PathBuf>,

    /// Another GCS endpoint, for emulators.
    #[arg(long = "gcs-endpoint", env = "YT_GCS_ENDPOINT")]
    pub gcs_endpoint: Option<String>,
}

impl StorageArgs {
    pub fn backend(&self) -> Result<BackendConfig, ConfigError> {
        match self.storage_backend {
            StorageBackend::Local => Ok(BackendConfig::Local {
                root: self.local_path.clone(),
            }),
            StorageBackend::Gcs => {
                let bucket = self
                    .gcs_bucket
                    .clone()
                    .filter(|b| !b.trim().is_empty())
                    .ok_or(ConfigError {
                        variable: "YT_GCS_BUCKET_NAME",
                        reason: "required when YT_EXPORT_STORAGE_BACKEND=gcs".into(),
                    })?;
                if let Some(path) = &self.gcs_credentials_file
                    && !path.is_file()
                {
                    return Err(ConfigError {
                        variable: "YT_GCS_CREDENTIALS_FILE",
                        reason: format!("{} is not a readable file", path.display()),
                    });
                }
                Ok(BackendConfig::Gcs(GcsConfig {
                    bucket,
                    credentials_file: self.gcs_credentials_file.clone(),
                    endpoint: self.gcs_endpoint.clone(),
                }))
            }
        }
    }
}

#[derive(Args, Clone, Debug)]
pub struct ExportArgs {
    /// Public base URL of the site; download links in emails start with it.
    #[arg(
        long = "export-url-base",
        env = "YT_EXPORT_URL_BASE",
        default_value = "http://localhost:8000"
    )]
    pub url_base: Url,

    /// How long an archive can be downloaded before cleanup deletes it.
    #[arg(long = "export-ttl-hours", env = "YT_EXPORT_TTL_HOURS", default_value_t = 24,
          value_parser = clap::value_parser!(u32).range(1..=24 * 365))]
    pub ttl_hours: u32,
}

impl ExportArgs {
    pub fn ttl(&self) -> Duration {
        Duration::from_secs(u64::from(self.ttl_hours) * 3600)
    }

    /// The public download URL of an archive file name.
    /// The account page, where users request exports.
    pub fn account_url(&self) -> String {
        format!("{}/account", self.url_base.as_str().trim_end_matches('/'))
    }

    pub fn download_url(&self, filename: &str) -> String {
        let base = self.url_base.as_str().trim_end_matches('/');
        format!("{base}/api/account/export/download/{filename}")
    }

    /// Whether the site is served over HTTPS (session cookies get `Secure`).
    pub fn is_https(&self) -> bool {
        self.url_base.scheme() == "https"
    }
}
