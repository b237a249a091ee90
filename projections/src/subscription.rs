//! One batch of a view's subscription: lock its checkpoint, read the events after it
//! in an order that can no longer change, apply them, advance the checkpoint — all in
//! one transaction, so an event takes effect exactly once whatever crashes.
//!
//! On PostgreSQL the checkpoint row is locked `FOR UPDATE SKIP LOCKED`: several
//! workers may serve the same view, but only one applies a batch at a time and the
//! others move on (a worker that dies releases the lock with its connection). Events
//! are read below `pg_snapshot_xmin(pg_current_snapshot())` — every transaction with a
//! smaller id has ended, so no event can still appear before the checkpoint — in
//! `(transaction_id, global_position)` order. On SQLite, `BEGIN IMMEDIATE` serialises
//! the batch with every writer, and positions commit in order.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{Connection, PgConnection, PgPool, Row, SqliteConnection, SqlitePool};

use crate::applied;
use crate::event::LogEvent;
use crate::sql::{Arg, ViewTx};
use crate::view::View;

/// Where views and checkpoints live: the event store's own database.
#[derive(Clone)]
pub enum ProjectionStore {
    Postgres(PgPool),
    /// A pool of its own (one connection): batches are write transactions.
    Sqlite(SqlitePool),
}

/// What one batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Batch {
    /// Applied this many events.
    Applied { events: usize },
    /// Nothing to apply: the view has every event that can be read now.
    CaughtUp,
    /// Another worker is applying a batch of this view right now.
    Busy,
    /// The view is stopped at a poison event.
    Failed,
}

/// Why a batch did not complete.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    /// An event could not be applied; the view is now marked failed.
    #[error("{view} cannot apply the event at position {position}: {reason}")]
    Poison {
        view: &'static dyn View,
        position: i64,
        reason: String,
    },
    /// The view is stopped at a poison event recorded earlier.
    #[error("{0} is stopped at a poison event")]
    Stopped(&'static dyn View),
    /// The database refused the writes of a batch of several events; applied one at a
    /// time, they show which one is poison.
    #[error("{0}: the database refused a batch: {1}")]
    Refused(&'static dyn View, sqlx::Error),
    /// Another process is rebuilding the view.
    #[error("{0} is being rebuilt by another process")]
    RebuildRunning(&'static dyn View),
    /// The database failed; the batch rolled back and can be retried.
    #[error("projection store error: {0}")]
    Database(#[from] sqlx::Error),
}

const PG_LOCK_CHECKPOINT: &str = "
    SELECT transaction_id, position, state FROM projection_checkpoints
     WHERE name = $1 FOR UPDATE SKIP LOCKED";
// ORDER BY names the table's columns: the bare names would mean the bigint aliases of
// the select list, which no index is ordered by (a sort of every matching row).
const PG_READ_EVENTS: &str = "
    SELECT global_position, transaction_id::text::bigint AS transaction_id, aggregate_type,
           aggregate_id, sequence, event_type, payload, metadata, recorded_at
      FROM events
     WHERE (transaction_id, global_position) > ($1::text::xid8, $2)
       AND (transaction_id, global_position) <= ($3::text::xid8, $4)
       AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
     ORDER BY events.transaction_id, events.global_position
     LIMIT $5";
const SQLITE_READ_EVENTS: &str = "
    SELECT global_position, 0 AS transaction_id, aggregate_type, aggregate_id, sequence,
           event_type, payload, metadata, recorded_at
      FROM events
     WHERE (0, global_position) > ($1, $2) AND (0, global_position) <= ($3, $4)
     ORDER BY global_position LIMIT $5";
const PG_ASYNCHRONOUS_COMMIT: &str = "SET synchronous_commit = off";
const REGISTER: &str = "
    INSERT INTO projection_checkpoints (name, kind) VALUES ($1, 'view')
    ON CONFLICT (name) DO NOTHING";
const PG_ADVANCE: &str = "
    UPDATE projection_checkpoints SET transaction_id = $2, position = $3, updated_at = now()
     WHERE name = $1";
const SQLITE_ADVANCE: &str = "
    UPDATE projection_checkpoints SET transaction_id = $2, position = $3,
           updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
     WHERE name = $1";
const HEAD: &str = "SELECT coalesce(max(global_position), 0) FROM events";
pub(crate) const READ_CHECKPOINT: &str =
    "SELECT transaction_id, position, state FROM projection_checkpoints WHERE name = $1";
pub(crate) const MARK_FAILED: &str = "
    UPDATE projection_checkpoints SET state = 'failed', failed_position = $2, last_error = $3
     WHERE name = $1";

/// A point in the log's reading order: `(transaction_id, position)` on PostgreSQL,
/// the position alone on SQLite (whose transaction ids are 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LogPoint {
    pub transaction_id: i64,
    pub position: i64,
}

impl LogPoint {
    pub const START: LogPoint = LogPoint {
        transaction_id: 0,
        position: 0,
    };
    /// Past every event: an unbounded read.
    pub const END: LogPoint = LogPoint {
        transaction_id: i64::MAX,
        position: i64::MAX,
    };
}

/// A subscription's checkpoint: where it stands, and whether a poison event stopped it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    pub point: LogPoint,
    pub failed: bool,
}

impl ProjectionStore {
    /// A connection for one worker, detached from the pool: a worker aborted mid-batch
    /// drops it, which closes it and makes the database roll the batch back — as when
    /// a process dies — instead of returning a connection in an unknown transaction
    /// state to a pool the command side also uses.
    ///
    /// On PostgreSQL its batches commit without waiting for the WAL flush: a view is
    /// derived data, and a batch lost in a database crash is lost whole, checkpoint
    /// included, so the worker applies it again. Waiting for the disk would put every
    /// batch behind the writers' flushes and lengthen the view's lag under load (ADR 3).
    pub async fn connect(&self) -> Result<WorkerConnection, sqlx::Error> {
        Ok(match self {
            Self::Postgres(pool) => {
                let mut connection = pool.acquire().await?.detach();
                sqlx::query(PG_ASYNCHRONOUS_COMMIT)
                    .execute(&mut connection)
                    .await?;
                WorkerConnection::Postgres(connection)
            }
            Self::Sqlite(pool) => WorkerConnection::Sqlite(pool.acquire().await?.detach()),
        })
    }
}

/// A worker's own connection; every batch is one transaction on it.
pub enum WorkerConnection {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

impl WorkerConnection {
    /// The connection as view code sees it (outside any transaction).
    pub fn as_view_tx(&mut self) -> ViewTx<'_> {
        match self {
            Self::Postgres(connection) => ViewTx::Postgres(connection),
            Self::Sqlite(connection) => ViewTx::Sqlite(connection),
        }
    }
}

/// Runs one statement with the same binds on either connection.
macro_rules! on_connection {
    ($connection:expr, |$c:ident| $body:expr) => {
        match $connection {
            WorkerConnection::Postgres($c) => $body,
            WorkerConnection::Sqlite($c) => $body,
        }
    };
}

impl WorkerConnection {
    /// Creates the view's checkpoint at position 0 if it has none.
    pub async fn register(&mut self, view: &'static dyn View) -> Result<(), sqlx::Error> {
        on_connection!(self, |c| sqlx::query(REGISTER)
            .bind(view.name())
            .execute(&mut *c)
            .await
            .map(drop))
    }

    /// The position of the last event in the log.
    pub async fn head(&mut self) -> Result<i64, sqlx::Error> {
        on_connection!(self, |c| sqlx::query_scalar(HEAD).fetch_one(&mut *c).await)
    }

    /// True once the subscription `name` (a view or a policy) has applied every event
    /// up to `position` ([`applied`]).
    pub async fn has_applied(&mut self, name: &str, position: i64) -> Result<bool, sqlx::Error> {
        match self {
            Self::Postgres(c) => applied::on_postgres(c, name, position).await,
            Self::Sqlite(c) => applied::on_sqlite(c, name, position).await,
        }
    }

    /// Applies at most `limit` events to `view` in one transaction.
    pub async fn run_batch(
        &mut self,
        view: &'static dyn View,
        limit: i64,
    ) -> Result<Batch, ProjectionError> {
        self.run_batch_until(view, LogPoint::END, limit).await
    }

    /// [`Self::run_batch`], reading no event past `until`.
    pub async fn run_batch_until(
        &mut self,
        view: &'static dyn View,
        until: LogPoint,
        limit: i64,
    ) -> Result<Batch, ProjectionError> {
        let outcome = match self.transact(view, until, limit).await {
            Err(ProjectionError::Refused(..)) => self.transact(view, until, 1).await,
            outcome => outcome,
        };
        if let Err(ProjectionError::Poison {
            position, reason, ..
        }) = &outcome
        {
            tracing::error!(view = %view, position, error = %reason, "poison event: view stopped");
            on_connection!(self, |c| sqlx::query(MARK_FAILED)
                .bind(view.name())
                .bind(*position)
                .bind(reason)
                .execute(&mut *c)
                .await
                .map(drop))?;
        }
        outcome
    }

    /// One batch in one transaction, committed if it applied events.
    async fn transact(
        &mut self,
        view: &'static dyn View,
        until: LogPoint,
        limit: i64,
    ) -> Result<Batch, ProjectionError> {
        match self {
            Self::Postgres(connection) => {
                let mut tx = connection.begin().await?;
                let outcome = batch(&mut ViewTx::Postgres(&mut tx), view, until, limit).await;
                if matches!(outcome, Ok(Batch::Applied { .. })) {
                    tx.commit().await?;
                }
                outcome
            }
            Self::Sqlite(connection) => {
                let mut tx = connection.begin_with("BEGIN IMMEDIATE").await?;
                let outcome = batch(&mut ViewTx::Sqlite(&mut tx), view, until, limit).await;
                if matches!(outcome, Ok(Batch::Applied { .. })) {
                    tx.commit().await?;
                }
                outcome
            }
        }
    }
}

/// Locks the checkpoint, applies the events after it, advances it — inside `tx`.
async fn batch(
    tx: &mut ViewTx<'_>,
    view: &'static dyn View,
    until: LogPoint,
    limit: i64,
) -> Result<Batch, ProjectionError> {
    let Some(checkpoint) = tx.lock_checkpoint(view).await? else {
        return Ok(Batch::Busy);
    };
    if checkpoint.failed {
        return Ok(Batch::Failed);
    }
    match apply_range(tx, view, checkpoint.point, until, limit).await? {
        None => Ok(Batch::CaughtUp),
        Some((events, point)) => {
            tx.advance(view.name(), point).await?;
            Ok(Batch::Applied { events })
        }
    }
}

/// Applies up to `limit` events after `after` and not past `until` (in reading order)
/// to the view's tables as `tx` resolves them; returns how many and the last one's point.
pub(crate) async fn apply_range(
    tx: &mut ViewTx<'_>,
    view: &'static dyn View,
    after: LogPoint,
    until: LogPoint,
    limit: i64,
) -> Result<Option<(usize, LogPoint)>, ProjectionError> {
    let events = tx.read_events(after, until, limit).await?;
    let Some(last) = events.last() else {
        return Ok(None);
    };
    let point = LogPoint {
        transaction_id: last.transaction_id,
        position: last.position,
    };
    crate::view::apply(view, tx, &events).await?;
    Ok(Some((events.len(), point)))
}

impl ViewTx<'_> {
    /// The view's checkpoint, locked for this transaction; `None` when another worker
    /// holds it (PostgreSQL; SQLite's `BEGIN IMMEDIATE` already excludes other writers).
    pub(crate) async fn lock_checkpoint(
        &mut self,
        view: &'static dyn View,
    ) -> Result<Option<Checkpoint>, sqlx::Error> {
        let sql = match self {
            Self::Postgres(_) => PG_LOCK_CHECKPOINT,
            Self::Sqlite(_) => READ_CHECKPOINT,
        };
        self.read_checkpoint(sql, view.name()).await
    }

    /// A checkpoint row as `sql` (selecting transaction_id, position, state) reads it.
    pub(crate) async fn read_checkpoint(
        &mut self,
        sql: &str,
        name: &str,
    ) -> Result<Option<Checkpoint>, sqlx::Error> {
        Ok(match self {
            Self::Postgres(c) => sqlx::query(sql)
                .bind(name)
                .fetch_optional(&mut **c)
                .await?
                .map(|row| checkpoint(row.get(0), row.get(1), row.get(2))),
            Self::Sqlite(c) => sqlx::query(sql)
                .bind(name)
                .fetch_optional(&mut **c)
                .await?
                .map(|row| checkpoint(row.get(0), row.get(1), row.get(2))),
        })
    }

    pub(crate) async fn read_events(
        &mut self,
        after: LogPoint,
        until: LogPoint,
        limit: i64,
    ) -> Result<Vec<LogEvent>, sqlx::Error> {
        Ok(match self {
            Self::Postgres(c) => read_query(PG_READ_EVENTS, after, until, limit)
                .fetch_all(&mut **c)
                .await?
                .iter()
                .map(pg_event)
                .collect(),
            Self::Sqlite(c) => read_query(SQLITE_READ_EVENTS, after, until, limit)
                .fetch_all(&mut **c)
                .await?
                .iter()
                .map(sqlite_event)
                .collect(),
        })
    }

    pub(crate) async fn advance(&mut self, name: &str, point: LogPoint) -> Result<(), sqlx::Error> {
        let sql = match self {
            Self::Postgres(_) => PG_ADVANCE,
            Self::Sqlite(_) => SQLITE_ADVANCE,
        };
        let args = [
            Arg::Text(name),
            Arg::Int(point.transaction_id),
            Arg::Int(point.position),
        ];
        self.execute(sql, &args).await.map(drop)
    }
}

/// The bounded read, with its binds in the order both stores' SQL numbers them.
fn read_query<'q, DB: sqlx::Database>(
    sql: &'q str,
    after: LogPoint,
    until: LogPoint,
    limit: i64,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    sqlx::query(sql)
        .bind(after.transaction_id)
        .bind(after.position)
        .bind(until.transaction_id)
        .bind(until.position)
        .bind(limit)
}

fn checkpoint(transaction_id: i64, position: i64, state: String) -> Checkpoint {
    Checkpoint {
        point: LogPoint {
            transaction_id,
            position,
        },
        failed: state == "failed",
    }
}

/// Builds a [`LogEvent`] from a row of either store (the column names are shared).
macro_rules! log_event {
    ($row:expr) => {
        LogEvent {
            position: $row.get("global_position"),
            transaction_id: $row.get("transaction_id"),
            aggregate_type: $row.get("aggregate_type"),
            aggregate_id: $row.get("aggregate_id"),
            sequence: $row.get("sequence"),
            event_type: $row.get("event_type"),
            payload: $row.get::<Value, _>("payload"),
            metadata: $row.get::<Value, _>("metadata"),
            recorded_at: $row.get::<DateTime<Utc>, _>("recorded_at"),
        }
    };
}

fn pg_event(row: &PgRow) -> LogEvent {
    log_event!(row)
}

fn sqlite_event(row: &SqliteRow) -> LogEvent {
    log_event!(row)
}
