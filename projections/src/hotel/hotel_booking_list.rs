//! **hotelBookingList**: one row per stay in `hotel_booking_list` — the room, the guest,
//! the nights and where its payment stands. The mypage's stays and hosting sections keep
//! the same rows per guest (`mypage_stays`) and per host (`mypage_hosting`).
//!
//! - `RoomBooked` starts the row (bookingStatus BOOKED).
//! - `RoomBookingCancelled` sets bookingStatus CANCELLED and cancelledBy.
//! - `PaymentApproved` / `PaymentCancelled` set payMethod and paymentStatus APPROVED /
//!   CANCELLED on the row of the payload's bookingId.

use domain::hotel::hotel_booking::HotelBookingEvent;
use domain::hotel::hotel_payment::HotelPaymentEvent;
use serde::Serialize;
use utoipa::ToSchema;

use super::HotelEvent;
use crate::event::{timestamp, wire_name, LogEvent};
use crate::table::{Projected, ViewRow};

/// A row of hotelBookingList (and of a mypage's stays or hosting, whose tables add the
/// owner).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HotelBookingRow {
    pub booking_id: String,
    pub room_id: String,
    pub room_name: String,
    pub host_id: String,
    pub guest_id: String,
    /// The first night (`YYYY-MM-DD`).
    pub start_date: String,
    /// The check-out day (`YYYY-MM-DD`), not a night of the stay.
    pub end_date: String,
    pub nights: i64,
    /// The room's price × nights, in minor units.
    pub amount: i64,
    /// `BOOKED` or `CANCELLED`.
    pub booking_status: String,
    /// `GUEST`, `HOST`, `ADMIN` or `ROOM_DELETED`, once cancelled.
    pub cancelled_by: Option<String>,
    pub payment_id: String,
    pub pay_method: Option<String>,
    /// `APPROVED` or `CANCELLED` (refunded).
    pub payment_status: Option<String>,
    pub booked_at: String,
    pub position: i64,
    pub updated_at: String,
}

impl ViewRow for HotelBookingRow {
    const COLUMNS: &'static [(&'static str, &'static str)] = &[
        ("booking_id", "text"),
        ("room_id", "text"),
        ("room_name", "text"),
        ("host_id", "text"),
        ("guest_id", "text"),
        ("start_date", "text"),
        ("end_date", "text"),
        ("nights", "bigint"),
        ("amount", "bigint"),
        ("booking_status", "text"),
        ("cancelled_by", "text"),
        ("payment_id", "text"),
        ("pay_method", "text"),
        ("payment_status", "text"),
        ("booked_at", "text"),
        ("position", "bigint"),
        ("updated_at", "text"),
    ];
    // A customer reads their stays as the guest (a host reads their rooms' stays by
    // host_id: the hotel's reads say so).
    const OWNER: Option<&'static str> = Some("guest_id");

    fn key(&self) -> &str {
        &self.booking_id
    }

    fn owner(&self) -> Option<&str> {
        Some(&self.guest_id)
    }

    fn position(&self) -> i64 {
        self.position
    }

    fn updated_at(&self) -> &str {
        &self.updated_at
    }
}

impl Projected for HotelBookingRow {
    type Event = HotelEvent;

    fn key_of(event: &LogEvent, business: &HotelEvent) -> Option<String> {
        match business {
            HotelEvent::Booking(_) => Some(event.aggregate_id.clone()),
            HotelEvent::Payment(
                HotelPaymentEvent::PaymentApproved { booking_id, .. }
                | HotelPaymentEvent::PaymentCancelled { booking_id, .. },
            ) => Some(booking_id.to_string()),
            HotelEvent::Room(_) => None,
        }
    }

    fn starts_row(business: &HotelEvent) -> bool {
        matches!(
            business,
            HotelEvent::Booking(HotelBookingEvent::RoomBooked { .. })
        )
    }

    fn apply(
        row: &mut Option<Self>,
        event: &LogEvent,
        business: &HotelEvent,
    ) -> Result<(), String> {
        if let HotelEvent::Booking(HotelBookingEvent::RoomBooked {
            room_id,
            room_name,
            host_id,
            guest_id,
            start_date,
            end_date,
            nights,
            amount,
            payment_id,
            booked_at,
        }) = business
        {
            *row = Some(HotelBookingRow {
                booking_id: event.aggregate_id.clone(),
                room_id: room_id.to_string(),
                room_name: room_name.clone(),
                host_id: host_id.clone(),
                guest_id: guest_id.clone(),
                start_date: start_date.to_string(),
                end_date: end_date.to_string(),
                nights: *nights,
                amount: *amount,
                booking_status: "BOOKED".to_string(),
                cancelled_by: None,
                payment_id: payment_id.to_string(),
                pay_method: None,
                payment_status: None,
                booked_at: timestamp(booked_at),
                position: event.position,
                updated_at: event.recorded_at_text(),
            });
            return Ok(());
        }
        let Some(row) = row else {
            return Ok(());
        };
        match business {
            HotelEvent::Booking(HotelBookingEvent::RoomBookingCancelled { cancelled_by }) => {
                row.booking_status = "CANCELLED".to_string();
                row.cancelled_by = Some(wire_name(cancelled_by)?);
            }
            HotelEvent::Payment(HotelPaymentEvent::PaymentApproved { pay_method, .. }) => {
                row.pay_method = Some(wire_name(pay_method)?);
                row.payment_status = Some("APPROVED".to_string());
            }
            HotelEvent::Payment(HotelPaymentEvent::PaymentCancelled { .. }) => {
                row.payment_status = Some("CANCELLED".to_string());
            }
            _ => return Ok(()),
        }
        row.position = event.position;
        row.updated_at = event.recorded_at_text();
        Ok(())
    }
}
