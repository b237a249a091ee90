//! Policy workers: one task per policy, each reacting to the events after its
//! checkpoint and advancing past those it has handled, woken by new commits as the
//! view workers are. A store or sink failure retries the same event with backoff
//! (shown as `lastError` in `/admin/projections` meanwhile); an undecodable event stops
//! only its policy.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use command_api::store::EventLog;
use command_api::CommandService;
use futures::{stream, StreamExt, TryStreamExt};
use projections::{wake, LogEvent, LogPoint, ProjectionStore, WorkerConnection};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::Instrument;

use crate::issue::{PolicyError, Reaction};
use crate::policy::{Issue, SharedPolicy};

/// How long a worker waits before it asks again for a policy another worker holds.
const LEASE_RETRY: Duration = Duration::from_millis(100);
/// How soon to look again for events not readable yet (an older transaction holds
/// the read watermark back).
const RETRY_PAUSE: Duration = Duration::from_millis(5);
/// Reactions run side by side on PostgreSQL, for this many keys ([`crate::Policy::key_of`]) at
/// once; on SQLite, whose store takes one writer at a time, one after another.
const CONCURRENCY: usize = 16;
/// Fan-out commands of one reaction issued at once.
const FAN_OUT_AT_ONCE: usize = 64;
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// What one round of a policy did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Reacted to a batch of events and advanced past them.
    Reacted,
    /// Nothing to react to now.
    CaughtUp,
    /// Another worker follows this policy.
    HeldElsewhere,
    /// The policy is stopped at a poison event.
    Stopped,
}

/// How a set of policies is run.
#[derive(Clone)]
pub struct Policies<L: EventLog> {
    service: Arc<CommandService<L>>,
    store: ProjectionStore,
    policies: Vec<SharedPolicy<L>>,
    appended: Option<watch::Receiver<i64>>,
    batch_size: i64,
    concurrency: usize,
    poll_interval: Duration,
}

impl<L: EventLog> Policies<L> {
    /// Batches of 100 events, polling every 100 ms unless [`Policies::woken_by`] is set.
    pub fn new(
        service: Arc<CommandService<L>>,
        store: ProjectionStore,
        policies: Vec<SharedPolicy<L>>,
    ) -> Self {
        let concurrency = match store {
            ProjectionStore::Postgres(_) => CONCURRENCY,
            ProjectionStore::Sqlite(_) => 1,
        };
        Self {
            service,
            store,
            policies,
            appended: None,
            batch_size: 100,
            concurrency,
            poll_interval: Duration::from_millis(100),
        }
    }

    /// Wakes the workers whenever the command side appends.
    pub fn woken_by(mut self, appended: watch::Receiver<i64>) -> Self {
        self.appended = Some(appended);
        self
    }

    /// The names of the policies run.
    pub fn names(&self) -> Vec<&'static str> {
        self.policies.iter().map(|policy| policy.name()).collect()
    }

    /// Reacts to every event that was in the log when this was called, then returns;
    /// the first failure ends it. Tests drain with this instead of sleeping.
    pub async fn catch_up(&self, name: &str) -> Result<(), PolicyError> {
        let policy = self
            .policies
            .iter()
            .find(|policy| policy.name() == name)
            .ok_or_else(|| PolicyError::Unknown(name.to_string()))?;
        let mut connection = self.open(policy.name()).await?;
        while !connection.try_lease(policy.name()).await? {
            tokio::time::sleep(RETRY_PAUSE).await;
        }
        let head = connection.head().await?;
        loop {
            match self.step(&mut connection, policy).await? {
                Step::Reacted => {}
                Step::Stopped => return Err(PolicyError::Stopped(policy.name())),
                Step::CaughtUp | Step::HeldElsewhere => {
                    if connection.has_applied(policy.name(), head).await? {
                        return Ok(());
                    }
                    tokio::time::sleep(RETRY_PAUSE).await;
                }
            }
        }
    }

    /// Catches every policy up, in order.
    pub async fn catch_up_all(&self) -> Result<(), PolicyError> {
        for policy in &self.policies {
            self.catch_up(policy.name()).await?;
        }
        Ok(())
    }

    /// Runs one worker per policy until `stop` turns true; each finishes the event in
    /// hand and records how far it got before it returns.
    pub async fn run(self, stop: watch::Receiver<bool>) {
        let mut workers = JoinSet::new();
        for policy in &self.policies {
            let (worker, stop, policy) = (self.clone(), stop.clone(), policy.clone());
            workers.spawn(async move { worker.follow(policy, stop).await });
        }
        while workers.join_next().await.is_some() {}
    }

    async fn follow(self, policy: SharedPolicy<L>, mut stop: watch::Receiver<bool>) {
        let name = policy.name();
        let mut appended = self.appended.clone();
        let mut follower = Follower::default();
        let mut backoff = FIRST_BACKOFF;
        while !*stop.borrow() {
            let outcome = self.follow_once(&mut follower, &policy).await;
            let pause = match &outcome {
                Ok(Step::Reacted) => Duration::ZERO,
                Ok(Step::CaughtUp) => self.poll_interval,
                Ok(Step::HeldElsewhere) => LEASE_RETRY,
                Ok(Step::Stopped) | Err(PolicyError::Poison { .. }) => {
                    tracing::warn!(
                        policy = name,
                        "policy stopped at a poison event; see /admin/projections"
                    );
                    return;
                }
                Err(error) => {
                    tracing::warn!(policy = name, %error, retry_in = ?backoff, "policy failed; retrying");
                    follower.report(name, error).await;
                    let pause = backoff;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    pause
                }
            };
            if outcome.is_ok() {
                backoff = FIRST_BACKOFF;
                follower.clear_report(name).await;
            }
            let wake_on_commit = matches!(outcome, Ok(Step::CaughtUp));
            tokio::select! {
                _ = stop.changed() => {}
                _ = tokio::time::sleep(pause) => {}
                _ = wake::changed(&mut appended), if wake_on_commit => {}
            }
        }
    }

    /// One round on the worker's connection, opening it and taking the lease first.
    async fn follow_once(
        &self,
        follower: &mut Follower,
        policy: &SharedPolicy<L>,
    ) -> Result<Step, PolicyError> {
        let connection = match &mut follower.connection {
            Some(connection) => connection,
            None => follower.connection.insert(self.open(policy.name()).await?),
        };
        if !follower.leased {
            follower.leased = connection.try_lease(policy.name()).await?;
            if !follower.leased {
                return Ok(Step::HeldElsewhere);
            }
        }
        let outcome = self.step(connection, policy).await;
        if matches!(outcome, Err(PolicyError::Database(_))) {
            // The connection may be broken; a new one takes the lease again.
            follower.connection = None;
            follower.leased = false;
        }
        outcome
    }

    async fn open(&self, name: &str) -> Result<WorkerConnection, sqlx::Error> {
        let mut connection = self.store.connect().await?;
        connection.register_policy(name).await?;
        Ok(connection)
    }

    /// Reacts to the next batch of events and advances past them; a failure leaves the
    /// checkpoint past the events before the first one not handled.
    async fn step(
        &self,
        connection: &mut WorkerConnection,
        policy: &SharedPolicy<L>,
    ) -> Result<Step, PolicyError> {
        let name = policy.name();
        let Some(checkpoint) = connection.checkpoint(name).await? else {
            return Ok(Step::CaughtUp);
        };
        if checkpoint.failed {
            return Ok(Step::Stopped);
        }
        let events = connection
            .read_after(checkpoint.point, self.batch_size)
            .await?;
        if events.is_empty() {
            return Ok(Step::CaughtUp);
        }
        let (handled, failure) = match self.react_to_all(policy, &events).await {
            Ok(()) => (events.len(), None),
            Err((unhandled, error)) => (unhandled, Some(error)),
        };
        if let Some(last) = handled.checked_sub(1).map(|index| &events[index]) {
            let point = LogPoint {
                transaction_id: last.transaction_id,
                position: last.position,
            };
            connection.advance_to(name, point).await?;
        }
        match failure {
            None => Ok(Step::Reacted),
            Some(PolicyError::Poison {
                policy,
                position,
                reason,
            }) => {
                tracing::error!(policy, position, error = %reason, "poison event: policy stopped");
                connection.mark_failed(name, position, &reason).await?;
                Err(PolicyError::Poison {
                    policy,
                    position,
                    reason,
                })
            }
            Some(error) => Err(error),
        }
    }

    /// Reacts to `events`: each key's in log order, different ones side
    /// by side. On failure, the index of the earliest event not handled, and why; events
    /// after it may have been handled too, and their commands' keys make a retry of them
    /// append nothing.
    async fn react_to_all(
        &self,
        policy: &SharedPolicy<L>,
        events: &[LogEvent],
    ) -> Result<(), Failure> {
        let (partitions, poison) = partition(policy, events);
        let failures: Vec<Failure> = stream::iter(partitions)
            .map(|partition| async move {
                for index in partition {
                    let event = &events[index];
                    if let Err(error) = self.react(policy, event).await {
                        return Some((index, error));
                    }
                }
                None
            })
            .buffer_unordered(self.concurrency)
            .filter_map(std::future::ready)
            .collect()
            .await;
        match failures
            .into_iter()
            .chain(poison)
            .min_by_key(|(index, _)| *index)
        {
            Some(failure) => Err(failure),
            None => Ok(()),
        }
    }

    /// The policy's reaction to one event, and the commands it decided on, issued in
    /// order.
    async fn react(&self, policy: &SharedPolicy<L>, event: &LogEvent) -> Result<(), PolicyError> {
        let reaction = Reaction {
            policy: policy.name(),
            event,
            service: &self.service,
            store: &self.store,
        };
        // What a reaction logs carries the causing event's correlation id.
        let span = tracing::info_span!(
            "reaction",
            policy = policy.name(),
            position = event.position,
            correlation_id = event.correlation_id().unwrap_or_default(),
        );
        async {
            let commands = policy.react(&reaction).await?;
            issue_all(&reaction, commands).await
        }
        .instrument(span)
        .await
    }
}

/// Issues a reaction's commands in order, but each run of fan-out commands (one per
/// recipient) together: they do not depend on each other, and issued together their
/// commits share the group commit's statements.
async fn issue_all<L: EventLog>(
    reaction: &Reaction<'_, L>,
    commands: Vec<Issue<L>>,
) -> Result<(), PolicyError> {
    let mut commands = commands.into_iter().peekable();
    while let Some(command) = commands.next() {
        if command.fan_out.is_none() {
            reaction.issue(command).await?;
            continue;
        }
        let mut group = vec![command];
        while let Some(next) = commands.next_if(|next| next.fan_out.is_some()) {
            group.push(next);
        }
        stream::iter(group.into_iter().map(Ok))
            .try_for_each_concurrent(FAN_OUT_AT_ONCE, |command| reaction.issue(command))
            .await?;
    }
    Ok(())
}

/// The events that concern `policy`, grouped by the key they belong to, each group in
/// log order, as indexes into `events`; and the
/// first event that cannot be decoded, before which the grouping stops.
fn partition<L: EventLog>(
    policy: &SharedPolicy<L>,
    events: &[LogEvent],
) -> (Vec<Group>, Option<Failure>) {
    let mut groups: Vec<Group> = Vec::new();
    let mut group_of: HashMap<String, usize> = HashMap::new();
    for (index, event) in events.iter().enumerate() {
        if !policy.reads().contains(&event.aggregate_type.as_str()) {
            continue;
        }
        let key = match policy.key_of(event) {
            Ok(key) => key,
            Err(error) => {
                let poison = PolicyError::Poison {
                    policy: policy.name(),
                    position: event.position,
                    reason: format!("undecodable {}: {error}", event.event_type),
                };
                return (groups, Some((index, poison)));
            }
        };
        let group = *group_of.entry(key).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[group].push(index);
    }
    (groups, None)
}

/// One key's events of a batch, in log order: their indexes in the batch.
type Group = Vec<usize>;

/// The index in the batch of the first event not handled, and why.
type Failure = (usize, PolicyError);

/// A worker's hold on one policy: its connection, and whether it has the lease.
#[derive(Default)]
struct Follower {
    connection: Option<WorkerConnection>,
    leased: bool,
    /// Whether `/admin/projections` shows an error for the policy.
    reported: bool,
}

impl Follower {
    async fn report(&mut self, policy: &str, error: &PolicyError) {
        if let Some(connection) = &mut self.connection {
            let message = format!("retrying: {error}");
            self.reported = connection
                .report_error(policy, Some(&message))
                .await
                .is_ok();
        }
    }

    async fn clear_report(&mut self, policy: &str) {
        if !self.reported {
            return;
        }
        if let Some(connection) = &mut self.connection {
            self.reported = connection.report_error(policy, None).await.is_err();
        }
    }
}
