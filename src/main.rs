//! `strata`: parse the command line, set up logging, run the chosen subcommand.

use clap::Parser;
use projections::ViewName;
use read_api::Freshness;
use strata::settings::{Cli, Command, LogFormat, ServeSettings};
use strata::{bench, run_until_stopped, Backend};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut cli = Cli::parse();
    init_logging(cli.log_format);
    let command = cli
        .command
        .take()
        .unwrap_or(Command::Serve(ServeSettings::default()));
    match command {
        Command::Serve(settings) => run(&cli, settings.port, Role::Serve).await,
        Command::CommandApi(settings) => run(&cli, settings.port, Role::CommandApi).await,
        Command::ReadApi(settings) => run(&cli, settings.port, Role::ReadApi).await,
        Command::Projector(settings) => {
            run(&cli, settings.port, Role::Projector(settings.views())).await
        }
        Command::Migrate => {
            let backend = Backend::open(&cli.store).await?;
            backend.migrate().await?;
            tracing::info!(store = backend.name(), "migrations applied");
            Ok(())
        }
        Command::Replay(settings) => {
            let backend = Backend::open(&cli.store).await?;
            backend.migrate().await?;
            let store = backend.projection_store().await?;
            let report =
                projections::rebuild(&store, settings.view, strata::admin::REBUILD_BATCH).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        Command::Bench(settings) => bench::run(&cli.store, &cli.reads, &settings).await,
    }
}

/// What a process runs.
enum Role {
    /// Commands, reads and every view's worker.
    Serve,
    CommandApi,
    ReadApi,
    /// Workers for these views, and /health.
    Projector(Vec<ViewName>),
}

async fn run(cli: &Cli, port: u16, role: Role) -> anyhow::Result<()> {
    let backend = Backend::open(&cli.store).await?;
    backend.migrate().await?;
    let wait = cli.reads.min_position_wait();
    let (router, projector) = match role {
        Role::Serve => {
            backend.announce_commits();
            let projector = backend.projector(ViewName::ALL.to_vec()).await?;
            let views = backend.view_store(cli.reads.read_pool_size).await?;
            let freshness = Freshness::new(wait).woken_by(projector.progress());
            (backend.api_router(views, freshness).await?, Some(projector))
        }
        Role::CommandApi => {
            backend.announce_commits();
            (backend.command_api_router().await?, None)
        }
        Role::ReadApi => {
            let views = backend.view_store(cli.reads.read_pool_size).await?;
            let freshness = backend.remote_freshness(wait).await?;
            (backend.read_api_router(views, freshness), None)
        }
        Role::Projector(views) => {
            let projector = backend.remote_projector(views).await?;
            backend.announce_progress(&projector);
            (backend.health_router(), Some(projector))
        }
    };
    let listener = TcpListener::bind(("0.0.0.0", port)).await?;
    let views: Vec<_> = projector
        .iter()
        .flat_map(|p| p.views().iter().map(|view| view.as_str()))
        .collect();
    tracing::info!(store = backend.name(), address = %listener.local_addr()?, ?views, "listening");
    run_until_stopped(listener, router, projector).await?;
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
