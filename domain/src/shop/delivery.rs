//! The `Delivery` aggregate: the shipping of one paid order.
//!
//! A delivery is started once (by the policy reacting to `PaymentMade`) and cancelled at
//! most once — by staff, or because its order was cancelled.

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Rejection, RejectionKind};

/// A delivery's state, rebuilt from its events (and snapshotted as JSON).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Delivery {
    order_id: Option<Uuid>,
    cancelled: bool,
}

impl Delivery {
    /// The order delivered, once started.
    pub fn order_id(&self) -> Option<Uuid> {
        self.order_id
    }

    /// Whether the delivery has been cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled
    }
}

/// What can be asked of a delivery.
#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryCommand {
    StartDelivery { order_id: Uuid },
    CancelDelivery,
}

/// What happened to a delivery. The serialized form is the stored contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum DeliveryEvent {
    #[serde(rename = "DeliveryStarted", rename_all = "camelCase")]
    DeliveryStarted { order_id: Uuid },
    #[serde(rename = "DeliveryCancelled", rename_all = "camelCase")]
    DeliveryCancelled { order_id: Uuid },
}

/// The stored type names of [`DeliveryEvent`].
pub const EVENT_TYPES: &[&str] = &["DeliveryStarted", "DeliveryCancelled"];

impl DeliveryEvent {
    /// The stored type names of every variant (same as [`EVENT_TYPES`]).
    pub const EVENT_TYPES: &'static [&'static str] = EVENT_TYPES;
}

impl DomainEvent for DeliveryEvent {
    fn event_type(&self) -> String {
        match self {
            DeliveryEvent::DeliveryStarted { .. } => "DeliveryStarted",
            DeliveryEvent::DeliveryCancelled { .. } => "DeliveryCancelled",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

/// Why a delivery command was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DeliveryError {
    #[error("delivery not found")]
    NotFound,
    #[error("delivery already exists")]
    AlreadyExists,
    #[error("delivery is already cancelled")]
    AlreadyCancelled,
}

impl Rejection for DeliveryError {
    fn kind(&self) -> RejectionKind {
        match self {
            DeliveryError::NotFound => RejectionKind::NotFound,
            DeliveryError::AlreadyExists | DeliveryError::AlreadyCancelled => {
                RejectionKind::Conflict
            }
        }
    }

    fn code(&self) -> &'static str {
        match self {
            DeliveryError::NotFound => "delivery_not_found",
            DeliveryError::AlreadyExists => "delivery_already_exists",
            DeliveryError::AlreadyCancelled => "delivery_already_cancelled",
        }
    }
}

impl Delivery {
    /// Decides a command against the current state: the events to record, or why not.
    fn decide(&self, command: DeliveryCommand) -> Result<Vec<DeliveryEvent>, DeliveryError> {
        match command {
            DeliveryCommand::StartDelivery { order_id } => {
                if self.order_id.is_some() {
                    return Err(DeliveryError::AlreadyExists);
                }
                Ok(vec![DeliveryEvent::DeliveryStarted { order_id }])
            }
            DeliveryCommand::CancelDelivery => {
                let Some(order_id) = self.order_id else {
                    return Err(DeliveryError::NotFound);
                };
                if self.cancelled {
                    return Err(DeliveryError::AlreadyCancelled);
                }
                Ok(vec![DeliveryEvent::DeliveryCancelled { order_id }])
            }
        }
    }
}

impl Aggregate for Delivery {
    const TYPE: &'static str = "Delivery";
    type Command = DeliveryCommand;
    type Event = DeliveryEvent;
    type Error = DeliveryError;
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
            DeliveryEvent::DeliveryStarted { order_id } => self.order_id = Some(order_id),
            DeliveryEvent::DeliveryCancelled { .. } => self.cancelled = true,
        }
    }
}

#[cfg(test)]
mod tests {
    use cqrs_es::test::TestFramework;
    use serde_json::json;

    use super::*;
    use crate::testing::assert_stored_as;

    type DeliveryTest = TestFramework<Delivery>;

    const ORDER: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0002);

    fn started() -> DeliveryEvent {
        DeliveryEvent::DeliveryStarted { order_id: ORDER }
    }

    #[tokio::test]
    async fn starts_a_delivery() {
        DeliveryTest::with(())
            .given_no_previous_events()
            .when_async(DeliveryCommand::StartDelivery { order_id: ORDER })
            .await
            .then_expect_events(vec![started()]);
    }

    #[tokio::test]
    async fn starting_twice_conflicts() {
        DeliveryTest::with(())
            .given(vec![started()])
            .when_async(DeliveryCommand::StartDelivery { order_id: ORDER })
            .await
            .then_expect_error(DeliveryError::AlreadyExists);
    }

    #[tokio::test]
    async fn cancels_a_delivery() {
        DeliveryTest::with(())
            .given(vec![started()])
            .when_async(DeliveryCommand::CancelDelivery)
            .await
            .then_expect_events(vec![DeliveryEvent::DeliveryCancelled { order_id: ORDER }]);
    }

    #[tokio::test]
    async fn cancelling_an_unknown_delivery_is_not_found() {
        DeliveryTest::with(())
            .given_no_previous_events()
            .when_async(DeliveryCommand::CancelDelivery)
            .await
            .then_expect_error(DeliveryError::NotFound);
        assert_eq!(DeliveryError::NotFound.code(), "delivery_not_found");
    }

    #[tokio::test]
    async fn a_delivery_is_cancelled_at_most_once() {
        DeliveryTest::with(())
            .given(vec![
                started(),
                DeliveryEvent::DeliveryCancelled { order_id: ORDER },
            ])
            .when_async(DeliveryCommand::CancelDelivery)
            .await
            .then_expect_error(DeliveryError::AlreadyCancelled);
        assert_eq!(
            DeliveryError::AlreadyCancelled.kind(),
            RejectionKind::Conflict
        );
        assert_eq!(
            DeliveryError::AlreadyCancelled.code(),
            "delivery_already_cancelled"
        );
    }

    #[test]
    fn state_answers_from_its_events() {
        let mut delivery = Delivery::default();
        assert_eq!(delivery.order_id(), None);
        delivery.apply(started());
        assert_eq!(delivery.order_id(), Some(ORDER));
        assert!(!delivery.is_cancelled());
        delivery.apply(DeliveryEvent::DeliveryCancelled { order_id: ORDER });
        assert!(delivery.is_cancelled());
    }

    #[test]
    fn stored_format_is_the_contract() {
        assert_stored_as(
            &started(),
            json!({"DeliveryStarted": {"orderId": ORDER.to_string()}}),
            EVENT_TYPES,
        );
        assert_stored_as(
            &DeliveryEvent::DeliveryCancelled { order_id: ORDER },
            json!({"DeliveryCancelled": {"orderId": ORDER.to_string()}}),
            EVENT_TYPES,
        );
    }
}
