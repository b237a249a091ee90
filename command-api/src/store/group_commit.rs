//! Group commit on PostgreSQL: the commits of concurrent commands go to the database
//! together, in one statement (one round trip, one transaction, one WAL flush), while
//! each command keeps its own outcome (see `docs/adr/0009-group-commit.md`).
//!
//! Commands hand their commits to a bounded queue (full: [`StoreError::Overloaded`] at
//! once); a dispatcher takes what is waiting (at most [`MAX_BATCH`] commits) and gives
//! it to a writer. Nothing waits for a batch to fill: a batch of one is written as a
//! command alone would write it, and commits queue up only while a batch is in flight,
//! which is when writing them together pays. The next batch waits for the one in flight
//! as long as that one moves ([`STALL`]); one that waits on a lock gets a writer beside
//! it, up to [`MAX_WRITERS`], so a lock on one stream never holds up the others.
//!
//! Every answer is the truth. A command learns its outcome once the statement has
//! returned, so nothing is acknowledged before it is durable. A commit is written only
//! while its request can still be told the outcome ([`CommitBounds`]): one whose
//! request has been, or is about to be, answered is dropped unwritten. A statement that
//! waits on a lock past the bound is cancelled by the server, writing nothing, and its
//! commits are written again each alone, so only the one that waits fails. A batch
//! refused for one commit (an optimistic-concurrency loser, an idempotency key a
//! concurrent request took) is written again in halves, down to single commits, so the
//! refusal reaches only the commits it concerns. A connection lost mid-statement
//! leaves its commits' outcome unknown, and they are answered so.
//!
//! Streams are locked in one order (their hash, ascending) before any row is written,
//! so two processes' batches never deadlock on each other's rows.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cqrs_es::persist::SerializedEvent;
use futures::future::BoxFuture;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use serde_json::Value;
use sqlx::postgres::PgPool;
use sqlx::{PgConnection, Row};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{mpsc, oneshot, Mutex, Semaphore};

use super::sql::stream_lock_key;
use super::{postgres, too_late, CommitBounds, IdempotencyClaim, StoreError};

/// How many batches may be in flight at once, each on a connection of its own: one
/// while batches move (fewer, larger batches mean fewer flushes; one writer beat two,
/// four and eight, ADR 9), more only while a batch waits on a lock.
pub const MAX_WRITERS: usize = 4;
/// The most commits one statement carries.
pub const MAX_BATCH: usize = 256;
/// Commits that may wait for a writer; past them a commit is refused at once.
pub const QUEUE_CAPACITY: usize = MAX_WRITERS * MAX_BATCH;
/// How long the next batch waits for the one in flight before it is written beside it.
/// Batches take a few milliseconds; one that takes longer is waiting on a lock.
const STALL: Duration = Duration::from_millis(10);
/// How often the watchdog looks whether the writers move.
const WATCH_EVERY: Duration = Duration::from_millis(100);

/// A commit of events, with its idempotency record, that needs no guard and no
/// snapshot: what a batch can carry.
pub(super) struct Batchable {
    pub events: Vec<SerializedEvent>,
    pub claim: Option<IdempotencyClaim>,
    /// The latest moment its statement may start ([`CommitBounds`]).
    pub start_by: Option<Instant>,
}

struct Queued {
    commit: Batchable,
    outcome: oneshot::Sender<Result<i64, StoreError>>,
}

/// How many batches were written, how many commits they carried, how many wait, and
/// whether the writers are stuck: metrics `/metrics` serves as they are (clones share
/// their values).
#[derive(Debug, Default, Clone)]
pub struct BatchCounts {
    pub batches: Counter,
    pub commits: Counter,
    pub queued: Gauge,
    /// 1 while commits wait and none has been answered for longer than a statement may
    /// run; 0 otherwise.
    pub stalled: Gauge,
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

/// Whether the writers move: commits not yet answered, and when one last was.
struct Progress {
    since: Instant,
    pending: AtomicI64,
    last_moved_ms: AtomicU64,
    /// A writer that has not moved for this long with commits waiting is stuck.
    bound: Duration,
}

impl Progress {
    fn new(bound: Duration) -> Self {
        Self {
            since: Instant::now(),
            pending: AtomicI64::new(0),
            last_moved_ms: AtomicU64::new(0),
            bound,
        }
    }

    fn moved(&self) {
        let now = self.since.elapsed().as_millis() as u64;
        self.last_moved_ms.store(now, Ordering::Relaxed);
    }

    fn queued(&self) {
        // Idle writers have not been stuck: their clock starts with the first commit.
        if self.pending.fetch_add(1, Ordering::Relaxed) == 0 {
            self.moved();
        }
    }

    fn answered(&self) {
        self.pending.fetch_sub(1, Ordering::Relaxed);
    }

    fn stalled(&self) -> bool {
        let last = Duration::from_millis(self.last_moved_ms.load(Ordering::Relaxed));
        self.pending.load(Ordering::Relaxed) > 0 && self.since.elapsed() > last + self.bound
    }
}

/// The queue in front of the writers; the writers end when the last handle is dropped.
#[derive(Clone)]
pub(super) struct GroupCommit {
    queue: mpsc::Sender<Queued>,
    counts: BatchCounts,
    progress: Arc<Progress>,
}

impl GroupCommit {
    /// Starts the writers over `pool`, whose connections cancel a statement past
    /// `bounds`.
    pub fn start(pool: PgPool, bounds: CommitBounds) -> Self {
        let (queue, waiting) = mpsc::channel(QUEUE_CAPACITY);
        let counts = BatchCounts::default();
        let progress = Arc::new(Progress::new(bounds.statement_timeout()));
        let writers = Writers {
            pool,
            counts: counts.clone(),
            progress: progress.clone(),
        };
        tokio::spawn(supervise(writers, waiting));
        tokio::spawn(watch(
            queue.downgrade(),
            progress.clone(),
            counts.stalled.clone(),
        ));
        Self {
            queue,
            counts,
            progress,
        }
    }

    /// Commits `commit` with whatever else is waiting, and answers the last position
    /// of its events once the batch is durable.
    pub async fn commit(&self, commit: Batchable) -> Result<i64, StoreError> {
        let (outcome, answer) = oneshot::channel();
        self.counts.queued.inc();
        self.progress.queued();
        if let Err(refused) = self.queue.try_send(Queued { commit, outcome }) {
            self.counts.queued.dec();
            self.progress.answered();
            return Err(match refused {
                TrySendError::Full(_) => StoreError::Overloaded,
                TrySendError::Closed(_) => {
                    StoreError::Unavailable("the commit writers have stopped".into())
                }
            });
        }
        answer.await.map_err(|_| {
            StoreError::OutcomeUnknown("the commit writer ended before it answered".into())
        })?
    }

    pub fn counts(&self) -> &BatchCounts {
        &self.counts
    }

    /// Whether commits wait and none has been answered for longer than a statement may
    /// run: the process should get no commands until the writers move again.
    pub fn stalled(&self) -> bool {
        self.progress.stalled()
    }
}

/// Keeps `stalled` in step with the writers, and logs when they stop and move again,
/// until the queue closes.
async fn watch(queue: mpsc::WeakSender<Queued>, progress: Arc<Progress>, stalled: Gauge) {
    let mut ticks = tokio::time::interval(WATCH_EVERY);
    let mut was_stalled = false;
    while queue.upgrade().is_some() {
        ticks.tick().await;
        let now_stalled = progress.stalled();
        if now_stalled != was_stalled {
            match now_stalled {
                true => tracing::warn!(
                    pending = progress.pending.load(Ordering::Relaxed),
                    "the commit writers have not moved for longer than a statement may run"
                ),
                false => tracing::warn!("the commit writers move again"),
            }
            stalled.set(now_stalled as i64);
            was_stalled = now_stalled;
        }
    }
}

/// Runs the dispatcher until the queue closes, and starts it again should it fail.
async fn supervise(writers: Writers, waiting: mpsc::Receiver<Queued>) {
    let waiting = Arc::new(Mutex::new(waiting));
    loop {
        match tokio::spawn(writers.clone().dispatch(waiting.clone())).await {
            Err(error) if error.is_panic() => {
                tracing::error!(%error, "the commit dispatcher failed; starting it again")
            }
            _ => return,
        }
    }
}

/// What every writer shares.
#[derive(Clone)]
struct Writers {
    pool: PgPool,
    counts: BatchCounts,
    progress: Arc<Progress>,
}

impl Writers {
    /// Takes what is waiting and hands it to a writer, until the queue closes.
    async fn dispatch(self, waiting: Arc<Mutex<mpsc::Receiver<Queued>>>) {
        let mut waiting = waiting.lock().await;
        let slots = Arc::new(Semaphore::new(MAX_WRITERS));
        while let Some(first) = waiting.recv().await {
            let Ok(slot) = slots.clone().acquire_owned().await else {
                return;
            };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match waiting.try_recv() {
                    Ok(queued) => batch.push(queued),
                    Err(_) => break,
                }
            }
            self.counts.queued.dec_by(batch.len() as i64);
            self.counts.batches.inc();
            self.counts.commits.inc_by(batch.len() as u64);
            let (done, written) = oneshot::channel::<()>();
            let writer = self.clone();
            tokio::spawn(async move {
                writer.write(batch).await;
                drop(slot);
                let _ = done.send(());
            });
            // The next batch gathers while this one is written, and goes beside it only
            // if it waits on a lock.
            let _ = tokio::time::timeout(STALL, written).await;
        }
    }

    async fn write(&self, batch: Vec<Queued>) {
        let batch = self.still_due(batch);
        if batch.is_empty() {
            return;
        }
        match self.pool.acquire().await {
            Ok(mut connection) => self.write_halving(&mut connection, batch).await,
            Err(error) => {
                let reason = error.to_string();
                self.fail_all(batch, || StoreError::Unavailable(reason.clone().into()))
            }
        }
    }

    /// The commits whose statement may still start; the others are answered
    /// [`StoreError::TimedOut`], unwritten.
    fn still_due(&self, batch: Vec<Queued>) -> Vec<Queued> {
        let (late, due): (Vec<_>, Vec<_>) = batch
            .into_iter()
            .partition(|queued| too_late(queued.commit.start_by));
        self.fail_all(late, || StoreError::TimedOut);
        due
    }

    /// Writes `batch` in one statement. A statement the server cancelled for a lock is
    /// written again commit by commit, so only the commit that waits fails. A batch the
    /// database refused is written again in halves, down to single commits: one bad
    /// commit among n costs about 2·log₂ n statements, k among n at most about 2n.
    fn write_halving<'c>(
        &'c self,
        connection: &'c mut PgConnection,
        batch: Vec<Queued>,
    ) -> BoxFuture<'c, ()> {
        Box::pin(async move {
            let mut batch = self.still_due(batch);
            if batch.len() <= 1 {
                return self.write_each(connection, batch).await;
            }
            match write_together(connection, &batch).await {
                Ok(positions) => {
                    for (queued, position) in batch.into_iter().zip(positions) {
                        let outcome = position
                            .ok_or_else(|| StoreError::Internal("a commit without events".into()));
                        self.answer(queued, outcome);
                    }
                }
                Err(error) if super::is_timeout(&error) => self.write_each(connection, batch).await,
                Err(error @ sqlx::Error::Database(_)) if !super::is_unavailable(&error) => {
                    let second = batch.split_off(batch.len() / 2);
                    self.write_halving(connection, batch).await;
                    self.write_halving(connection, second).await;
                }
                Err(error) => self.fail_all(batch, || StoreError::of_commit(&error)),
            }
        })
    }

    /// Each commit in a statement of its own, as a command alone would write it.
    async fn write_each(&self, connection: &mut PgConnection, batch: Vec<Queued>) {
        for queued in batch {
            if too_late(queued.commit.start_by) {
                self.answer(queued, Err(StoreError::TimedOut));
                continue;
            }
            let commit = &queued.commit;
            let written = match &commit.claim {
                None => postgres::insert_events(connection, &commit.events).await,
                Some(claim) => {
                    postgres::insert_events_claiming(connection, &commit.events, claim).await
                }
            };
            self.answer(queued, postgres::committed(written));
        }
    }

    fn answer(&self, queued: Queued, outcome: Result<i64, StoreError>) {
        self.progress.moved();
        self.progress.answered();
        let _ = queued.outcome.send(outcome);
    }

    fn fail_all(&self, batch: Vec<Queued>, failure: impl Fn() -> StoreError) {
        for queued in batch {
            self.answer(queued, Err(failure()));
        }
    }
}

/// Every commit's events, in commit order, then the idempotency records of those that
/// have one, each under its commit's last position: one statement, so one transaction.
const INSERT_BATCH: &str = concat!(
    "
    WITH input AS (
        SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[],
                             $6::jsonb[], $7::jsonb[], $8::int[])
               WITH ORDINALITY AS i(aggregate_type, aggregate_id, sequence, event_type,
                                    event_version, payload, metadata, commit_no, n)),
    locked AS (
        SELECT pg_advisory_xact_lock(stream) FROM (
            SELECT DISTINCT ",
    stream_lock_key!("aggregate_type", "aggregate_id"),
    " AS stream
              FROM input ORDER BY stream) streams),
    appended AS (
        INSERT INTO events
            (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
        SELECT aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata
          FROM input
         -- Every stream of the batch locked, in one order, before the first row.
         WHERE (SELECT count(*) FROM locked) >= 0
         ORDER BY n
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
    SELECT commit_no, position FROM positions"
);

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
