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
//! An update whose booking row does not exist changes nothing. The mypage's bookings
//! section keeps the same rows per user in `mypage_bookings`.

use domain::booking::booking::BookingEvent;
use domain::booking::confirm::{ConfirmEvent, ConfirmStatus};
use serde::Serialize;
use utoipa::ToSchema;

use super::BookingContextEvent;
use crate::event::{timestamp, wire_name, LogEvent};
use crate::table::{Projected, ViewRow};

/// bookingStatus of a booking that holds its room.
const CREATED: &str = "CREATED";
/// bookingStatus once cancelled.
const CANCELLED: &str = "CANCELLED";

/// A row of bookingList (and of a mypage's bookings, whose table adds the owner).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BookingRow {
    pub booking_id: String,
    pub room_id: i64,
    pub use_start_dtm: String,
    pub use_end_dtm: String,
    pub booking_user_id: String,
    pub booking_dtm: String,
    pub booking_status: String,
    pub confirm_id: Option<String>,
    pub confirm_status: Option<String>,
    pub confirm_dtm: Option<String>,
    pub confirm_user_id: Option<String>,
    pub position: i64,
    pub updated_at: String,
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

    const OWNER: Option<&'static str> = Some("booking_user_id");

    fn key(&self) -> &str {
        &self.booking_id
    }

    fn owner(&self) -> Option<&str> {
        Some(&self.booking_user_id)
    }

    fn position(&self) -> i64 {
        self.position
    }

    fn updated_at(&self) -> &str {
        &self.updated_at
    }
}

impl Projected for BookingRow {
    type Event = BookingContextEvent;

    fn key_of(event: &LogEvent, business: &BookingContextEvent) -> Option<String> {
        Some(business.booking_id(event))
    }

    fn starts_row(business: &BookingContextEvent) -> bool {
        matches!(
            business,
            BookingContextEvent::Booking(BookingEvent::BookingCreated { .. })
        )
    }

    fn apply(
        row: &mut Option<Self>,
        event: &LogEvent,
        business: &BookingContextEvent,
    ) -> Result<(), String> {
        if let BookingContextEvent::Booking(BookingEvent::BookingCreated {
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
            BookingContextEvent::Booking(BookingEvent::BookingCancelled { .. }) => {
                row.booking_status = CANCELLED.to_string();
            }
            BookingContextEvent::Confirm(confirm) => {
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
            BookingContextEvent::Booking(BookingEvent::BookingCreated { .. }) => return Ok(()),
        }
        row.position = event.position;
        row.updated_at = event.recorded_at_text();
        Ok(())
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
