//! The booking context's policies: **booking** (a booking asks for the manager's
//! confirm; a denied confirm cancels its booking; a cancelled booking deletes its
//! confirm) and **notify** ([`notify`]: the booking user hears of each step).

pub mod notify;

use std::sync::Arc;

use command_api::store::EventLog;
use domain::booking::booking::{Booking, BookingCommand, BookingEvent};
use domain::booking::confirm::{Confirm, ConfirmCommand, ConfirmEvent, ConfirmStatus};
use futures::future::BoxFuture;
use projections::booking::BookingContextEvent;
use projections::table::ContextEvent;
use projections::LogEvent;
use uuid::Uuid;

use crate::issue::{derived_id, PolicyError, Reaction};
use crate::policy::{Issue, Policy, SharedPolicy};
use crate::registry::PolicySettings;

/// Why the policy cancels a booking whose confirm was denied.
pub const DENIED: &str = "DENIED";

/// The booking context's policies.
pub fn policies<L: EventLog>(_: &PolicySettings) -> Vec<SharedPolicy<L>> {
    vec![Arc::new(BookingPolicy), Arc::new(notify::NotifyPolicy)]
}

/// The confirm of a booking: one per booking, so its id follows from the booking's.
pub fn confirm_id(booking_id: Uuid) -> Uuid {
    derived_id("confirm of booking", booking_id)
}

/// The booking an event belongs to: both policies handle one booking's events in log
/// order.
fn booking_key(event: &LogEvent) -> Result<String, serde_json::Error> {
    Ok(BookingContextEvent::decode(event)?.map_or_else(
        || event.aggregate_id.clone(),
        |booking| booking.booking_id(event),
    ))
}

struct BookingPolicy;

/// What the policy does, as the "then" column of its table names it.
#[derive(Debug, Clone, PartialEq)]
enum Then {
    RequestConfirm { booking_id: Uuid, user_id: String },
    CancelBooking { booking_id: Uuid },
    DeleteConfirm { booking_id: Uuid },
}

/// What the policy consulted before deciding.
#[derive(Debug, Default)]
struct Consulted {
    booking_cancelled: bool,
    confirm_status: Option<ConfirmStatus>,
}

/// The commands an event of `booking_id` calls for, given what was consulted.
fn decide(booking_id: Uuid, event: &BookingContextEvent, consulted: &Consulted) -> Vec<Then> {
    match event {
        BookingContextEvent::Booking(BookingEvent::BookingCreated {
            booking_user_id, ..
        }) => vec![Then::RequestConfirm {
            booking_id,
            user_id: booking_user_id.clone(),
        }],
        BookingContextEvent::Confirm(ConfirmEvent::ConfirmDenied { .. })
            if !consulted.booking_cancelled =>
        {
            vec![Then::CancelBooking { booking_id }]
        }
        BookingContextEvent::Booking(BookingEvent::BookingCancelled { .. }) => {
            match consulted.confirm_status {
                None | Some(ConfirmStatus::Deleted) => Vec::new(),
                Some(_) => vec![Then::DeleteConfirm { booking_id }],
            }
        }
        _ => Vec::new(),
    }
}

impl<L: EventLog> Policy<L> for BookingPolicy {
    fn name(&self) -> &'static str {
        "booking"
    }

    fn reads(&self) -> &[&'static str] {
        BookingContextEvent::AGGREGATE_TYPES
    }

    fn key_of(&self, event: &LogEvent) -> Result<String, serde_json::Error> {
        booking_key(event)
    }

    fn react<'a>(
        &'a self,
        reaction: &'a Reaction<'a, L>,
    ) -> BoxFuture<'a, Result<Vec<Issue<L>>, PolicyError>> {
        Box::pin(async move {
            let Some(event) = reaction.decode::<BookingContextEvent>()? else {
                return Ok(Vec::new());
            };
            let booking_id = booking_of(reaction, &event)?;
            let mut consulted = Consulted::default();
            match &event {
                BookingContextEvent::Confirm(ConfirmEvent::ConfirmDenied { .. }) => {
                    let booking = reaction.load::<Booking>(booking_id).await?;
                    consulted.booking_cancelled = booking.is_cancelled();
                }
                BookingContextEvent::Booking(BookingEvent::BookingCancelled { .. }) => {
                    let confirm = reaction.load::<Confirm>(confirm_id(booking_id)).await?;
                    consulted.confirm_status = confirm.status();
                }
                _ => {}
            }
            Ok(decide(booking_id, &event, &consulted)
                .into_iter()
                .map(issue)
                .collect())
        })
    }
}

/// The booking the event is about.
fn booking_of<L: EventLog>(
    reaction: &Reaction<'_, L>,
    event: &BookingContextEvent,
) -> Result<Uuid, PolicyError> {
    match event {
        BookingContextEvent::Confirm(
            ConfirmEvent::ConfirmRequested { booking_id, .. }
            | ConfirmEvent::ConfirmCompleted { booking_id, .. }
            | ConfirmEvent::ConfirmDenied { booking_id, .. }
            | ConfirmEvent::ConfirmDeleted { booking_id },
        ) => Ok(*booking_id),
        BookingContextEvent::Booking(_) => reaction.aggregate_id(),
    }
}

fn issue<L: EventLog>(then: Then) -> Issue<L> {
    match then {
        Then::RequestConfirm {
            booking_id,
            user_id,
        } => Issue::command::<Confirm>(
            confirm_id(booking_id),
            ConfirmCommand::RequestConfirm {
                booking_id,
                user_id,
            },
        ),
        Then::CancelBooking { booking_id } => Issue::command::<Booking>(
            booking_id,
            BookingCommand::CancelBooking {
                reason: DENIED.to_string(),
                requested_by: None,
            },
        ),
        Then::DeleteConfirm { booking_id } => {
            Issue::command::<Confirm>(confirm_id(booking_id), ConfirmCommand::DeleteConfirm)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_denied_confirm_cancels_its_booking_unless_already_cancelled() {
        let booking_id = Uuid::now_v7();
        let denied = BookingContextEvent::Confirm(ConfirmEvent::ConfirmDenied {
            booking_id,
            manager_id: "lee".into(),
            confirm_dtm: chrono::Utc::now(),
        });
        assert_eq!(
            decide(booking_id, &denied, &Consulted::default()),
            [Then::CancelBooking { booking_id }]
        );
        let cancelled = Consulted {
            booking_cancelled: true,
            ..Consulted::default()
        };
        assert_eq!(decide(booking_id, &denied, &cancelled), []);
    }

    #[test]
    fn a_cancelled_booking_deletes_its_confirm_unless_none_is_left() {
        let booking_id = Uuid::now_v7();
        let cancelled = BookingContextEvent::Booking(BookingEvent::BookingCancelled {
            reason: "plans changed".into(),
        });
        let booked = Consulted {
            confirm_status: Some(ConfirmStatus::Booked),
            ..Consulted::default()
        };
        assert_eq!(
            decide(booking_id, &cancelled, &booked),
            [Then::DeleteConfirm { booking_id }]
        );
        let deleted = Consulted {
            confirm_status: Some(ConfirmStatus::Deleted),
            ..Consulted::default()
        };
        assert_eq!(decide(booking_id, &cancelled, &deleted), []);
        assert_eq!(decide(booking_id, &cancelled, &Consulted::default()), []);
    }
}
