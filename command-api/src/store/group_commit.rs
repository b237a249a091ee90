//! Group commit on PostgreSQL: the commits of concurrent commands go to the database
//! together, in one statement (one round trip, one transaction, one WAL flush), while
//! each command keeps its own outcome (see `docs/adr/0009-group-commit.md`).
//!
//! Commands hand their commits to a bounded queue (full: [`StoreError::Overloaded`] at
//! once); a dispatcher takes what is waiting (at most [`MAX_BATCH`] commits) and gives
//! it to a writer. Nothing waits for a batch to fill: a batch of one is written as a
//! command alone would write it, and commits queue up only while a batch is in flight,
//! which is when writing them together pays. The next batch waits for the one in flight
//! as long as that one moves ([`STALL`]); one that waits gets a writer beside it, up to
//! [`MAX_WRITERS`].
//!
//! Every answer is the truth. A command learns its outcome once the statement has
//! returned, so nothing is acknowledged before it is durable. A commit is sent only
//! while its request can still be told the outcome, and never after its request gave
//! up ([`Deadline`]). A statement that waits on a lock past the bound is cancelled by
//! the server, writing nothing, and its commits are written again each alone, so only
//! the one that waits fails. A batch refused for one commit (an optimistic-concurrency
//! loser, an idempotency key a concurrent request took) is written again in halves,
//! down to single commits, so the refusal reaches only the commits it concerns. A
//! connection lost mid-statement leaves its commits' outcome unknown, and they are
//! answered so; nothing more is sent on it.
//!
//! Every statement that appends locks its streams first ([`stream_lock_key`]). A batch
//! only tries the locks: the commits whose streams another transaction holds (another
//! process's batch, an instance cut off mid-commit) leave the batch, which goes on
//! without them, and are written alone beside it, waiting for their locks in one order
//! for at most the lock timeout. So a held stream delays only its own commits, and two
//! processes never deadlock on each other's rows.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use connections::{Held, HeldConnections};
use cqrs_es::persist::SerializedEvent;
use futures::future::BoxFuture;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use serde_json::Value;
use sqlx::postgres::PgPool;
use sqlx::{PgConnection, Row};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{mpsc, oneshot, Mutex, Semaphore};

use super::deadline::{self, Deadline};
use super::sql::stream_lock_key;
use super::{postgres, CommitBounds, IdempotencyClaim, StoreError};

/// How many batches may be in flight at once, each on a connection of its own: one
/// while batches move (fewer, larger batches mean fewer flushes; one writer beat two,
/// four and eight, ADR 9), more only while a batch waits.
pub const MAX_WRITERS: usize = 4;
/// Connections of the writers' pool: one per writer, and as many for the commits that
/// wait for their streams' locks beside the batches.
pub const WRITER_CONNECTIONS: u32 = 2 * MAX_WRITERS as u32;
/// The most commits one statement carries.
pub const MAX_BATCH: usize = 256;
/// Commits that may wait for a writer; past them a commit is refused at once.
pub const QUEUE_CAPACITY: usize = MAX_WRITERS * MAX_BATCH;
/// How long the next batch waits for the one in flight before it is written beside it.
/// Batches take a few milliseconds; one that takes longer is waiting.
const STALL: Duration = Duration::from_millis(10);
/// How often a commit whose streams another transaction holds is tried again, without
/// waiting on them, before it waits; the pause before each try grows by this much.
const BUSY_TRIES: u32 = 3;
const BUSY_PAUSE: Duration = Duration::from_millis(5);
/// How often the watchdog looks whether the writers move.
const WATCH_EVERY: Duration = Duration::from_millis(100);
/// How much longer than `statement_timeout` a writer waits for the server's answer
/// before it takes the connection for lost (a partition sends no reset).
const ANSWER_SLACK: Duration = Duration::from_secs(1);

/// A commit of events, with its idempotency record, that needs no guard and no
/// snapshot: what a batch can carry.
pub(super) struct Batchable {
    pub events: Vec<SerializedEvent>,
    pub claim: Option<IdempotencyClaim>,
    pub deadline: Option<Deadline>,
}

/// A commit waiting for its outcome. Dropped unanswered (a writer that failed), it is
/// answered that its outcome is unknown.
struct Queued {
    commit: Batchable,
    outcome: Option<oneshot::Sender<Result<i64, StoreError>>>,
    progress: Arc<Progress>,
    /// How often its streams were found held by another transaction.
    busy: u32,
}

impl Queued {
    fn answer(mut self, outcome: Result<i64, StoreError>) {
        if let Some(sender) = self.outcome.take() {
            if let Err(error) = &outcome {
                deadline::unsent_unless_unknown(self.commit.deadline.as_ref(), error);
            }
            self.progress.answered(database_moved(&outcome));
            let _ = sender.send(outcome);
        }
    }

    /// Marks the commit in flight if its statement (at most `statement` long) may still
    /// be sent.
    fn may_send(&self, statement: Duration) -> bool {
        deadline::may_send(self.commit.deadline.as_ref(), statement)
    }

    /// The database answered that its statement wrote nothing.
    fn unsent(&self) {
        if let Some(deadline) = &self.commit.deadline {
            deadline.unsent();
        }
    }
}

impl Drop for Queued {
    fn drop(&mut self) {
        if let Some(sender) = self.outcome.take() {
            self.progress.answered(false);
            let reason = "the commit writer failed before it answered";
            let _ = sender.send(Err(StoreError::OutcomeUnknown(reason.into())));
        }
    }
}

/// How many batches were written, how many commits they carried, how many wait, and
/// whether the writers are stuck: metrics `/metrics` serves as they are (clones share
/// their values).
#[derive(Debug, Default, Clone)]
pub struct BatchCounts {
    pub batches: Counter,
    pub commits: Counter,
    pub queued: Gauge,
    /// 1 while commits wait and the database has decided none for longer than a
    /// statement may run (every commit times out on a lock, say); 0 otherwise.
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

/// Whether `outcome` is the database's decision on a commit (written, or refused for
/// what it holds), as opposed to no decision: a lock or a statement that timed out, a
/// connection that failed, a commit never sent.
fn database_moved(outcome: &Result<i64, StoreError>) -> bool {
    matches!(
        outcome,
        Ok(_)
            | Err(StoreError::Conflict
                | StoreError::DuplicateRequest
                | StoreError::Refused(_)
                | StoreError::Internal(_))
    )
}

/// Whether the writers move: commits not yet answered, and when the database last
/// decided one.
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
        self.last_moved_ms.store(now, Ordering::Release);
    }

    fn queued(&self) {
        // Idle writers have not been stuck: their clock starts with the first commit.
        // Moved first, so that no one sees the commit pending with the old clock.
        if self.pending.load(Ordering::Acquire) == 0 {
            self.moved();
        }
        self.pending.fetch_add(1, Ordering::AcqRel);
    }

    /// A commit was answered; `moved` when the database decided it.
    fn answered(&self, moved: bool) {
        if moved {
            self.moved();
        }
        self.pending.fetch_sub(1, Ordering::AcqRel);
    }

    fn stalled(&self) -> bool {
        if self.pending.load(Ordering::Acquire) <= 0 {
            return false;
        }
        let last = Duration::from_millis(self.last_moved_ms.load(Ordering::Acquire));
        self.since.elapsed() > last + self.bound
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
        // A statement ends by `statement_timeout`, its answer a little later.
        let answer_within = bounds.statement_timeout() + ANSWER_SLACK;
        let progress = Arc::new(Progress::new(answer_within));
        let writers = Writers {
            connections: HeldConnections::new(pool, WRITER_CONNECTIONS as usize),
            counts: counts.clone(),
            slots: Arc::new(Semaphore::new(MAX_WRITERS)),
            beside: Arc::new(Semaphore::new(WRITER_CONNECTIONS as usize - MAX_WRITERS)),
            statement: bounds.statement_timeout(),
            answer_within,
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
        let queued = Queued {
            commit,
            outcome: Some(outcome),
            progress: self.progress.clone(),
            busy: 0,
        };
        if let Err(refused) = self.queue.try_send(queued) {
            self.counts.queued.dec();
            let (queued, failure) = match refused {
                TrySendError::Full(queued) => (queued, StoreError::Overloaded),
                TrySendError::Closed(queued) => (
                    queued,
                    StoreError::Unavailable("the commit writers have stopped".into()),
                ),
            };
            queued.answer(Err(failure));
        }
        answer.await.map_err(|_| {
            StoreError::OutcomeUnknown("the commit writer ended before it answered".into())
        })?
    }

    pub fn counts(&self) -> &BatchCounts {
        &self.counts
    }

    /// Whether commits wait and the database has decided none for longer than a
    /// statement may run: the process should get no commands until it does again.
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
    /// The writers' pool, every connection kept once used.
    connections: HeldConnections,
    counts: BatchCounts,
    /// One per batch in flight, kept across a restart of the dispatcher.
    slots: Arc<Semaphore>,
    /// One per set of commits written alone beside the batches: with the batches'
    /// slots, never more than the pool's connections.
    beside: Arc<Semaphore>,
    /// The longest a statement runs (`statement_timeout`).
    statement: Duration,
    /// How long a writer waits for the server's answer to a statement.
    answer_within: Duration,
}

impl Writers {
    /// Takes what is waiting and hands it to a writer, until the queue closes.
    async fn dispatch(self, waiting: Arc<Mutex<mpsc::Receiver<Queued>>>) {
        let mut waiting = waiting.lock().await;
        while let Some(first) = waiting.recv().await {
            let Ok(slot) = self.slots.clone().acquire_owned().await else {
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
                writer.write(batch, Statement::Batch).await;
                drop(slot);
                let _ = done.send(());
            });
            // The next batch gathers while this one is written, and goes beside it only
            // if it waits.
            let _ = tokio::time::timeout(STALL, written).await;
        }
    }

    /// Writes `queued`, whose streams another transaction held, beside the batches: a
    /// stream held for a moment (another process's batch) is soon free again, so it is
    /// tried again a few times without waiting on its locks, and then written alone,
    /// waiting on them for at most the lock timeout.
    fn beside(&self, mut queued: Queued) {
        queued.unsent();
        queued.busy += 1;
        let writers = self.clone();
        tokio::spawn(async move {
            let how = match queued.busy <= BUSY_TRIES {
                true => {
                    tokio::time::sleep(BUSY_PAUSE * queued.busy).await;
                    Statement::Batch
                }
                false => Statement::EachAlone,
            };
            let Ok(_beside) = writers.beside.clone().acquire_owned().await else {
                return;
            };
            writers.write(vec![queued], how).await
        });
    }

    /// Writes `commits` on a connection of the writers' pool.
    async fn write(&self, commits: Vec<Queued>, how: Statement) {
        let mut connection = match self.connections.take().await {
            Ok(connection) => connection,
            Err(error) => {
                let reason = error.to_string();
                for queued in commits {
                    queued.answer(Err(StoreError::Unavailable(reason.clone().into())));
                }
                return;
            }
        };
        let mut writing = Writing {
            writers: self,
            connection: &mut connection,
            lost: false,
        };
        match how {
            Statement::Batch => writing.halving(commits).await,
            Statement::EachAlone => writing.each_alone(commits).await,
        }
        match writing.lost {
            true => connection.close_on_drop(),
            false => self.connections.give_back(connection),
        }
    }
}

/// How a writer writes its commits.
enum Statement {
    /// Together in one statement (see [`Writing::halving`]).
    Batch,
    /// Each in a statement of its own, waiting for its streams' locks.
    EachAlone,
}

/// One writer's connection, and whether it was lost.
struct Writing<'w> {
    writers: &'w Writers,
    connection: &'w mut Held,
    /// The connection failed: nothing more is sent on it.
    lost: bool,
}

impl Writing<'_> {
    /// The commits whose statement may still be sent, marked in flight; the others are
    /// answered [`StoreError::TimedOut`], unwritten (or [`StoreError::Unavailable`]
    /// once the connection is lost).
    fn sendable(&self, commits: Vec<Queued>) -> Vec<Queued> {
        let mut sendable = Vec::with_capacity(commits.len());
        for queued in commits {
            if self.lost {
                let reason = "the connection was lost before the commit was sent";
                queued.answer(Err(StoreError::Unavailable(reason.into())));
            } else if queued.may_send(self.writers.statement) {
                sendable.push(queued);
            } else {
                queued.answer(Err(StoreError::TimedOut));
            }
        }
        sendable
    }

    /// `answer` as it is; a failure of the connection marks it lost.
    fn note<T>(&mut self, answer: Result<T, sqlx::Error>) -> Result<T, sqlx::Error> {
        if answer.as_ref().is_err_and(super::is_unavailable) {
            self.lost = true;
        }
        answer
    }

    /// Writes `batch` in one statement. Commits whose streams another transaction holds
    /// leave it ([`Writers::beside`]). A statement the server cancelled for a lock (a row
    /// taken without its stream's lock) is written again commit by commit, so only the
    /// commit that waits fails. A batch the database refused is written again in
    /// halves, down to single commits: one bad commit among n costs about 2·log₂ n
    /// statements, k among n at most about 2n.
    fn halving<'s>(&'s mut self, batch: Vec<Queued>) -> BoxFuture<'s, ()> {
        Box::pin(async move {
            let mut batch = self.sendable(batch);
            if batch.is_empty() {
                return;
            }
            let limit = self.writers.answer_within;
            let statement = within(limit, write_together(self.connection, &batch)).await;
            match self.note(statement) {
                Ok(outcomes) => {
                    for (queued, outcome) in batch.into_iter().zip(outcomes) {
                        match outcome {
                            Written::At(position) => queued.answer(Ok(position)),
                            Written::Busy => self.writers.beside(queued),
                            Written::Nothing => queued.answer(Err(StoreError::Internal(
                                "a commit without events".into(),
                            ))),
                            Written::Unknown => queued.answer(Err(StoreError::OutcomeUnknown(
                                "the batch's answer could not be read".into(),
                            ))),
                        }
                    }
                }
                Err(error @ sqlx::Error::Database(_)) if !self.lost => {
                    batch.iter().for_each(Queued::unsent);
                    if batch.len() == 1 {
                        batch.remove(0).answer(postgres::committed(Err(error)));
                    } else if super::is_timeout(&error) {
                        self.each_alone(batch).await
                    } else {
                        let second = batch.split_off(batch.len() / 2);
                        self.halving(batch).await;
                        self.halving(second).await;
                    }
                }
                Err(error) => {
                    for queued in batch {
                        queued.answer(Err(StoreError::of_commit(&error)));
                    }
                }
            }
        })
    }

    /// Each commit in a statement of its own, as a command alone would write it.
    async fn each_alone(&mut self, commits: Vec<Queued>) {
        for queued in commits {
            let Some(queued) = self.sendable(vec![queued]).pop() else {
                continue;
            };
            let (commit, connection) = (&queued.commit, &mut **self.connection);
            let limit = self.writers.answer_within;
            let statement = match &commit.claim {
                None => within(limit, postgres::insert_events(connection, &commit.events)).await,
                Some(claim) => {
                    let statement =
                        postgres::insert_events_claiming(connection, &commit.events, claim);
                    within(limit, statement).await
                }
            };
            let written = self.note(statement);
            queued.answer(postgres::committed(written));
        }
    }
}

/// `statement`'s answer, if the server gives it within `limit`: a server that has not
/// answered by then (a partition sends no reset) is out of reach, the outcome unknown.
async fn within<T>(
    limit: Duration,
    statement: impl std::future::Future<Output = Result<T, sqlx::Error>>,
) -> Result<T, sqlx::Error> {
    tokio::time::timeout(limit, statement)
        .await
        .unwrap_or_else(|_| {
            let silence = std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the server did not answer within statement_timeout",
            );
            Err(sqlx::Error::Io(silence))
        })
}

/// What a batch's statement did with one of its commits.
#[derive(Debug, Clone, Copy)]
enum Written {
    /// Appended; the position of its last event.
    At(i64),
    /// Not appended: another transaction holds one of its streams.
    Busy,
    /// Nothing to append.
    Nothing,
    /// The statement returned, but its answer could not be read.
    Unknown,
}

/// Every commit's events, in commit order, but those of commits whose streams another
/// transaction holds; then the idempotency records of the commits appended, each under
/// its commit's last position: one statement, so one transaction. Answers each commit
/// appended with its last position, each left out with none.
const INSERT_BATCH: &str = concat!(
    "
    WITH input AS (
        SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[],
                             $6::jsonb[], $7::jsonb[], $8::int[])
               WITH ORDINALITY AS i(aggregate_type, aggregate_id, sequence, event_type,
                                    event_version, payload, metadata, commit_no, n)),
    -- Each stream's lock if it is free: trying never waits, so never deadlocks.
    locked AS (
        SELECT stream, pg_try_advisory_xact_lock(stream) AS taken FROM (
            SELECT DISTINCT ",
    stream_lock_key!("aggregate_type", "aggregate_id"),
    " AS stream FROM input) streams),
    -- The commits with a stream another transaction holds stay out of the batch.
    busy AS (
        SELECT DISTINCT i.commit_no FROM input i
          JOIN locked l ON l.stream = ",
    stream_lock_key!("i.aggregate_type", "i.aggregate_id"),
    "
         WHERE NOT l.taken),
    appended AS (
        INSERT INTO events
            (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
        SELECT aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata
          FROM input
         WHERE commit_no NOT IN (SELECT commit_no FROM busy)
         ORDER BY n
        RETURNING aggregate_type, aggregate_id, sequence, global_position),
    positions AS (
        SELECT i.commit_no, max(a.global_position) AS position
          FROM appended a JOIN input i USING (aggregate_type, aggregate_id, sequence)
         -- A commit left out may share a stream and sequence with one appended.
         WHERE i.commit_no NOT IN (SELECT commit_no FROM busy)
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
    SELECT commit_no, position FROM positions
    UNION ALL
    SELECT commit_no, NULL FROM busy"
);

/// Writes the batch in one statement and answers what became of each commit, in batch
/// order.
async fn write_together(
    connection: &mut PgConnection,
    batch: &[Queued],
) -> Result<Vec<Written>, sqlx::Error> {
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
    let mut written = vec![Written::Nothing; batch.len()];
    for row in rows {
        let read = (
            row.try_get::<i32, _>("commit_no"),
            row.try_get::<Option<i64>, _>("position"),
        );
        // Committed or not, the statement has returned: an answer that cannot be read
        // is never written again.
        let (Ok(commit_no), Ok(position)) = read else {
            return Ok(vec![Written::Unknown; batch.len()]);
        };
        if let Some(slot) = written.get_mut(commit_no as usize) {
            *slot = position.map_or(Written::Busy, Written::At);
        }
    }
    Ok(written)
}

/// A batch's events, one array per column, borrowed from its commits.
#[derive(Default)]
struct EventColumns<'b> {
    aggregate_type: Vec<&'b str>,
    aggregate_id: Vec<&'b str>,
    sequence: Vec<i64>,
    event_type: Vec<&'b str>,
    event_version: Vec<&'b str>,
    payload: Vec<&'b Value>,
    metadata: Vec<&'b Value>,
    commit_no: Vec<i32>,
}

impl<'b> EventColumns<'b> {
    fn push(&mut self, commit_no: i32, event: &'b SerializedEvent) {
        self.aggregate_type.push(&event.aggregate_type);
        self.aggregate_id.push(&event.aggregate_id);
        self.sequence.push(event.sequence as i64);
        self.event_type.push(&event.event_type);
        self.event_version.push(&event.event_version);
        self.payload.push(&event.payload);
        self.metadata.push(&event.metadata);
        self.commit_no.push(commit_no);
    }
}

/// A batch's idempotency records, one array per column, borrowed from its commits.
#[derive(Default)]
struct ClaimColumns<'b> {
    commit_no: Vec<i32>,
    scope_key: Vec<&'b str>,
    request_digest: Vec<&'b str>,
    expires: Vec<bool>,
    status: Vec<i16>,
    location: Vec<Option<&'b str>>,
    response: Vec<&'b Value>,
}

impl<'b> ClaimColumns<'b> {
    fn push(&mut self, commit_no: i32, claim: &'b IdempotencyClaim) {
        self.commit_no.push(commit_no);
        self.scope_key.push(&claim.scope_key);
        self.request_digest.push(&claim.request_digest);
        self.expires.push(claim.expires);
        self.status.push(claim.status as i16);
        self.location.push(claim.location.as_deref());
        self.response.push(&claim.response);
    }
}
