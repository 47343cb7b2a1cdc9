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
use yt_storage::{AzblobConfig, BackendConfig, GcsConfig, S3Config};

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
    S3,
    Azblob,
}

/// Storage settings. `Debug` shows which secrets are set, never their values.
#[derive(Args, Clone)]
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

    /// A fixed OAuth2 access token for GCS instead of one exchanged for the key
    /// (emulators); the key still signs download URLs.
    #[arg(long = "gcs-token", env = "YT_GCS_TOKEN", hide_env_values = true)]
    pub gcs_token: Option<String>,

    /// Bucket for the s3 backend.
    #[arg(long = "s3-bucket", env = "YT_S3_BUCKET")]
    pub s3_bucket: Option<String>,

    /// Region of the S3 bucket.
    #[arg(long = "s3-region", env = "YT_S3_REGION", default_value = "us-east-1")]
    pub s3_region: String,

    /// Another S3 endpoint (MinIO, emulators); path-style requests.
    #[arg(long = "s3-endpoint", env = "YT_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,

    /// S3 access key id; unset: the usual AWS credential chain.
    #[arg(
        long = "s3-access-key-id",
        env = "AWS_ACCESS_KEY_ID",
        hide_env_values = true
    )]
    pub s3_access_key_id: Option<String>,

    /// S3 secret access key.
    #[arg(
        long = "s3-secret-access-key",
        env = "AWS_SECRET_ACCESS_KEY",
        hide_env_values = true
    )]
    pub s3_secret_access_key: Option<String>,

    /// S3 session token, with temporary credentials.
    #[arg(
        long = "s3-session-token",
        env = "AWS_SESSION_TOKEN",
        hide_env_values = true
    )]
    pub s3_session_token: Option<String>,

    /// Container for the azblob backend.
    #[arg(long = "azblob-container", env = "YT_AZBLOB_CONTAINER")]
    pub azblob_container: Option<String>,

    /// Storage account of the azblob backend.
    #[arg(long = "azblob-account-name", env = "YT_AZBLOB_ACCOUNT_NAME")]
    pub azblob_account_name: Option<String>,

    /// Shared key of the storage account (signed download URLs need it).
    #[arg(
        long = "azblob-account-key",
        env = "YT_AZBLOB_ACCOUNT_KEY",
        hide_env_values = true
    )]
    pub azblob_account_key: Option<String>,

    /// Another blob endpoint (Azurite); default `https://{account}.blob.core.windows.net`.
    #[arg(long = "azblob-endpoint", env = "YT_AZBLOB_ENDPOINT")]
    pub azblob_endpoint: Option<String>,
}

impl std::fmt::Debug for StorageArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.backend() {
            Ok(backend) => backend.fmt(f),
            Err(_) => f
                .debug_struct("StorageArgs")
                .field("storage_backend", &self.storage_backend)
                .finish_non_exhaustive(),
        }
    }
}

/// A setting the chosen backend cannot do without.
fn required(
    value: &Option<String>,
    variable: &'static str,
    backend: &str,
) -> Result<String, ConfigError> {
    value
        .clone()
        .filter(|v| !v.trim().is_empty())
        .ok_or(ConfigError {
            variable,
            reason: format!("required when YT_EXPORT_STORAGE_BACKEND={backend}"),
        })
}

/// An optional setting, with empty meaning unset.
fn optional(value: &Option<String>) -> Option<String> {
    value.clone().filter(|v| !v.trim().is_empty())
}

impl StorageArgs {
    pub fn backend(&self) -> Result<BackendConfig, ConfigError> {
        match self.storage_backend {
            StorageBackend::Local => Ok(BackendConfig::Local {
                root: self.local_path.clone(),
            }),
            StorageBackend::Gcs => {
                let bucket = required(&self.gcs_bucket, "YT_GCS_BUCKET_NAME", "gcs")?;
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
                    endpoint: optional(&self.gcs_endpoint),
                    token: optional(&self.gcs_token),
                }))
            }
            StorageBackend::S3 => {
                let access_key_id = optional(&self.s3_access_key_id);
                let secret_access_key = optional(&self.s3_secret_access_key);
                if access_key_id.is_some() != secret_access_key.is_some() {
                    return Err(ConfigError {
                        variable: "AWS_SECRET_ACCESS_KEY",
                        reason: "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together".into(),
                    });
                }
                Ok(BackendConfig::S3(S3Config {
                    bucket: required(&self.s3_bucket, "YT_S3_BUCKET", "s3")?,
                    region: self.s3_region.clone(),
                    endpoint: optional(&self.s3_endpoint),
                    access_key_id,
                    secret_access_key,
                    session_token: optional(&self.s3_session_token),
                }))
            }
            StorageBackend::Azblob => Ok(BackendConfig::Azblob(AzblobConfig {
                container: required(&self.azblob_container, "YT_AZBLOB_CONTAINER", "azblob")?,
                account_name: required(
                    &self.azblob_account_name,
                    "YT_AZBLOB_ACCOUNT_NAME",
                    "azblob",
                )?,
                account_key: optional(&self.azblob_account_key),
                endpoint: optional(&self.azblob_endpoint),
            })),
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
