//! Command dispatch, one path for every aggregate: load it through cqrs-es, let it
//! decide, commit its events (with their metadata and the guards its context attaches)
//! in one transaction. A command that loses an optimistic-concurrency race is decided
//! again on the new state, so clients see business outcomes; `Conflict` only when the
//! tries run out.
//!
//! Contexts make an aggregate a [`CommandTarget`] (its commands' names, its guards);
//! the HTTP routes and the policies then run its commands through
//! [`CommandService::execute`], or, for a stream the server has just named,
//! [`CommandService::execute_new`].

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex as StdMutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::SerializedEvent;
use cqrs_es::{Aggregate, DomainEvent};
use domain::{Rejection, RejectionKind};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use rand::Rng;
use serde_json::{json, Value};
use tokio::sync::{watch, Mutex, OwnedMutexGuard};
use uuid::Uuid;

use crate::store::{
    Commit, Deadline, EventLog, Guard, IdempotencyClaim, RecordedEvent, Snapshot, StoreError,
    StreamAt, SNAPSHOT_EVERY,
};

/// How many streams' turns are kept before those no command holds are let go.
const PRUNE_TURNS_FROM: usize = 1024;

/// How long a command that keeps losing races is decided again before it is answered
/// `Conflict`: long enough that commands on one hot stream from several processes all
/// get their turn.
const DECIDE_AGAIN_FOR: Duration = Duration::from_secs(1);
/// The longest first pause before a command is decided again; it doubles per try up
/// to [`LONGEST_RETRY_PAUSE`], and each pause is drawn at random below it, so racing
/// commands spread out.
const FIRST_RETRY_PAUSE: Duration = Duration::from_millis(2);
const LONGEST_RETRY_PAUSE: Duration = Duration::from_millis(32);

/// An aggregate the command API runs commands on. Its context implements it: the name
/// each command is counted under, and the guards the aggregate's events need.
pub trait CommandTarget:
    Aggregate<Services = (), Error: Rejection, Command: Clone + Send + Sync> + 'static
{
    /// The command's name in `strata_commands_total` (`PlaceOrder`, …).
    fn command_name(command: &Self::Command) -> &'static str;

    /// The guards a commit of these events must pass (see [`Guard`]): none by default.
    fn guards(id: Uuid, events: &[Self::Event]) -> Vec<Box<dyn Guard>> {
        let _ = (id, events);
        Vec::new()
    }
}

/// Who caused a command: stored in the metadata of every event it appends.
#[derive(Debug, Clone)]
pub struct CommandContext {
    /// Shared by every event of one business flow (the `X-Correlation-Id`).
    pub correlation_id: String,
    /// The id of what caused these events: the request, or (for a policy) an event.
    pub causation_id: String,
    /// Who sent the command, for audit: `role:sub` of the request's token, or
    /// `policy:name`.
    pub actor: String,
    /// The response to record with the events when the client sent an `Idempotency-Key`.
    pub idempotency: Option<IdempotencyClaim>,
    /// The request's time limit; none for a policy. A commit whose outcome could not be
    /// known by then is not written.
    pub deadline: Option<Deadline>,
}

/// Why a command did not take effect.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The domain refused the command.
    #[error("{message}")]
    Rejected {
        kind: RejectionKind,
        code: &'static str,
        field: Option<&'static str>,
        message: String,
    },
    /// The store refused or failed the commit.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A service outside strata the command needs did not take part (down, failing,
    /// not called now); nothing was written.
    #[error("{message}")]
    Unreachable {
        code: &'static str,
        message: String,
        retry_after: Duration,
    },
}

impl CommandError {
    /// The refusal as the client is told it.
    pub fn rejected(error: &(impl Rejection + ?Sized)) -> Self {
        Self::Rejected {
            kind: error.kind(),
            code: error.code(),
            field: error.field(),
            message: error.to_string(),
        }
    }
}

/// What a successful command appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// The global position of the last event appended.
    pub position: i64,
}

/// The write side's use cases over one event store.
pub struct CommandService<L: EventLog> {
    log: L,
    /// The streams this process's commands are deciding on now, each with the turn its
    /// next command waits for.
    turns: StdMutex<HashMap<Uuid, Weak<Mutex<()>>>>,
    /// The aggregate types the contexts registered.
    aggregate_types: Vec<&'static str>,
    appended: watch::Sender<i64>,
    /// Events this process has appended (`strata_events_appended_total`).
    events_appended: Counter,
    /// Commands by name and outcome (`strata_commands_total`).
    commands: Family<CommandLabels, Counter>,
}

/// A command's name (`PlaceOrder`, …) and how it ended: `accepted`,
/// `rejected` (by the domain or a guard), `conflict` (a concurrent command won),
/// `duplicate` (its idempotency key was taken), `unavailable`, `timed_out`,
/// `overloaded` (nothing written for any of these), `unknown` (the connection failed
/// while it committed) or `failed`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CommandLabels {
    pub command: &'static str,
    pub outcome: &'static str,
}

impl<L: EventLog> CommandService<L> {
    /// The service over `log`, whose `/admin/streams` shows `aggregate_types`.
    pub fn new(log: L, aggregate_types: Vec<&'static str>) -> Self {
        Self {
            log,
            turns: StdMutex::default(),
            aggregate_types,
            appended: watch::Sender::new(0),
            events_appended: Counter::default(),
            commands: Family::default(),
        }
    }

    /// Counts commands by name and outcome; register it with the process's metrics.
    pub fn commands(&self) -> Family<CommandLabels, Counter> {
        self.commands.clone()
    }

    /// Counts how a command ended, and passes its outcome on.
    pub fn counted<T>(
        &self,
        command: &'static str,
        outcome: Result<T, CommandError>,
    ) -> Result<T, CommandError> {
        let ended = match &outcome {
            Ok(_) => "accepted",
            Err(CommandError::Rejected { .. } | CommandError::Store(StoreError::Refused(_))) => {
                "rejected"
            }
            Err(CommandError::Store(StoreError::Conflict)) => "conflict",
            Err(CommandError::Store(StoreError::DuplicateRequest)) => "duplicate",
            Err(CommandError::Store(StoreError::Unavailable(_))) => "unavailable",
            Err(CommandError::Store(StoreError::TimedOut)) => "timed_out",
            Err(CommandError::Store(StoreError::Overloaded)) => "overloaded",
            Err(CommandError::Store(StoreError::OutcomeUnknown(_))) => "unknown",
            Err(CommandError::Store(StoreError::Internal(_))) => "failed",
            Err(CommandError::Unreachable { .. }) => "unreachable",
        };
        let labels = CommandLabels {
            command,
            outcome: ended,
        };
        self.commands.get_or_create(&labels).inc();
        outcome
    }

    /// Counts the events this process appends; register it with the process's metrics.
    pub fn events_appended(&self) -> Counter {
        self.events_appended.clone()
    }

    pub fn log(&self) -> &L {
        &self.log
    }

    /// The aggregate types the contexts registered.
    pub fn aggregate_types(&self) -> &[&'static str] {
        &self.aggregate_types
    }

    /// The position of the last commit this process made, changing with every commit:
    /// in-process projectors wait on it instead of polling.
    pub fn appended(&self) -> watch::Receiver<i64> {
        self.appended.subscribe()
    }

    /// Appends on a task of its own: if the request is cancelled (the client went
    /// away), the commit still runs to its end instead of being dropped mid-transaction,
    /// which could hand a connection with an open transaction back to the pool.
    async fn append(&self, commit: Commit) -> Result<i64, StoreError> {
        let (log, events) = (self.log.clone(), commit.events.len() as u64);
        let position = tokio::spawn(async move { log.append(commit).await })
            .await
            .map_err(|error| StoreError::Internal(Box::new(error)))??;
        self.events_appended.inc_by(events);
        self.appended.send_if_modified(|last| {
            let newer = position > *last;
            *last = (*last).max(position);
            newer
        });
        Ok(position)
    }

    /// An aggregate's current state (the default state when its stream is empty): what
    /// a policy consults before it issues a command.
    pub async fn load<A>(&self, id: Uuid) -> Result<A, StoreError>
    where
        A: Aggregate<Services = ()>,
    {
        Ok(Decision::<A>::load(&self.log, id).await?.aggregate)
    }

    /// The events of one stream, for audit.
    pub async fn stream(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.log.stream(aggregate_type, aggregate_id).await
    }

    /// Loads the stream, lets the aggregate decide, commits its events; a commit that
    /// loses a race to a concurrent command is decided again on the new state.
    pub async fn execute<A: CommandTarget>(
        &self,
        id: Uuid,
        command: A::Command,
        context: CommandContext,
    ) -> Result<Appended, CommandError> {
        let name = A::command_name(&command);
        let outcome = self.decide_until_committed::<A>(id, command, context).await;
        self.counted(name, outcome)
    }

    /// Runs a command on a stream the server has just named (a new order, a delivery
    /// whose id follows from its order's): decided on an empty stream without loading
    /// it, and on the stored stream only should it exist after all.
    pub async fn execute_new<A: CommandTarget>(
        &self,
        id: Uuid,
        command: A::Command,
        context: CommandContext,
    ) -> Result<Appended, CommandError> {
        let name = A::command_name(&command);
        let fresh = async {
            let decision = Decision::<A>::new(id).decide(command.clone()).await?;
            self.commit(&[&decision], context.clone()).await
        };
        let outcome = match fresh.await {
            Err(CommandError::Store(StoreError::Conflict)) => {
                self.decide_until_committed::<A>(id, command, context).await
            }
            outcome => outcome,
        };
        self.counted(name, outcome)
    }

    /// Commits what several aggregates decided, together or not at all (an order and
    /// its payment); a stream another command changed meanwhile fails it with
    /// `Conflict` (see [`CommandService::deciding_again`]).
    pub async fn commit_all(
        &self,
        decisions: &[&dyn Decided],
        context: CommandContext,
    ) -> Result<Appended, CommandError> {
        self.commit(decisions, context).await
    }

    async fn decide_until_committed<A: CommandTarget>(
        &self,
        id: Uuid,
        command: A::Command,
        context: CommandContext,
    ) -> Result<Appended, CommandError> {
        let _turn = self.turn_on(id).await;
        self.deciding_again(|| self.decide_and_commit::<A>(id, command.clone(), &context))
            .await
    }

    /// Runs `attempt` (load, decide, commit) again while its commit loses a race to a
    /// concurrent command, for up to [`DECIDE_AGAIN_FOR`], after a random pause that
    /// doubles: what a context composing several aggregates in one commit uses.
    pub async fn deciding_again<T, F, Fut>(&self, mut attempt: F) -> Result<T, CommandError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, CommandError>>,
    {
        let started = Instant::now();
        let mut pause = FIRST_RETRY_PAUSE;
        loop {
            match attempt().await {
                Err(CommandError::Store(StoreError::Conflict))
                    if started.elapsed() < DECIDE_AGAIN_FOR =>
                {
                    let jitter = rand::thread_rng().gen_range(Duration::ZERO..pause);
                    tokio::time::sleep(jitter).await;
                    pause = (pause * 2).min(LONGEST_RETRY_PAUSE);
                }
                outcome => return outcome,
            }
        }
    }

    /// Waits until no other command of this process is deciding on `stream`, and holds
    /// the stream until the guard drops. Commands on one stream (the last copies of a
    /// book) then take turns here instead of racing to commit and deciding again; they
    /// still race other processes' commands, and are decided again when they lose.
    pub async fn turn_on(&self, stream: Uuid) -> OwnedMutexGuard<()> {
        let turn = {
            let mut turns = self.turns.lock().unwrap_or_else(PoisonError::into_inner);
            match turns.get(&stream).and_then(Weak::upgrade) {
                Some(turn) => turn,
                None => {
                    if turns.len() >= PRUNE_TURNS_FROM {
                        turns.retain(|_, turn| turn.strong_count() > 0);
                    }
                    let turn = Arc::new(Mutex::new(()));
                    turns.insert(stream, Arc::downgrade(&turn));
                    turn
                }
            }
        };
        turn.lock_owned().await
    }

    /// The aggregate `id` as stored, ready to decide a command.
    pub async fn decision<A: CommandTarget>(&self, id: Uuid) -> Result<Decision<A>, CommandError> {
        Ok(Decision::<A>::load(&self.log, id).await?)
    }

    async fn decide_and_commit<A: CommandTarget>(
        &self,
        id: Uuid,
        command: A::Command,
        context: &CommandContext,
    ) -> Result<Appended, CommandError> {
        let decision = Decision::<A>::load(&self.log, id)
            .await?
            .decide(command)
            .await?;
        self.commit(&[&decision], context.clone()).await
    }

    async fn commit(
        &self,
        decisions: &[&dyn Decided],
        context: CommandContext,
    ) -> Result<Appended, CommandError> {
        let mut commit = Commit::default();
        for decision in decisions {
            decision.add_to(&mut commit, &context)?;
        }
        commit.idempotency = context.idempotency;
        commit.deadline = context.deadline;
        let position = self.append(commit).await.map_err(|error| match error {
            StoreError::Refused(refusal) => CommandError::rejected(&*refusal),
            other => CommandError::Store(other),
        })?;
        Ok(Appended { position })
    }
}

/// What an aggregate decided, ready to be committed with others.
pub trait Decided: Send + Sync {
    /// Adds the events (and a snapshot when one falls due, and the aggregate's guards)
    /// to a commit.
    fn add_to(&self, commit: &mut Commit, context: &CommandContext) -> Result<(), StoreError>;
}

/// One aggregate's state as loaded, and the events it decided on.
pub struct Decision<A: Aggregate> {
    id: Uuid,
    aggregate_id: String,
    aggregate: A,
    loaded_sequence: usize,
    events: Vec<A::Event>,
}

impl<A> Decision<A>
where
    A: Aggregate<Services = ()>,
{
    /// An aggregate whose id the server has just generated: nothing to load. Should
    /// the id exist after all, the stream's unique sequence makes the commit fail.
    pub fn new(id: Uuid) -> Self {
        Self {
            id,
            aggregate_id: id.to_string(),
            aggregate: A::default(),
            loaded_sequence: 0,
            events: Vec::new(),
        }
    }

    /// Loads the aggregate from its latest snapshot and the events after it, read in
    /// one statement.
    async fn load(log: &impl EventLog, id: Uuid) -> Result<Self, StoreError> {
        let mut decision = Self::new(id);
        let stream = log.load(A::TYPE, &decision.aggregate_id).await?;
        let snapshot = stream
            .snapshot
            .map(|(sequence, state)| (sequence, serde_json::from_value::<A>(state)));
        let events = match snapshot {
            Some((sequence, Ok(state))) => {
                decision.aggregate = state;
                decision.loaded_sequence = sequence;
                stream.events
            }
            // A snapshot of an earlier shape of the aggregate: its events tell the same.
            Some((_, Err(_))) => log
                .stream(A::TYPE, &decision.aggregate_id)
                .await?
                .into_iter()
                .map(|event| (event.sequence as usize, event.payload))
                .collect(),
            None => stream.events,
        };
        for (sequence, payload) in events {
            let event: A::Event = serde_json::from_value(payload).map_err(internal)?;
            decision.aggregate.apply(event);
            decision.loaded_sequence = sequence;
        }
        Ok(decision)
    }

    /// Lets the aggregate decide the command.
    pub async fn decide(mut self, command: A::Command) -> Result<Self, CommandError>
    where
        A::Error: Rejection,
    {
        let sink = EventSink::default();
        self.aggregate
            .handle(command, &(), &sink)
            .await
            .map_err(|error| CommandError::rejected(&error))?;
        self.events = sink.collect().await;
        Ok(self)
    }

    /// The aggregate's state after the decided events.
    pub fn aggregate(&self) -> &A {
        &self.aggregate
    }

    /// The stream as this decision read it, to commit beside other decisions when a
    /// command decided on it without appending to it: the commit is refused with
    /// `Conflict` (and decided again) should the stream have moved meanwhile.
    pub fn as_read(&self) -> StreamAt {
        StreamAt {
            aggregate_type: A::TYPE,
            aggregate_id: self.aggregate_id.clone(),
            sequence: self.loaded_sequence,
        }
    }
}

impl Decided for StreamAt {
    fn add_to(&self, commit: &mut Commit, _: &CommandContext) -> Result<(), StoreError> {
        commit.guards.push(Box::new(self.clone()));
        Ok(())
    }
}

impl<A: CommandTarget> Decided for Decision<A> {
    fn add_to(&self, commit: &mut Commit, context: &CommandContext) -> Result<(), StoreError> {
        commit.guards.extend(A::guards(self.id, &self.events));
        for (offset, event) in self.events.iter().enumerate() {
            commit.events.push(SerializedEvent::new(
                self.aggregate_id.clone(),
                self.loaded_sequence + offset + 1,
                A::TYPE.to_string(),
                event.event_type(),
                event.event_version(),
                serde_json::to_value(event).map_err(internal)?,
                event_metadata(context),
            ));
        }
        let sequence = self.loaded_sequence + self.events.len();
        if sequence / SNAPSHOT_EVERY > self.loaded_sequence / SNAPSHOT_EVERY {
            commit.snapshots.push(Snapshot {
                aggregate_type: A::TYPE.to_string(),
                aggregate_id: self.aggregate_id.clone(),
                last_sequence: sequence,
                current_snapshot: sequence / SNAPSHOT_EVERY,
                payload: serde_json::to_value(&self.aggregate).map_err(internal)?,
            });
        }
        Ok(())
    }
}

/// `eventId`, `correlationId`, `causationId` and `actor`, as every stored event carries
/// them.
fn event_metadata(context: &CommandContext) -> Value {
    json!({
        "eventId": Uuid::now_v7(),
        "correlationId": context.correlation_id,
        "causationId": context.causation_id,
        "actor": context.actor,
    })
}

fn internal(error: serde_json::Error) -> StoreError {
    StoreError::Internal(Box::new(error))
}
