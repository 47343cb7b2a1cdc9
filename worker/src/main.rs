//! The `worker` binary: runs export jobs, and a few maintenance commands.
//!
//! ```text
//! worker              # run: take jobs until SIGTERM
//! worker seed         # migrate and create the demo users
//! worker seed --heavy-user heavy@example.com --watched 1000000
//! worker cleanup      # delete expired exports now
//! ```

use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;
use worker::{WorkerArgs, WorkerContext, cleanup, ops, runner};
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
    /// Delete exports past their time to live, once.
    Cleanup,
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
        Command::Cleanup => {
            let ctx = WorkerContext::connect(cli.args).await?;
            let ttl = ctx.args.export.ttl();
            cleanup::remove_expired(&ctx.storage, ttl, chrono::Utc::now()).await?;
        }
    }
    Ok(())
}
