//! Events as a subscriber reads them from the global log.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;
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

impl LogEvent {
    /// The payload as the domain event type `E` of its aggregate.
    pub fn payload_as<E: DeserializeOwned>(&self) -> Result<E, serde_json::Error> {
        E::deserialize(&self.payload)
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

/// The name an enum has in the stored events (`CARD`, `CUSTOMER`, `DENIED`, …), taken
/// from its serde form so a view shows exactly what the log holds.
pub fn wire_name<T: Serialize>(value: &T) -> Result<String, String> {
    match serde_json::to_value(value) {
        Ok(Value::String(name)) => Ok(name),
        Ok(other) => Err(format!("expected an enum name, got {other}")),
        Err(error) => Err(error.to_string()),
    }
}
