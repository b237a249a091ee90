//! **bookOrderList**: one row per book order in `book_order_list` — what was ordered,
//! whether the stock served it, and where its shipment stands. The mypage's bookOrders
//! section keeps the same rows per member in `mypage_book_orders`.
//!
//! - `BookOrdered` starts the row (orderStatus ORDERED), `OutOfStocked` too
//!   (OUT_OF_STOCK, amount 0: nothing was sold).
//! - `BookOrderCancelled` sets orderStatus CANCELLED.
//! - `ShipmentStarted` / `ShipmentCancelled` set shipmentId and shipmentStatus STARTED /
//!   CANCELLED on the row of the payload's orderId.

use domain::bookstore::book_order::BookOrderEvent;
use domain::bookstore::shipment::ShipmentEvent;
use serde::Serialize;
use utoipa::ToSchema;

use super::BookstoreEvent;
use crate::event::{timestamp, LogEvent};
use crate::table::{Projected, ViewRow};

/// A row of bookOrderList (and of a mypage's bookOrders, whose table adds the owner).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BookOrderRow {
    pub order_id: String,
    pub member_id: String,
    pub book_id: String,
    pub title: String,
    pub qty: i64,
    pub amount: i64,
    pub order_status: String,
    pub shipment_id: Option<String>,
    pub shipment_status: Option<String>,
    pub ordered_at: String,
    pub position: i64,
    pub updated_at: String,
}

impl ViewRow for BookOrderRow {
    const COLUMNS: &'static [(&'static str, &'static str)] = &[
        ("order_id", "text"),
        ("member_id", "text"),
        ("book_id", "text"),
        ("title", "text"),
        ("qty", "bigint"),
        ("amount", "bigint"),
        ("order_status", "text"),
        ("shipment_id", "text"),
        ("shipment_status", "text"),
        ("ordered_at", "text"),
        ("position", "bigint"),
        ("updated_at", "text"),
    ];
    const OWNER: Option<&'static str> = Some("member_id");

    fn key(&self) -> &str {
        &self.order_id
    }

    fn owner(&self) -> Option<&str> {
        Some(&self.member_id)
    }

    fn position(&self) -> i64 {
        self.position
    }

    fn updated_at(&self) -> &str {
        &self.updated_at
    }
}

impl Projected for BookOrderRow {
    type Event = BookstoreEvent;

    fn key_of(event: &LogEvent, business: &BookstoreEvent) -> Option<String> {
        match business {
            BookstoreEvent::BookOrder(_) => Some(event.aggregate_id.clone()),
            BookstoreEvent::Shipment(
                ShipmentEvent::ShipmentStarted { order_id }
                | ShipmentEvent::ShipmentCancelled { order_id },
            ) => Some(order_id.to_string()),
            BookstoreEvent::Book(_) | BookstoreEvent::Member(_) => None,
        }
    }

    fn starts_row(business: &BookstoreEvent) -> bool {
        matches!(
            business,
            BookstoreEvent::BookOrder(
                BookOrderEvent::BookOrdered { .. } | BookOrderEvent::OutOfStocked { .. }
            )
        )
    }

    fn apply(
        row: &mut Option<Self>,
        event: &LogEvent,
        business: &BookstoreEvent,
    ) -> Result<(), String> {
        let started =
            |member_id: &str, book_id, title: &str, qty, amount, status, at| BookOrderRow {
                order_id: event.aggregate_id.clone(),
                member_id: member_id.to_string(),
                book_id: uuid::Uuid::to_string(book_id),
                title: title.to_string(),
                qty,
                amount,
                order_status: String::from(status),
                shipment_id: None,
                shipment_status: None,
                ordered_at: timestamp(at),
                position: event.position,
                updated_at: event.recorded_at_text(),
            };
        match business {
            BookstoreEvent::BookOrder(BookOrderEvent::BookOrdered {
                member_id,
                book_id,
                title,
                qty,
                amount,
                ordered_at,
            }) => {
                *row = Some(started(
                    member_id, book_id, title, *qty, *amount, "ORDERED", ordered_at,
                ));
                return Ok(());
            }
            BookstoreEvent::BookOrder(BookOrderEvent::OutOfStocked {
                member_id,
                book_id,
                title,
                qty,
                ordered_at,
            }) => {
                *row = Some(started(
                    member_id,
                    book_id,
                    title,
                    *qty,
                    0,
                    "OUT_OF_STOCK",
                    ordered_at,
                ));
                return Ok(());
            }
            _ => {}
        }
        let Some(row) = row else {
            return Ok(());
        };
        match business {
            BookstoreEvent::BookOrder(BookOrderEvent::BookOrderCancelled { .. }) => {
                row.order_status = "CANCELLED".to_string();
            }
            BookstoreEvent::Shipment(shipment) => {
                let status = match shipment {
                    ShipmentEvent::ShipmentStarted { .. } => "STARTED",
                    ShipmentEvent::ShipmentCancelled { .. } => "CANCELLED",
                };
                row.shipment_id = Some(event.aggregate_id.clone());
                row.shipment_status = Some(status.to_string());
            }
            _ => return Ok(()),
        }
        row.position = event.position;
        row.updated_at = event.recorded_at_text();
        Ok(())
    }
}
