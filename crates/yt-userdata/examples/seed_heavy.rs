//! Seeds one heavy user, for timing the bulk insert and for export load tests.
//!
//! ```text
//! cargo build --release -p yt-userdata --example seed_heavy
//! /usr/bin/time -v target/release/examples/seed_heavy sqlite://data/heavy.db 1000000
//! /usr/bin/time -v target/release/examples/seed_heavy postgres://postgres@127.0.0.1/heavy 1000000
//! ```
//!
//! Arguments: database URL, number of watched videos, and optionally the email (default
//! `heavy@example.com`, password `heavy-export-123`). An existing user of that email is
//! deleted first, so runs can be repeated on the same database.

use std::{process::ExitCode, time::Instant};

use yt_userdata::{Database, DbError, seed};

const DEFAULT_EMAIL: &str = "heavy@example.com";
const PASSWORD: &str = "heavy-export-123";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(url), Some(Ok(count))) = (args.first(), args.get(1).map(|n| n.parse::<u64>())) else {
        eprintln!("usage: seed_heavy DATABASE_URL WATCHED_COUNT [EMAIL]");
        return ExitCode::from(2);
    };
    let email = args.get(2).map_or(DEFAULT_EMAIL, String::as_str);

    match run(url, count, email).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("seed_heavy failed: {e}");
            ExitCode::FAILURE
        }
    }
}

#[expect(clippy::print_stdout, reason = "the timing is this tool's output")]
async fn run(url: &str, count: u64, email: &str) -> Result<(), DbError> {
    let db = Database::connect(url).await?;
    db.migrate().await?;
    if let Some(existing) = db.user_by_email(email).await? {
        db.delete_user(existing.id).await?;
    }

    let started = Instant::now();
    let user = seed::seed_heavy_user(&db, email, PASSWORD, count).await?;
    let seconds = started.elapsed().as_secs_f64();

    let counts = db.counts(user.id).await?;
    println!(
        "{} user {}: {} watched videos and {} subscriptions in {seconds:.2} s ({:.0} rows/s)",
        db.backend(),
        user.id,
        counts.watched_videos,
        counts.subscriptions,
        count as f64 / seconds
    );
    Ok(())
}
