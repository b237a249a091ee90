//! The `strata` binary's library: configuration, start-up and the benchmark.
//!
//! # Layout
//! - [`settings`]: the one typed configuration, from flags and environment.
//! - [`contexts`]: the bounded contexts this binary hosts, listed once.
//! - [`store`]: what differs between the backends (PostgreSQL, embedded SQLite).
//! - [`standby`]: the read API on a PostgreSQL standby.
//! - [`App`]: a process over one backend, chosen once at start-up: its routers and
//!   workers, built from the contexts.
//! - [`serve`]: runs a router on a listener until a shutdown future resolves.
//! - [`metrics`]: `/metrics` in Prometheus' text format.
//! - [`openapi`]: the OpenAPI document each process mode serves at `/openapi.json`,
//!   browsable at `/docs`.
//! - [`admin`]: `/admin/projections`: where each view and policy stands, rebuilds.
//! - [`web`]: the web page at `/`, its assets embedded.
//! - [`bench`]: `strata bench`, figures for `docs/performance.md`.
#![forbid(unsafe_code)]

pub mod admin;
pub mod bench;
pub mod contexts;
pub mod gift_service;
pub mod metrics;
pub mod openapi;
pub mod settings;
pub mod standby;
pub mod store;
pub mod web;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use auth::{Role, Tokens};
use axum::{Extension, Router};
use command_api::http::overload::Limits;
use command_api::outbound::Outbound;
use command_api::CommandService;
use policies::{NotificationSink, Policies, PolicySettings, SharedPolicy};
use projections::{wake, ProjectionStore, Projector, View};
use read_api::{Freshness, Reads, Streams, ViewStore};
use tokio::net::TcpListener;
use tokio::sync::watch;
use utoipa::openapi::OpenApi;

use settings::{ReadSettings, StoreSettings};
use standby::Standby;
pub use store::Store;

/// A process over the event store `S`: the command service, and everything the
/// contexts bring, put together.
pub struct App<S: Store> {
    service: Arc<CommandService<S>>,
    /// What the contexts bring, gathered once.
    contexts: Vec<contexts::Context<S>>,
    /// Every context's views.
    views: Vec<&'static dyn View>,
    /// Where `/admin/deadLetters/resend` sends a refused notification again.
    sink: Arc<NotificationSink>,
    /// The services outside strata its commands call.
    outbound: Outbound,
}

impl<S: Store> App<S> {
    /// Opens the store `settings` describe.
    pub async fn open(settings: &StoreSettings) -> anyhow::Result<Self> {
        let log = S::open(settings).await?;
        let contexts = contexts::all::<S>();
        let (mut aggregate_types, mut views) = (Vec::new(), Vec::new());
        for context in &contexts {
            aggregate_types.extend(context.commands.aggregate_types);
            views.extend(context.views.iter().copied());
        }
        let service = Arc::new(CommandService::new(log, aggregate_types));
        Ok(Self {
            service,
            contexts,
            views,
            sink: Arc::new(NotificationSink::log()),
            outbound: Outbound::default(),
        })
    }

    /// This process's notifications go to `sink` (the log unless set): where
    /// `/admin/deadLetters/resend` sends a refused notification again.
    pub fn delivering_to(mut self, sink: Arc<NotificationSink>) -> Self {
        self.sink = sink;
        self
    }

    /// This process's commands call `outbound`'s targets (none unless set); they show
    /// in `/admin/outbound` and `/metrics`.
    pub fn calling(mut self, outbound: Outbound) -> Self {
        self.outbound = outbound;
        self
    }

    /// The command service every route and policy goes through.
    pub fn service(&self) -> &Arc<CommandService<S>> {
        &self.service
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        self.service.log().migrate().await
    }

    /// Every context's views.
    pub fn views(&self) -> &[&'static dyn View] {
        &self.views
    }

    /// Every context's policies, delivering notifications to `sink`.
    pub fn policies(&self, sink: Arc<NotificationSink>) -> Vec<SharedPolicy<S>> {
        let settings = PolicySettings { sink };
        self.contexts
            .iter()
            .flat_map(|context| (context.policies)(&settings))
            .collect()
    }

    /// Only `/health/*`, for processes that serve no API.
    pub fn health_router(&self) -> Router {
        command_api::http::layered(self.health_routes())
    }

    /// Everything in one: commands, reads, `/admin/*` and `/health/*` (`strata serve`),
    /// with their OpenAPI document, and the web page. Commands and reads need a token
    /// `tokens` verifies, `/admin/*` an admin's; health, the document and the page need
    /// none. Live streams are among `streams`.
    pub async fn api_router(
        &self,
        views: ViewStore,
        freshness: Freshness,
        tokens: Arc<Tokens>,
        streams: Streams,
    ) -> anyhow::Result<Router> {
        let progress = freshness.progress();
        let (reads, read_doc) = self.reads(views, freshness, streams.clone());
        let (commands, command_docs) = self.command_routes(&tokens, streams, progress).await?;
        let doc = openapi::all(command_docs, read_doc);
        let routes = commands
            .merge(auth::require(reads, tokens, Role::ALL))
            .merge(openapi::routes(doc))
            .merge(web::routes());
        Ok(command_api::http::layered(routes))
    }

    /// The command API with `/admin/*` and `/health/*` (`strata command-api`), with their
    /// OpenAPI document; `/admin/projections/changes` follows the projector processes'
    /// announcements where the store carries them.
    pub async fn command_api_router(
        &self,
        tokens: Arc<Tokens>,
        streams: Streams,
    ) -> anyhow::Result<Router> {
        let progress = self.service.log().listen(wake::PROGRESS).await?;
        let (commands, command_docs) = self.command_routes(&tokens, streams, progress).await?;
        let routes = commands.merge(openapi::routes(openapi::command(command_docs)));
        Ok(command_api::http::layered(routes))
    }

    /// The read API with `/health/*` (`strata read-api`), with their OpenAPI document,
    /// and the web page. Readiness asks `standby` when the views are read there.
    pub fn read_api_router(
        &self,
        views: ViewStore,
        freshness: Freshness,
        tokens: Arc<Tokens>,
        streams: Streams,
        standby: Option<Arc<Standby>>,
    ) -> Router {
        let (reads, read_doc) = self.reads(views, freshness, streams);
        let health = match standby {
            Some(standby) => command_api::http::health_routes(standby),
            None => self.health_routes(),
        };
        let routes = auth::require(reads, tokens, Role::ALL)
            .merge(health)
            .merge(openapi::routes(openapi::read(read_doc)))
            .merge(web::routes());
        command_api::http::layered(routes)
    }

    /// Every context's read routes over `views`, and their OpenAPI document.
    fn reads(&self, views: ViewStore, freshness: Freshness, streams: Streams) -> (Router, OpenApi) {
        let reads: Vec<Reads> = self
            .contexts
            .iter()
            .map(|context| context.reads.clone())
            .collect();
        let doc = read_api::registry::openapi(&reads);
        (read_api::routes(views, freshness, streams, reads), doc)
    }

    /// Commands for any role, `/admin/*` for admins (its live stream among `streams`,
    /// woken by `progress`), `/health/*` for anyone; and the OpenAPI of every context's
    /// commands.
    async fn command_routes(
        &self,
        tokens: &Arc<Tokens>,
        streams: Streams,
        progress: Option<watch::Receiver<i64>>,
    ) -> anyhow::Result<(Router, Vec<OpenApi>)> {
        let (mut routes, mut docs) = (Vec::new(), Vec::new());
        for context in &self.contexts {
            routes.push(context.commands.routes.clone());
            docs.push(context.commands.openapi.clone());
        }
        let commands = command_api::http::routes(self.service.clone(), routes)
            .layer(Extension(self.outbound.clone()));
        let event_streams = command_api::http::admin_routes(self.service.clone());
        let store = self.projection_store().await?;
        let admin = admin::router(admin::Admin {
            store,
            views: self.views.clone(),
            sink: self.sink.clone(),
            outbound: self.outbound.clone(),
            streams,
            progress,
        });
        let routes = auth::require(commands, tokens.clone(), Role::ALL)
            .merge(auth::require(
                admin.merge(event_streams),
                tokens.clone(),
                &[Role::Admin],
            ))
            .merge(self.health_routes());
        Ok((routes, docs))
    }

    /// The views for the read API (see [`Store::view_store`]).
    pub async fn view_store(&self, pool_size: u32) -> anyhow::Result<ViewStore> {
        self.service.log().view_store(pool_size).await
    }

    /// Where the read API reads its views, and how its reads wait: on the standby
    /// `settings` name, if any, woken as it replays what `freshness` is woken by
    /// ([`Standby::follow`]); else in the store's own database.
    pub async fn reads_from(
        &self,
        settings: &ReadSettings,
        freshness: Freshness,
    ) -> anyhow::Result<(ViewStore, Freshness, Option<Arc<Standby>>)> {
        let pool_size = settings.read_pool_size;
        let Some(url) = &settings.read_database_url else {
            return Ok((self.view_store(pool_size).await?, freshness, None));
        };
        let standby = self.service.log().standby(url, pool_size).await?;
        let freshness = standby.follow(freshness);
        Ok((standby.views(), freshness, Some(Arc::new(standby))))
    }

    fn health_routes(&self) -> Router {
        command_api::http::health_routes(self.service.clone())
    }

    /// Views and checkpoints (see [`Store::projection_store`]).
    pub async fn projection_store(&self) -> anyhow::Result<ProjectionStore> {
        self.service.log().projection_store().await
    }

    /// Workers for `views` over this store, woken by this process's own commits.
    pub async fn projector(&self, views: Vec<&'static dyn View>) -> anyhow::Result<Projector> {
        self.remote_projector(views, self.service.appended()).await
    }

    /// What wakes workers in a process without the command API: the command processes'
    /// announcements where the store carries them, else nothing, leaving them to poll.
    pub async fn commits_elsewhere(&self) -> anyhow::Result<watch::Receiver<i64>> {
        let commits = self.service.log().listen(wake::EVENTS).await?;
        Ok(commits.unwrap_or_else(|| watch::channel(0).1))
    }

    /// Workers for `views` in a process without the command side, woken by
    /// [`App::commits_elsewhere`].
    pub async fn remote_projector(
        &self,
        views: Vec<&'static dyn View>,
        woken_by: watch::Receiver<i64>,
    ) -> anyhow::Result<Projector> {
        let store = self.projection_store().await?;
        Ok(Projector::new(store, views).woken_by(woken_by))
    }

    /// Workers for `policies` over this store, woken by this process's own commits.
    pub async fn policy_workers(
        &self,
        policies: Vec<SharedPolicy<S>>,
    ) -> anyhow::Result<Policies<S>> {
        self.remote_policy_workers(policies, self.service.appended())
            .await
    }

    /// Workers for `policies` in a process without the command API, woken by
    /// [`App::commits_elsewhere`]. Their own commands are announced too
    /// ([`App::announce_commits`]), for views in other processes.
    pub async fn remote_policy_workers(
        &self,
        policies: Vec<SharedPolicy<S>>,
        woken_by: watch::Receiver<i64>,
    ) -> anyhow::Result<Policies<S>> {
        let store = self.projection_store().await?;
        Ok(Policies::new(self.service.clone(), store, policies).woken_by(woken_by))
    }

    /// Forgets clients' idempotency keys older than `ttl`, in the background, for as
    /// long as the process runs.
    pub fn forget_expired_keys(&self, ttl: Duration) {
        let log = self.service.log().clone();
        tokio::spawn(command_api::store::forget_expired_keys(log, ttl));
    }

    /// Announces this process's commits to projectors in other processes.
    pub fn announce_commits(&self) {
        let log = self.service.log();
        log.announce(wake::EVENTS, self.service.appended());
    }

    /// Announces `projector`'s batches to read APIs in other processes.
    pub fn announce_progress(&self, projector: &Projector) {
        let log = self.service.log();
        log.announce(wake::PROGRESS, projector.progress());
    }

    /// How reads in a process without projectors wait for a position: woken by the
    /// projector processes' announcements where the store carries them, or by
    /// re-checking.
    pub async fn remote_freshness(&self, bound: Duration) -> anyhow::Result<Freshness> {
        let freshness = Freshness::new(bound);
        Ok(match self.service.log().listen(wake::PROGRESS).await? {
            Some(progress) => freshness.woken_by(progress),
            None => freshness,
        })
    }

    /// `router` as a process serves it: timed, with `/metrics` (showing how far
    /// `standby` is behind, when reads come from one), behind the overload limits (which
    /// let probes and `/metrics` through).
    pub async fn served(
        &self,
        router: Router,
        limits: Limits,
        standby: Option<Arc<Standby>>,
    ) -> anyhow::Result<Router> {
        let router = self.metrics(standby).await?.serve(router);
        Ok(command_api::http::overload::limited(router, limits))
    }

    /// The process's metrics: its requests, its appends, the subscriptions in its store,
    /// the standby's replay.
    async fn metrics(
        &self,
        standby: Option<Arc<Standby>>,
    ) -> anyhow::Result<Arc<metrics::Metrics>> {
        let commands = metrics::CommandCounters {
            by_outcome: self.service.commands(),
            events_appended: self.service.events_appended(),
            batches: self.service.log().commit_batches(),
            outbound: self.outbound.clone(),
        };
        let store = self.service.log().status_store().await?;
        Ok(metrics::Metrics::new(store, commands, standby))
    }

    pub fn name(&self) -> &'static str {
        S::NAME
    }
}

/// The background work a process runs beside its router.
pub struct Workers<S: Store> {
    pub projector: Option<Projector>,
    pub policies: Option<Policies<S>>,
}

impl<S: Store> Default for Workers<S> {
    fn default() -> Self {
        Self {
            projector: None,
            policies: None,
        }
    }
}

/// How the server treats connections.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// A connection that has not sent a request's headers within this is closed.
    pub header_read_timeout: Duration,
    /// Connections beyond this many are closed as soon as they are accepted.
    pub max_connections: usize,
    /// After a shutdown signal, connections still open this long after are closed.
    pub shutdown_grace: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        settings::LimitSettings::default().connections()
    }
}

/// Serves `router` until `shutdown` resolves, then lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, router, shutdown, ConnectionLimits::default()).await
}

/// [`serve`] within `limits`: HTTP/1 connections through hyper with a timer, so a client
/// that sends a request's headers too slowly (or not at all) loses its connection, and a
/// shutdown that cannot wait on idle clients for ever.
pub async fn serve_with(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    limits: ConnectionLimits,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::server::graceful::GracefulShutdown;
    use hyper_util::service::TowerToHyperService;

    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let graceful = GracefulShutdown::new();
    let connections = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(error) => {
                // Out of file descriptors, say: wait a little instead of spinning.
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(slot) = connections.clone().try_acquire_owned() else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            let _slot = slot;
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended");
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.shutdown_grace) => {
            tracing::warn!("connections still open after the shutdown grace; closing them");
        }
    }
    Ok(())
}

/// Serves `router` and runs `workers` until SIGTERM or Ctrl-C; then `stop` turns true
/// (live streams end), requests finish and every worker ends its current batch or
/// event, recording its checkpoint, before this returns.
pub async fn run_until_stopped<S: Store>(
    listener: TcpListener,
    router: Router,
    workers: Workers<S>,
    limits: ConnectionLimits,
    stop: watch::Sender<bool>,
) -> std::io::Result<()> {
    let stopped = stop.subscribe();
    let mut running = tokio::task::JoinSet::new();
    if let Some(projector) = workers.projector {
        running.spawn(projector.run(stopped.clone()));
    }
    if let Some(policies) = workers.policies {
        running.spawn(policies.run(stopped));
    }
    let shutdown = async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    };
    serve_with(listener, router, shutdown, limits).await?;
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
