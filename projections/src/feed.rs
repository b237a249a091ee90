//! The log as a policy follows it: a named checkpoint moved outside any batch
//! transaction, because a policy's work — commands — commits in transactions of its own.
//!
//! A policy reads the events after its checkpoint, reacts to each, then advances. Its
//! reactions are idempotent, so a crash between a reaction and the advance only repeats
//! reactions that append nothing the second time. On PostgreSQL one worker at a time
//! follows a policy: it holds a session advisory lock, which the database releases when
//! the worker's connection closes. (A row lock held in a transaction would give the
//! policy a transaction id for as long as its commands take, and hold back the read
//! watermark of every view that long.)

use crate::event::LogEvent;
use crate::sql::{Arg, ViewTx};
use crate::subscription::{
    Checkpoint, LogPoint, ProjectionStore, WorkerConnection, MARK_FAILED, READ_CHECKPOINT,
};

const REGISTER_POLICY: &str = "
    INSERT INTO projection_checkpoints (name, kind) VALUES ($1, 'policy')
    ON CONFLICT (name) DO NOTHING";
const PG_TRY_LEASE: &str =
    "SELECT pg_try_advisory_lock(hashtextextended('strata policy ' || $1, 0))";
const REPORT_ERROR: &str = "UPDATE projection_checkpoints SET last_error = $2 WHERE name = $1";
const CLEAR_ERROR: &str =
    "UPDATE projection_checkpoints SET last_error = NULL WHERE name = $1 AND last_error IS NOT NULL";

impl WorkerConnection {
    /// Creates the policy's checkpoint at position 0 if it has none.
    pub async fn register_policy(&mut self, name: &str) -> Result<(), sqlx::Error> {
        self.as_view_tx()
            .execute(REGISTER_POLICY, &[Arg::Text(name)])
            .await
            .map(drop)
    }

    /// Takes the lease on `name` for as long as this connection lives; false while
    /// another worker holds it. On SQLite, whose store serves one process, always true.
    pub async fn try_lease(&mut self, name: &str) -> Result<bool, sqlx::Error> {
        match self {
            Self::Postgres(c) => {
                sqlx::query_scalar(PG_TRY_LEASE)
                    .bind(name)
                    .fetch_one(&mut *c)
                    .await
            }
            Self::Sqlite(_) => Ok(true),
        }
    }

    /// The subscription's checkpoint, if it is registered.
    pub async fn checkpoint(&mut self, name: &str) -> Result<Option<Checkpoint>, sqlx::Error> {
        self.as_view_tx()
            .read_checkpoint(READ_CHECKPOINT, name)
            .await
    }

    /// Up to `limit` events after `after`, in the log's gap-safe reading order.
    pub async fn read_after(
        &mut self,
        after: LogPoint,
        limit: i64,
    ) -> Result<Vec<LogEvent>, sqlx::Error> {
        self.as_view_tx()
            .read_events(after, LogPoint::END, limit)
            .await
    }

    /// Moves the subscription's checkpoint to `point`.
    pub async fn advance_to(&mut self, name: &str, point: LogPoint) -> Result<(), sqlx::Error> {
        self.as_view_tx().advance(name, point).await
    }

    /// Stops the subscription at a poison event, with the reason, for `/admin/projections`.
    pub async fn mark_failed(
        &mut self,
        name: &str,
        position: i64,
        reason: &str,
    ) -> Result<(), sqlx::Error> {
        let args = [Arg::Text(name), Arg::Int(position), Arg::Text(reason)];
        self.as_view_tx()
            .execute(MARK_FAILED, &args)
            .await
            .map(drop)
    }

    /// Shows `error` in `/admin/projections` while the subscription retries, or clears it.
    pub async fn report_error(
        &mut self,
        name: &str,
        error: Option<&str>,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.as_view_tx();
        match error {
            Some(error) => {
                tx.execute(REPORT_ERROR, &[Arg::Text(name), Arg::Text(error)])
                    .await
            }
            None => tx.execute(CLEAR_ERROR, &[Arg::Text(name)]).await,
        }
        .map(drop)
    }
}

impl ProjectionStore {
    /// Runs one statement on a pooled connection: a policy's own tables, written by
    /// reactions that run side by side.
    pub async fn execute(&self, sql: &str, args: &[Arg<'_>]) -> Result<u64, sqlx::Error> {
        match self {
            Self::Postgres(pool) => {
                ViewTx::Postgres(&mut *pool.acquire().await?)
                    .execute(sql, args)
                    .await
            }
            Self::Sqlite(pool) => {
                ViewTx::Sqlite(&mut *pool.acquire().await?)
                    .execute(sql, args)
                    .await
            }
        }
    }

    /// The first column of every row of a query, as text, on a pooled connection.
    pub async fn fetch_texts(
        &self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Vec<String>, sqlx::Error> {
        match self {
            Self::Postgres(pool) => {
                ViewTx::Postgres(&mut *pool.acquire().await?)
                    .fetch_texts(sql, args)
                    .await
            }
            Self::Sqlite(pool) => {
                ViewTx::Sqlite(&mut *pool.acquire().await?)
                    .fetch_texts(sql, args)
                    .await
            }
        }
    }

    /// The first column of the first row of a query, as text, on a pooled connection.
    pub async fn fetch_text(
        &self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Option<String>, sqlx::Error> {
        match self {
            Self::Postgres(pool) => {
                ViewTx::Postgres(&mut *pool.acquire().await?)
                    .fetch_text(sql, args)
                    .await
            }
            Self::Sqlite(pool) => {
                ViewTx::Sqlite(&mut *pool.acquire().await?)
                    .fetch_text(sql, args)
                    .await
            }
        }
    }
}
