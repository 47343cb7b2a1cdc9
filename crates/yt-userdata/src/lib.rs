//! The user data the service holds: accounts, channel subscriptions and watch history, in
//! SQLite (a file, the default) or PostgreSQL.
//!
//! Both engines run the same queries through sqlx's `Any` driver; [`Backend`] holds the
//! few fragments where they differ, and each engine has its own embedded migrations. The
//! export reads history in keyset pages ([`Database::watched_page`]) so a million rows
//! stream through in constant memory. [`seed`] makes demo and load-test data.

mod backend;
mod database;
mod error;
mod history;
mod insert;
mod password;
pub mod seed;
mod timestamp;
mod url;
mod users;

pub use backend::Backend;
pub use database::{Database, DbOptions};
pub use error::DbError;
pub use history::{DataCounts, MAX_PAGE_SIZE, Page, Subscription, WatchedVideo};
pub use insert::{NewSubscription, NewWatchedVideo};
pub use timestamp::now;
pub use users::{NewUser, User, UserId, normalize_email};
