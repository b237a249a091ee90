//! `strata`: parse the command line, set up logging, run the chosen subcommand.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use auth::{Role, Tokens};
use clap::Parser;
use policies::{NotificationSink, PolicyName};
use projections::ViewName;
use read_api::Freshness;
use strata::settings::{AuthSettings, Cli, Command, LogFormat, ServeSettings};
use strata::{bench, run_until_stopped, Backend, Workers};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

/// How long the tokens `serve` prints without a configured secret stay valid.
const STARTER_TOKENS_VALID_HOURS: u64 = 24;

// Serving a read allocates more than it computes (headers, bodies, futures): mimalloc
// raised HTTP reads by a quarter or more against the system allocator (README).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut cli = Cli::parse();
    init_logging(cli.log_format);
    let command = cli
        .command
        .take()
        .unwrap_or(Command::Serve(ServeSettings::default()));
    match command {
        Command::Serve(settings) => run(&cli, settings.port, Mode::Serve).await,
        Command::CommandApi(settings) => run(&cli, settings.port, Mode::CommandApi).await,
        Command::ReadApi(settings) => run(&cli, settings.port, Mode::ReadApi).await,
        Command::Projector(settings) => {
            let mode = Mode::Projector(settings.views(), settings.policies());
            run(&cli, settings.port, mode).await
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
        Command::Token(settings) => {
            let tokens = cli
                .auth
                .tokens()?
                .context("strata token needs STRATA_JWT_SECRET")?;
            if !auth::is_valid_subject(&settings.sub) {
                bail!("--sub must be 1 to 64 characters");
            }
            let valid_for = Duration::from_secs(settings.valid_for_seconds);
            println!("{}", tokens.issue(&settings.sub, settings.role, valid_for));
            Ok(())
        }
    }
}

/// What a process runs.
enum Mode {
    /// Commands, reads and the workers of every view and policy.
    Serve,
    CommandApi,
    ReadApi,
    /// Workers for these views and policies, and /health.
    Projector(Vec<ViewName>, Vec<PolicyName>),
}

async fn run(cli: &Cli, port: u16, mode: Mode) -> anyhow::Result<()> {
    let backend = Backend::open(&cli.store).await?;
    backend.migrate().await?;
    let wait = cli.reads.min_position_wait();
    let sink = Arc::new(match cli.notify.webhook() {
        Some(webhook) => NotificationSink::webhook(webhook),
        None => NotificationSink::log(),
    });
    let (router, workers) = match mode {
        Mode::Serve => {
            let tokens = serve_tokens(&cli.auth)?;
            backend.announce_commits();
            let projector = backend.projector(ViewName::ALL.to_vec()).await?;
            let policies = backend.policies(PolicyName::ALL.to_vec(), sink).await?;
            let views = backend.view_store(cli.reads.read_pool_size).await?;
            let freshness = Freshness::new(wait).woken_by(projector.progress());
            let workers = Workers {
                projector: Some(projector),
                policies: Some(policies),
            };
            (backend.api_router(views, freshness, tokens).await?, workers)
        }
        Mode::CommandApi => {
            let tokens = split_mode_tokens(&cli.auth)?;
            backend.announce_commits();
            (
                backend.command_api_router(tokens).await?,
                Workers::default(),
            )
        }
        Mode::ReadApi => {
            let tokens = split_mode_tokens(&cli.auth)?;
            let views = backend.view_store(cli.reads.read_pool_size).await?;
            let freshness = backend.remote_freshness(wait).await?;
            (
                backend.read_api_router(views, freshness, tokens),
                Workers::default(),
            )
        }
        Mode::Projector(views, policies) => {
            backend.announce_commits();
            let woken_by = backend.commits_elsewhere().await?;
            let projector = backend.remote_projector(views, woken_by.clone()).await?;
            backend.announce_progress(&projector);
            let policies = backend.remote_policies(policies, sink, woken_by).await?;
            let workers = Workers {
                projector: Some(projector),
                policies: Some(policies),
            };
            (backend.health_router(), workers)
        }
    };
    let router = backend.served(router, cli.limits.limits()).await?;
    let listener = TcpListener::bind(("0.0.0.0", port)).await?;
    let views: Vec<_> = workers
        .projector
        .iter()
        .flat_map(|p| p.views().iter().map(|view| view.as_str()))
        .collect();
    let policies: Vec<_> = workers
        .policies
        .iter()
        .flat_map(|p| p.policies().iter().map(|policy| policy.as_str()))
        .collect();
    tracing::info!(store = backend.name(), address = %listener.local_addr()?, ?views, ?policies, "listening");
    run_until_stopped(listener, router, workers).await?;
    tracing::info!("stopped");
    Ok(())
}

/// The configured tokens, or, without a secret, a generated one's, with a ready token
/// per role printed: the first run needs no set-up, and is never open.
fn serve_tokens(settings: &AuthSettings) -> anyhow::Result<Arc<Tokens>> {
    if let Some(tokens) = settings.tokens()? {
        return Ok(Arc::new(tokens));
    }
    let tokens = Tokens::generated();
    let valid_for = Duration::from_secs(STARTER_TOKENS_VALID_HOURS * 3600);
    println!(
        "STRATA_JWT_SECRET is not set: tokens are signed with a secret generated for this \
         run only. Ready tokens, valid for {STARTER_TOKENS_VALID_HOURS} h \
         (send as Authorization: Bearer <token>):"
    );
    for (role, subject) in [
        (Role::Customer, "customer-1"),
        (Role::Manager, "manager-1"),
        (Role::Admin, "admin"),
    ] {
        let token = tokens.issue(subject, role, valid_for);
        println!("  {role:<8} (sub {subject}): {token}");
    }
    Ok(Arc::new(tokens))
}

/// The configured tokens: the processes of a split deployment must share a secret.
fn split_mode_tokens(settings: &AuthSettings) -> anyhow::Result<Arc<Tokens>> {
    let tokens = settings.tokens()?.context(
        "set STRATA_JWT_SECRET (at least 32 bytes): every process of a split deployment \
         verifies tokens with the same secret",
    )?;
    Ok(Arc::new(tokens))
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
