//! Log output: human-readable by default, JSON for log collectors.

use clap::{Args, ValueEnum};
use tracing_subscriber::{EnvFilter, fmt};

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Args, Clone, Debug)]
pub struct LogArgs {
    /// Log line format.
    #[arg(
        long = "log-format",
        env = "YT_LOG_FORMAT",
        value_enum,
        default_value = "human"
    )]
    pub log_format: LogFormat,

    /// Which logs to show, in `tracing` filter syntax.
    #[arg(long = "log", env = "YT_LOG", default_value = "info")]
    pub log_filter: String,
}

/// Installs the global subscriber. Call once, first thing in `main`.
pub fn init_logging(args: &LogArgs) {
    let filter = EnvFilter::try_new(&args.log_filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match args.log_format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}
