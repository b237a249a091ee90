//! Events as a subscriber reads them from the global log.

use chrono::{DateTime, SecondsFormat, Utc};
use domain::booking::booking::BookingEvent;
use domain::booking::confirm::ConfirmEvent;
use domain::notifications::notification::NotificationEvent;
use domain::shop::delivery::DeliveryEvent;
use domain::shop::order::OrderEvent;
use domain::shop::payment::PaymentEvent;
use serde::Deserialize;
use serde_json::Value;

/// One stored event with its place in the log.
#[derive(Debug, Clone)]
pub struct LogEvent {
    /// The event's `global_position`.
    pub position: i64,
    /// The writing transaction's id (PostgreSQL); 0 on SQLite, whose order is the position.
    pub transaction_id: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub payload: Value,
    pub metadata: Value,
    pub recorded_at: DateTime<Utc>,
}

/// A log event decoded into the domain's own event types.
#[derive(Debug, Clone, PartialEq)]
pub enum BusinessEvent {
    Order(OrderEvent),
    Payment(PaymentEvent),
    Delivery(DeliveryEvent),
    Booking(BookingEvent),
    Confirm(ConfirmEvent),
    Notification(NotificationEvent),
}

impl LogEvent {
    /// The domain event, or `None` for aggregate types the views do not know.
    pub fn decode(&self) -> Result<Option<BusinessEvent>, serde_json::Error> {
        let payload = &self.payload;
        Ok(Some(match self.aggregate_type.as_str() {
            "Order" => BusinessEvent::Order(Deserialize::deserialize(payload)?),
            "Payment" => BusinessEvent::Payment(Deserialize::deserialize(payload)?),
            "Delivery" => BusinessEvent::Delivery(Deserialize::deserialize(payload)?),
            "Booking" => BusinessEvent::Booking(Deserialize::deserialize(payload)?),
            "Confirm" => BusinessEvent::Confirm(Deserialize::deserialize(payload)?),
            "Notification" => BusinessEvent::Notification(Deserialize::deserialize(payload)?),
            _ => return Ok(None),
        }))
    }

    /// The correlation id the command that caused the event carried.
    pub fn correlation_id(&self) -> Option<&str> {
        self.metadata.get("correlationId").and_then(Value::as_str)
    }

    /// When the event was recorded, as views store times.
    pub fn recorded_at_text(&self) -> String {
        timestamp(&self.recorded_at)
    }
}

/// How views store a time: RFC 3339 UTC with microseconds, e.g.
/// `2026-12-01T09:00:00.000000Z` — one fixed width, so text order is time order.
pub fn timestamp(time: &DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Micros, true)
}
