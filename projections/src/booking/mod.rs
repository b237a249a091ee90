//! The booking context's views: **bookingList**, and the `bookings` section of the
//! mypage (**mypageBookings**). Both hold [`BookingRow`]s, changed by the same booking
//! and confirm events.

mod booking_list;

use cqrs_es::Aggregate;
use domain::booking::booking::{Booking, BookingEvent};
use domain::booking::confirm::{Confirm, ConfirmEvent};

pub use booking_list::BookingRow;

use crate::event::LogEvent;
use crate::table::{ContextEvent, Table, TableView};
use crate::view::View;

/// bookingList: one row per booking.
pub static BOOKING_LIST: TableView<BookingRow> =
    TableView::new("bookingList", Table::new("booking_list"));

/// The mypage's `bookings`: the same rows, per booking user.
pub static MYPAGE_BOOKINGS: TableView<BookingRow> = TableView::new(
    "mypageBookings",
    Table::new("mypage_bookings").owned_by("user_id", "booking_user_id"),
);

/// The booking context's views.
pub fn views() -> Vec<&'static dyn View> {
    vec![&BOOKING_LIST, &MYPAGE_BOOKINGS]
}

/// A booking-context event as read from the log.
#[derive(Debug, Clone, PartialEq)]
pub enum BookingContextEvent {
    Booking(BookingEvent),
    Confirm(ConfirmEvent),
}

impl BookingContextEvent {
    /// The booking the event belongs to: its own stream's id, or the booking a confirm
    /// is about.
    pub fn booking_id(&self, event: &LogEvent) -> String {
        match self {
            Self::Confirm(
                ConfirmEvent::ConfirmRequested { booking_id, .. }
                | ConfirmEvent::ConfirmCompleted { booking_id, .. }
                | ConfirmEvent::ConfirmDenied { booking_id, .. }
                | ConfirmEvent::ConfirmDeleted { booking_id },
            ) => booking_id.to_string(),
            Self::Booking(_) => event.aggregate_id.clone(),
        }
    }
}

impl ContextEvent for BookingContextEvent {
    const AGGREGATE_TYPES: &'static [&'static str] = &[Booking::TYPE, Confirm::TYPE];

    fn decode(event: &LogEvent) -> Result<Option<Self>, serde_json::Error> {
        Ok(Some(match event.aggregate_type.as_str() {
            Booking::TYPE => Self::Booking(event.payload_as()?),
            Confirm::TYPE => Self::Confirm(event.payload_as()?),
            _ => return Ok(None),
        }))
    }
}
