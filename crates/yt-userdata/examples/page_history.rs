//! Reads a user's whole watch history page by page, as the export worker does, and
//! reports the rate.
//!
//! ```text
//! cargo build --release -p yt-userdata --example page_history
//! target/release/examples/page_history sqlite://data/heavy.db heavy@example.com 5000
//! ```

use std::{process::ExitCode, time::Instant};

use yt_userdata::{Database, DbError};

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(url), Some(email)) = (args.first(), args.get(1)) else {
        eprintln!("usage: page_history DATABASE_URL EMAIL [PAGE_SIZE]");
        return ExitCode::from(2);
    };
    let limit = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(5_000);

    match run(url, email, limit).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("page_history failed: {e}");
            ExitCode::FAILURE
        }
    }
}

#[expect(clippy::print_stdout, reason = "the timing is this tool's output")]
async fn run(url: &str, email: &str, limit: u32) -> Result<(), DbError> {
    let db = Database::connect(url).await?;
    let Some(user) = db.user_by_email(email).await? else {
        eprintln!("no user with that email");
        return Ok(());
    };

    let started = Instant::now();
    let (mut rows, mut pages, mut after, mut title_bytes) = (0u64, 0u64, 0, 0usize);
    loop {
        let page = db.watched_page(user.id, after, limit).await?;
        pages += 1;
        rows += page.items.len() as u64;
        title_bytes += page
            .items
            .iter()
            .filter_map(|v| v.title.as_ref())
            .map(String::len)
            .sum::<usize>();
        match page.next_cursor {
            Some(cursor) => after = cursor,
            None => break,
        }
    }
    let seconds = started.elapsed().as_secs_f64();

    println!(
        "{}: {rows} watched videos in {pages} pages of {limit} in {seconds:.2} s \
         ({:.0} rows/s, {title_bytes} title bytes)",
        db.backend(),
        rows as f64 / seconds
    );
    Ok(())
}
