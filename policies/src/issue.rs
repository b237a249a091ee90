//! One reaction to one event: the commands a policy issues for it, each carrying the
//! event's correlation id, the event's id as causation id, and an idempotency key made
//! of the policy, the command and the event. The key commits with the command's events
//! (`idempotency_keys`), so a redelivered event finds it and appends nothing.
//!
//! A command the domain refuses is recorded in `policy_rejections` and skipped; a store
//! failure is returned, and the runner retries the event with backoff.

use command_api::dispatch::Appended;
use command_api::store::{EventLog, IdempotencyClaim, StoreError};
use command_api::{CommandContext, CommandError, CommandService};
use cqrs_es::Aggregate;
use domain::booking::booking::{Booking, BookingCommand};
use domain::booking::confirm::{Confirm, ConfirmCommand};
use domain::notifications::notification::{Notification, NotificationCommand};
use domain::shop::delivery::{Delivery, DeliveryCommand};
use domain::shop::order::{CancelOrder, CancelledBy, Order, OrderCommand};
use domain::shop::payment::{Payment, PaymentCommand};
use projections::sql::Arg;
use projections::{LogEvent, ProjectionStore};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::sink::SinkError;
use crate::PolicyName;

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
    /// The policy is stopped at a poison event recorded earlier.
    #[error("{0} is stopped at a poison event")]
    Stopped(PolicyName),
    /// The event cannot be decoded: the policy stops there.
    #[error("{policy} cannot react to the event at position {position}: {reason}")]
    Poison {
        policy: PolicyName,
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

/// A command a policy issues, as the "then" column of the policy table names it.
#[derive(Debug, Clone)]
pub(crate) enum PolicyCommand {
    StartDelivery {
        delivery_id: Uuid,
        order_id: Uuid,
    },
    CancelDelivery {
        delivery_id: Uuid,
    },
    CancelPayment {
        payment_id: Uuid,
    },
    CancelOrder {
        order_id: Uuid,
    },
    RequestConfirm {
        confirm_id: Uuid,
        booking_id: Uuid,
        user_id: String,
    },
    CancelBooking {
        booking_id: Uuid,
        reason: String,
    },
    DeleteConfirm {
        confirm_id: Uuid,
    },
    SendNotification {
        notification_id: Uuid,
        command: NotificationCommand,
    },
}

impl PolicyCommand {
    fn name(&self) -> &'static str {
        match self {
            Self::StartDelivery { .. } => "StartDelivery",
            Self::CancelDelivery { .. } => "CancelDelivery",
            Self::CancelPayment { .. } => "CancelPayment",
            Self::CancelOrder { .. } => "CancelOrder",
            Self::RequestConfirm { .. } => "RequestConfirm",
            Self::CancelBooking { .. } => "CancelBooking",
            Self::DeleteConfirm { .. } => "DeleteConfirm",
            Self::SendNotification { .. } => "SendNotification",
        }
    }

    /// The aggregate the command is for.
    fn target(&self) -> Uuid {
        match self {
            Self::StartDelivery { delivery_id, .. } | Self::CancelDelivery { delivery_id } => {
                *delivery_id
            }
            Self::CancelPayment { payment_id } => *payment_id,
            Self::CancelOrder { order_id } => *order_id,
            Self::RequestConfirm { confirm_id, .. } | Self::DeleteConfirm { confirm_id } => {
                *confirm_id
            }
            Self::CancelBooking { booking_id, .. } => *booking_id,
            Self::SendNotification {
                notification_id, ..
            } => *notification_id,
        }
    }

    async fn run<L: EventLog>(
        self,
        service: &CommandService<L>,
        context: CommandContext,
    ) -> Result<Appended, CommandError> {
        match self {
            Self::StartDelivery {
                delivery_id,
                order_id,
            } => {
                let command = DeliveryCommand::StartDelivery { order_id };
                service
                    .execute_new::<Delivery>(delivery_id, command, context)
                    .await
            }
            Self::CancelDelivery { delivery_id } => {
                let command = DeliveryCommand::CancelDelivery;
                service
                    .execute::<Delivery>(delivery_id, command, context)
                    .await
            }
            Self::CancelPayment { payment_id } => {
                let command = PaymentCommand::CancelPayment;
                service
                    .execute::<Payment>(payment_id, command, context)
                    .await
            }
            Self::CancelOrder { order_id } => {
                let command = OrderCommand::CancelOrder(CancelOrder {
                    cancelled_by: CancelledBy::Delivery,
                    requested_by: None,
                });
                service.execute::<Order>(order_id, command, context).await
            }
            Self::RequestConfirm {
                confirm_id,
                booking_id,
                user_id,
            } => {
                let command = ConfirmCommand::RequestConfirm {
                    booking_id,
                    user_id,
                };
                service
                    .execute::<Confirm>(confirm_id, command, context)
                    .await
            }
            Self::CancelBooking { booking_id, reason } => {
                let command = BookingCommand::CancelBooking {
                    reason,
                    requested_by: None,
                };
                service
                    .execute::<Booking>(booking_id, command, context)
                    .await
            }
            Self::DeleteConfirm { confirm_id } => {
                let command = ConfirmCommand::DeleteConfirm;
                service
                    .execute::<Confirm>(confirm_id, command, context)
                    .await
            }
            Self::SendNotification {
                notification_id,
                command,
            } => {
                service
                    .execute::<Notification>(notification_id, command, context)
                    .await
            }
        }
    }
}

const RECORD_REJECTION: &str = "
    INSERT INTO policy_rejections (scope_key, policy, event_position, code, message)
    VALUES ($1, $2, $3, $4, $5) ON CONFLICT (scope_key) DO NOTHING";

/// A policy reacting to one event: what it can consult and how it issues commands.
pub struct Reaction<'r, L: EventLog> {
    pub(crate) policy: PolicyName,
    pub(crate) event: &'r LogEvent,
    pub(crate) service: &'r CommandService<L>,
    /// The policy's own tables (reactions to different orders run side by side, each
    /// on a pooled connection).
    pub(crate) store: &'r ProjectionStore,
}

impl<L: EventLog> Reaction<'_, L> {
    /// The causing event's id (`eventId` in its metadata; its stream coordinates for an
    /// event written without one).
    pub(crate) fn event_id(&self) -> String {
        match self.event.metadata.get("eventId").and_then(Value::as_str) {
            Some(id) => id.to_string(),
            None => format!(
                "{}/{}/{}",
                self.event.aggregate_type, self.event.aggregate_id, self.event.sequence
            ),
        }
    }

    /// The id of the aggregate that recorded the event.
    pub(crate) fn aggregate_id(&self) -> Result<Uuid, PolicyError> {
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
    pub(crate) async fn load<A: Aggregate<Services = ()>>(
        &self,
        id: Uuid,
    ) -> Result<A, PolicyError> {
        Ok(self.service.load::<A>(id).await?)
    }

    /// Issues `command` once per causing event: its key commits with its events, so a
    /// second issue appends nothing; a refusal is recorded and skipped.
    pub(crate) async fn issue(&self, command: PolicyCommand) -> Result<(), PolicyError> {
        let event_id = self.event_id();
        let scope_key = format!("policy {} {} {event_id}", self.policy, command.name());
        let claim = IdempotencyClaim {
            scope_key: scope_key.clone(),
            request_body: json!({
                "policy": self.policy.as_str(),
                "command": command.name(),
                "aggregateId": command.target(),
                "causationId": event_id,
            }),
            status: 200,
            location: None,
            response: json!({}),
        };
        let context = CommandContext {
            correlation_id: self.event.correlation_id().unwrap_or(&event_id).to_string(),
            causation_id: event_id,
            actor: format!("policy:{}", self.policy),
            idempotency: Some(claim),
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
        }
    }

    async fn issued_before(&self, scope_key: &str) -> Result<bool, PolicyError> {
        let stored = self.service.log().idempotent_response(scope_key).await?;
        Ok(stored.is_some())
    }

    /// Records something the policy could not do for this event, once.
    pub(crate) async fn record_rejection(
        &self,
        scope_key: &str,
        code: &str,
        message: &str,
    ) -> Result<(), PolicyError> {
        let args = [
            Arg::Text(scope_key),
            Arg::Text(self.policy.as_str()),
            Arg::Int(self.event.position),
            Arg::Text(code),
            Arg::Text(message),
        ];
        self.store.execute(RECORD_REJECTION, &args).await?;
        Ok(())
    }
}
