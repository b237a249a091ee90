//! One reaction to one event: the commands a policy issues for it, each carrying the
//! event's correlation id, the event's id as causation id, and an idempotency key made
//! of the policy, the command and the event. The key commits with the command's events
//! (`idempotency_keys`), so a redelivered event finds it and appends nothing.
//!
//! A command the domain refuses is recorded in `policy_rejections` and skipped; a store
//! failure is returned, and the runner retries the event with backoff.

use command_api::store::{request_digest, EventLog, IdempotencyClaim, StoreError};
use command_api::{CommandContext, CommandError, CommandService};
use cqrs_es::Aggregate;
use projections::sql::Arg;
use projections::table::ContextEvent;
use projections::{LogEvent, ProjectionStore};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::notifications::SinkError;
use crate::policy::Issue;

/// Why a policy could not react to an event.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The event store failed or was unreachable; the event is retried.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The policy's own tables failed; the event is retried.
    #[error("policy store error: {0}")]
    Database(#[from] sqlx::Error),
    /// The notification sink did not take the notification; it is retried.
    #[error(transparent)]
    Sink(#[from] SinkError),
    /// No policy of that name is run here.
    #[error("no policy named {0}")]
    Unknown(String),
    /// The policy is stopped at a poison event recorded earlier.
    #[error("{0} is stopped at a poison event")]
    Stopped(&'static str),
    /// The event cannot be decoded: the policy stops there.
    #[error("{policy} cannot react to the event at position {position}: {reason}")]
    Poison {
        policy: &'static str,
        position: i64,
        reason: String,
    },
}

/// Ids of what policies create, derived from what caused them: the same cause always
/// names the same delivery, confirm or notification.
pub fn derived_id(kind: &str, cause: impl std::fmt::Display) -> Uuid {
    const NAMESPACE: Uuid = Uuid::from_u128(0x7c1e_52d8_3f0a_4b6e_9a41_d2c7_e5b0_1f93);
    Uuid::new_v5(&NAMESPACE, format!("{kind} {cause}").as_bytes())
}

const RECORD_REJECTION: &str = "
    INSERT INTO policy_rejections (scope_key, policy, event_position, code, message)
    VALUES ($1, $2, $3, $4, $5) ON CONFLICT (scope_key) DO NOTHING";

/// A policy reacting to one event: what it can consult and how it issues commands.
pub struct Reaction<'r, L: EventLog> {
    pub(crate) policy: &'static str,
    /// The event reacted to.
    pub event: &'r LogEvent,
    pub(crate) service: &'r CommandService<L>,
    /// The policy's own tables (reactions to different keys run side by side, each
    /// on a pooled connection).
    pub(crate) store: &'r ProjectionStore,
}

impl<L: EventLog> Reaction<'_, L> {
    /// The causing event's id (`eventId` in its metadata; its stream coordinates for an
    /// event written without one).
    pub fn event_id(&self) -> String {
        match self.event.metadata.get("eventId").and_then(Value::as_str) {
            Some(id) => id.to_string(),
            None => format!(
                "{}/{}/{}",
                self.event.aggregate_type, self.event.aggregate_id, self.event.sequence
            ),
        }
    }

    /// The id of the aggregate that recorded the event.
    pub fn aggregate_id(&self) -> Result<Uuid, PolicyError> {
        self.event
            .aggregate_id
            .parse()
            .map_err(|error| PolicyError::Poison {
                policy: self.policy,
                position: self.event.position,
                reason: format!("aggregate id is not a UUID: {error}"),
            })
    }

    /// An aggregate's current state.
    pub async fn load<A: Aggregate<Services = ()>>(&self, id: Uuid) -> Result<A, PolicyError> {
        Ok(self.service.load::<A>(id).await?)
    }

    /// The event as the context's event type `E`; an event that cannot be decoded is
    /// poison.
    pub fn decode<E: ContextEvent>(&self) -> Result<Option<E>, PolicyError> {
        E::decode(self.event).map_err(|error| PolicyError::Poison {
            policy: self.policy,
            position: self.event.position,
            reason: format!("undecodable {}: {error}", self.event.event_type),
        })
    }

    /// The policy's own tables (what it remembers between events).
    pub fn store(&self) -> &ProjectionStore {
        self.store
    }

    /// Issues `command` once per causing event: its key commits with its events, so a
    /// second issue appends nothing; a refusal is recorded and skipped.
    pub(crate) async fn issue(&self, command: Issue<L>) -> Result<(), PolicyError> {
        let event_id = self.event_id();
        let scope_key = match &command.fan_out {
            None => format!("policy {} {} {event_id}", self.policy, command.name),
            Some(to) => format!("policy {} {} {event_id} {to}", self.policy, command.name),
        };
        let claim = IdempotencyClaim {
            scope_key: scope_key.clone(),
            request_digest: request_digest(&json!({
                "policy": self.policy,
                "command": command.name,
                "aggregateId": command.target,
                "causationId": event_id,
            })),
            expires: false,
            status: 200,
            location: None,
            response: json!({}),
        };
        let context = CommandContext {
            correlation_id: self.event.correlation_id().unwrap_or(&event_id).to_string(),
            causation_id: event_id,
            actor: format!("policy:{}", self.policy),
            idempotency: Some(claim),
            deadline: None,
        };
        match command.run(self.service, context).await {
            Ok(_) | Err(CommandError::Store(StoreError::DuplicateRequest)) => Ok(()),
            // Every command a policy issues is refused the second time (the delivery
            // exists, the payment is cancelled…): a refusal of a command whose key is
            // stored is a redelivery.
            Err(CommandError::Rejected { .. }) if self.issued_before(&scope_key).await? => Ok(()),
            Err(CommandError::Rejected { code, message, .. }) => {
                tracing::warn!(policy = %self.policy, position = self.event.position, code, %message, "command refused; recorded and skipped");
                self.record_rejection(&scope_key, code, &message).await
            }
            Err(CommandError::Store(error)) => Err(error.into()),
            // No command a policy issues calls out; were one to, it is retried as a
            // store that is not there yet would be.
            Err(error @ CommandError::Unreachable { .. }) => {
                Err(StoreError::Unavailable(Box::new(error)).into())
            }
        }
    }

    async fn issued_before(&self, scope_key: &str) -> Result<bool, PolicyError> {
        let stored = self.service.log().idempotent_response(scope_key).await?;
        Ok(stored.is_some())
    }

    /// Records something the policy could not do for this event, once.
    pub async fn record_rejection(
        &self,
        scope_key: &str,
        code: &str,
        message: &str,
    ) -> Result<(), PolicyError> {
        let args = [
            Arg::Text(scope_key),
            Arg::Text(self.policy),
            Arg::Int(self.event.position),
            Arg::Text(code),
            Arg::Text(message),
        ];
        self.store.execute(RECORD_REJECTION, &args).await?;
        Ok(())
    }
}
