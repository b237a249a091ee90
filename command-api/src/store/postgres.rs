//! The PostgreSQL event store: postgres-es reads streams and snapshots; commits are
//! one multi-row `INSERT` (atomic on its own) or, with guards, one transaction.

use std::time::Duration;

use connections::{HeldConnections, TRUSTED_AFTER_USE};
use cqrs_es::persist::SerializedEvent;
use serde_json::Value;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgArguments, PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Connection, PgConnection, Postgres, Row};

use super::deadline;
use super::group_commit::{Batchable, GroupCommit, WRITER_CONNECTIONS};
use super::sql;
use super::{
    last_position, BatchCounts, Commit, CommitBounds, EventLog, IdempotencyClaim, LoadedStream,
    RecordedEvent, Snapshot, StoreError, StoredResponse,
};

/// The schema: event store, snapshots, guards (and, later, views and checkpoints).
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations/postgres");

/// The primary key of `idempotency_keys`: a request with the same key committed first.
const IDEMPOTENCY_KEY: &str = "idempotency_keys_pkey";

/// The smallest pool some of whose connections are kept between statements: a smaller
/// one has none to spare.
const KEEPING_POOL_SIZE: u32 = 8;

/// Connections of the status pool: readiness probes and `/metrics`.
const STATUS_POOL_SIZE: u32 = 2;
/// How long one of the status pool's statements may run.
const STATUS_STATEMENT_TIMEOUT: Duration = Duration::from_secs(1);

/// The event store on a PostgreSQL database.
#[derive(Clone)]
pub struct PostgresEventLog {
    /// The commands' connections.
    pool: PgPool,
    /// Up to a quarter of them (none of a pool under [`KEEPING_POOL_SIZE`]), kept by
    /// the statements every command on an existing stream runs (its load, an idempotent
    /// request's lookup) and by the process's announcements, the rest of the pool left
    /// to everything else.
    kept: HeldConnections,
    /// A few connections of their own, whose statements time out, for what must answer
    /// quickly or not at all (readiness, a metrics scrape) and must never wait on the
    /// commands' connections: a busy command side is not an unready one.
    status: PgPool,
    /// Writes the commits that need no transaction of their own, together.
    group: GroupCommit,
    bounds: CommitBounds,
    /// Opens a commit's own transaction with its bounds on lock waits and statements.
    begin_bounded: String,
}

impl PostgresEventLog {
    /// Connects with a bounded pool; a database that is down fails fast after
    /// `acquire_timeout` instead of queueing requests without bound.
    ///
    /// A commit waits at most `bounds` on what other transactions hold; the group
    /// commit's writers have connections of their own (eight) on top of
    /// `max_connections`.
    pub async fn connect(
        url: &str,
        max_connections: u32,
        acquire_timeout: Duration,
        bounds: CommitBounds,
    ) -> Result<Self, sqlx::Error> {
        let options: PgConnectOptions = url.parse()?;
        let status = status_pool(options.clone(), acquire_timeout);
        let (lock_ms, statement_ms) = (
            bounds.lock_timeout.as_millis(),
            bounds.statement_timeout().as_millis(),
        );
        let writers = pool_options(WRITER_CONNECTIONS, acquire_timeout).connect_lazy_with(
            options.clone().options([
                ("lock_timeout", lock_ms.to_string().as_str()),
                ("statement_timeout", statement_ms.to_string().as_str()),
            ]),
        );
        let pool = pool_options(max_connections, acquire_timeout)
            .connect_with(options)
            .await?;
        let keep = match max_connections >= KEEPING_POOL_SIZE {
            true => max_connections as usize / 4,
            false => 0,
        };
        Ok(Self {
            kept: HeldConnections::new(pool.clone(), keep),
            pool,
            status,
            group: GroupCommit::start(writers, bounds),
            bounds,
            // An instance cut off between the statements of its transaction holds its
            // locks no longer than a statement may run, not until TCP notices.
            begin_bounded: format!(
                "BEGIN; SET LOCAL lock_timeout = {lock_ms}; \
                 SET LOCAL statement_timeout = {statement_ms}; \
                 SET LOCAL idle_in_transaction_session_timeout = {statement_ms}"
            ),
        })
    }

    /// Applies the embedded migrations (idempotent).
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        MIGRATOR.run(&self.pool).await
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The connections of [`PostgresEventLog::pool`] kept between statements, for a hot
    /// path beside the commands' (an announcer).
    pub fn kept(&self) -> &HeldConnections {
        &self.kept
    }

    /// How many batches the commits went in, and how many commits they carried.
    pub fn batch_counts(&self) -> &BatchCounts {
        self.group.counts()
    }

    /// The status pool (see [`PostgresEventLog`]'s fields).
    pub fn status_pool(&self) -> &PgPool {
        &self.status
    }

    /// Another pool of `size` connections to the same database, with the same acquire
    /// timeout: for a side that must not compete with commands for connections.
    pub async fn open_pool(&self, size: u32) -> Result<PgPool, sqlx::Error> {
        pool_options(size, self.pool.options().get_acquire_timeout())
            .connect_with((*self.pool.connect_options()).clone())
            .await
    }

    /// Pools to another server (a standby at `url`), with the same acquire timeout: one
    /// of `size` connections, and a status pool like [`PostgresEventLog::status_pool`].
    /// Both connect when first used: a process starts while that server is down, and
    /// its readiness says so.
    pub fn open_pools_at(&self, url: &str, size: u32) -> Result<(PgPool, PgPool), sqlx::Error> {
        let options: PgConnectOptions = url.parse()?;
        let acquire_timeout = self.pool.options().get_acquire_timeout();
        let pool = pool_options(size, acquire_timeout).connect_lazy_with(options.clone());
        Ok((pool, status_pool(options, acquire_timeout)))
    }
}

/// [`STATUS_POOL_SIZE`] connections whose statements time out, opened when first used.
fn status_pool(options: PgConnectOptions, acquire_timeout: Duration) -> PgPool {
    let timeout = STATUS_STATEMENT_TIMEOUT.as_millis().to_string();
    pool_options(STATUS_POOL_SIZE, acquire_timeout)
        .connect_lazy_with(options.options([("statement_timeout", timeout.as_str())]))
}

/// Whether the server `pool` reaches takes writes: not a standby, not read-only.
async fn takes_writes(pool: &PgPool) -> bool {
    let writable: Result<bool, _> = sqlx::query_scalar(
        "SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off'",
    )
    .fetch_one(pool)
    .await;
    matches!(writable, Ok(true))
}

/// Whether the database `pool` reaches answers and has every migration applied.
pub async fn is_migrated(pool: &PgPool) -> bool {
    let applied: Result<i64, _> = sqlx::query_scalar(sql::APPLIED_MIGRATIONS)
        .fetch_one(pool)
        .await;
    matches!(applied, Ok(n) if n as usize >= MIGRATOR.iter().count())
}

/// A bounded pool that tests a connection before handing it out only when it has been
/// idle for longer than [`TRUSTED_AFTER_USE`], as HikariCP does. sqlx's default pings
/// every connection on every acquire: a round trip to the server per query on top of
/// the query's own (and of the ping sqlx sends on every release).
fn pool_options(size: u32, acquire_timeout: Duration) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(size)
        .acquire_timeout(acquire_timeout)
        .test_before_acquire(false)
        .before_acquire(|connection, used| {
            Box::pin(async move {
                if used.idle_for > TRUSTED_AFTER_USE {
                    connection.ping().await?;
                }
                Ok(true)
            })
        })
}

impl EventLog for PostgresEventLog {
    async fn load(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<LoadedStream, StoreError> {
        let mut connection = self.kept.take().await.map_err(StoreError::from_sqlx)?;
        let rows = sqlx::query(sql::LOAD_STREAM)
            .bind(aggregate_type)
            .bind(aggregate_id)
            .fetch_all(&mut *connection)
            .await
            .map_err(StoreError::from_sqlx)?;
        self.kept.give_back(connection);
        Ok(sql::loaded_stream!(rows))
    }

    async fn append(&self, commit: Commit) -> Result<i64, StoreError> {
        if commit.guards.is_empty() && commit.snapshots.is_empty() {
            // Events and their idempotency key are one statement, which can carry the
            // commits of concurrent commands too.
            let batchable = Batchable {
                events: commit.events,
                claim: commit.idempotency,
                deadline: commit.deadline,
            };
            return self.group.commit(batchable).await;
        }
        let mut tx = self
            .pool
            .begin_with(self.begin_bounded.clone())
            .await
            .map_err(StoreError::from_sqlx)?;
        for guard in &commit.guards {
            guard.on_postgres(&mut tx).await?;
        }
        let last = insert_events(&mut tx, &commit.events)
            .await
            .map_err(StoreError::from_sqlx)?;
        let position = last_position(last)?;
        for snapshot in &commit.snapshots {
            store_snapshot(&mut tx, snapshot).await?;
        }
        if let Some(claim) = &commit.idempotency {
            claim_idempotency_key(&mut tx, claim, position).await?;
        }
        let statement = self.bounds.statement_timeout();
        deadline::commit(tx, commit.deadline.as_ref(), statement).await?;
        Ok(position)
    }

    async fn idempotent_response(
        &self,
        scope_key: &str,
    ) -> Result<Option<StoredResponse>, StoreError> {
        let mut connection = self.kept.take().await.map_err(StoreError::from_sqlx)?;
        let row = sqlx::query(sql::SELECT_IDEMPOTENT_RESPONSE)
            .bind(scope_key)
            .fetch_optional(&mut *connection)
            .await
            .map_err(StoreError::from_sqlx)?;
        self.kept.give_back(connection);
        Ok(row.map(|row| sql::stored_response!(row, i16)))
    }

    async fn stream(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows = sqlx::query(sql::SELECT_STREAM)
            .bind(aggregate_type)
            .bind(aggregate_id)
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        Ok(rows.iter().map(|row| sql::recorded_event!(row)).collect())
    }

    async fn expire_idempotency_keys(&self, ttl: Duration) -> Result<u64, StoreError> {
        sql::expire_in_batches!(EXPIRE_IDEMPOTENCY_KEYS, ttl, &self.pool)
    }

    /// Also false while the commit writers are stuck (see [`BatchCounts::stalled`]), or
    /// while the server takes no writes (a standby behind the primary's address during a
    /// failover).
    async fn is_ready(&self) -> bool {
        if self.group.stalled() {
            return false;
        }
        is_migrated(&self.status).await && takes_writes(&self.status).await
    }
}

/// Appends the events bound as $1…$7 (one array per column), their streams locked in
/// one order first (as the group commit's batches lock them), as the common table
/// expression `appended`: a macro, so that the statements built on it are constant
/// text, not formatted for every commit.
macro_rules! append_events {
    () => {
        concat!(
            "WITH locked AS (
                SELECT pg_advisory_xact_lock(stream) FROM (
                    SELECT DISTINCT ",
            sql::stream_lock_key!("t", "i"),
            " AS stream
                      FROM UNNEST($1::text[], $2::text[]) AS s(t, i) ORDER BY stream) streams),
             appended AS (
            INSERT INTO events
                (aggregate_type, aggregate_id, sequence, event_type, event_version, payload,
                 metadata)
            SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[],
                                 $6::jsonb[], $7::jsonb[])
             WHERE (SELECT count(*) FROM locked) >= 0
            RETURNING global_position)"
        )
    };
}

const INSERT_EVENTS: &str = concat!(
    append_events!(),
    " SELECT max(global_position) FROM appended"
);

/// [`INSERT_EVENTS`] and the idempotency record ($8…$13) in one statement.
const INSERT_EVENTS_CLAIMING: &str = concat!(
    append_events!(),
    ",
     claimed AS (
        INSERT INTO idempotency_keys
               (scope_key, request_digest, expires, status, location, response, position)
        SELECT $8, $9, $10, $11, $12, $13, max(global_position) FROM appended
        RETURNING position)
     SELECT position FROM claimed"
);

/// Removes up to $2 expiring keys recorded more than $1 seconds ago.
const EXPIRE_IDEMPOTENCY_KEYS: &str = "
    DELETE FROM idempotency_keys WHERE scope_key IN (
        SELECT scope_key FROM idempotency_keys
         WHERE expires AND created_at < now() - make_interval(secs => $1)
         LIMIT $2)";

/// Appends every event of the commit in one statement and returns the last position.
pub(super) async fn insert_events(
    connection: &mut PgConnection,
    events: &[SerializedEvent],
) -> Result<Option<i64>, sqlx::Error> {
    bind_events(sqlx::query_scalar(INSERT_EVENTS), events)
        .fetch_one(&mut *connection)
        .await
}

/// Appends the events and records the response under the idempotency key in one
/// statement; a key a concurrent request took first fails the whole statement (the
/// insert waits for that request's transaction).
pub(super) async fn insert_events_claiming(
    connection: &mut PgConnection,
    events: &[SerializedEvent],
    claim: &IdempotencyClaim,
) -> Result<Option<i64>, sqlx::Error> {
    bind_events(sqlx::query_scalar(INSERT_EVENTS_CLAIMING), events)
        .bind(&claim.scope_key)
        .bind(&claim.request_digest)
        .bind(claim.expires)
        .bind(claim.status as i16)
        .bind(&claim.location)
        .bind(&claim.response)
        .fetch_one(&mut *connection)
        .await
}

/// The outcome of a statement of [`insert_events`] or [`insert_events_claiming`] that
/// is its own transaction.
pub(super) fn committed(written: Result<Option<i64>, sqlx::Error>) -> Result<i64, StoreError> {
    match written {
        Ok(last) => last_position(last),
        Err(sqlx::Error::Database(db)) if db.constraint() == Some(IDEMPOTENCY_KEY) => {
            Err(StoreError::DuplicateRequest)
        }
        Err(error) => Err(StoreError::of_commit(&error)),
    }
}

/// Binds the events of a commit as [`append_events`] numbers them, one array per column.
fn bind_events<'q, O>(
    query: sqlx::query::QueryScalar<'q, Postgres, O, PgArguments>,
    events: &[SerializedEvent],
) -> sqlx::query::QueryScalar<'q, Postgres, O, PgArguments> {
    let column = |f: fn(&SerializedEvent) -> String| events.iter().map(f).collect::<Vec<_>>();
    let json = |f: fn(&SerializedEvent) -> Value| events.iter().map(f).collect::<Vec<_>>();
    query
        .bind(column(|e| e.aggregate_type.clone()))
        .bind(column(|e| e.aggregate_id.clone()))
        .bind(events.iter().map(|e| e.sequence as i64).collect::<Vec<_>>())
        .bind(column(|e| e.event_type.clone()))
        .bind(column(|e| e.event_version.clone()))
        .bind(json(|e| e.payload.clone()))
        .bind(json(|e| e.metadata.clone()))
}

/// Records the response under the idempotency key, or learns that a concurrent
/// request took the key first (the insert waits for that request's transaction).
async fn claim_idempotency_key(
    connection: &mut PgConnection,
    claim: &IdempotencyClaim,
    position: i64,
) -> Result<(), StoreError> {
    let claimed = sqlx::query(sql::CLAIM_IDEMPOTENCY_KEY)
        .bind(&claim.scope_key)
        .bind(&claim.request_digest)
        .bind(claim.expires)
        .bind(claim.status as i16)
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
    connection: &mut PgConnection,
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
