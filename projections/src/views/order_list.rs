//! **orderList**: one row per order in `order_list` — what was ordered, and where the
//! order, its payment and its delivery stand.
//!
//! - `OrderPlaced` starts the row (orderStatus PLACED).
//! - `OrderCancelled` sets orderStatus CANCELLED and cancelledBy.
//! - `PaymentMade` / `PaymentCancelled` set paymentId (the payment's aggregate id) and
//!   paymentStatus PAID / CANCELLED on the row of the payload's orderId.
//! - `DeliveryStarted` / `DeliveryCancelled` set deliveryId and deliveryStatus
//!   STARTED / CANCELLED the same way.
//!
//! An update whose order row does not exist changes nothing (an order's `PaymentMade`
//! commits right after its `OrderPlaced`, so in log order the row is always there).
//! The mypage view keeps the same rows per user in `mypage_orders`.

use domain::shop::delivery::DeliveryEvent;
use domain::shop::order::OrderEvent;
use domain::shop::payment::PaymentEvent;
use serde::Serialize;
use serde_json::Value;

use super::table::{Table, ViewRow};
use crate::event::{BusinessEvent, LogEvent};

/// orderStatus of a placed order.
const PLACED: &str = "PLACED";
/// orderStatus, paymentStatus and deliveryStatus once cancelled.
const CANCELLED: &str = "CANCELLED";
/// paymentStatus once paid.
const PAID: &str = "PAID";
/// deliveryStatus once started.
const STARTED: &str = "STARTED";

/// The orderList view's table.
pub(super) const ORDER_LIST: Table<OrderRow> = Table::new("order_list");

/// A row of `order_list` (and of `mypage_orders`, which adds the owner).
#[derive(Debug, Serialize, sqlx::FromRow)]
pub(crate) struct OrderRow {
    order_id: String,
    customer_id: String,
    product: String,
    qty: i64,
    price: i64,
    pay_method: String,
    order_status: String,
    cancelled_by: Option<String>,
    payment_id: Option<String>,
    payment_status: Option<String>,
    delivery_id: Option<String>,
    delivery_status: Option<String>,
    position: i64,
    updated_at: String,
}

impl ViewRow for OrderRow {
    const COLUMNS: &'static [(&'static str, &'static str)] = &[
        ("order_id", "text"),
        ("customer_id", "text"),
        ("product", "text"),
        ("qty", "bigint"),
        ("price", "bigint"),
        ("pay_method", "text"),
        ("order_status", "text"),
        ("cancelled_by", "text"),
        ("payment_id", "text"),
        ("payment_status", "text"),
        ("delivery_id", "text"),
        ("delivery_status", "text"),
        ("position", "bigint"),
        ("updated_at", "text"),
    ];

    fn id(&self) -> &str {
        &self.order_id
    }

    fn key_of(event: &LogEvent, business: &BusinessEvent) -> Option<String> {
        match business {
            BusinessEvent::Order(_) => Some(event.aggregate_id.clone()),
            BusinessEvent::Payment(
                PaymentEvent::PaymentMade { order_id, .. }
                | PaymentEvent::PaymentCancelled { order_id },
            ) => Some(order_id.to_string()),
            BusinessEvent::Delivery(
                DeliveryEvent::DeliveryStarted { order_id }
                | DeliveryEvent::DeliveryCancelled { order_id },
            ) => Some(order_id.to_string()),
            BusinessEvent::Booking(_)
            | BusinessEvent::Confirm(_)
            | BusinessEvent::Notification(_) => None,
        }
    }

    fn starts_row(business: &BusinessEvent) -> bool {
        matches!(
            business,
            BusinessEvent::Order(OrderEvent::OrderPlaced { .. })
        )
    }

    fn apply(
        row: &mut Option<Self>,
        event: &LogEvent,
        business: &BusinessEvent,
    ) -> Result<(), String> {
        if let BusinessEvent::Order(OrderEvent::OrderPlaced {
            customer_id,
            product,
            qty,
            price,
            pay_method,
        }) = business
        {
            *row = Some(OrderRow {
                order_id: event.aggregate_id.clone(),
                customer_id: customer_id.clone(),
                product: product.clone(),
                qty: *qty,
                price: *price,
                pay_method: wire_name(pay_method)?,
                order_status: PLACED.to_string(),
                cancelled_by: None,
                payment_id: None,
                payment_status: None,
                delivery_id: None,
                delivery_status: None,
                position: event.position,
                updated_at: event.recorded_at_text(),
            });
            return Ok(());
        }
        let Some(row) = row else {
            return Ok(());
        };
        let id = Some(event.aggregate_id.clone());
        match business {
            BusinessEvent::Order(OrderEvent::OrderCancelled { cancelled_by }) => {
                row.order_status = CANCELLED.to_string();
                row.cancelled_by = Some(wire_name(cancelled_by)?);
            }
            BusinessEvent::Payment(payment) => {
                let status = match payment {
                    PaymentEvent::PaymentMade { .. } => PAID,
                    PaymentEvent::PaymentCancelled { .. } => CANCELLED,
                };
                row.payment_id = id;
                row.payment_status = Some(status.to_string());
            }
            BusinessEvent::Delivery(delivery) => {
                let status = match delivery {
                    DeliveryEvent::DeliveryStarted { .. } => STARTED,
                    DeliveryEvent::DeliveryCancelled { .. } => CANCELLED,
                };
                row.delivery_id = id;
                row.delivery_status = Some(status.to_string());
            }
            _ => return Ok(()),
        }
        row.position = event.position;
        row.updated_at = event.recorded_at_text();
        Ok(())
    }
}

/// The name an enum has in the stored events (`CARD`, `CUSTOMER`, `DENIED`, …), taken
/// from its serde form so a view shows exactly what the log holds.
pub(super) fn wire_name<T: Serialize>(value: &T) -> Result<String, String> {
    match serde_json::to_value(value) {
        Ok(Value::String(name)) => Ok(name),
        Ok(other) => Err(format!("expected an enum name, got {other}")),
        Err(error) => Err(error.to_string()),
    }
}
