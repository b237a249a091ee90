//! The hotel context's commands: a host's `POST /hotelRooms` and
//! `POST /hotelRooms/{id}/delete`; a guest's `POST /hotelBookings` (the stay, its
//! payment and its nights' claim in one commit) and `POST /hotelBookings/{id}/cancel`.

mod rooms;
mod stays;

use cqrs_es::Aggregate;
use domain::hotel::hotel_booking::{
    stay_instants, HotelBooking, HotelBookingCommand, HotelBookingEvent,
};
use domain::hotel::hotel_payment::{HotelPayment, HotelPaymentCommand};
use domain::hotel::hotel_room::{HotelRoom, HotelRoomCommand};
use utoipa::OpenApi;
use uuid::Uuid;

use crate::dispatch::CommandTarget;
use crate::registry::Commands;
use crate::store::{EventLog, Guard, TimeSlots};

/// A room's nights: no two active stays of one room overlap.
static ROOM_NIGHTS: TimeSlots = TimeSlots::new(
    "hotel_room_slots",
    "room_unavailable",
    "the room is already booked for some of these nights",
);

/// The hotel's aggregates, routes and their OpenAPI.
pub fn commands<L: EventLog>() -> Commands<L> {
    Commands {
        aggregate_types: &[HotelRoom::TYPE, HotelBooking::TYPE, HotelPayment::TYPE],
        routes: rooms::router().merge(stays::router()),
        openapi: HotelDoc::openapi(),
    }
}

#[derive(OpenApi)]
#[openapi(
    paths(
        rooms::register_room,
        rooms::delete_room,
        stays::book_room,
        stays::cancel_stay,
    ),
    tags(
        (name = "hotelRooms", description = "Hosts register and delete rooms"),
        (name = "hotelBookings", description = "Guests book nights and pay; stays are cancelled"),
    )
)]
struct HotelDoc;

impl CommandTarget for HotelRoom {
    fn command_name(command: &HotelRoomCommand) -> &'static str {
        match command {
            HotelRoomCommand::RegisterRoom { .. } => "RegisterRoom",
            HotelRoomCommand::DeleteRoom { .. } => "DeleteRoom",
        }
    }
}

impl CommandTarget for HotelBooking {
    fn command_name(command: &HotelBookingCommand) -> &'static str {
        match command {
            HotelBookingCommand::BookRoom(_) => "BookRoom",
            HotelBookingCommand::CancelRoomBooking { .. } => "CancelRoomBooking",
        }
    }

    /// A stay claims its room's nights; a cancelled one releases them.
    fn guards(booking_id: Uuid, events: &[HotelBookingEvent]) -> Vec<Box<dyn Guard>> {
        events
            .iter()
            .map(|event| match event {
                HotelBookingEvent::RoomBooked {
                    room_id,
                    start_date,
                    end_date,
                    ..
                } => {
                    let (start, end) = stay_instants(*start_date, *end_date);
                    ROOM_NIGHTS.claim(booking_id, *room_id, start, end)
                }
                HotelBookingEvent::RoomBookingCancelled { .. } => ROOM_NIGHTS.release(booking_id),
            })
            .collect()
    }
}

impl CommandTarget for HotelPayment {
    fn command_name(command: &HotelPaymentCommand) -> &'static str {
        match command {
            HotelPaymentCommand::ApprovePayment { .. } => "ApprovePayment",
            HotelPaymentCommand::CancelHotelPayment => "CancelHotelPayment",
        }
    }
}
