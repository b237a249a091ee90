//! strata's policies (sagas): subscribers over the global log that react to events by
//! issuing commands through the same [`CommandService`](command_api::CommandService)
//! the HTTP API uses, and the sink that delivers recorded notifications.
//!
//! | policy | when | then |
//! |---|---|---|
//! | [`shop`] | `PaymentMade` | `StartDelivery` for the order, unless it is already cancelled |
//! | | `OrderCancelled` by the customer | `CancelDelivery` if started, `CancelPayment` |
//! | | `DeliveryCancelled` while its order stands | `CancelOrder{DELIVERY}`, `CancelPayment` |
//! | [`booking`] | `BookingCreated` | `RequestConfirm` |
//! | | `ConfirmDenied` | `CancelBooking{reason: DENIED}` |
//! | | `BookingCancelled` | `DeleteConfirm` |
//! | [`notify`] | `BookingCreated`, `ConfirmCompleted`, `ConfirmDenied`, `BookingCancelled` | `SendNotification` to the booking user |
//! | [`sink`] (`notificationSink`) | `NotificationSent` | delivers it: the log, or a webhook |
//!
//! Each policy follows the log from its own checkpoint, in log order (so it sees every
//! event of one order or booking in order), one worker at a time. Every command carries
//! an idempotency key made of the policy, the command and the causing event, committed
//! with the command's events: a redelivered or replayed event never appends twice.
//!
//! # Layout
//! - [`issue`]: one reaction's commands: keys, correlation, outcomes.
//! - [`shop`], [`booking`], [`notify`]: the reactions.
//! - [`sink`]: where notifications go, with retries and a circuit breaker.
//! - [`runner`]: [`Policies`], the loops that keep every policy caught up.
#![forbid(unsafe_code)]

pub mod booking;
pub mod issue;
pub mod notify;
pub mod runner;
pub mod shop;
pub mod sink;

use std::fmt;
use std::str::FromStr;

pub use issue::PolicyError;
pub use runner::Policies;
pub use sink::{NotificationSink, WebhookSettings};

/// A policy, by the name the CLI and `/admin/projections` use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyName {
    Shop,
    Booking,
    Notify,
    NotificationSink,
}

impl PolicyName {
    pub const ALL: [PolicyName; 4] = [
        PolicyName::Shop,
        PolicyName::Booking,
        PolicyName::Notify,
        PolicyName::NotificationSink,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Shop => "shop",
            Self::Booking => "booking",
            Self::Notify => "notify",
            Self::NotificationSink => "notificationSink",
        }
    }

    /// Whether events of this aggregate type concern the policy; others are skipped
    /// without being decoded.
    pub fn reads(self, aggregate_type: &str) -> bool {
        let types: &[&str] = match self {
            Self::Shop => &["Order", "Payment", "Delivery"],
            Self::Booking => &["Booking", "Confirm"],
            Self::Notify => &["Booking", "Confirm"],
            Self::NotificationSink => &["Notification"],
        };
        types.contains(&aggregate_type)
    }
}

impl fmt::Display for PolicyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown policy name.
#[derive(Debug, thiserror::Error)]
#[error("unknown policy '{0}'; policies are shop, booking, notify, notificationSink")]
pub struct UnknownPolicy(String);

impl FromStr for PolicyName {
    type Err = UnknownPolicy;

    fn from_str(name: &str) -> Result<Self, UnknownPolicy> {
        Self::ALL
            .into_iter()
            .find(|policy| policy.as_str() == name)
            .ok_or_else(|| UnknownPolicy(name.to_string()))
    }
}
