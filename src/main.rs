//! `strata`: parse the command line, set up logging, run the chosen subcommand.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use auth::{Role, Tokens};
use clap::Parser;
use command_api::store::{PostgresEventLog, SqliteEventLog};
use policies::{NotificationSink, SharedPolicy};
use projections::View;
use read_api::{Freshness, Streams};
use strata::settings::{AuthSettings, Cli, Command, LogFormat};
use strata::{bench, run_until_stopped, App, Store, Workers};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing_subscriber::EnvFilter;

mod probe;

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
    let (bounds, request_timeout) = (
        cli.store.commit_bounds(),
        cli.limits.limits().request_timeout,
    );
    if !bounds.fit(request_timeout) {
        bail!(
            "STRATA_COMMIT_LOCK_TIMEOUT_MS ({} ms) must be at most a quarter of \
             STRATA_REQUEST_TIMEOUT_MS ({} ms): a commit must be able to finish, or fail \
             unwritten, before its request is answered",
            bounds.lock_timeout.as_millis(),
            request_timeout.as_millis()
        );
    }
    if cli.limits.max_streams >= cli.limits.max_connections {
        bail!(
            "STRATA_MAX_STREAMS ({}) must be below STRATA_MAX_CONNECTIONS ({}): every live \
             stream holds a connection, and requests need some of their own",
            cli.limits.max_streams,
            cli.limits.max_connections
        );
    }
    let sink = sink(&cli)?;
    let command = cli
        .command
        .take()
        .unwrap_or_else(|| Command::Serve(cli.serve.clone()));
    match command {
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
        Command::GiftService(settings) => {
            let listener = TcpListener::bind((cli.host, settings.port)).await?;
            strata::gift_service::run(listener, &settings.gift_data_dir).await
        }
        Command::Probe(settings) => probe::run(&settings).await,
        // The one place the backend is chosen: everything after it is generic over it.
        command if cli.store.database_url.is_some() => {
            on_store::<PostgresEventLog>(&cli, command, sink).await
        }
        command => on_store::<SqliteEventLog>(&cli, command, sink).await,
    }
}

/// Runs a command that needs the event store, on the backend `S`.
async fn on_store<S: Store>(
    cli: &Cli,
    command: Command,
    sink: Arc<NotificationSink>,
) -> anyhow::Result<()> {
    let app = App::<S>::open(&cli.store)
        .await?
        .delivering_to(sink.clone())
        .calling(cli.gift.outbound(cli.limits.limits().request_timeout)?);
    app.migrate().await?;
    let everything = || Mode::Projector(app.views().to_vec(), app.policies(sink.clone()));
    match command {
        Command::Serve(settings) => run(cli, &app, settings.port, Mode::Serve, sink).await,
        Command::CommandApi(settings) => {
            run(cli, &app, settings.port, Mode::CommandApi, sink).await
        }
        Command::ReadApi(settings) => run(cli, &app, settings.port, Mode::ReadApi, sink).await,
        Command::Projector(settings) if settings.runs_everything() => {
            run(cli, &app, settings.port, everything(), sink.clone()).await
        }
        Command::Projector(settings) => {
            let views = settings
                .views
                .iter()
                .map(|name| projections::view::find(app.views(), name))
                .collect::<Result<_, _>>()?;
            let policies =
                policies::registry::named(&app.policies(sink.clone()), &settings.policies)?;
            run(
                cli,
                &app,
                settings.port,
                Mode::Projector(views, policies),
                sink.clone(),
            )
            .await
        }
        Command::Migrate => {
            tracing::info!(store = app.name(), "migrations applied");
            Ok(())
        }
        Command::Replay(settings) => {
            let view = projections::view::find(app.views(), &settings.view)?;
            let store = app.projection_store().await?;
            let report = projections::rebuild(&store, view, strata::admin::REBUILD_BATCH).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        Command::Bench(_) | Command::Token(_) | Command::GiftService(_) | Command::Probe(_) => {
            unreachable!("handled without a store")
        }
    }
}

/// Where notifications go: the configured webhook, or the log.
fn sink(cli: &Cli) -> anyhow::Result<Arc<NotificationSink>> {
    Ok(Arc::new(match cli.notify.webhook()? {
        Some(webhook) => NotificationSink::webhook(webhook),
        None => NotificationSink::log(),
    }))
}

/// What a process runs.
enum Mode<S: Store> {
    /// Commands, reads and the workers of every view and policy.
    Serve,
    CommandApi,
    ReadApi,
    /// Workers for these views and policies, and /health.
    Projector(Vec<&'static dyn View>, Vec<SharedPolicy<S>>),
}

async fn run<S: Store>(
    cli: &Cli,
    app: &App<S>,
    port: u16,
    mode: Mode<S>,
    sink: Arc<NotificationSink>,
) -> anyhow::Result<()> {
    let wait = cli.reads.min_position_wait();
    let key_ttl = Duration::from_secs(cli.idempotency_key_ttl_seconds);
    let (stop, stopping) = watch::channel(false);
    let streams = Streams::new(cli.limits.max_streams, stopping);
    let (router, workers, standby) = match mode {
        Mode::Serve => {
            let tokens = serve_tokens(&cli.auth, &page_address(cli, port))?;
            app.announce_commits();
            app.forget_expired_keys(key_ttl);
            let projector = app.projector(app.views().to_vec()).await?;
            let policies = app.policy_workers(app.policies(sink.clone())).await?;
            let freshness = Freshness::new(wait)
                .with_waiters(cli.reads.min_position_waiters)
                .woken_by(projector.progress());
            let (views, freshness, standby) = app.reads_from(&cli.reads, freshness).await?;
            let workers = Workers {
                projector: Some(projector),
                policies: Some(policies),
            };
            (
                app.api_router(views, freshness, tokens, streams).await?,
                workers,
                standby,
            )
        }
        Mode::CommandApi => {
            let tokens = split_mode_tokens(&cli.auth)?;
            app.announce_commits();
            app.forget_expired_keys(key_ttl);
            (
                app.command_api_router(tokens, streams).await?,
                Workers::default(),
                None,
            )
        }
        Mode::ReadApi => {
            let tokens = split_mode_tokens(&cli.auth)?;
            let freshness = app
                .remote_freshness(wait)
                .await?
                .with_waiters(cli.reads.min_position_waiters);
            let (views, freshness, standby) = app.reads_from(&cli.reads, freshness).await?;
            let router = app.read_api_router(views, freshness, tokens, streams, standby.clone());
            (router, Workers::default(), standby)
        }
        Mode::Projector(views, policies) => {
            app.announce_commits();
            let woken_by = app.commits_elsewhere().await?;
            let projector = app.remote_projector(views, woken_by.clone()).await?;
            app.announce_progress(&projector);
            let policies = app.remote_policy_workers(policies, woken_by).await?;
            let workers = Workers {
                projector: Some(projector),
                policies: Some(policies),
            };
            (app.health_router(), workers, None)
        }
    };
    let router = app.served(router, cli.limits.limits(), standby).await?;
    let listener = TcpListener::bind((cli.host, port)).await?;
    let views: Vec<_> = workers
        .projector
        .iter()
        .flat_map(|p| p.views().iter().map(|view| view.name()))
        .collect();
    let policies: Vec<_> = workers.policies.iter().flat_map(|p| p.names()).collect();
    tracing::info!(store = app.name(), address = %listener.local_addr()?, ?views, ?policies, "listening");
    run_until_stopped(listener, router, workers, cli.limits.connections(), stop).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Where a browser on this machine finds the page `serve` serves on `port`.
fn page_address(cli: &Cli, port: u16) -> String {
    let host = match cli.host {
        host if host.is_unspecified() || host.is_loopback() => "localhost".to_string(),
        std::net::IpAddr::V6(host) => format!("[{host}]"),
        host => host.to_string(),
    };
    format!("http://{host}:{port}/")
}

/// The configured tokens, or, without a secret, a generated one's, with a ready token
/// per role printed, and a link that signs that role in on the page at `page` (the
/// token in the fragment, which browsers never send): the first run needs no set-up,
/// and is never open.
fn serve_tokens(settings: &AuthSettings, page: &str) -> anyhow::Result<Arc<Tokens>> {
    if let Some(tokens) = settings.tokens()? {
        return Ok(Arc::new(tokens));
    }
    use std::fmt::Write as _;
    use std::io::Write as _;

    let tokens = Tokens::generated();
    let valid_for = Duration::from_secs(STARTER_TOKENS_VALID_HOURS * 3600);
    let mut printed = format!(
        "STRATA_JWT_SECRET is not set: tokens are signed with a secret generated for this \
         run only. Ready tokens, valid for {STARTER_TOKENS_VALID_HOURS} h \
         (send as Authorization: Bearer <token>):\n"
    );
    for (role, subject) in [
        (Role::Customer, "customer-1"),
        (Role::Manager, "manager-1"),
        (Role::Host, "host-1"),
        (Role::Admin, "admin"),
    ] {
        let token = tokens.issue(subject, role, valid_for);
        let _ = writeln!(printed, "  {role:<8} (sub {subject}): {token}");
        let _ = writeln!(printed, "           sign in: {page}#token={token}");
    }
    // Whoever started the process may have stopped reading its output: serving goes on.
    let _ = std::io::stdout().lock().write_all(printed.as_bytes());
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

/// What is logged without `RUST_LOG`: info, but not PostgreSQL's notices (sqlx logs
/// every "relation … already exists, skipping" of an idempotent migration at info).
const DEFAULT_LOG_FILTER: &str = "info,sqlx::postgres::notice=warn";

/// Human-readable logs by default, JSON with `STRATA_LOG_FORMAT=json`; `RUST_LOG` filters.
fn init_logging(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG_FILTER));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if format == LogFormat::Json {
        builder.json().init();
    } else {
        builder.init();
    }
}
