//! The booking context's reads: `GET /bookingLists`, `GET /bookingLists/{id}`, and the
//! mypage's `bookings`.

mod bookings;

use projections::booking::{BookingRow, MYPAGE_BOOKINGS};
use utoipa::OpenApi;

use crate::mypage::RowsSection;
use crate::registry::Reads;

/// The mypage's `bookings`: the user's latest bookings, latest first.
static BOOKINGS: RowsSection<BookingRow> = RowsSection::new(
    "bookings",
    &MYPAGE_BOOKINGS,
    "booking_id DESC",
    "/bookingLists?userId=",
);

/// The booking context's reads.
pub fn reads() -> Reads {
    Reads {
        routes: bookings::router(),
        openapi: BookingDoc::openapi(),
        mypage: vec![&BOOKINGS],
    }
}

#[derive(OpenApi)]
#[openapi(
    paths(bookings::list, bookings::one),
    tags((name = "bookingLists", description = "Bookings with their confirm"))
)]
struct BookingDoc;
