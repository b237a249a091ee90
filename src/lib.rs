//! The `strata` binary's library: configuration, start-up and the benchmark.
//!
//! # Layout
//! - [`settings`]: the one typed configuration, from flags and environment.
//! - [`Backend`]: the event store chosen at start-up (PostgreSQL or embedded SQLite).
//! - [`serve`]: runs a router on a listener until a shutdown future resolves.
//! - [`bench`]: `strata bench`, figures for the README.
#![forbid(unsafe_code)]

pub mod bench;
pub mod settings;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use command_api::store::{PostgresEventLog, SqliteEventLog};
use command_api::CommandService;
use tokio::net::TcpListener;

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
                Self::Postgres(Arc::new(CommandService::new(log)))
            }
            None => {
                let log = SqliteEventLog::open(&settings.data_dir, timeout).await?;
                Self::Sqlite(Arc::new(CommandService::new(log)))
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

    /// The command API's routes over this store.
    pub fn command_router(&self) -> Router {
        match self {
            Self::Postgres(service) => command_api::router(service.clone()),
            Self::Sqlite(service) => command_api::router(service.clone()),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Self::Postgres(_) => "postgres",
            Self::Sqlite(_) => "sqlite",
        }
    }
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
