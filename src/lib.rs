//! The `strata` binary's library: configuration, start-up and the benchmark.
//!
//! # Layout
//! - [`settings`]: the one typed configuration, from flags and environment.
//! - [`Backend`]: the event store chosen at start-up (PostgreSQL or embedded SQLite).
//! - [`serve`]: runs a router on a listener until a shutdown future resolves.
//! - [`metrics`]: `/metrics` in Prometheus' text format.
//! - [`openapi`]: the OpenAPI document each process mode serves at `/openapi.json`,
//!   browsable at `/docs`.
//! - [`bench`]: `strata bench`, figures for the README.
#![forbid(unsafe_code)]

pub mod admin;
pub mod bench;
pub mod contexts;
pub mod metrics;
pub mod openapi;
pub mod settings;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use auth::{Role, Tokens};
use axum::Router;
use command_api::http::overload::Limits;
use command_api::store::{EventLog, PostgresEventLog, SqliteEventLog};
use command_api::CommandService;
use policies::{NotificationSink, Policies, PolicyError, PolicyName};
use projections::{wake, ProjectionStore, Projector, ViewName};
use read_api::{Freshness, ViewStore};
use tokio::net::TcpListener;
use tokio::sync::watch;

use settings::StoreSettings;

/// The event store this process runs on.
pub enum Backend {
    Postgres(Arc<CommandService<PostgresEventLog>>),
    Sqlite(Arc<CommandService<SqliteEventLog>>),
}

impl Backend {
    /// Connects to PostgreSQL when a URL is configured, else opens the embedded store.
    pub async fn open(settings: &StoreSettings) -> anyhow::Result<Self> {
        let timeout = settings.acquire_timeout();
        Ok(match &settings.database_url {
            Some(url) => {
                let log = PostgresEventLog::connect(url, settings.db_pool_size, timeout).await?;
                Self::Postgres(Arc::new(command_service(log)))
            }
            None => {
                let log = SqliteEventLog::open(&settings.data_dir, timeout).await?;
                Self::Sqlite(Arc::new(command_service(log)))
            }
        })
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        match self {
            Self::Postgres(service) => service.log().migrate().await?,
            Self::Sqlite(service) => service.log().migrate().await?,
        }
        Ok(())
    }

    /// Only `/health/*`, for processes that serve no API.
    pub fn health_router(&self) -> Router {
        command_api::http::layered(self.health_routes())
    }

    /// Everything in one: commands, reads, `/admin/*` and `/health/*` (`strata serve`),
    /// with their OpenAPI document. Commands and reads need a token `tokens` verifies,
    /// `/admin/*` an admin's; health and the document need none.
    pub async fn api_router(
        &self,
        views: ViewStore,
        freshness: Freshness,
        tokens: Arc<Tokens>,
    ) -> anyhow::Result<Router> {
        let reads = read_api::routes(views, freshness);
        let routes = self
            .command_routes(&tokens)
            .await?
            .merge(auth::require(reads, tokens, Role::ALL))
            .merge(openapi::routes(openapi::all(self.command_docs())));
        Ok(command_api::http::layered(routes))
    }

    /// The command API with `/admin/*` and `/health/*` (`strata command-api`), with their
    /// OpenAPI document.
    pub async fn command_api_router(&self, tokens: Arc<Tokens>) -> anyhow::Result<Router> {
        let routes = self
            .command_routes(&tokens)
            .await?
            .merge(openapi::routes(openapi::command(self.command_docs())));
        Ok(command_api::http::layered(routes))
    }

    /// The read API with `/health/*` (`strata read-api`), with their OpenAPI document.
    pub fn read_api_router(
        &self,
        views: ViewStore,
        freshness: Freshness,
        tokens: Arc<Tokens>,
    ) -> Router {
        let reads = read_api::routes(views, freshness);
        let routes = auth::require(reads, tokens, Role::ALL)
            .merge(self.health_routes())
            .merge(openapi::routes(openapi::read()));
        command_api::http::layered(routes)
    }

    /// Commands for any role, `/admin/*` for admins, `/health/*` for anyone.
    async fn command_routes(&self, tokens: &Arc<Tokens>) -> anyhow::Result<Router> {
        let (commands, streams) = match self {
            Self::Postgres(service) => (
                command_routes(service.clone()),
                command_api::http::admin_routes(service.clone()),
            ),
            Self::Sqlite(service) => (
                command_routes(service.clone()),
                command_api::http::admin_routes(service.clone()),
            ),
        };
        let admin = admin::router(self.projection_store().await?).merge(streams);
        Ok(auth::require(commands, tokens.clone(), Role::ALL)
            .merge(auth::require(admin, tokens.clone(), &[Role::Admin]))
            .merge(self.health_routes()))
    }

    /// The views for the read API. On PostgreSQL through a pool of its own, of
    /// `pool_size` connections: reads are CPU work on the database, so a few
    /// connections serve them best, and they never take the commands' connections. On
    /// SQLite through the store's readers.
    pub async fn view_store(&self, pool_size: u32) -> anyhow::Result<ViewStore> {
        Ok(match self {
            Self::Postgres(service) => {
                ViewStore::Postgres(service.log().open_pool(pool_size).await?)
            }
            Self::Sqlite(service) => ViewStore::Sqlite(service.log().pool().clone()),
        })
    }

    /// The OpenAPI of every context's commands.
    fn command_docs(&self) -> Vec<utoipa::openapi::OpenApi> {
        contexts::all::<SqliteEventLog>()
            .into_iter()
            .map(|context| context.commands.openapi)
            .collect()
    }

    fn health_routes(&self) -> Router {
        match self {
            Self::Postgres(service) => command_api::http::health_routes(service.clone()),
            Self::Sqlite(service) => command_api::http::health_routes(service.clone()),
        }
    }

    /// Views and checkpoints: the event store's own database (on SQLite, through a
    /// connection of their own, since every batch is a write transaction).
    pub async fn projection_store(&self) -> anyhow::Result<ProjectionStore> {
        Ok(match self {
            Self::Postgres(service) => ProjectionStore::Postgres(service.log().pool().clone()),
            Self::Sqlite(service) => ProjectionStore::Sqlite(service.log().open_pool(1).await?),
        })
    }

    /// Workers for `views` over this store, woken by this process's own commits.
    pub async fn projector(&self, views: Vec<ViewName>) -> anyhow::Result<Projector> {
        self.remote_projector(views, self.appended()).await
    }

    /// What wakes workers in a process without the command API: the command processes'
    /// announcements (PostgreSQL, one `LISTEN` connection the process's workers share),
    /// or nothing, leaving them to poll (SQLite serves one process).
    pub async fn commits_elsewhere(&self) -> anyhow::Result<watch::Receiver<i64>> {
        Ok(match self {
            Self::Postgres(service) => wake::listen(service.log().pool(), wake::EVENTS).await?,
            Self::Sqlite(_) => watch::channel(0).1,
        })
    }

    /// Workers for `views` in a process without the command side, woken by
    /// [`Backend::commits_elsewhere`].
    pub async fn remote_projector(
        &self,
        views: Vec<ViewName>,
        woken_by: watch::Receiver<i64>,
    ) -> anyhow::Result<Projector> {
        let store = self.projection_store().await?;
        Ok(Projector::new(store, views).woken_by(woken_by))
    }

    /// Workers for `policies` over this store, woken by this process's own commits.
    pub async fn policies(
        &self,
        policies: Vec<PolicyName>,
        sink: Arc<NotificationSink>,
    ) -> anyhow::Result<PolicyWorkers> {
        self.remote_policies(policies, sink, self.appended()).await
    }

    /// Workers for `policies` in a process without the command API, woken by
    /// [`Backend::commits_elsewhere`]. Their own commands are announced too
    /// ([`Backend::announce_commits`]), for views in other processes.
    pub async fn remote_policies(
        &self,
        policies: Vec<PolicyName>,
        sink: Arc<NotificationSink>,
        woken_by: watch::Receiver<i64>,
    ) -> anyhow::Result<PolicyWorkers> {
        let store = self.projection_store().await?;
        Ok(match self {
            Self::Postgres(service) => PolicyWorkers::Postgres(
                Policies::new(service.clone(), store, policies)
                    .delivering_to(sink)
                    .woken_by(woken_by),
            ),
            Self::Sqlite(service) => PolicyWorkers::Sqlite(
                Policies::new(service.clone(), store, policies)
                    .delivering_to(sink)
                    .woken_by(woken_by),
            ),
        })
    }

    /// Announces this process's commits to projectors in other processes (PostgreSQL).
    pub fn announce_commits(&self) {
        if let Self::Postgres(service) = self {
            let pool = service.log().pool().clone();
            tokio::spawn(wake::announce(pool, wake::EVENTS, service.appended()));
        }
    }

    /// Announces `projector`'s batches to read APIs in other processes (PostgreSQL).
    pub fn announce_progress(&self, projector: &Projector) {
        if let Self::Postgres(service) = self {
            let pool = service.log().pool().clone();
            tokio::spawn(wake::announce(pool, wake::PROGRESS, projector.progress()));
        }
    }

    /// How reads in a process without projectors wait for a position: woken by the
    /// projector processes' announcements (PostgreSQL) or by re-checking.
    pub async fn remote_freshness(&self, bound: Duration) -> anyhow::Result<Freshness> {
        let freshness = Freshness::new(bound);
        Ok(match self {
            Self::Postgres(service) => {
                freshness.woken_by(wake::listen(service.log().pool(), wake::PROGRESS).await?)
            }
            Self::Sqlite(_) => freshness,
        })
    }

    /// `router` as a process serves it: timed, with `/metrics`, behind the overload
    /// limits (which let probes and `/metrics` through).
    pub async fn served(&self, router: Router, limits: Limits) -> anyhow::Result<Router> {
        let router = self.metrics().await?.serve(router);
        Ok(command_api::http::overload::limited(router, limits))
    }

    /// The process's metrics: its requests, its appends, the subscriptions in its store.
    async fn metrics(&self) -> anyhow::Result<Arc<metrics::Metrics>> {
        let commands = match self {
            Self::Postgres(service) => metrics::CommandCounters {
                by_outcome: service.commands(),
                events_appended: service.events_appended(),
            },
            Self::Sqlite(service) => metrics::CommandCounters {
                by_outcome: service.commands(),
                events_appended: service.events_appended(),
            },
        };
        let store = self.projection_store().await?;
        Ok(metrics::Metrics::new(store, commands))
    }

    fn appended(&self) -> watch::Receiver<i64> {
        match self {
            Self::Postgres(service) => service.appended(),
            Self::Sqlite(service) => service.appended(),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Self::Postgres(_) => "postgres",
            Self::Sqlite(_) => "sqlite",
        }
    }
}

/// The command service over `log`, knowing every context's aggregate types.
fn command_service<L: EventLog>(log: L) -> CommandService<L> {
    let aggregate_types = contexts::all::<L>()
        .iter()
        .flat_map(|context| context.commands.aggregate_types)
        .copied()
        .collect();
    CommandService::new(log, aggregate_types)
}

/// Every context's command routes over `service`.
fn command_routes<L: EventLog>(service: Arc<CommandService<L>>) -> Router {
    let routes = contexts::all::<L>()
        .into_iter()
        .map(|context| context.commands.routes);
    command_api::http::routes(service, routes)
}

/// Policy workers over the backend's event store.
pub enum PolicyWorkers {
    Postgres(Policies<PostgresEventLog>),
    Sqlite(Policies<SqliteEventLog>),
}

impl PolicyWorkers {
    pub fn policies(&self) -> &[PolicyName] {
        match self {
            Self::Postgres(policies) => policies.policies(),
            Self::Sqlite(policies) => policies.policies(),
        }
    }

    /// Runs every policy until `stop` turns true.
    pub async fn run(self, stop: watch::Receiver<bool>) {
        match self {
            Self::Postgres(policies) => policies.run(stop).await,
            Self::Sqlite(policies) => policies.run(stop).await,
        }
    }

    /// Reacts to every event in the log now, policy by policy.
    pub async fn catch_up_all(&self) -> Result<(), PolicyError> {
        match self {
            Self::Postgres(policies) => policies.catch_up_all().await,
            Self::Sqlite(policies) => policies.catch_up_all().await,
        }
    }

    pub async fn catch_up(&self, policy: PolicyName) -> Result<(), PolicyError> {
        match self {
            Self::Postgres(policies) => policies.catch_up(policy).await,
            Self::Sqlite(policies) => policies.catch_up(policy).await,
        }
    }
}

/// The background work a process runs beside its router.
#[derive(Default)]
pub struct Workers {
    pub projector: Option<Projector>,
    pub policies: Option<PolicyWorkers>,
}

/// Serves `router` until `shutdown` resolves, then lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Serves `router` and runs `workers` until SIGTERM or Ctrl-C; then requests finish
/// and every worker ends its current batch or event, recording its checkpoint, before
/// this returns.
pub async fn run_until_stopped(
    listener: TcpListener,
    router: Router,
    workers: Workers,
) -> std::io::Result<()> {
    let (stop, stopped) = watch::channel(false);
    let mut running = tokio::task::JoinSet::new();
    if let Some(projector) = workers.projector {
        running.spawn(projector.run(stopped.clone()));
    }
    if let Some(policies) = workers.policies {
        running.spawn(policies.run(stopped));
    }
    serve(listener, router, async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    })
    .await?;
    while let Some(finished) = running.join_next().await {
        finished.map_err(std::io::Error::other)?;
    }
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
