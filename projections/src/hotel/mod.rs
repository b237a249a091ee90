//! The hotel context's views: **roomList**, **hotelBookingList**, and the mypage's
//! sections **mypageStays** (a guest's stays) and **mypageHosting** (the stays of a
//! host's rooms).

mod hotel_booking_list;
mod room_list;

use cqrs_es::Aggregate;
use domain::hotel::hotel_booking::{HotelBooking, HotelBookingEvent};
use domain::hotel::hotel_payment::{HotelPayment, HotelPaymentEvent};
use domain::hotel::hotel_room::{HotelRoom, HotelRoomEvent};

pub use hotel_booking_list::HotelBookingRow;
pub use room_list::RoomRow;

use crate::event::LogEvent;
use crate::table::{ContextEvent, Table, TableView};
use crate::view::View;

/// roomList: one row per hotel room.
pub static ROOM_LIST: TableView<RoomRow> = TableView::new("roomList", Table::new("room_list"));

/// hotelBookingList: one row per stay.
pub static HOTEL_BOOKING_LIST: TableView<HotelBookingRow> =
    TableView::new("hotelBookingList", Table::new("hotel_booking_list"));

/// The mypage's `stays`: the same rows as hotelBookingList, per guest.
pub static MYPAGE_STAYS: TableView<HotelBookingRow> = TableView::new(
    "mypageStays",
    Table::new("mypage_stays").owned_by("user_id", "guest_id"),
);

/// The mypage's `hosting`: the same rows as hotelBookingList, per host of the room.
pub static MYPAGE_HOSTING: TableView<HotelBookingRow> = TableView::new(
    "mypageHosting",
    Table::new("mypage_hosting").owned_by("user_id", "host_id"),
);

/// The hotel's views.
pub fn views() -> Vec<&'static dyn View> {
    vec![
        &ROOM_LIST,
        &HOTEL_BOOKING_LIST,
        &MYPAGE_STAYS,
        &MYPAGE_HOSTING,
    ]
}

/// A hotel event as read from the log.
#[derive(Debug, Clone, PartialEq)]
pub enum HotelEvent {
    Room(HotelRoomEvent),
    Booking(HotelBookingEvent),
    Payment(HotelPaymentEvent),
}

impl ContextEvent for HotelEvent {
    const AGGREGATE_TYPES: &'static [&'static str] =
        &[HotelRoom::TYPE, HotelBooking::TYPE, HotelPayment::TYPE];

    fn decode(event: &LogEvent) -> Result<Option<Self>, serde_json::Error> {
        Ok(Some(match event.aggregate_type.as_str() {
            HotelRoom::TYPE => Self::Room(event.payload_as()?),
            HotelBooking::TYPE => Self::Booking(event.payload_as()?),
            HotelPayment::TYPE => Self::Payment(event.payload_as()?),
            _ => return Ok(None),
        }))
    }
}
