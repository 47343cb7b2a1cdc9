//! The `worker` binary: runs export jobs, and a few maintenance commands.
//!
//! ```text
//! worker              # run: take jobs until SIGTERM
//! worker seed         # migrate and create the demo users
//! worker seed --heavy-user heavy@example.com --watched 1000000
//! worker cleanup      # delete expired exports and abandoned uploads now
//! worker status       # workers, queue, jobs in progress, failed jobs with reasons
//! worker retry ID     # queue a failed job again
//! worker cancel ID    # cancel a job that waits for a worker
//! ```

use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;
use worker::{WorkerArgs, WorkerContext, cleanup, ops, runner, status};
use yt_userdata::{Database, seed};

#[derive(Parser)]
#[command(
    name = "worker",
    version,
    about = "Builds data exports from the Redis queue"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    #[command(flatten)]
    args: WorkerArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Take export jobs until stopped (the default).
    Run,
    /// Migrate the database and create the demo users (and optionally a heavy user).
    Seed {
        /// Also create this user with `--watched` watched videos, for benchmarks.
        #[arg(long)]
        heavy_user: Option<String>,
        /// Watched videos of the heavy user.
        #[arg(long, default_value_t = 1_000_000)]
        watched: u64,
    },
    /// Delete exports past their time to live and abandoned uploads, once.
    Cleanup,
    /// Print the live workers, queue counts, jobs in progress and failed jobs.
    Status,
    /// Queue a failed job again, as new.
    Retry {
        /// The job id (or its `yt:export:job:` key).
        job_id: String,
    },
    /// Cancel a job that waits for a worker; its user may ask again.
    Cancel {
        /// The job id (or its `yt:export:job:` key).
        job_id: String,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = yt_config::parse_or_exit::<Cli>();
    yt_config::init_logging(&cli.args.log);

    match execute(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "worker stopped with an error");
            ExitCode::FAILURE
        }
    }
}

async fn execute(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Run) {
        Command::Run => {
            let metrics_addr = cli.args.metrics_addr;
            let ctx = WorkerContext::connect(cli.args).await?;
            let shutdown = CancellationToken::new();
            let (_, listener) = ops::serve(ctx.clone(), metrics_addr, shutdown.clone()).await?;
            runner::cancel_on_signal(shutdown.clone());
            runner::run(ctx, shutdown).await;
            let _ = listener.await;
        }
        Command::Seed {
            heavy_user,
            watched,
        } => {
            let db = Database::connect(&cli.args.database.database_url)
                .await
                .context("connecting to the database (YT_DATABASE_URL)")?;
            db.migrate().await.context("migrating the database")?;
            let report = seed::seed_demo(&db).await.context("seeding demo data")?;
            tracing::info!(?report, "demo data ready");
            if let Some(email) = heavy_user {
                let started = std::time::Instant::now();
                seed::seed_heavy_user(&db, &email, seed::DEMO_PASSWORD, watched)
                    .await
                    .context("seeding the heavy user")?;
                tracing::info!(
                    watched,
                    duration_ms = started.elapsed().as_millis() as u64,
                    "heavy user ready"
                );
            }
        }
        Command::Status => {
            let redis = operator_redis(&cli.args).await?;
            print(&status::report(&redis, chrono::Utc::now()).await?)?;
        }
        Command::Retry { job_id } => {
            let redis = operator_redis(&cli.args).await?;
            print(&status::retry(&redis, &job_id).await?)?;
        }
        Command::Cancel { job_id } => {
            let redis = operator_redis(&cli.args).await?;
            print(&status::cancel(&redis, &job_id).await?)?;
        }
        Command::Cleanup => {
            let ctx = WorkerContext::connect(cli.args).await?;
            if cleanup::run(&ctx, chrono::Utc::now()).await?.is_none() {
                tracing::info!("another worker holds the cleanup lock; nothing done");
            }
        }
    }
    Ok(())
}

/// Redis alone, for the operator commands: they need no database or storage.
async fn operator_redis(args: &WorkerArgs) -> anyhow::Result<fred::clients::Pool> {
    yt_jobs::connect_pool(&args.redis.redis_url, 1)
        .await
        .context("connecting to Redis (YT_REDIS_URL)")
}

/// Writes an operator command's answer to stdout (logs go to stderr).
fn print(output: &str) -> anyhow::Result<()> {
    use std::io::Write as _;

    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", output.trim_end())?;
    Ok(())
}
