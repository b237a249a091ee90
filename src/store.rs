//! What the binary needs of an event store beyond the command side, one implementation
//! per backend: how it opens, where the views and checkpoints live, and how processes
//! wake each other. The backend is chosen once, at start-up ([`crate::App`] is generic
//! over it); nothing after that asks which one it is.

use std::future::Future;

use command_api::store::{BatchCounts, EventLog, PostgresEventLog, SqliteEventLog};
use projections::{wake, ProjectionStore};
use read_api::ViewStore;
use tokio::sync::watch;

use crate::settings::StoreSettings;
use crate::standby::Standby;

/// An event-store backend as the processes use it.
pub trait Store: EventLog + Sized {
    /// The backend's name in logs (`postgres`, `sqlite`).
    const NAME: &'static str;

    /// Opens the store `settings` describe.
    fn open(settings: &StoreSettings) -> impl Future<Output = anyhow::Result<Self>> + Send;

    /// Applies the migrations (idempotent).
    fn migrate(&self) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Views and checkpoints: the event store's own database.
    fn projection_store(&self) -> impl Future<Output = anyhow::Result<ProjectionStore>> + Send;

    /// Checkpoints for `/metrics`: where the backend has pools to give, a small one of
    /// its own whose statements time out.
    fn status_store(&self) -> impl Future<Output = anyhow::Result<ProjectionStore>> + Send;

    /// The views for the read API, through a pool of `pool_size` connections where the
    /// backend has pools of its own to give.
    fn view_store(&self, pool_size: u32) -> impl Future<Output = anyhow::Result<ViewStore>> + Send;

    /// The hot standby at `url` of the store's database, its views read through a pool
    /// of `pool_size`: PostgreSQL only.
    fn standby(
        &self,
        url: &str,
        pool_size: u32,
    ) -> impl Future<Output = anyhow::Result<Standby>> + Send;

    /// What other processes announce on `channel`, when the backend carries it between
    /// processes (PostgreSQL `LISTEN`); `None` otherwise.
    fn listen(
        &self,
        channel: &'static str,
    ) -> impl Future<Output = anyhow::Result<Option<watch::Receiver<i64>>>> + Send;

    /// Announces every change of `changes` on `channel` to other processes, where the
    /// backend carries it (PostgreSQL `NOTIFY`).
    fn announce(&self, channel: &'static str, changes: watch::Receiver<i64>);

    /// How the commits went to the database in batches, where the backend batches them
    /// (PostgreSQL's group commit, ADR 9).
    fn commit_batches(&self) -> Option<BatchCounts>;
}

impl Store for PostgresEventLog {
    const NAME: &'static str = "postgres";

    async fn open(settings: &StoreSettings) -> anyhow::Result<Self> {
        let url = settings
            .database_url
            .as_deref()
            .ok_or_else(|| anyhow::anyhow!("PostgreSQL needs DATABASE_URL"))?;
        let timeout = settings.acquire_timeout();
        let (size, bounds) = (settings.db_pool_size, settings.commit_bounds());
        Ok(PostgresEventLog::connect(url, size, timeout, bounds).await?)
    }

    async fn migrate(&self) -> anyhow::Result<()> {
        Ok(PostgresEventLog::migrate(self).await?)
    }

    async fn projection_store(&self) -> anyhow::Result<ProjectionStore> {
        Ok(ProjectionStore::Postgres(self.pool().clone()))
    }

    /// The status pool readiness answers through too.
    async fn status_store(&self) -> anyhow::Result<ProjectionStore> {
        Ok(ProjectionStore::Postgres(self.status_pool().clone()))
    }

    /// Reads are CPU work on the database, so a few connections serve them best, and
    /// they never take the commands' connections.
    async fn view_store(&self, pool_size: u32) -> anyhow::Result<ViewStore> {
        Ok(ViewStore::Postgres(self.open_pool(pool_size).await?))
    }

    async fn standby(&self, url: &str, pool_size: u32) -> anyhow::Result<Standby> {
        Standby::open(self, url, pool_size)
    }

    async fn listen(&self, channel: &'static str) -> anyhow::Result<Option<watch::Receiver<i64>>> {
        Ok(Some(wake::listen(self.pool(), channel).await?))
    }

    fn announce(&self, channel: &'static str, changes: watch::Receiver<i64>) {
        tokio::spawn(wake::announce(self.kept().clone(), channel, changes));
    }

    fn commit_batches(&self) -> Option<BatchCounts> {
        Some(self.batch_counts().clone())
    }
}

impl Store for SqliteEventLog {
    const NAME: &'static str = "sqlite";

    async fn open(settings: &StoreSettings) -> anyhow::Result<Self> {
        let timeout = settings.acquire_timeout();
        Ok(SqliteEventLog::open(&settings.data_dir, timeout).await?)
    }

    async fn migrate(&self) -> anyhow::Result<()> {
        Ok(SqliteEventLog::migrate(self).await?)
    }

    /// A connection of their own: every batch is a write transaction.
    async fn projection_store(&self) -> anyhow::Result<ProjectionStore> {
        Ok(ProjectionStore::Sqlite(self.open_pool(1).await?))
    }

    /// The store's readers.
    async fn status_store(&self) -> anyhow::Result<ProjectionStore> {
        Ok(ProjectionStore::Sqlite(self.pool().clone()))
    }

    /// The store's readers.
    async fn view_store(&self, _: u32) -> anyhow::Result<ViewStore> {
        Ok(ViewStore::Sqlite(self.pool().clone()))
    }

    async fn standby(&self, _: &str, _: u32) -> anyhow::Result<Standby> {
        anyhow::bail!(
            "STRATA_READ_DATABASE_URL names a standby, which only PostgreSQL has: set \
             DATABASE_URL too"
        )
    }

    /// SQLite serves one process: nothing comes from elsewhere.
    async fn listen(&self, _: &'static str) -> anyhow::Result<Option<watch::Receiver<i64>>> {
        Ok(None)
    }

    fn announce(&self, _: &'static str, _: watch::Receiver<i64>) {}

    /// One transaction per commit: the single writer connection serialises them.
    fn commit_batches(&self) -> Option<BatchCounts> {
        None
    }
}
