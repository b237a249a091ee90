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
//! A folder per bounded context, a module per aggregate:
//!
//! | module | aggregate (`TYPE`) |
//! |---|---|
//! | [`shop::order`] | `Order` — place, cancel |
//! | [`shop::payment`] | `Payment` — make, cancel; refuses large amounts |
//! | [`shop::delivery`] | `Delivery` — start, cancel |
//! | [`booking::booking`] | `Booking` — create, cancel; the [`booking::booking::overlaps`] rule |
//! | [`booking::confirm`] | `Confirm` — the manager's approval of a booking |
//! | [`notifications::notification`] | `Notification` — a message sent to a user (shared by every context) |
//! | [`bookstore::book`] | `Book` — register, add stock; an order takes stock |
//! | [`bookstore::member`] | `Member` — join; mileage and grade |
//! | [`bookstore::book_order`] | `BookOrder` — order (or be refused for want of stock), cancel |
//! | [`bookstore::shipment`] | `Shipment` — start, cancel |
//! | [`hotel::hotel_room`] | `HotelRoom` — a host registers and deletes a room |
//! | [`hotel::hotel_booking`] | `HotelBooking` — a guest's nights in a room; cancel |
//! | [`hotel::hotel_payment`] | `HotelPayment` — approved with the stay, refunded on cancel |
//! | [`sharecar::car`] | `Car` — register |
//! | [`sharecar::car_order`] | `CarOrder` — a user's interval with a car; cancel |
//! | [`sharecar::car_payment`] | `CarPayment` — approved with the order, cancelled after it |
//! | [`sharecar::car_reservation`] | `CarReservation` — confirmed or cancelled by policy |
//! | [`game::mission`] | `Mission` — achieved once per customer and code; linked to its reward |
//! | [`game::reward`] | `Reward` — one per mission: allocated, redeemed once |
//! | [`game::wallet`] | `Wallet` — a customer's rewards: issued, exchanged for a gift |
//!
//! Shared here: [`Rejection`] / [`RejectionKind`], which every
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

pub mod booking;
pub mod bookstore;
pub mod game;
pub mod hotel;
pub mod notifications;
mod rules;
pub mod sharecar;
pub mod shop;
#[cfg(test)]
mod testing;

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
    /// The caller may not do this to this aggregate, though it may see it (403): a host
    /// deleting another host's room.
    Forbidden,
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
