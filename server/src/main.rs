//! The `server` binary.
//!
//! ```text
//! server            # serve on YT_LISTEN_ADDR (127.0.0.1:8000)
//! server --help     # every setting and its variable
//! ```

use std::process::ExitCode;

use clap::Parser;
use server::ServerArgs;

#[derive(Parser)]
#[command(
    name = "server",
    version,
    about = "Serves the account pages and the export API"
)]
struct Cli {
    #[command(flatten)]
    args: ServerArgs,
}

#[tokio::main]
async fn main() -> ExitCode {
    let Cli { args } = yt_config::parse_or_exit::<Cli>();
    yt_config::init_logging(&args.log);

    match serve(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "server stopped with an error");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServerArgs) -> anyhow::Result<()> {
    let listen = args.listen;
    let router = server::build(args).await?;
    let listener = tokio::net::TcpListener::bind(listen).await?;
    tracing::info!(listen.addr = %listener.local_addr()?, "server listening");

    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    tracing::info!("server stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing the SIGTERM handler");
    tokio::select! {
        _ = ctrl_c => {}
        _ = term.recv() => {}
    }
    tracing::info!("shutdown requested; finishing open requests");
}
