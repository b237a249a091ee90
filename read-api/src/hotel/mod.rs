//! The hotel context's reads: rooms (`GET /hotelRooms`, with a free-room search and each
//! room's booked nights), stays (`GET /hotelBookings`, a guest's own or the stays of a
//! host's rooms), and the mypage's `stays` and `hosting`.

mod rooms;
mod stays;

use projections::hotel::{HotelBookingRow, HOTEL_BOOKING_LIST, MYPAGE_HOSTING, MYPAGE_STAYS};
use utoipa::OpenApi;

use crate::mypage::RowsSection;
use crate::registry::Reads;
use crate::time_slots::TakenRanges;

/// The nights the rooms' active stays hold, from hotelBookingList.
static TAKEN_NIGHTS: TakenRanges = TakenRanges {
    view: &HOTEL_BOOKING_LIST,
    resource: "room_id",
    start: "start_date",
    end: "end_date",
    active: ("booking_status", "BOOKED"),
};

/// The mypage's `stays`: the user's latest stays as a guest.
static STAYS: RowsSection<HotelBookingRow> = RowsSection::new(
    "stays",
    &MYPAGE_STAYS,
    "booking_id DESC",
    "/hotelBookings?guestId=",
);

/// The mypage's `hosting`: the latest stays in the user's rooms.
static HOSTING: RowsSection<HotelBookingRow> = RowsSection::new(
    "hosting",
    &MYPAGE_HOSTING,
    "booking_id DESC",
    "/hotelBookings?hostId=",
);

/// The hotel's reads.
pub fn reads() -> Reads {
    Reads {
        routes: rooms::router().merge(stays::router()),
        openapi: HotelDoc::openapi(),
        mypage: vec![&STAYS, &HOSTING],
    }
}

#[derive(OpenApi)]
#[openapi(
    paths(rooms::list, rooms::one, stays::list, stays::one),
    tags(
        (name = "hotelRooms", description = "Rooms, free ones, and their booked nights"),
        (name = "hotelBookings", description = "Stays with their payment"),
    )
)]
struct HotelDoc;
