//! The booking policy: a booking asks for the manager's confirm; a denied confirm
//! cancels its booking; a cancelled booking deletes its confirm.

use command_api::store::EventLog;
use domain::booking::booking::{Booking, BookingEvent};
use domain::booking::confirm::{Confirm, ConfirmEvent, ConfirmStatus};
use projections::{BusinessEvent, LogEvent};
use uuid::Uuid;

use crate::issue::{derived_id, PolicyCommand, PolicyError, Reaction};

/// Why the policy cancels a booking whose confirm was denied.
pub const DENIED: &str = "DENIED";

/// The confirm of a booking: one per booking, so its id follows from the booking's.
pub fn confirm_id(booking_id: Uuid) -> Uuid {
    derived_id("confirm of booking", booking_id)
}

/// The booking an event belongs to: the booking and notify policies handle one
/// booking's events in log order.
pub(crate) fn booking_of(event: &BusinessEvent, logged: &LogEvent) -> String {
    match event {
        BusinessEvent::Confirm(
            ConfirmEvent::ConfirmRequested { booking_id, .. }
            | ConfirmEvent::ConfirmCompleted { booking_id, .. }
            | ConfirmEvent::ConfirmDenied { booking_id, .. }
            | ConfirmEvent::ConfirmDeleted { booking_id },
        ) => booking_id.to_string(),
        _ => logged.aggregate_id.clone(),
    }
}

pub(crate) async fn react<L: EventLog>(
    reaction: &Reaction<'_, L>,
    event: BusinessEvent,
) -> Result<(), PolicyError> {
    match event {
        BusinessEvent::Booking(BookingEvent::BookingCreated {
            booking_user_id, ..
        }) => {
            let booking_id = reaction.aggregate_id()?;
            let command = PolicyCommand::RequestConfirm {
                confirm_id: confirm_id(booking_id),
                booking_id,
                user_id: booking_user_id,
            };
            reaction.issue(command).await
        }
        BusinessEvent::Confirm(ConfirmEvent::ConfirmDenied { booking_id, .. }) => {
            if reaction.load::<Booking>(booking_id).await?.is_cancelled() {
                return Ok(());
            }
            let command = PolicyCommand::CancelBooking {
                booking_id,
                reason: DENIED.to_string(),
            };
            reaction.issue(command).await
        }
        BusinessEvent::Booking(BookingEvent::BookingCancelled { .. }) => {
            let confirm_id = confirm_id(reaction.aggregate_id()?);
            match reaction.load::<Confirm>(confirm_id).await?.status() {
                None | Some(ConfirmStatus::Deleted) => Ok(()),
                Some(_) => {
                    reaction
                        .issue(PolicyCommand::DeleteConfirm { confirm_id })
                        .await
                }
            }
        }
        _ => Ok(()),
    }
}
