//! Real services for tests, each started on a free port in a temporary folder and stopped
//! when its handle drops.
//!
//! Tests never share a service: every test gets its own `redis-server`, its own PostgreSQL
//! database and its own SMTP capture, so they can run in parallel and leave nothing behind.

mod port;
mod postgres;
mod redis;
mod smtp;

pub use port::free_port;
pub use postgres::Postgres;
pub use redis::RedisServer;
pub use smtp::{CapturedMail, SmtpCapture, repo_root};
