//! The `CarReservation` aggregate: the car management's hold of a car for one order.
//!
//! Approval is automatic: the policy confirms the reservation when the order is placed,
//! and cancels it when the order is. There is one reservation per order (the caller
//! derives its id from the order's), and each step happens at most once. An order
//! cancelled before its reservation was confirmed still releases it: the cancel is
//! recorded, and a confirm arriving after it is refused.

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::rules::InvalidField;
use crate::{Rejection, RejectionKind};

/// A car reservation's state, rebuilt from its events (and snapshotted as JSON).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CarReservation {
    order_id: Option<Uuid>,
    confirmed: bool,
    cancelled: bool,
}

impl CarReservation {
    /// The order reserved for, once confirmed or cancelled.
    pub fn order_id(&self) -> Option<Uuid> {
        self.order_id
    }

    /// Whether the reservation has been confirmed (it may since have been cancelled).
    pub fn is_confirmed(&self) -> bool {
        self.confirmed
    }

    /// Whether the reservation has been cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled
    }
}

/// What can be asked of a car reservation.
#[derive(Debug, Clone, PartialEq)]
pub enum CarReservationCommand {
    ConfirmReservation { order_id: Uuid },
    CancelReservation { order_id: Uuid },
}

/// What happened to a car reservation. The serialized form is the stored contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CarReservationEvent {
    #[serde(rename = "ReservationConfirmed", rename_all = "camelCase")]
    ReservationConfirmed { order_id: Uuid },
    #[serde(rename = "ReservationCancelled", rename_all = "camelCase")]
    ReservationCancelled { order_id: Uuid },
}

/// The stored type names of [`CarReservationEvent`].
pub const EVENT_TYPES: &[&str] = &["ReservationConfirmed", "ReservationCancelled"];

impl CarReservationEvent {
    /// The stored type names of every variant (same as [`EVENT_TYPES`]).
    pub const EVENT_TYPES: &'static [&'static str] = EVENT_TYPES;
}

impl DomainEvent for CarReservationEvent {
    fn event_type(&self) -> String {
        match self {
            CarReservationEvent::ReservationConfirmed { .. } => "ReservationConfirmed",
            CarReservationEvent::ReservationCancelled { .. } => "ReservationCancelled",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

/// Why a car reservation command was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CarReservationError {
    /// The command names another order than the one the reservation holds (a caller
    /// that derived the wrong id).
    #[error("{reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("reservation is already confirmed")]
    AlreadyConfirmed,
    #[error("reservation is already cancelled")]
    AlreadyCancelled,
    /// A confirm arriving after its order was cancelled.
    #[error("reservation has been cancelled")]
    Cancelled,
}

impl From<InvalidField> for CarReservationError {
    fn from(invalid: InvalidField) -> Self {
        CarReservationError::Invalid {
            field: invalid.field,
            reason: invalid.reason,
        }
    }
}

impl Rejection for CarReservationError {
    fn kind(&self) -> RejectionKind {
        match self {
            CarReservationError::Invalid { .. } => RejectionKind::Invalid,
            CarReservationError::AlreadyConfirmed
            | CarReservationError::AlreadyCancelled
            | CarReservationError::Cancelled => RejectionKind::Conflict,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            CarReservationError::Invalid { .. } => "invalid_field",
            CarReservationError::AlreadyConfirmed => "reservation_already_confirmed",
            CarReservationError::AlreadyCancelled => "reservation_already_cancelled",
            CarReservationError::Cancelled => "reservation_cancelled",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            CarReservationError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}

impl CarReservation {
    /// Decides a command against the current state: the events to record, or why not.
    fn decide(
        &self,
        command: CarReservationCommand,
    ) -> Result<Vec<CarReservationEvent>, CarReservationError> {
        match command {
            CarReservationCommand::ConfirmReservation { order_id } => {
                if self.cancelled {
                    return Err(CarReservationError::Cancelled);
                }
                if self.confirmed {
                    return Err(CarReservationError::AlreadyConfirmed);
                }
                Ok(vec![CarReservationEvent::ReservationConfirmed { order_id }])
            }
            CarReservationCommand::CancelReservation { order_id } => {
                if self.cancelled {
                    return Err(CarReservationError::AlreadyCancelled);
                }
                if self.order_id.is_some_and(|held| held != order_id) {
                    return Err(InvalidField::new(
                        "orderId",
                        "orderId must be the order the reservation holds",
                    )
                    .into());
                }
                Ok(vec![CarReservationEvent::ReservationCancelled { order_id }])
            }
        }
    }
}

impl Aggregate for CarReservation {
    const TYPE: &'static str = "CarReservation";
    type Command = CarReservationCommand;
    type Event = CarReservationEvent;
    type Error = CarReservationError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _service: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        for event in self.decide(command)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            CarReservationEvent::ReservationConfirmed { order_id } => {
                self.order_id = Some(order_id);
                self.confirmed = true;
            }
            CarReservationEvent::ReservationCancelled { order_id } => {
                self.order_id = Some(order_id);
                self.cancelled = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use cqrs_es::test::TestFramework;
    use serde_json::json;

    use super::*;
    use crate::testing::{assert_invalid, assert_stored_as};

    type CarReservationTest = TestFramework<CarReservation>;

    const ORDER: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001);

    fn confirm() -> CarReservationCommand {
        CarReservationCommand::ConfirmReservation { order_id: ORDER }
    }

    fn cancel() -> CarReservationCommand {
        CarReservationCommand::CancelReservation { order_id: ORDER }
    }

    fn confirmed() -> CarReservationEvent {
        CarReservationEvent::ReservationConfirmed { order_id: ORDER }
    }

    fn cancelled() -> CarReservationEvent {
        CarReservationEvent::ReservationCancelled { order_id: ORDER }
    }

    #[tokio::test]
    async fn a_reservation_is_confirmed_automatically() {
        CarReservationTest::with(())
            .given_no_previous_events()
            .when_async(confirm())
            .await
            .then_expect_events(vec![confirmed()]);
    }

    #[tokio::test]
    async fn confirming_twice_conflicts() {
        CarReservationTest::with(())
            .given(vec![confirmed()])
            .when_async(confirm())
            .await
            .then_expect_error(CarReservationError::AlreadyConfirmed);
        let error = CarReservationError::AlreadyConfirmed;
        assert_eq!(error.kind(), RejectionKind::Conflict);
        assert_eq!(error.code(), "reservation_already_confirmed");
    }

    #[tokio::test]
    async fn a_cancelled_reservation_cannot_be_confirmed() {
        for given in [vec![cancelled()], vec![confirmed(), cancelled()]] {
            CarReservationTest::with(())
                .given(given)
                .when_async(confirm())
                .await
                .then_expect_error(CarReservationError::Cancelled);
        }
        let error = CarReservationError::Cancelled;
        assert_eq!(error.kind(), RejectionKind::Conflict);
        assert_eq!(error.code(), "reservation_cancelled");
    }

    #[tokio::test]
    async fn cancels_a_confirmed_reservation() {
        CarReservationTest::with(())
            .given(vec![confirmed()])
            .when_async(cancel())
            .await
            .then_expect_events(vec![cancelled()]);
    }

    #[tokio::test]
    async fn an_order_cancelled_before_its_confirmation_still_releases_its_reservation() {
        CarReservationTest::with(())
            .given_no_previous_events()
            .when_async(cancel())
            .await
            .then_expect_events(vec![cancelled()]);
    }

    #[tokio::test]
    async fn a_reservation_is_cancelled_at_most_once() {
        for given in [vec![cancelled()], vec![confirmed(), cancelled()]] {
            CarReservationTest::with(())
                .given(given)
                .when_async(cancel())
                .await
                .then_expect_error(CarReservationError::AlreadyCancelled);
        }
        let error = CarReservationError::AlreadyCancelled;
        assert_eq!(error.kind(), RejectionKind::Conflict);
        assert_eq!(error.code(), "reservation_already_cancelled");
    }

    #[tokio::test]
    async fn cancelling_for_another_order_is_refused_naming_order_id() {
        let result = CarReservationTest::with(())
            .given(vec![confirmed()])
            .when_async(CarReservationCommand::CancelReservation {
                order_id: Uuid::nil(),
            })
            .await;
        assert_invalid(result, "orderId");
    }

    #[test]
    fn state_answers_from_its_events() {
        let mut reservation = CarReservation::default();
        assert_eq!(reservation.order_id(), None);
        assert!(!reservation.is_confirmed() && !reservation.is_cancelled());
        reservation.apply(confirmed());
        assert_eq!(reservation.order_id(), Some(ORDER));
        assert!(reservation.is_confirmed() && !reservation.is_cancelled());
        reservation.apply(cancelled());
        assert!(reservation.is_confirmed() && reservation.is_cancelled());

        let mut never_confirmed = CarReservation::default();
        never_confirmed.apply(cancelled());
        assert_eq!(never_confirmed.order_id(), Some(ORDER));
        assert!(!never_confirmed.is_confirmed() && never_confirmed.is_cancelled());
    }

    #[test]
    fn stored_format_is_the_contract() {
        assert_stored_as(
            &confirmed(),
            json!({"ReservationConfirmed": {"orderId": ORDER.to_string()}}),
            EVENT_TYPES,
        );
        assert_stored_as(
            &cancelled(),
            json!({"ReservationCancelled": {"orderId": ORDER.to_string()}}),
            EVENT_TYPES,
        );
    }
}
