//! **carOrderList**: one row per car order in `car_order_list` — the car and interval,
//! its payment and its reservation, and how far it has come (`progress`). The mypage's
//! carOrders section keeps the same rows per user in `mypage_car_orders`.
//!
//! - `CarOrdered` starts the row (orderStatus ORDERED, progress PAID).
//! - `PayApproved` / `PayCancelled` set payMethod and paymentStatus APPROVED / CANCELLED.
//! - `ReservationConfirmed` sets reservationStatus CONFIRMED and progress RESERVED
//!   (unless the order is cancelled by then); `ReservationCancelled` sets
//!   reservationStatus CANCELLED.
//! - `CarOrderCancelled` sets orderStatus and progress CANCELLED.

use domain::sharecar::car_order::CarOrderEvent;
use domain::sharecar::car_payment::CarPaymentEvent;
use domain::sharecar::car_reservation::CarReservationEvent;
use serde::Serialize;
use utoipa::ToSchema;

use super::SharecarEvent;
use crate::event::{timestamp, wire_name, LogEvent};
use crate::table::{Projected, ViewRow};

const CANCELLED: &str = "CANCELLED";

/// A row of carOrderList (and of a mypage's carOrders, whose table adds the owner).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CarOrderRow {
    pub order_id: String,
    pub user_id: String,
    pub car_id: String,
    pub car_name: String,
    pub start_dtm: String,
    pub end_dtm: String,
    /// The duration in hours, rounded up.
    pub hours: i64,
    /// pricePerHour × hours, in minor units.
    pub amount: i64,
    /// `ORDERED` or `CANCELLED`.
    pub order_status: String,
    pub payment_id: String,
    pub pay_method: Option<String>,
    /// `APPROVED` or `CANCELLED`.
    pub payment_status: Option<String>,
    pub reservation_id: Option<String>,
    /// `CONFIRMED` or `CANCELLED`.
    pub reservation_status: Option<String>,
    /// `PAID`, `RESERVED` once confirmed, `CANCELLED`.
    pub progress: String,
    pub ordered_at: String,
    pub position: i64,
    pub updated_at: String,
}

impl ViewRow for CarOrderRow {
    const COLUMNS: &'static [(&'static str, &'static str)] = &[
        ("order_id", "text"),
        ("user_id", "text"),
        ("car_id", "text"),
        ("car_name", "text"),
        ("start_dtm", "text"),
        ("end_dtm", "text"),
        ("hours", "bigint"),
        ("amount", "bigint"),
        ("order_status", "text"),
        ("payment_id", "text"),
        ("pay_method", "text"),
        ("payment_status", "text"),
        ("reservation_id", "text"),
        ("reservation_status", "text"),
        ("progress", "text"),
        ("ordered_at", "text"),
        ("position", "bigint"),
        ("updated_at", "text"),
    ];
    const OWNER: Option<&'static str> = Some("user_id");

    fn key(&self) -> &str {
        &self.order_id
    }

    fn owner(&self) -> Option<&str> {
        Some(&self.user_id)
    }

    fn position(&self) -> i64 {
        self.position
    }

    fn updated_at(&self) -> &str {
        &self.updated_at
    }
}

impl Projected for CarOrderRow {
    type Event = SharecarEvent;

    fn key_of(event: &LogEvent, business: &SharecarEvent) -> Option<String> {
        match business {
            SharecarEvent::Order(_) => Some(event.aggregate_id.clone()),
            SharecarEvent::Payment(
                CarPaymentEvent::PayApproved { order_id, .. }
                | CarPaymentEvent::PayCancelled { order_id, .. },
            )
            | SharecarEvent::Reservation(
                CarReservationEvent::ReservationConfirmed { order_id }
                | CarReservationEvent::ReservationCancelled { order_id },
            ) => Some(order_id.to_string()),
            SharecarEvent::Car(_) => None,
        }
    }

    fn starts_row(business: &SharecarEvent) -> bool {
        matches!(
            business,
            SharecarEvent::Order(CarOrderEvent::CarOrdered { .. })
        )
    }

    fn apply(
        row: &mut Option<Self>,
        event: &LogEvent,
        business: &SharecarEvent,
    ) -> Result<(), String> {
        if let SharecarEvent::Order(CarOrderEvent::CarOrdered {
            car_id,
            car_name,
            user_id,
            start_dtm,
            end_dtm,
            hours,
            amount,
            payment_id,
            ordered_at,
        }) = business
        {
            *row = Some(CarOrderRow {
                order_id: event.aggregate_id.clone(),
                user_id: user_id.clone(),
                car_id: car_id.to_string(),
                car_name: car_name.clone(),
                start_dtm: timestamp(start_dtm),
                end_dtm: timestamp(end_dtm),
                hours: *hours,
                amount: *amount,
                order_status: "ORDERED".to_string(),
                payment_id: payment_id.to_string(),
                pay_method: None,
                payment_status: None,
                reservation_id: None,
                reservation_status: None,
                progress: "PAID".to_string(),
                ordered_at: timestamp(ordered_at),
                position: event.position,
                updated_at: event.recorded_at_text(),
            });
            return Ok(());
        }
        let Some(row) = row else {
            return Ok(());
        };
        match business {
            SharecarEvent::Order(CarOrderEvent::CarOrderCancelled { .. }) => {
                row.order_status = CANCELLED.to_string();
                row.progress = CANCELLED.to_string();
            }
            SharecarEvent::Payment(CarPaymentEvent::PayApproved { pay_method, .. }) => {
                row.pay_method = Some(wire_name(pay_method)?);
                row.payment_status = Some("APPROVED".to_string());
            }
            SharecarEvent::Payment(CarPaymentEvent::PayCancelled { .. }) => {
                row.payment_status = Some(CANCELLED.to_string());
            }
            SharecarEvent::Reservation(reservation) => {
                row.reservation_id = Some(event.aggregate_id.clone());
                match reservation {
                    CarReservationEvent::ReservationConfirmed { .. } => {
                        row.reservation_status = Some("CONFIRMED".to_string());
                        if row.order_status != CANCELLED {
                            row.progress = "RESERVED".to_string();
                        }
                    }
                    CarReservationEvent::ReservationCancelled { .. } => {
                        row.reservation_status = Some(CANCELLED.to_string());
                    }
                }
            }
            _ => return Ok(()),
        }
        row.position = event.position;
        row.updated_at = event.recorded_at_text();
        Ok(())
    }
}
