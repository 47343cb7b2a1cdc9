//! Real services for tests, each started on a free port in a temporary folder and stopped
//! when its handle drops.
//!
//! Tests never share a service: every test gets its own `redis-server`, its own PostgreSQL
//! database, its own SMTP capture and its own storage emulator, so they can run in
//! parallel and leave nothing behind.

mod azure;
mod emulators;
mod port;
mod postgres;
mod redis;
mod smtp;

pub use emulators::{
    AZURITE_ACCOUNT, AZURITE_KEY, AzuriteEmulator, GcsEmulator, S3Emulator, tools_dir,
};
pub use port::free_port;
pub use postgres::Postgres;
pub use redis::RedisServer;
pub use smtp::{CapturedMail, SmtpCapture, repo_root};
