//! The embedded SQLite event store (the default): sqlite-es reads streams and
//! snapshots; commits go through a single writer connection, which serialises them,
//! so positions commit in order and no guard's check can race.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::Row;

use super::deadline;
use super::sql;
use super::{
    last_position, Commit, EventLog, IdempotencyClaim, LoadedStream, RecordedEvent, Snapshot,
    StoreError, StoredResponse,
};

/// The schema for the embedded store.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations/sqlite");

/// The longest a `COMMIT` (a flush of the write-ahead log) is expected to take.
const COMMIT_TIME: Duration = Duration::from_millis(250);

/// The file under the data directory that holds events, guards and (later) views.
const DATABASE_FILE: &str = "strata.db";

/// The event store in a SQLite file: one writer connection, several readers (WAL).
#[derive(Clone)]
pub struct SqliteEventLog {
    writer: SqlitePool,
    readers: SqlitePool,
    options: SqliteConnectOptions,
}

impl SqliteEventLog {
    /// Opens (creating if needed) `<data_dir>/strata.db`. `synchronous=FULL`: an
    /// acknowledged commit survives a power loss, not only a crash of the process.
    pub async fn open(data_dir: &Path, acquire_timeout: Duration) -> Result<Self, sqlx::Error> {
        std::fs::create_dir_all(data_dir).map_err(sqlx::Error::Io)?;
        let options = SqliteConnectOptions::from_str("sqlite://")?
            .filename(data_dir.join(DATABASE_FILE))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(5));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(acquire_timeout)
            .connect_with(options.clone())
            .await?;
        let readers = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(acquire_timeout)
            .connect_with(options.clone())
            .await?;
        Ok(Self {
            writer,
            readers,
            options,
        })
    }

    /// Applies the embedded migrations (idempotent).
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        MIGRATOR.run(&self.writer).await
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.readers
    }

    /// A pool of `size` more connections to the same file, for another writer (a
    /// projector); SQLite's lock and busy timeout serialise it with the commits.
    pub async fn open_pool(&self, size: u32) -> Result<SqlitePool, sqlx::Error> {
        SqlitePoolOptions::new()
            .max_connections(size)
            .connect_with(self.options.clone())
            .await
    }
}

impl EventLog for SqliteEventLog {
    async fn load(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<LoadedStream, StoreError> {
        let rows = sqlx::query(sql::LOAD_STREAM)
            .bind(aggregate_type)
            .bind(aggregate_id)
            .fetch_all(&self.readers)
            .await
            .map_err(StoreError::from_sqlx)?;
        Ok(sql::loaded_stream!(rows))
    }

    async fn append(&self, commit: Commit) -> Result<i64, StoreError> {
        // A request that ran out of time waiting for the one writer is not written.
        if let Some(deadline) = &commit.deadline {
            if !deadline.leaves_time_for(COMMIT_TIME) {
                return Err(StoreError::TimedOut);
            }
        }
        let mut tx = self
            .writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(StoreError::from_sqlx)?;
        for guard in &commit.guards {
            guard.on_sqlite(&mut tx).await?;
        }
        let mut positions = Vec::with_capacity(commit.events.len());
        for event in &commit.events {
            let position: i64 = sqlx::query_scalar(
                "INSERT INTO events
                    (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
                 VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING global_position",
            )
            .bind(&event.aggregate_type)
            .bind(&event.aggregate_id)
            .bind(event.sequence as i64)
            .bind(&event.event_type)
            .bind(&event.event_version)
            .bind(&event.payload)
            .bind(&event.metadata)
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::from_sqlx)?;
            positions.push(position);
        }
        for snapshot in &commit.snapshots {
            store_snapshot(&mut tx, snapshot).await?;
        }
        let position = last_position(positions)?;
        if let Some(claim) = &commit.idempotency {
            claim_idempotency_key(&mut tx, claim, position).await?;
        }
        // Not past its request's time limit, which it may have spent waiting for the
        // writer.
        deadline::commit(tx, commit.deadline.as_ref(), COMMIT_TIME).await?;
        Ok(position)
    }

    async fn idempotent_response(
        &self,
        scope_key: &str,
    ) -> Result<Option<StoredResponse>, StoreError> {
        let row = sqlx::query(sql::SELECT_IDEMPOTENT_RESPONSE)
            .bind(scope_key)
            .fetch_optional(&self.readers)
            .await
            .map_err(StoreError::from_sqlx)?;
        Ok(row.map(|row| sql::stored_response!(row, i64)))
    }

    async fn stream(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows = sqlx::query(sql::SELECT_STREAM)
            .bind(aggregate_type)
            .bind(aggregate_id)
            .fetch_all(&self.readers)
            .await
            .map_err(StoreError::from_sqlx)?;
        Ok(rows.iter().map(|row| sql::recorded_event!(row)).collect())
    }

    async fn expire_idempotency_keys(&self, ttl: Duration) -> Result<u64, StoreError> {
        sql::expire_in_batches!(EXPIRE_IDEMPOTENCY_KEYS, ttl, &self.writer)
    }

    async fn is_ready(&self) -> bool {
        let applied: Result<i64, _> = sqlx::query_scalar(sql::APPLIED_MIGRATIONS)
            .fetch_one(&self.readers)
            .await;
        matches!(applied, Ok(n) if n as usize >= MIGRATOR.iter().count())
    }
}

/// Removes up to $2 expiring keys recorded more than $1 seconds ago (`created_at` is
/// text in the one format the table writes, so it compares in time order).
const EXPIRE_IDEMPOTENCY_KEYS: &str = "
    DELETE FROM idempotency_keys WHERE scope_key IN (
        SELECT scope_key FROM idempotency_keys
         WHERE expires
           AND created_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', printf('-%f seconds', $1))
         LIMIT $2)";

async fn claim_idempotency_key(
    connection: &mut SqliteConnection,
    claim: &IdempotencyClaim,
    position: i64,
) -> Result<(), StoreError> {
    let claimed = sqlx::query(sql::CLAIM_IDEMPOTENCY_KEY)
        .bind(&claim.scope_key)
        .bind(&claim.request_digest)
        .bind(claim.expires)
        .bind(claim.status as i64)
        .bind(&claim.location)
        .bind(&claim.response)
        .bind(position)
        .execute(&mut *connection)
        .await
        .map_err(StoreError::from_sqlx)?;
    match claimed.rows_affected() {
        1 => Ok(()),
        _ => Err(StoreError::DuplicateRequest),
    }
}

async fn store_snapshot(
    connection: &mut SqliteConnection,
    snapshot: &Snapshot,
) -> Result<(), StoreError> {
    sqlx::query(sql::UPSERT_SNAPSHOT)
        .bind(&snapshot.aggregate_type)
        .bind(&snapshot.aggregate_id)
        .bind(snapshot.last_sequence as i64)
        .bind(snapshot.current_snapshot as i64)
        .bind(&snapshot.payload)
        .execute(&mut *connection)
        .await
        .map_err(StoreError::from_sqlx)?;
    Ok(())
}
