//! Exports one user's data once and reports the time taken: the worker's job code, run
//! in a process of its own so `/usr/bin/time -v` can measure its peak memory.
//!
//! ```text
//! bench_export <redis-url> <database-url> <export-dir> <email>
//! ```
//!
//! `scripts/bench-export` sets everything up (a private redis-server, a SQLite file with
//! a 1,000,000-row user) and runs it.

#![expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use std::time::Instant;

use anyhow::Context as _;
use chrono::Utc;
use clap::Parser;
use worker::{WorkerArgs, WorkerContext, job};
use yt_jobs::{ExportJob, JobId};

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: WorkerArgs,

    /// The user to export.
    #[arg(long)]
    email: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let ctx = WorkerContext::connect(cli.args).await?;
    let user = ctx
        .db
        .user_by_email(&cli.email)
        .await?
        .context("no such user")?;
    let counts = ctx.db.counts(user.id).await?;

    let job = ExportJob::new_pending(JobId::generate(), user.id.0, user.email.clone(), Utc::now());
    ctx.jobs.create(&job).await?;
    let id = ctx
        .queue
        .take(std::time::Duration::from_secs(1))
        .await?
        .context("queued job")?;

    let started = Instant::now();
    let stop = tokio_util::sync::CancellationToken::new();
    let outcome = job::run(&ctx, &id, &stop).await?;
    let elapsed = started.elapsed();

    let done = ctx.jobs.get(&id).await?.context("job record")?;
    let bytes = done.archive_bytes.unwrap_or_default();
    let seconds = elapsed.as_secs_f64();
    println!("outcome           {outcome:?}");
    println!("watched videos    {}", counts.watched_videos);
    println!(
        "archive bytes     {bytes} ({:.1} MiB)",
        bytes as f64 / 1048576.0
    );
    println!("export seconds    {seconds:.2}");
    println!(
        "rows per second   {:.0}",
        counts.watched_videos as f64 / seconds
    );
    Ok(())
}
