//! The server's settings.

use std::{net::SocketAddr, path::PathBuf};

use clap::Args;
use yt_config::{DatabaseArgs, ExportArgs, LogArgs, RateLimitArgs, RedisArgs, StorageArgs};

#[derive(Args, Clone, Debug)]
pub struct ServerArgs {
    /// Address to listen on.
    #[arg(
        long = "listen",
        env = "YT_LISTEN_ADDR",
        default_value = "127.0.0.1:8000"
    )]
    pub listen: SocketAddr,

    /// Folder with the built site (pkg/ with the WASM, JS and CSS; favicon).
    #[arg(
        long = "site-root",
        env = "YT_SITE_ROOT",
        default_value = "target/site"
    )]
    pub site_root: PathBuf,

    /// Answer downloads with `X-Accel-Redirect: /internal/exports/<file>` for nginx to
    /// serve, instead of streaming them (local storage only).
    #[arg(long = "accel-redirect", env = "YT_EXPORT_ACCEL_REDIRECT", default_value_t = false,
          action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true",
          value_parser = clap::builder::BoolishValueParser::new())]
    pub accel_redirect: bool,

    /// Validity of signed download URLs, for storage that can sign them (GCS).
    #[arg(
        long = "signed-url-secs",
        env = "YT_EXPORT_SIGNED_URL_SECS",
        default_value_t = 3600
    )]
    pub signed_url_secs: u64,

    /// Sessions end after this many hours without a request (fractions allowed).
    #[arg(long = "session-idle-hours", env = "YT_SESSION_IDLE_HOURS", default_value_t = 168.0,
          value_parser = positive_hours)]
    pub session_idle_hours: f64,

    /// Sessions end this many hours after sign-in, however active (fractions allowed).
    #[arg(long = "session-max-hours", env = "YT_SESSION_MAX_HOURS", default_value_t = 720.0,
          value_parser = positive_hours)]
    pub session_max_hours: f64,

    #[command(flatten)]
    pub redis: RedisArgs,

    #[command(flatten)]
    pub database: DatabaseArgs,

    #[command(flatten)]
    pub storage: StorageArgs,

    #[command(flatten)]
    pub export: ExportArgs,

    #[command(flatten)]
    pub limits: RateLimitArgs,

    #[command(flatten)]
    pub log: LogArgs,
}

fn positive_hours(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(hours) if hours.is_finite() && hours > 0.0 => Ok(hours),
        _ => Err(format!("{value:?} is not a positive number of hours")),
    }
}
