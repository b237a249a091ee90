//! The `Shipment` aggregate: the shipping of one book order, started by the bookstore's
//! policy when the order is placed and cancelled with the order.

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Rejection, RejectionKind};

/// A shipment's state, rebuilt from its events (and snapshotted as JSON).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Shipment {
    order_id: Option<Uuid>,
    cancelled: bool,
}

impl Shipment {
    /// Whether the shipment has started and is not cancelled.
    pub fn is_active(&self) -> bool {
        self.order_id.is_some() && !self.cancelled
    }
}

/// What can be asked of a shipment.
#[derive(Debug, Clone, PartialEq)]
pub enum ShipmentCommand {
    StartShipment { order_id: Uuid },
    CancelShipment,
}

/// What happened to a shipment. The serialized form is the stored contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ShipmentEvent {
    #[serde(rename = "ShipmentStarted", rename_all = "camelCase")]
    ShipmentStarted { order_id: Uuid },
    #[serde(rename = "ShipmentCancelled", rename_all = "camelCase")]
    ShipmentCancelled { order_id: Uuid },
}

/// The stored type names of [`ShipmentEvent`].
pub const EVENT_TYPES: &[&str] = &["ShipmentStarted", "ShipmentCancelled"];

impl DomainEvent for ShipmentEvent {
    fn event_type(&self) -> String {
        match self {
            ShipmentEvent::ShipmentStarted { .. } => "ShipmentStarted",
            ShipmentEvent::ShipmentCancelled { .. } => "ShipmentCancelled",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

/// Why a shipment command was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ShipmentError {
    #[error("shipment not found")]
    NotFound,
    #[error("shipment already exists")]
    AlreadyExists,
    #[error("shipment is already cancelled")]
    AlreadyCancelled,
}

impl Rejection for ShipmentError {
    fn kind(&self) -> RejectionKind {
        match self {
            ShipmentError::NotFound => RejectionKind::NotFound,
            ShipmentError::AlreadyExists | ShipmentError::AlreadyCancelled => {
                RejectionKind::Conflict
            }
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ShipmentError::NotFound => "shipment_not_found",
            ShipmentError::AlreadyExists => "shipment_already_exists",
            ShipmentError::AlreadyCancelled => "shipment_already_cancelled",
        }
    }
}

impl Shipment {
    /// Decides a command against the current state: the events to record, or why not.
    fn decide(&self, command: ShipmentCommand) -> Result<Vec<ShipmentEvent>, ShipmentError> {
        match command {
            ShipmentCommand::StartShipment { order_id } => {
                if self.order_id.is_some() {
                    return Err(ShipmentError::AlreadyExists);
                }
                Ok(vec![ShipmentEvent::ShipmentStarted { order_id }])
            }
            ShipmentCommand::CancelShipment => {
                let Some(order_id) = self.order_id else {
                    return Err(ShipmentError::NotFound);
                };
                if self.cancelled {
                    return Err(ShipmentError::AlreadyCancelled);
                }
                Ok(vec![ShipmentEvent::ShipmentCancelled { order_id }])
            }
        }
    }
}

impl Aggregate for Shipment {
    const TYPE: &'static str = "Shipment";
    type Command = ShipmentCommand;
    type Event = ShipmentEvent;
    type Error = ShipmentError;
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
            ShipmentEvent::ShipmentStarted { order_id } => self.order_id = Some(order_id),
            ShipmentEvent::ShipmentCancelled { .. } => self.cancelled = true,
        }
    }
}

#[cfg(test)]
mod tests {
    use cqrs_es::test::TestFramework;

    use super::*;

    type ShipmentTest = TestFramework<Shipment>;

    #[tokio::test]
    async fn a_shipment_starts_once_and_is_cancelled_once() {
        let order_id = Uuid::now_v7();
        ShipmentTest::with(())
            .given_no_previous_events()
            .when_async(ShipmentCommand::StartShipment { order_id })
            .await
            .then_expect_events(vec![ShipmentEvent::ShipmentStarted { order_id }]);
        ShipmentTest::with(())
            .given(vec![ShipmentEvent::ShipmentStarted { order_id }])
            .when_async(ShipmentCommand::StartShipment { order_id })
            .await
            .then_expect_error(ShipmentError::AlreadyExists);
        ShipmentTest::with(())
            .given(vec![ShipmentEvent::ShipmentStarted { order_id }])
            .when_async(ShipmentCommand::CancelShipment)
            .await
            .then_expect_events(vec![ShipmentEvent::ShipmentCancelled { order_id }]);
        ShipmentTest::with(())
            .given_no_previous_events()
            .when_async(ShipmentCommand::CancelShipment)
            .await
            .then_expect_error(ShipmentError::NotFound);
    }
}
