//! The booking context's commands: `POST /bookings` (reserving the room in the same
//! commit), `POST /bookings/{id}/cancel`, and a manager's `POST /confirms/{id}/complete`
//! or `/deny`.

mod bookings;
mod confirms;

use cqrs_es::Aggregate;
use domain::booking::booking::{Booking, BookingCommand, BookingEvent};
use domain::booking::confirm::{Confirm, ConfirmCommand};
use utoipa::OpenApi;
use uuid::Uuid;

use crate::dispatch::CommandTarget;
use crate::registry::Commands;
use crate::store::{EventLog, Guard, TimeSlots};

/// A room's bookings: no two active ones overlap.
static ROOM_SLOTS: TimeSlots = TimeSlots::new(
    "room_reservations",
    "room_unavailable",
    "the room is already booked for an overlapping period",
);

/// The booking context's aggregates, routes and their OpenAPI.
pub fn commands<L: EventLog>() -> Commands<L> {
    Commands {
        aggregate_types: &[Booking::TYPE, Confirm::TYPE],
        routes: bookings::router().merge(confirms::router()),
        openapi: BookingDoc::openapi(),
    }
}

#[derive(OpenApi)]
#[openapi(
    paths(
        bookings::create_booking,
        bookings::cancel_booking,
        confirms::complete_confirm,
        confirms::deny_confirm,
    ),
    tags(
        (name = "bookings", description = "Book rooms and cancel bookings"),
        (name = "confirms", description = "A manager's decision on a booking"),
    )
)]
struct BookingDoc;

impl CommandTarget for Booking {
    fn command_name(command: &BookingCommand) -> &'static str {
        match command {
            BookingCommand::CreateBooking(_) => "CreateBooking",
            BookingCommand::CancelBooking { .. } => "CancelBooking",
        }
    }

    /// A created booking claims its room's interval; a cancelled one releases it.
    fn guards(booking_id: Uuid, events: &[BookingEvent]) -> Vec<Box<dyn Guard>> {
        events
            .iter()
            .map(|event| match event {
                BookingEvent::BookingCreated {
                    room_id,
                    use_start_dtm,
                    use_end_dtm,
                    ..
                } => ROOM_SLOTS.claim(booking_id, *room_id, *use_start_dtm, *use_end_dtm),
                BookingEvent::BookingCancelled { .. } => ROOM_SLOTS.release(booking_id),
            })
            .collect()
    }
}

impl CommandTarget for Confirm {
    fn command_name(command: &ConfirmCommand) -> &'static str {
        match command {
            ConfirmCommand::RequestConfirm { .. } => "RequestConfirm",
            ConfirmCommand::CompleteConfirm { .. } => "CompleteConfirm",
            ConfirmCommand::DenyConfirm { .. } => "DenyConfirm",
            ConfirmCommand::DeleteConfirm => "DeleteConfirm",
        }
    }
}
