//! Command dispatch: load an aggregate through cqrs-es, let it decide, commit its
//! events (with their metadata and any guard) in one transaction.
//!
//! The use cases the API and, later, the policies call are the `pub async fn`s of
//! [`CommandService`]; everything generic over the aggregate sits below them.

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::{PersistedEventStore, SerializedEvent};
use cqrs_es::{Aggregate, AggregateError, DomainEvent, EventStore};
use domain::booking::booking::{Booking, BookingCommand, CreateBooking};
use domain::booking::confirm::{Confirm, ConfirmCommand};
use domain::notifications::notification::{Notification, NotificationCommand};
use domain::shop::delivery::{Delivery, DeliveryCommand};
use domain::shop::order::{CancelOrder, Order, OrderCommand, PlaceOrder};
use domain::shop::payment::{MakePayment, Payment, PaymentCommand};
use domain::shop::PayMethod;
use domain::{Rejection, RejectionKind};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use serde_json::{json, Value};
use tokio::sync::watch;
use uuid::Uuid;

use crate::store::{
    Commit, EventLog, IdempotencyClaim, RecordedEvent, ReservationChange, Snapshot, StoreError,
    SNAPSHOT_EVERY,
};

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
}

impl CommandError {
    fn rejected(error: &impl Rejection) -> Self {
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

/// An order placed and paid in one commit.
#[derive(Debug, Clone, Copy)]
pub struct PlacedOrder {
    pub order_id: Uuid,
    pub payment_id: Uuid,
    pub position: i64,
}

/// The write side's use cases over one event store.
pub struct CommandService<L: EventLog> {
    log: L,
    appended: watch::Sender<i64>,
    /// Events this process has appended (`strata_events_appended_total`).
    events_appended: Counter,
    /// Commands by name and outcome (`strata_commands_total`).
    commands: Family<CommandLabels, Counter>,
}

/// A command's name (`PlaceOrder`, `CancelDelivery`…) and how it ended: `accepted`,
/// `rejected` (by the domain or a guard), `conflict` (a concurrent command won),
/// `duplicate` (its idempotency key was taken), `unavailable` or `failed`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CommandLabels {
    pub command: &'static str,
    pub outcome: &'static str,
}

impl<L: EventLog> CommandService<L> {
    pub fn new(log: L) -> Self {
        Self {
            log,
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
    fn counted<T>(
        &self,
        command: &'static str,
        outcome: Result<T, CommandError>,
    ) -> Result<T, CommandError> {
        let ended = match &outcome {
            Ok(_) => "accepted",
            Err(
                CommandError::Rejected { .. } | CommandError::Store(StoreError::RoomUnavailable),
            ) => "rejected",
            Err(CommandError::Store(StoreError::Conflict)) => "conflict",
            Err(CommandError::Store(StoreError::DuplicateRequest)) => "duplicate",
            Err(CommandError::Store(StoreError::Unavailable(_))) => "unavailable",
            Err(CommandError::Store(StoreError::Internal(_))) => "failed",
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

    /// Places an order and makes its payment: both streams commit together or, when
    /// the payment is refused, nothing is written at all.
    pub async fn place_order(
        &self,
        order_id: Uuid,
        payment_id: Uuid,
        order: PlaceOrder,
        context: CommandContext,
    ) -> Result<PlacedOrder, CommandError> {
        let outcome: Result<PlacedOrder, CommandError> = async {
            let pay_method: PayMethod = order.pay_method;
            let placed = Decision::<Order>::fresh(order_id)
                .decide(OrderCommand::PlaceOrder(order))
                .await?;
            let amount = placed.aggregate.amount().unwrap_or_default();
            let payment = MakePayment {
                order_id,
                amount,
                pay_method,
            };
            let paid = Decision::<Payment>::fresh(payment_id)
                .decide(PaymentCommand::MakePayment(payment))
                .await?;
            let mut commit = Commit::default();
            placed.add_to(&mut commit, &context)?;
            paid.add_to(&mut commit, &context)?;
            commit.idempotency = context.idempotency;
            let position = self.append(commit).await?;
            Ok(PlacedOrder {
                order_id,
                payment_id,
                position,
            })
        }
        .await;
        self.counted("PlaceOrder", outcome)
    }

    pub async fn cancel_order(
        &self,
        order_id: Uuid,
        cancel: CancelOrder,
        context: CommandContext,
    ) -> Result<Appended, CommandError> {
        let command = OrderCommand::CancelOrder(cancel);
        let outcome = self
            .execute::<Order>(order_id, command, None, context)
            .await;
        self.counted("CancelOrder", outcome)
    }

    pub async fn start_delivery(
        &self,
        delivery_id: Uuid,
        order_id: Uuid,
        context: CommandContext,
    ) -> Result<Appended, CommandError> {
        let outcome: Result<Appended, CommandError> = async {
            // A delivery starts once, under an id of its own: decide as for a new stream, and
            // against the stored one only when it turns out to exist (one round trip fewer
            // for the policy that starts every delivery).
            let command = DeliveryCommand::StartDelivery { order_id };
            let fresh = Decision::<Delivery>::fresh(delivery_id)
                .decide(command.clone())
                .await?;
            match self.commit(fresh, None, context.clone()).await {
                Err(CommandError::Store(StoreError::Conflict)) => {
                    self.execute::<Delivery>(delivery_id, command, None, context)
                        .await
                }
                outcome => outcome,
            }
        }
        .await;
        self.counted("StartDelivery", outcome)
    }

    pub async fn cancel_delivery(
        &self,
        delivery_id: Uuid,
        context: CommandContext,
    ) -> Result<Appended, CommandError> {
        let command = DeliveryCommand::CancelDelivery;
        let outcome = self
            .execute::<Delivery>(delivery_id, command, None, context)
            .await;
        self.counted("CancelDelivery", outcome)
    }

    pub async fn cancel_payment(
        &self,
        payment_id: Uuid,
        context: CommandContext,
    ) -> Result<Appended, CommandError> {
        let command = PaymentCommand::CancelPayment;
        let outcome = self
            .execute::<Payment>(payment_id, command, None, context)
            .await;
        self.counted("CancelPayment", outcome)
    }

    /// Creates a booking and reserves its room in the same commit; an overlapping
    /// active booking of the room makes the commit fail with `RoomUnavailable`.
    pub async fn create_booking(
        &self,
        booking_id: Uuid,
        booking: CreateBooking,
        context: CommandContext,
    ) -> Result<Appended, CommandError> {
        let outcome: Result<Appended, CommandError> = async {
            let reservation = ReservationChange::Reserve {
                booking_id,
                room_id: booking.room_id,
                start: booking.use_start_dtm,
                end: booking.use_end_dtm,
            };
            let decision = Decision::<Booking>::fresh(booking_id)
                .decide(BookingCommand::CreateBooking(booking))
                .await?;
            self.commit(decision, Some(reservation), context).await
        }
        .await;
        self.counted("CreateBooking", outcome)
    }

    /// Cancels a booking and releases its room in the same commit. `requested_by` is
    /// the asking customer, if a customer asks (see [`BookingCommand::CancelBooking`]).
    pub async fn cancel_booking(
        &self,
        booking_id: Uuid,
        reason: String,
        requested_by: Option<String>,
        context: CommandContext,
    ) -> Result<Appended, CommandError> {
        let release = ReservationChange::Release { booking_id };
        let command = BookingCommand::CancelBooking {
            reason,
            requested_by,
        };
        let outcome = self
            .execute::<Booking>(booking_id, command, Some(release), context)
            .await;
        self.counted("CancelBooking", outcome)
    }

    pub async fn request_confirm(
        &self,
        confirm_id: Uuid,
        booking_id: Uuid,
        user_id: String,
        context: CommandContext,
    ) -> Result<Appended, CommandError> {
        let command = ConfirmCommand::RequestConfirm {
            booking_id,
            user_id,
        };
        let outcome = self
            .execute::<Confirm>(confirm_id, command, None, context)
            .await;
        self.counted("RequestConfirm", outcome)
    }

    /// The manager's decision: `approve` completes the confirm, otherwise denies it.
    pub async fn decide_confirm(
        &self,
        confirm_id: Uuid,
        approve: bool,
        manager_id: String,
        at: DateTime<Utc>,
        context: CommandContext,
    ) -> Result<Appended, CommandError> {
        let (name, command) = if approve {
            (
                "CompleteConfirm",
                ConfirmCommand::CompleteConfirm { manager_id, at },
            )
        } else {
            (
                "DenyConfirm",
                ConfirmCommand::DenyConfirm { manager_id, at },
            )
        };
        let outcome = self
            .execute::<Confirm>(confirm_id, command, None, context)
            .await;
        self.counted(name, outcome)
    }

    pub async fn delete_confirm(
        &self,
        confirm_id: Uuid,
        context: CommandContext,
    ) -> Result<Appended, CommandError> {
        let command = ConfirmCommand::DeleteConfirm;
        let outcome = self
            .execute::<Confirm>(confirm_id, command, None, context)
            .await;
        self.counted("DeleteConfirm", outcome)
    }

    pub async fn send_notification(
        &self,
        notification_id: Uuid,
        command: NotificationCommand,
        context: CommandContext,
    ) -> Result<Appended, CommandError> {
        let outcome = self
            .execute::<Notification>(notification_id, command, None, context)
            .await;
        self.counted("SendNotification", outcome)
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

    /// Loads a stream, lets the aggregate decide, commits its events.
    pub async fn execute<A>(
        &self,
        id: Uuid,
        command: A::Command,
        reservation: Option<ReservationChange>,
        context: CommandContext,
    ) -> Result<Appended, CommandError>
    where
        A: Aggregate<Services = ()>,
        A::Error: Rejection,
    {
        let decision = Decision::<A>::load(&self.log, id)
            .await?
            .decide(command)
            .await?;
        self.commit(decision, reservation, context).await
    }

    async fn commit<A>(
        &self,
        decision: Decision<A>,
        reservation: Option<ReservationChange>,
        context: CommandContext,
    ) -> Result<Appended, CommandError>
    where
        A: Aggregate<Services = ()>,
    {
        let mut commit = Commit {
            reservation,
            ..Commit::default()
        };
        decision.add_to(&mut commit, &context)?;
        commit.idempotency = context.idempotency;
        let position = self.append(commit).await?;
        Ok(Appended { position })
    }
}

/// One aggregate's state as loaded, and the events it decided on.
struct Decision<A: Aggregate> {
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
    fn fresh(id: Uuid) -> Self {
        Self {
            aggregate_id: id.to_string(),
            aggregate: A::default(),
            loaded_sequence: 0,
            events: Vec::new(),
        }
    }

    /// Loads the aggregate from its latest snapshot and the events after it.
    async fn load(log: &impl EventLog, id: Uuid) -> Result<Self, StoreError> {
        let store =
            PersistedEventStore::<_, A>::new_snapshot_store(log.repository(), SNAPSHOT_EVERY);
        let context = store
            .load_aggregate(&id.to_string())
            .await
            .map_err(load_error)?;
        Ok(Self {
            aggregate_id: context.aggregate_id,
            aggregate: context.aggregate,
            loaded_sequence: context.current_sequence,
            events: Vec::new(),
        })
    }

    async fn decide(mut self, command: A::Command) -> Result<Self, CommandError>
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

    /// Adds the events (and a snapshot when one falls due) to a commit.
    fn add_to(&self, commit: &mut Commit, context: &CommandContext) -> Result<(), StoreError> {
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

fn load_error<E: std::error::Error>(error: AggregateError<E>) -> StoreError {
    match error {
        AggregateError::AggregateConflict => StoreError::Conflict,
        AggregateError::DatabaseConnectionError(source)
        | AggregateError::UnexpectedError(source) => StoreError::from_boxed(source),
        other => StoreError::Internal(other.to_string().into()),
    }
}
