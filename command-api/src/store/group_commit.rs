//! Group commit on PostgreSQL: the commits of concurrent commands go to the database
//! together, in one statement (one round trip, one transaction, one WAL flush), while
//! each command keeps its own outcome (see `docs/adr/0009-group-commit.md`).
//!
//! Commands hand their commits to a queue; [`WRITERS`] writer task takes what is
//! waiting (at most [`MAX_BATCH`] commits) and writes it. Nothing waits for a batch to
//! fill: a writer that finds one commit writes one, exactly as a command alone would,
//! and commits queue up only while the writer is busy, which is when writing them
//! together pays. A command learns its outcome once the statement has returned, so
//! nothing is acknowledged before it is durable.
//!
//! A batch that the database refuses as a whole (an optimistic-concurrency loser, an
//! idempotency key a concurrent request took, a value it cannot store) is written again
//! in halves, down to single commits each in its own statement, so the refusal reaches
//! only the commits it concerns. A batch that cannot reach the database fails every
//! commit in it: none of them was acknowledged.

use std::sync::Arc;

use cqrs_es::persist::SerializedEvent;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use serde_json::Value;
use sqlx::postgres::PgPool;
use sqlx::{PgConnection, Row};
use tokio::sync::{mpsc, oneshot, Mutex};

use super::{postgres, IdempotencyClaim, StoreError};

/// How many batches are written at once. One: while its batch is in flight the next
/// one gathers, and fewer, larger batches mean fewer flushes. On the development
/// machine one writer beat two, four and eight (docs/adr/0009-group-commit.md).
pub const WRITERS: usize = 1;
/// The most commits one statement carries.
pub const MAX_BATCH: usize = 256;

/// A commit of events, with its idempotency record, that needs no guard and no
/// snapshot: what a batch can carry.
pub(super) struct Batchable {
    pub events: Vec<SerializedEvent>,
    pub claim: Option<IdempotencyClaim>,
}

struct Queued {
    commit: Batchable,
    outcome: oneshot::Sender<Result<i64, StoreError>>,
}

/// How many batches were written, how many commits they carried, and how many wait:
/// metrics `/metrics` serves as they are (clones share their values).
#[derive(Debug, Default, Clone)]
pub struct BatchCounts {
    pub batches: Counter,
    pub commits: Counter,
    pub queued: Gauge,
}

impl BatchCounts {
    /// Commits waiting for the writer now.
    pub fn queued(&self) -> u64 {
        self.queued.get().max(0) as u64
    }

    /// Batches written so far.
    pub fn batches(&self) -> u64 {
        self.batches.get()
    }

    /// Commits those batches carried.
    pub fn commits(&self) -> u64 {
        self.commits.get()
    }
}

/// The queue in front of the writers; the writers end when the last handle is dropped.
#[derive(Clone)]
pub(super) struct GroupCommit {
    queue: mpsc::UnboundedSender<Queued>,
    counts: BatchCounts,
}

impl GroupCommit {
    /// Starts the writers over `pool`.
    pub fn start(pool: PgPool) -> Self {
        let (queue, waiting) = mpsc::unbounded_channel();
        let waiting = Arc::new(Mutex::new(waiting));
        let counts = BatchCounts::default();
        for _ in 0..WRITERS {
            tokio::spawn(write_batches(pool.clone(), waiting.clone(), counts.clone()));
        }
        Self { queue, counts }
    }

    /// Commits `commit` with whatever else is waiting, and answers the last position
    /// of its events once the batch is durable.
    pub async fn commit(&self, commit: Batchable) -> Result<i64, StoreError> {
        let (outcome, answer) = oneshot::channel();
        self.counts.queued.inc();
        self.queue
            .send(Queued { commit, outcome })
            .map_err(|_| writers_gone())?;
        answer.await.map_err(|_| writers_gone())?
    }

    pub fn counts(&self) -> &BatchCounts {
        &self.counts
    }
}

fn writers_gone() -> StoreError {
    StoreError::Unavailable("the commit writers have stopped".into())
}

/// One writer: takes what is waiting and writes it, until the queue closes.
async fn write_batches(
    pool: PgPool,
    waiting: Arc<Mutex<mpsc::UnboundedReceiver<Queued>>>,
    counts: BatchCounts,
) {
    loop {
        let batch = {
            let mut waiting = waiting.lock().await;
            let Some(first) = waiting.recv().await else {
                return;
            };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match waiting.try_recv() {
                    Ok(queued) => batch.push(queued),
                    Err(_) => break,
                }
            }
            batch
        };
        counts.queued.dec_by(batch.len() as i64);
        counts.batches.inc();
        counts.commits.inc_by(batch.len() as u64);
        write(&pool, batch).await;
    }
}

async fn write(pool: &PgPool, batch: Vec<Queued>) {
    let mut connection = match pool.acquire().await {
        Ok(connection) => connection,
        Err(error) => return fail_all(batch, &error),
    };
    write_halving(&mut connection, batch).await;
}

/// Writes `batch` in one statement; when the database refuses it, writes each half the
/// same way, down to single commits, so a refusal reaches only the commits it concerns
/// and one bad commit among n costs about 2·log₂ n statements.
fn write_halving<'c>(
    connection: &'c mut PgConnection,
    mut batch: Vec<Queued>,
) -> futures::future::BoxFuture<'c, ()> {
    Box::pin(async move {
        if batch.len() == 1 {
            return write_each(connection, batch).await;
        }
        match write_together(connection, &batch).await {
            Ok(positions) => {
                for (queued, position) in batch.into_iter().zip(positions) {
                    let outcome = position
                        .ok_or_else(|| StoreError::Internal("a commit without events".into()));
                    let _ = queued.outcome.send(outcome);
                }
            }
            Err(error @ sqlx::Error::Database(_)) if !super::is_unavailable(&error) => {
                let second = batch.split_off(batch.len() / 2);
                write_halving(connection, batch).await;
                write_halving(connection, second).await;
            }
            Err(error) => fail_all(batch, &error),
        }
    })
}

/// Each commit in a statement of its own, as a command alone would write it.
async fn write_each(connection: &mut PgConnection, batch: Vec<Queued>) {
    for queued in batch {
        let outcome = match &queued.commit.claim {
            None => postgres::insert_events(connection, &queued.commit.events).await,
            Some(claim) => {
                postgres::insert_events_claiming(connection, &queued.commit.events, claim).await
            }
        };
        let _ = queued.outcome.send(outcome);
    }
}

/// The same failure for every commit of a batch that did not reach the database.
fn fail_all(batch: Vec<Queued>, error: &sqlx::Error) {
    let unavailable = super::is_unavailable(error);
    for queued in batch {
        let reason = error.to_string().into();
        let failure = match unavailable {
            true => StoreError::Unavailable(reason),
            false => StoreError::Internal(reason),
        };
        let _ = queued.outcome.send(Err(failure));
    }
}

/// Every commit's events, in commit order, then the idempotency records of those that
/// have one, each under its commit's last position: one statement, so one transaction.
const INSERT_BATCH: &str = "
    WITH input AS (
        SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[],
                             $6::jsonb[], $7::jsonb[], $8::int[])
               WITH ORDINALITY AS i(aggregate_type, aggregate_id, sequence, event_type,
                                    event_version, payload, metadata, commit_no, n)),
    appended AS (
        INSERT INTO events
            (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
        SELECT aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata
          FROM input ORDER BY n
        RETURNING aggregate_type, aggregate_id, sequence, global_position),
    positions AS (
        SELECT i.commit_no, max(a.global_position) AS position
          FROM appended a JOIN input i USING (aggregate_type, aggregate_id, sequence)
         GROUP BY i.commit_no),
    claimed AS (
        INSERT INTO idempotency_keys
               (scope_key, request_digest, expires, status, location, response, position)
        SELECT c.scope_key, c.request_digest, c.expires, c.status, c.location, c.response,
               p.position
          FROM UNNEST($9::int[], $10::text[], $11::text[], $12::bool[], $13::smallint[],
                      $14::text[], $15::jsonb[])
               AS c(commit_no, scope_key, request_digest, expires, status, location, response)
          JOIN positions p USING (commit_no)
         -- Keys in one order in every batch: two batches never wait on each other's.
         ORDER BY c.scope_key
        RETURNING scope_key)
    SELECT commit_no, position FROM positions";

/// Writes the batch in one statement and answers each commit's last position, in
/// batch order (none for a commit without events).
async fn write_together(
    connection: &mut PgConnection,
    batch: &[Queued],
) -> Result<Vec<Option<i64>>, sqlx::Error> {
    let events = batch.iter().enumerate().flat_map(|(commit_no, queued)| {
        queued
            .commit
            .events
            .iter()
            .map(move |event| (commit_no as i32, event))
    });
    let mut columns = EventColumns::default();
    events.for_each(|(commit_no, event)| columns.push(commit_no, event));
    let mut claims = ClaimColumns::default();
    for (commit_no, queued) in batch.iter().enumerate() {
        if let Some(claim) = &queued.commit.claim {
            claims.push(commit_no as i32, claim);
        }
    }
    let rows = sqlx::query(INSERT_BATCH)
        .bind(columns.aggregate_type)
        .bind(columns.aggregate_id)
        .bind(columns.sequence)
        .bind(columns.event_type)
        .bind(columns.event_version)
        .bind(columns.payload)
        .bind(columns.metadata)
        .bind(columns.commit_no)
        .bind(claims.commit_no)
        .bind(claims.scope_key)
        .bind(claims.request_digest)
        .bind(claims.expires)
        .bind(claims.status)
        .bind(claims.location)
        .bind(claims.response)
        .fetch_all(&mut *connection)
        .await?;
    let mut positions = vec![None; batch.len()];
    for row in rows {
        let commit_no: i32 = row.try_get("commit_no")?;
        let position: i64 = row.try_get("position")?;
        if let Some(slot) = positions.get_mut(commit_no as usize) {
            *slot = Some(position);
        }
    }
    Ok(positions)
}

/// A batch's events, one array per column.
#[derive(Default)]
struct EventColumns {
    aggregate_type: Vec<String>,
    aggregate_id: Vec<String>,
    sequence: Vec<i64>,
    event_type: Vec<String>,
    event_version: Vec<String>,
    payload: Vec<Value>,
    metadata: Vec<Value>,
    commit_no: Vec<i32>,
}

impl EventColumns {
    fn push(&mut self, commit_no: i32, event: &SerializedEvent) {
        self.aggregate_type.push(event.aggregate_type.clone());
        self.aggregate_id.push(event.aggregate_id.clone());
        self.sequence.push(event.sequence as i64);
        self.event_type.push(event.event_type.clone());
        self.event_version.push(event.event_version.clone());
        self.payload.push(event.payload.clone());
        self.metadata.push(event.metadata.clone());
        self.commit_no.push(commit_no);
    }
}

/// A batch's idempotency records, one array per column.
#[derive(Default)]
struct ClaimColumns {
    commit_no: Vec<i32>,
    scope_key: Vec<String>,
    request_digest: Vec<String>,
    expires: Vec<bool>,
    status: Vec<i16>,
    location: Vec<Option<String>>,
    response: Vec<Value>,
}

impl ClaimColumns {
    fn push(&mut self, commit_no: i32, claim: &IdempotencyClaim) {
        self.commit_no.push(commit_no);
        self.scope_key.push(claim.scope_key.clone());
        self.request_digest.push(claim.request_digest.clone());
        self.expires.push(claim.expires);
        self.status.push(claim.status as i16);
        self.location.push(claim.location.clone());
        self.response.push(claim.response.clone());
    }
}
