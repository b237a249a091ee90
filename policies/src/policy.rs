//! What a policy (saga) is to the platform: a name, the aggregate types whose events
//! it reacts to, which of those must be handled in log order relative to each other,
//! and its reaction. A reaction consults what it needs through the [`Reaction`], then
//! decides which commands to issue ([`Issue`]): the decision is a plain function of the
//! event and what was consulted, and the runner issues the commands, each once per
//! causing event. Each context registers its policies ([`crate::shop::policies`], …).

use std::sync::Arc;

use command_api::dispatch::Appended;
use command_api::store::EventLog;
use command_api::{CommandContext, CommandError, CommandService, CommandTarget};
use futures::future::BoxFuture;
use projections::LogEvent;
use uuid::Uuid;

use crate::issue::{PolicyError, Reaction};

/// A policy over an event store of type `L`.
pub trait Policy<L: EventLog>: Send + Sync {
    /// The name the CLI, `/admin/projections` and the checkpoints use (`shop`).
    fn name(&self) -> &'static str;

    /// The aggregate types whose events the policy reacts to; others are skipped
    /// without being decoded.
    fn reads(&self) -> &[&'static str];

    /// What the event belongs to (an order, say): events with the same key are
    /// reacted to in log order, different keys side by side. An event that cannot be
    /// decoded is poison.
    fn key_of(&self, event: &LogEvent) -> Result<String, serde_json::Error>;

    /// Reacts to one event: the commands to issue for it.
    fn react<'a>(
        &'a self,
        reaction: &'a Reaction<'a, L>,
    ) -> BoxFuture<'a, Result<Vec<Issue<L>>, PolicyError>>;
}

/// A policy as the runner holds it.
pub type SharedPolicy<L> = Arc<dyn Policy<L>>;

/// Runs a command on the service.
type Run<L> = Box<
    dyn for<'s> FnOnce(
            &'s CommandService<L>,
            CommandContext,
        ) -> BoxFuture<'s, Result<Appended, CommandError>>
        + Send,
>;

/// A command a policy decided to issue, for one aggregate.
pub struct Issue<L: EventLog> {
    /// The command's name, as the policy table names it (`StartDelivery`).
    pub name: &'static str,
    /// The aggregate it is for.
    pub target: Uuid,
    /// What tells this command apart from the others of its name that the same event
    /// causes (the recipient of one notification of a fan-out).
    pub(crate) fan_out: Option<String>,
    run: Run<L>,
}

impl<L: EventLog> Issue<L> {
    /// `command` for the aggregate `id`, loaded and decided as any command is.
    pub fn command<A>(id: Uuid, command: A::Command) -> Self
    where
        A: CommandTarget,
    {
        Self {
            name: A::command_name(&command),
            target: id,
            fan_out: None,
            run: Box::new(move |service, context| {
                Box::pin(service.execute::<A>(id, command, context))
            }),
        }
    }

    /// This command as one of several of its name that one event causes, told apart by
    /// `to` (its recipient): each is issued once per cause.
    pub fn one_of_many(mut self, to: impl Into<String>) -> Self {
        self.fan_out = Some(to.into());
        self
    }

    /// `command` for an aggregate whose id follows from its cause (a delivery per
    /// order): decided as for a new stream first, one round trip fewer.
    pub fn on_new_stream<A>(id: Uuid, command: A::Command) -> Self
    where
        A: CommandTarget,
    {
        Self {
            name: A::command_name(&command),
            target: id,
            fan_out: None,
            run: Box::new(move |service, context| {
                Box::pin(service.execute_new::<A>(id, command, context))
            }),
        }
    }

    pub(crate) async fn run(
        self,
        service: &CommandService<L>,
        context: CommandContext,
    ) -> Result<Appended, CommandError> {
        (self.run)(service, context).await
    }
}
