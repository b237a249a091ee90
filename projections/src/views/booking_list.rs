//! **bookingList**: one row per booking in `booking_list` — the room and period booked,
//! by whom, and where the booking and its manager's confirm stand.
//!
//! - `BookingCreated` starts the row (bookingStatus CREATED).
//! - `BookingCancelled` sets bookingStatus CANCELLED.
//! - `ConfirmRequested` sets confirmId (the confirm's aggregate id) and confirmStatus
//!   BOOKED on the row of the payload's bookingId.
//! - `ConfirmCompleted` / `ConfirmDenied` set confirmStatus CONFIRMED / DENIED,
//!   confirmDtm and confirmUserId (the deciding manager).
//! - `ConfirmDeleted` sets confirmStatus DELETED (the decision, if any, stays shown).
//!
//! An update whose booking row does not exist changes nothing. The mypage view keeps the
//! same rows per user in `mypage_bookings`.

use domain::booking::booking::BookingEvent;
use domain::booking::confirm::{ConfirmEvent, ConfirmStatus};
use serde::Serialize;

use super::order_list::wire_name;
use super::table::{Table, ViewRow};
use crate::event::{timestamp, BusinessEvent, LogEvent};

/// bookingStatus of a booking that holds its room.
const CREATED: &str = "CREATED";
/// bookingStatus once cancelled.
const CANCELLED: &str = "CANCELLED";

/// The bookingList view's table.
pub(super) const BOOKING_LIST: Table<BookingRow> = Table::new("booking_list");

/// A row of `booking_list` (and of `mypage_bookings`, which adds the owner).
#[derive(Debug, Serialize, sqlx::FromRow)]
pub(crate) struct BookingRow {
    booking_id: String,
    room_id: i64,
    use_start_dtm: String,
    use_end_dtm: String,
    booking_user_id: String,
    booking_dtm: String,
    booking_status: String,
    confirm_id: Option<String>,
    confirm_status: Option<String>,
    confirm_dtm: Option<String>,
    confirm_user_id: Option<String>,
    position: i64,
    updated_at: String,
}

impl ViewRow for BookingRow {
    const COLUMNS: &'static [(&'static str, &'static str)] = &[
        ("booking_id", "text"),
        ("room_id", "bigint"),
        ("use_start_dtm", "text"),
        ("use_end_dtm", "text"),
        ("booking_user_id", "text"),
        ("booking_dtm", "text"),
        ("booking_status", "text"),
        ("confirm_id", "text"),
        ("confirm_status", "text"),
        ("confirm_dtm", "text"),
        ("confirm_user_id", "text"),
        ("position", "bigint"),
        ("updated_at", "text"),
    ];

    fn id(&self) -> &str {
        &self.booking_id
    }

    fn key_of(event: &LogEvent, business: &BusinessEvent) -> Option<String> {
        match business {
            BusinessEvent::Booking(_) => Some(event.aggregate_id.clone()),
            BusinessEvent::Confirm(confirm) => Some(confirm_booking(confirm).to_string()),
            BusinessEvent::Order(_)
            | BusinessEvent::Payment(_)
            | BusinessEvent::Delivery(_)
            | BusinessEvent::Notification(_) => None,
        }
    }

    fn starts_row(business: &BusinessEvent) -> bool {
        matches!(
            business,
            BusinessEvent::Booking(BookingEvent::BookingCreated { .. })
        )
    }

    fn apply(
        row: &mut Option<Self>,
        event: &LogEvent,
        business: &BusinessEvent,
    ) -> Result<(), String> {
        if let BusinessEvent::Booking(BookingEvent::BookingCreated {
            room_id,
            use_start_dtm,
            use_end_dtm,
            booking_user_id,
            booking_dtm,
        }) = business
        {
            *row = Some(BookingRow {
                booking_id: event.aggregate_id.clone(),
                room_id: *room_id,
                use_start_dtm: timestamp(use_start_dtm),
                use_end_dtm: timestamp(use_end_dtm),
                booking_user_id: booking_user_id.clone(),
                booking_dtm: timestamp(booking_dtm),
                booking_status: CREATED.to_string(),
                confirm_id: None,
                confirm_status: None,
                confirm_dtm: None,
                confirm_user_id: None,
                position: event.position,
                updated_at: event.recorded_at_text(),
            });
            return Ok(());
        }
        let Some(row) = row else {
            return Ok(());
        };
        match business {
            BusinessEvent::Booking(BookingEvent::BookingCancelled { .. }) => {
                row.booking_status = CANCELLED.to_string();
            }
            BusinessEvent::Confirm(confirm) => {
                row.confirm_id = Some(event.aggregate_id.clone());
                row.confirm_status = Some(wire_name(&confirm_status(confirm))?);
                if let ConfirmEvent::ConfirmCompleted {
                    manager_id,
                    confirm_dtm,
                    ..
                }
                | ConfirmEvent::ConfirmDenied {
                    manager_id,
                    confirm_dtm,
                    ..
                } = confirm
                {
                    row.confirm_dtm = Some(timestamp(confirm_dtm));
                    row.confirm_user_id = Some(manager_id.clone());
                }
            }
            _ => return Ok(()),
        }
        row.position = event.position;
        row.updated_at = event.recorded_at_text();
        Ok(())
    }
}

/// The booking a confirm event is about.
fn confirm_booking(confirm: &ConfirmEvent) -> uuid::Uuid {
    match confirm {
        ConfirmEvent::ConfirmRequested { booking_id, .. }
        | ConfirmEvent::ConfirmCompleted { booking_id, .. }
        | ConfirmEvent::ConfirmDenied { booking_id, .. }
        | ConfirmEvent::ConfirmDeleted { booking_id } => *booking_id,
    }
}

/// The confirm status a confirm event leaves.
fn confirm_status(confirm: &ConfirmEvent) -> ConfirmStatus {
    match confirm {
        ConfirmEvent::ConfirmRequested { .. } => ConfirmStatus::Booked,
        ConfirmEvent::ConfirmCompleted { .. } => ConfirmStatus::Confirmed,
        ConfirmEvent::ConfirmDenied { .. } => ConfirmStatus::Denied,
        ConfirmEvent::ConfirmDeleted { .. } => ConfirmStatus::Deleted,
    }
}
