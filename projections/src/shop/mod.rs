//! The shop context's views: **orderList**, and the `orders` section of the mypage
//! (**mypageOrders**). Both hold [`OrderRow`]s, changed by the same order, payment and
//! delivery events.

mod order_list;

use cqrs_es::Aggregate;
use domain::shop::delivery::{Delivery, DeliveryEvent};
use domain::shop::order::{Order, OrderEvent};
use domain::shop::payment::{Payment, PaymentEvent};

pub use order_list::OrderRow;

use crate::event::LogEvent;
use crate::table::{ContextEvent, Table, TableView};
use crate::view::View;

/// orderList: one row per order.
pub static ORDER_LIST: TableView<OrderRow> = TableView::new("orderList", Table::new("order_list"));

/// The mypage's `orders`: the same rows, per customer.
pub static MYPAGE_ORDERS: TableView<OrderRow> = TableView::new(
    "mypageOrders",
    Table::new("mypage_orders").owned_by("user_id", "customer_id"),
);

/// The shop's views.
pub fn views() -> Vec<&'static dyn View> {
    vec![&ORDER_LIST, &MYPAGE_ORDERS]
}

/// A shop event as read from the log.
#[derive(Debug, Clone, PartialEq)]
pub enum ShopEvent {
    Order(OrderEvent),
    Payment(PaymentEvent),
    Delivery(DeliveryEvent),
}

impl ShopEvent {
    /// The order the event belongs to: its own stream's id, or the order a payment or
    /// delivery names.
    pub fn order_id(&self, event: &LogEvent) -> String {
        match self {
            Self::Payment(
                PaymentEvent::PaymentMade { order_id, .. }
                | PaymentEvent::PaymentCancelled { order_id },
            )
            | Self::Delivery(
                DeliveryEvent::DeliveryStarted { order_id }
                | DeliveryEvent::DeliveryCancelled { order_id },
            ) => order_id.to_string(),
            Self::Order(_) => event.aggregate_id.clone(),
        }
    }
}

impl ContextEvent for ShopEvent {
    const AGGREGATE_TYPES: &'static [&'static str] = &[Order::TYPE, Payment::TYPE, Delivery::TYPE];

    fn decode(event: &LogEvent) -> Result<Option<Self>, serde_json::Error> {
        Ok(Some(match event.aggregate_type.as_str() {
            Order::TYPE => Self::Order(event.payload_as()?),
            Payment::TYPE => Self::Payment(event.payload_as()?),
            Delivery::TYPE => Self::Delivery(event.payload_as()?),
            _ => return Ok(None),
        }))
    }
}
