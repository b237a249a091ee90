//! Event-store adapters behind one small trait, chosen at start-up from configuration.
//!
//! A command loads its stream in one statement, the latest snapshot and the events after
//! it together (cqrs-es's snapshot store asks twice). Commits are written here, because
//! one command may append to several streams at once (an order and its payment)
//! together with what a single stream cannot enforce (a context's [`Guard`], an
//! idempotency key), all in one transaction — see
//! `docs/adr/0001-guarantees-across-aggregates.md`. On PostgreSQL, concurrent commands'
//! commits go to the database together (`docs/adr/0009-group-commit.md`). The guard
//! contexts share for a resource's time is [`TimeSlots`]
//! (`docs/adr/0010-time-slot-guard.md`).

mod deadline;
mod group_commit;
mod postgres;
mod sql;
mod sqlite;
mod stream_at;
mod time_slots;

pub use group_commit::{BatchCounts, MAX_WRITERS as COMMIT_WRITERS};

pub use deadline::Deadline;
pub use postgres::{is_migrated, PostgresEventLog};
pub use sqlite::SqliteEventLog;
pub use stream_at::StreamAt;
pub use time_slots::TimeSlots;

use std::fmt;
use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use cqrs_es::persist::SerializedEvent;
use domain::Rejection;
use futures::future::BoxFuture;
use serde_json::Value;
use sqlx::{PgConnection, SqliteConnection};

/// Events of at most this many are replayed when a stream is loaded: every
/// `SNAPSHOT_EVERY` events the aggregate's state is stored as a snapshot.
pub const SNAPSHOT_EVERY: usize = 100;

/// Everything one command writes, committed in a single transaction or not at all.
#[derive(Debug, Default)]
pub struct Commit {
    /// New events, possibly of several streams, each with its expected sequence.
    pub events: Vec<SerializedEvent>,
    /// Snapshots to store with the events.
    pub snapshots: Vec<Snapshot>,
    /// Rules across streams that must hold for the commit, checked in its transaction.
    pub guards: Vec<Box<dyn Guard>>,
    /// The response to remember for an `Idempotency-Key`.
    pub idempotency: Option<IdempotencyClaim>,
    /// The time limit of the request that sent the commit (none for a policy's): a
    /// commit whose outcome could not be known by then is not written at all.
    pub deadline: Option<Deadline>,
}

/// How long a commit may wait on what another transaction holds (PostgreSQL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitBounds {
    /// How long a commit waits for a lock another transaction holds (the next row of
    /// its stream, a guard's claim) before it fails alone, with nothing written.
    pub lock_timeout: Duration,
}

impl Default for CommitBounds {
    fn default() -> Self {
        Self {
            lock_timeout: Duration::from_millis(1000),
        }
    }
}

impl CommitBounds {
    /// The lock timeout is at most this share of the request timeout: a commit that
    /// waits on locks can still end, or fail unwritten, before its request is answered.
    pub const SHARE_OF_REQUEST: u32 = 4;

    /// The longest one statement of a commit runs: its wait for locks and as long again
    /// for its own work. The server cancels it past this, and nothing is written.
    pub fn statement_timeout(&self) -> Duration {
        self.lock_timeout * 2
    }

    /// Whether these bounds leave a request of `request_timeout` time to be answered.
    pub fn fit(&self, request_timeout: Duration) -> bool {
        self.lock_timeout * Self::SHARE_OF_REQUEST <= request_timeout
    }
}

/// An aggregate's state at `last_sequence`.
#[derive(Debug)]
pub struct Snapshot {
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub last_sequence: usize,
    pub current_snapshot: usize,
    pub payload: Value,
}

/// A rule over a set of streams that a context attaches to a commit (no two of its
/// reservations overlap, say), which no single stream can enforce. The store runs the
/// guard inside the commit's transaction, before the events are written, so the rule
/// holds under concurrent commands: the guard records what it claims in the context's
/// own table, whose constraints (or, on SQLite, the single writer) settle every race.
pub trait Guard: Send + Sync + fmt::Debug {
    /// Checks and records the claim on PostgreSQL; [`StoreError::Refused`] refuses the
    /// commit.
    fn on_postgres<'c>(
        &'c self,
        connection: &'c mut PgConnection,
    ) -> BoxFuture<'c, Result<(), StoreError>>;

    /// The same on SQLite.
    fn on_sqlite<'c>(
        &'c self,
        connection: &'c mut SqliteConnection,
    ) -> BoxFuture<'c, Result<(), StoreError>>;
}

/// A command's successful response, to be stored under its idempotency scope key
/// together with the commit's last position.
#[derive(Debug, Clone, PartialEq)]
pub struct IdempotencyClaim {
    pub scope_key: String,
    /// The [`request_digest`] of the request, so that a retry with another body is told
    /// apart without the body being kept.
    pub request_digest: String,
    /// Whether the key expires ([`EventLog::expire_idempotency_keys`]): a client's do,
    /// a policy's, which make it exactly-once over the whole log, never.
    pub expires: bool,
    pub status: u16,
    pub location: Option<String>,
    pub response: Value,
}

/// A stream as a command loads it.
#[derive(Debug, Default)]
pub struct LoadedStream {
    /// The aggregate's stored state and the last sequence it includes.
    pub snapshot: Option<(usize, Value)>,
    /// The events after the snapshot, in order: sequence and payload.
    pub events: Vec<(usize, Value)>,
}

/// The first response of an idempotent command, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResponse {
    /// `None` for a key recorded before digests were (its request was not kept).
    pub request_digest: Option<String>,
    pub status: u16,
    pub location: Option<String>,
    pub response: Value,
    pub position: i64,
}

/// An event as stored, with its place in the global log.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordedEvent {
    pub global_position: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    /// The event's own fields, as its type and version define them.
    #[schema(value_type = Object)]
    pub payload: Value,
    /// `eventId`, `correlationId` and `causationId`.
    #[schema(value_type = Object)]
    pub metadata: Value,
    pub recorded_at: DateTime<Utc>,
}

/// Why a commit was not written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another command appended to one of the streams first (optimistic concurrency).
    #[error("a stream was changed by a concurrent command")]
    Conflict,
    /// A guard refused the commit, for the business reason it gives.
    #[error("{0}")]
    Refused(Box<dyn Rejection + Send + Sync>),
    /// A request with the same idempotency key committed first.
    #[error("the idempotency key was used by a concurrent request")]
    DuplicateRequest,
    /// The database cannot be reached (down, or the pool timed out); nothing was
    /// written.
    #[error("the event store is unavailable: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The commit waited longer than its bounds allow (a lock another transaction
    /// holds, its request's time limit); nothing was written.
    #[error("the commit took longer than allowed; nothing was written")]
    TimedOut,
    /// The commits waiting for the database are at their bound; nothing was written.
    #[error("too many commits are waiting for the database")]
    Overloaded,
    /// The connection failed while the commit was in flight: it may or may not have
    /// been written.
    #[error("the outcome of the commit is unknown: {0}")]
    OutcomeUnknown(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Anything else: a bug or a corrupt row.
    #[error("event store failure: {0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    /// Sorts the error of a statement that commits nothing by itself (a read, a
    /// statement inside a transaction) into conflict, timed out, unavailable or internal.
    pub fn from_sqlx(error: sqlx::Error) -> Self {
        match &error {
            _ if is_lost_race(&error) => Self::Conflict,
            _ if is_timeout(&error) => Self::TimedOut,
            _ if is_unavailable(&error) => Self::Unavailable(Box::new(error)),
            _ => Self::Internal(Box::new(error)),
        }
    }

    /// Sorts the error of a statement that commits (a `COMMIT`, or one that is its own
    /// transaction): a connection lost while it ran leaves its outcome unknown.
    pub(crate) fn of_commit(error: &sqlx::Error) -> Self {
        let reason = || error.to_string().into();
        match error {
            _ if is_lost_race(error) => Self::Conflict,
            _ if is_timeout(error) => Self::TimedOut,
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => Self::Unavailable(reason()),
            _ if is_read_only(error) => Self::Unavailable(reason()),
            _ if is_unavailable(error) => Self::OutcomeUnknown(reason()),
            _ => Self::Internal(reason()),
        }
    }
}

/// Whether a statement lost a race to another transaction and wrote nothing: a unique
/// key it took first, a deadlock the server broke (40P01) or a serialization failure
/// (40001). The command is decided again.
fn is_lost_race(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db) => {
            db.kind() == sqlx::error::ErrorKind::UniqueViolation
                || db
                    .code()
                    .is_some_and(|code| code == "40P01" || code == "40001")
        }
        _ => false,
    }
}

/// Whether the server cancelled a statement for waiting on a lock past `lock_timeout`
/// (55P03) or running past `statement_timeout` (57014), or SQLite gave up waiting for
/// its write lock: it wrote nothing.
pub(crate) fn is_timeout(error: &sqlx::Error) -> bool {
    /// PostgreSQL's lock and statement timeouts; SQLite's busy timeout (SQLITE_BUSY and
    /// its extended codes: another connection held the write lock past it).
    const TIMEOUTS: [&str; 6] = ["55P03", "57014", "5", "261", "517", "773"];
    matches!(error, sqlx::Error::Database(db) if db.code().is_some_and(|code| TIMEOUTS.contains(&&*code)))
}

/// Whether `error` is the database going away rather than a bug: a broken wire
/// conversation (a restart, a proxy cutting the connection), no connection to be had,
/// the server ending the session (SQLSTATE class 08, 57P01–57P03, 53300), or a server
/// that takes no writes (25006: a standby not yet promoted behind the primary's address
/// during a failover).
pub(crate) fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08")
                || ["57P01", "57P02", "57P03", "53300", READ_ONLY].contains(&&*code)
        }),
        _ => false,
    }
}

/// The SQLSTATE of a write refused by a server that takes none: it wrote nothing.
const READ_ONLY: &str = "25006";

fn is_read_only(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.code().is_some_and(|code| code == READ_ONLY))
}

/// An event-store backend: loads streams, writes whole commits.
pub trait EventLog: Clone + Send + Sync + 'static {
    /// A stream's latest snapshot and the events after it (all of them without one).
    fn load(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> impl Future<Output = Result<LoadedStream, StoreError>> + Send;

    /// Writes the commit atomically and returns the global position of its last event.
    fn append(&self, commit: Commit) -> impl Future<Output = Result<i64, StoreError>> + Send;

    /// The stored response for an idempotency scope key, if a request committed one.
    fn idempotent_response(
        &self,
        scope_key: &str,
    ) -> impl Future<Output = Result<Option<StoredResponse>, StoreError>> + Send;

    /// One stream's events in order, with metadata and global positions (audit).
    fn stream(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> impl Future<Output = Result<Vec<RecordedEvent>, StoreError>> + Send;

    /// Removes the expiring idempotency keys recorded longer than `ttl` ago, and
    /// answers how many it removed.
    fn expire_idempotency_keys(
        &self,
        ttl: std::time::Duration,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// True when the database answers and every migration is applied.
    fn is_ready(&self) -> impl Future<Output = bool> + Send;
}

/// Removes expired idempotency keys for as long as it runs: every `ttl`, and at least
/// once a minute, so a key lives its `ttl` and at most a minute more. A failed sweep is
/// logged and tried again at the next.
pub async fn forget_expired_keys<L: EventLog>(log: L, ttl: std::time::Duration) {
    let every = ttl.clamp(
        std::time::Duration::from_secs(1),
        std::time::Duration::from_secs(60),
    );
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match log.expire_idempotency_keys(ttl).await {
            Ok(0) => {}
            Ok(removed) => tracing::debug!(removed, "expired idempotency keys removed"),
            Err(error) => tracing::warn!(%error, "expired idempotency keys not removed"),
        }
    }
}

/// The SHA-256, in hex, of a request's parsed JSON. serde_json writes an object's keys
/// in order, so the same request in another layout or key order has the same digest.
pub fn request_digest(request: &Value) -> String {
    use sha2::{Digest, Sha256};
    let bytes = serde_json::to_vec(request).unwrap_or_default();
    format!("{:x}", Sha256::digest(bytes))
}

/// The last position among `RETURNING global_position` rows of one commit.
fn last_position(positions: impl IntoIterator<Item = i64>) -> Result<i64, StoreError> {
    positions
        .into_iter()
        .max()
        .ok_or_else(|| StoreError::Internal("a commit without events".into()))
}
