//! Rate limits, and which proxies may tell the server who the client is.
//!
//! The limits are counted in Redis per user (exports, status, downloads) and per client
//! address and account (logins). Behind nginx every request comes from the proxy, so the
//! client address is taken from `X-Forwarded-For` / `X-Real-IP` only when the socket peer
//! is listed in `YT_TRUSTED_PROXIES`; anyone else could write those headers.

use std::net::IpAddr;

use clap::Args;
use ipnet::IpNet;

#[derive(Args, Clone, Debug)]
pub struct RateLimitArgs {
    /// Export requests a user may make per hour (a failed export gives its request back).
    #[arg(long = "rate-limit-exports-per-hour", env = "YT_RATE_LIMIT_EXPORTS_PER_HOUR",
          default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    pub exports_per_hour: u32,

    /// Export status requests a user may make per minute.
    #[arg(long = "rate-limit-status-per-minute", env = "YT_RATE_LIMIT_STATUS_PER_MINUTE",
          default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..))]
    pub status_per_minute: u32,

    /// Downloads a user may start per minute.
    #[arg(long = "rate-limit-downloads-per-minute", env = "YT_RATE_LIMIT_DOWNLOADS_PER_MINUTE",
          default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..))]
    pub downloads_per_minute: u32,

    /// Login attempts per minute from one client address.
    #[arg(long = "rate-limit-logins-per-address", env = "YT_RATE_LIMIT_LOGINS_PER_ADDRESS",
          default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub logins_per_address: u32,

    /// Login attempts per minute for one account (email).
    #[arg(long = "rate-limit-logins-per-account", env = "YT_RATE_LIMIT_LOGINS_PER_ACCOUNT",
          default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub logins_per_account: u32,

    /// Proxies whose `X-Forwarded-For` / `X-Real-IP` are believed: comma-separated IPs or
    /// CIDRs, e.g. `127.0.0.1,10.0.0.0/8`. Empty: the socket address is the client.
    #[arg(long = "trusted-proxies", env = "YT_TRUSTED_PROXIES", value_delimiter = ',',
          value_parser = parse_network)]
    pub trusted_proxies: Vec<IpNet>,
}

/// An IP (a network of one) or a CIDR.
pub fn parse_network(raw: &str) -> Result<IpNet, String> {
    let raw = raw.trim();
    raw.parse::<IpNet>()
        .or_else(|_| raw.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{raw:?} is neither an IP address nor a CIDR"))
}
