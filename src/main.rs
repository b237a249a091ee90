//! `strata`: parse the command line, set up logging, run the chosen subcommand.

use clap::Parser;
use strata::settings::{Cli, Command, LogFormat, ServeSettings, StoreSettings};
use strata::{bench, serve, shutdown_signal, Backend};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    match cli
        .command
        .unwrap_or(Command::Serve(ServeSettings::default()))
    {
        Command::Serve(settings) => run_api(&cli.store, settings.port, "serve").await,
        Command::CommandApi(settings) => run_api(&cli.store, settings.port, "command-api").await,
        Command::Migrate => {
            let backend = Backend::open(&cli.store).await?;
            backend.migrate().await?;
            tracing::info!(store = backend.name(), "migrations applied");
            Ok(())
        }
        Command::Bench(settings) => bench::run(&cli.store, &settings).await,
    }
}

async fn run_api(store: &StoreSettings, port: u16, role: &str) -> anyhow::Result<()> {
    let backend = Backend::open(store).await?;
    backend.migrate().await?;
    let listener = TcpListener::bind(("0.0.0.0", port)).await?;
    tracing::info!(role, store = backend.name(), address = %listener.local_addr()?, "listening");
    serve(listener, backend.command_router(), shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Human-readable logs by default, JSON with `STRATA_LOG_FORMAT=json`; `RUST_LOG` filters.
fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if format == LogFormat::Json {
        builder.json().init();
    } else {
        builder.init();
    }
}
