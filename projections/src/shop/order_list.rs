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
//! The mypage's orders section keeps the same rows per user in `mypage_orders`.

use domain::shop::delivery::DeliveryEvent;
use domain::shop::order::OrderEvent;
use domain::shop::payment::PaymentEvent;
use serde::Serialize;
use utoipa::ToSchema;

use super::ShopEvent;
use crate::event::{wire_name, LogEvent};
use crate::table::{Projected, ViewRow};

/// orderStatus of a placed order.
const PLACED: &str = "PLACED";
/// orderStatus, paymentStatus and deliveryStatus once cancelled.
const CANCELLED: &str = "CANCELLED";
/// paymentStatus once paid.
const PAID: &str = "PAID";
/// deliveryStatus once started.
const STARTED: &str = "STARTED";

/// A row of orderList (and of a mypage's orders, whose table adds the owner).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderRow {
    pub order_id: String,
    pub customer_id: String,
    pub product: String,
    pub qty: i64,
    pub price: i64,
    pub pay_method: String,
    pub order_status: String,
    pub cancelled_by: Option<String>,
    pub payment_id: Option<String>,
    pub payment_status: Option<String>,
    pub delivery_id: Option<String>,
    pub delivery_status: Option<String>,
    pub position: i64,
    pub updated_at: String,
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

    const OWNER: Option<&'static str> = Some("customer_id");

    fn key(&self) -> &str {
        &self.order_id
    }

    fn owner(&self) -> Option<&str> {
        Some(&self.customer_id)
    }

    fn position(&self) -> i64 {
        self.position
    }

    fn updated_at(&self) -> &str {
        &self.updated_at
    }
}

impl Projected for OrderRow {
    type Event = ShopEvent;

    fn key_of(event: &LogEvent, business: &ShopEvent) -> Option<String> {
        Some(business.order_id(event))
    }

    fn starts_row(business: &ShopEvent) -> bool {
        matches!(business, ShopEvent::Order(OrderEvent::OrderPlaced { .. }))
    }

    fn apply(row: &mut Option<Self>, event: &LogEvent, business: &ShopEvent) -> Result<(), String> {
        if let ShopEvent::Order(OrderEvent::OrderPlaced {
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
            ShopEvent::Order(OrderEvent::OrderCancelled { cancelled_by }) => {
                row.order_status = CANCELLED.to_string();
                row.cancelled_by = Some(wire_name(cancelled_by)?);
            }
            ShopEvent::Payment(payment) => {
                let status = match payment {
                    PaymentEvent::PaymentMade { .. } => PAID,
                    PaymentEvent::PaymentCancelled { .. } => CANCELLED,
                };
                row.payment_id = id;
                row.payment_status = Some(status.to_string());
            }
            ShopEvent::Delivery(delivery) => {
                let status = match delivery {
                    DeliveryEvent::DeliveryStarted { .. } => STARTED,
                    DeliveryEvent::DeliveryCancelled { .. } => CANCELLED,
                };
                row.delivery_id = id;
                row.delivery_status = Some(status.to_string());
            }
            ShopEvent::Order(OrderEvent::OrderPlaced { .. }) => return Ok(()),
        }
        row.position = event.position;
        row.updated_at = event.recorded_at_text();
        Ok(())
    }
}
