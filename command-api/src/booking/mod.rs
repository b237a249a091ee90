//! The booking context's commands: `POST /bookings` (reserving the room in the same
//! commit), `POST /bookings/{id}/cancel`, and a manager's `POST /confirms/{id}/complete`
//! or `/deny`.

mod bookings;
mod confirms;
mod room_guard;

use cqrs_es::Aggregate;
use domain::booking::booking::{Booking, BookingCommand, BookingEvent};
use domain::booking::confirm::{Confirm, ConfirmCommand};
use utoipa::OpenApi;
use uuid::Uuid;

use crate::dispatch::CommandTarget;
use crate::registry::Commands;
use crate::store::{EventLog, Guard};
use room_guard::RoomReservation;

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

    /// A created booking reserves its room's interval; a cancelled one releases it.
    fn guards(booking_id: Uuid, events: &[BookingEvent]) -> Vec<Box<dyn Guard>> {
        events
            .iter()
            .map(|event| -> Box<dyn Guard> {
                match event {
                    BookingEvent::BookingCreated {
                        room_id,
                        use_start_dtm,
                        use_end_dtm,
                        ..
                    } => Box::new(RoomReservation::Reserve {
                        booking_id,
                        room_id: *room_id,
                        start: *use_start_dtm,
                        end: *use_end_dtm,
                    }),
                    BookingEvent::BookingCancelled { .. } => {
                        Box::new(RoomReservation::Release { booking_id })
                    }
                }
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
