//! strata's business core: aggregates, their commands and events, and the rules that
//! decide whether a command is accepted.
//!
//! The crate is pure. It does no I/O and never reads the clock: every time an aggregate
//! records comes in through its command. Everything that needs a database, a network or
//! a clock lives in `command-api` and `projections`, which drive these aggregates through
//! [`cqrs_es`].
//!
//! Each aggregate decides a command with a synchronous `decide(&self, command)` that
//! returns the events to record or a rejection; [`cqrs_es::Aggregate::handle`] only writes
//! those events to the sink, which applies them.
//!
//! # Layout
//!
//! | module | aggregate (`TYPE`) | context |
//! |---|---|---|
//! | [`order`] | `Order` — place, cancel | shop |
//! | [`payment`] | `Payment` — make, cancel; refuses large amounts | shop |
//! | [`delivery`] | `Delivery` — start, cancel | shop |
//! | [`booking`] | `Booking` — create, cancel; the [`booking::overlaps`] rule | booking |
//! | [`confirm`] | `Confirm` — the manager's approval of a booking | booking |
//! | [`notification`] | `Notification` — a message sent to a user | booking |
//!
//! Shared here: [`PayMethod`], and [`Rejection`] / [`RejectionKind`], which every
//! aggregate error implements so the HTTP layer can map a refusal to a status code and a
//! stable machine `code` in one place. `rules` holds the small validation helpers the
//! aggregates share.
//!
//! # Stored events
//!
//! The serialized form of every event is a contract with the event store: each variant
//! carries an explicit stored type name (`#[serde(rename = "OrderPlaced")]`, the same
//! string [`cqrs_es::DomainEvent::event_type`] returns), version `"1.0"`, and camelCase
//! fields. Each event module lists its stored names in `EVENT_TYPES`.

#![forbid(unsafe_code)]

use serde::{Deserialize, Serialize};

pub mod booking;
pub mod confirm;
pub mod delivery;
pub mod notification;
pub mod order;
pub mod payment;
mod rules;
#[cfg(test)]
mod testing;

/// How a customer pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PayMethod {
    Card,
    Bank,
    Point,
}

/// How the HTTP layer should classify a refused command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectionKind {
    /// The command's input breaks a rule (422).
    Invalid,
    /// The aggregate the command targets does not exist (404).
    NotFound,
    /// The aggregate's state does not allow the command (409).
    Conflict,
    /// The payment was refused (402).
    PaymentRefused,
}

/// Implemented by every aggregate error.
pub trait Rejection: std::error::Error {
    /// How the refusal is classified.
    fn kind(&self) -> RejectionKind;
    /// stable machine code, snake_case, e.g. "invalid_field", "order_not_found", "order_already_cancelled", "payment_refused"
    fn code(&self) -> &'static str;
    /// the JSON field (camelCase, as the API names it) a validation error is about
    fn field(&self) -> Option<&'static str> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pay_method_uses_upper_case_names() {
        assert_eq!(
            serde_json::to_string(&[PayMethod::Card, PayMethod::Bank, PayMethod::Point]).unwrap(),
            r#"["CARD","BANK","POINT"]"#
        );
        let parsed: PayMethod = serde_json::from_str(r#""POINT""#).unwrap();
        assert_eq!(parsed, PayMethod::Point);
        assert!(serde_json::from_str::<PayMethod>(r#""card""#).is_err());
    }
}
