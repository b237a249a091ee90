//! The `Order` aggregate: a customer's order for a quantity of one product.
//!
//! An order is placed once and cancelled at most once, by the customer or because its
//! delivery was cancelled. Paying for it is the `Payment` aggregate's business; the
//! command API places and pays in one request so that no order is ever unpaid.

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

use super::PayMethod;
use crate::rules::{identifier, int_range, text_length, InvalidField};
use crate::{Rejection, RejectionKind};

/// Most characters in a customer id.
pub const MAX_CUSTOMER_ID_CHARS: usize = 64;
/// Most characters in a product name.
pub const MAX_PRODUCT_CHARS: usize = 200;
/// Largest quantity one order may hold.
pub const MAX_QTY: i64 = 1000;
/// Highest unit price, in minor units.
pub const MAX_PRICE: i64 = 1_000_000_000;

/// An order's state, rebuilt from its events (and snapshotted as JSON).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Order {
    placed: Option<PlacedOrder>,
    cancelled_by: Option<CancelledBy>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlacedOrder {
    customer_id: String,
    product: String,
    qty: i64,
    price: i64,
    pay_method: PayMethod,
}

impl Order {
    /// The ordering customer, once placed.
    pub fn customer_id(&self) -> Option<&str> {
        self.placed.as_ref().map(|o| o.customer_id.as_str())
    }

    /// Whether the order has been cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled_by.is_some()
    }

    /// Who cancelled the order, if anyone did.
    pub fn cancelled_by(&self) -> Option<CancelledBy> {
        self.cancelled_by
    }

    /// What the order costs (qty × price, minor units), once placed.
    pub fn amount(&self) -> Option<i64> {
        self.placed.as_ref().map(|o| o.qty.saturating_mul(o.price))
    }

    /// How the customer pays, once placed.
    pub fn pay_method(&self) -> Option<PayMethod> {
        self.placed.as_ref().map(|o| o.pay_method)
    }
}

/// What can be asked of an order.
#[derive(Debug, Clone, PartialEq)]
pub enum OrderCommand {
    PlaceOrder(PlaceOrder),
    CancelOrder(CancelOrder),
}

/// Place a new order.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaceOrder {
    pub customer_id: String,
    pub product: String,
    pub qty: i64,
    pub price: i64,
    pub pay_method: PayMethod,
}

/// Cancel a placed order.
#[derive(Debug, Clone, PartialEq)]
pub struct CancelOrder {
    pub cancelled_by: CancelledBy,
    /// The customer asking, when a customer asks: only the order's own customer may,
    /// and anyone else is told there is no such order (ids cannot be probed). `None`
    /// when staff or a policy cancels.
    pub requested_by: Option<String>,
}

/// Who cancelled an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CancelledBy {
    /// The customer asked.
    Customer,
    /// Its delivery was cancelled.
    Delivery,
}

/// What happened to an order. The serialized form is the stored contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum OrderEvent {
    #[serde(rename = "OrderPlaced", rename_all = "camelCase")]
    OrderPlaced {
        customer_id: String,
        product: String,
        qty: i64,
        price: i64,
        pay_method: PayMethod,
    },
    #[serde(rename = "OrderCancelled", rename_all = "camelCase")]
    OrderCancelled { cancelled_by: CancelledBy },
}

/// The stored type names of [`OrderEvent`].
pub const EVENT_TYPES: &[&str] = &["OrderPlaced", "OrderCancelled"];

impl OrderEvent {
    /// The stored type names of every variant (same as [`EVENT_TYPES`]).
    pub const EVENT_TYPES: &'static [&'static str] = EVENT_TYPES;
}

impl DomainEvent for OrderEvent {
    fn event_type(&self) -> String {
        match self {
            OrderEvent::OrderPlaced { .. } => "OrderPlaced",
            OrderEvent::OrderCancelled { .. } => "OrderCancelled",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

/// Why an order command was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum OrderError {
    #[error("{reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("order not found")]
    NotFound,
    #[error("order already exists")]
    AlreadyExists,
    #[error("order is already cancelled")]
    AlreadyCancelled,
}

impl From<InvalidField> for OrderError {
    fn from(invalid: InvalidField) -> Self {
        OrderError::Invalid {
            field: invalid.field,
            reason: invalid.reason,
        }
    }
}

impl Rejection for OrderError {
    fn kind(&self) -> RejectionKind {
        match self {
            OrderError::Invalid { .. } => RejectionKind::Invalid,
            OrderError::NotFound => RejectionKind::NotFound,
            OrderError::AlreadyExists | OrderError::AlreadyCancelled => RejectionKind::Conflict,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            OrderError::Invalid { .. } => "invalid_field",
            OrderError::NotFound => "order_not_found",
            OrderError::AlreadyExists => "order_already_exists",
            OrderError::AlreadyCancelled => "order_already_cancelled",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            OrderError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}

impl Order {
    /// Decides a command against the current state: the events to record, or why not.
    fn decide(&self, command: OrderCommand) -> Result<Vec<OrderEvent>, OrderError> {
        match command {
            OrderCommand::PlaceOrder(place) => {
                if self.placed.is_some() {
                    return Err(OrderError::AlreadyExists);
                }
                identifier("customerId", &place.customer_id, MAX_CUSTOMER_ID_CHARS)?;
                text_length("product", &place.product, 1, MAX_PRODUCT_CHARS)?;
                int_range("qty", place.qty, 1, MAX_QTY)?;
                int_range("price", place.price, 1, MAX_PRICE)?;
                Ok(vec![OrderEvent::OrderPlaced {
                    customer_id: place.customer_id,
                    product: place.product,
                    qty: place.qty,
                    price: place.price,
                    pay_method: place.pay_method,
                }])
            }
            OrderCommand::CancelOrder(cancel) => {
                let Some(placed) = &self.placed else {
                    return Err(OrderError::NotFound);
                };
                if cancel
                    .requested_by
                    .as_deref()
                    .is_some_and(|customer| customer != placed.customer_id)
                {
                    return Err(OrderError::NotFound);
                }
                if self.is_cancelled() {
                    return Err(OrderError::AlreadyCancelled);
                }
                Ok(vec![OrderEvent::OrderCancelled {
                    cancelled_by: cancel.cancelled_by,
                }])
            }
        }
    }
}

impl Aggregate for Order {
    const TYPE: &'static str = "Order";
    type Command = OrderCommand;
    type Event = OrderEvent;
    type Error = OrderError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _service: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        for event in self.decide(command)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            OrderEvent::OrderPlaced {
                customer_id,
                product,
                qty,
                price,
                pay_method,
            } => {
                self.placed = Some(PlacedOrder {
                    customer_id,
                    product,
                    qty,
                    price,
                    pay_method,
                });
            }
            OrderEvent::OrderCancelled { cancelled_by } => {
                self.cancelled_by = Some(cancelled_by);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use cqrs_es::test::TestFramework;
    use serde_json::json;

    use super::*;
    use crate::testing::{assert_invalid, assert_stored_as};

    type OrderTest = TestFramework<Order>;

    fn place() -> PlaceOrder {
        PlaceOrder {
            customer_id: "customer-1".into(),
            product: "컴퓨터".into(),
            qty: 2,
            price: 1000,
            pay_method: PayMethod::Card,
        }
    }

    fn placed(place: PlaceOrder) -> OrderEvent {
        OrderEvent::OrderPlaced {
            customer_id: place.customer_id,
            product: place.product,
            qty: place.qty,
            price: place.price,
            pay_method: place.pay_method,
        }
    }

    async fn accepts(place: PlaceOrder) {
        OrderTest::with(())
            .given_no_previous_events()
            .when_async(OrderCommand::PlaceOrder(place.clone()))
            .await
            .then_expect_events(vec![placed(place)]);
    }

    async fn rejects(place: PlaceOrder, field: &str) {
        let result = OrderTest::with(())
            .given_no_previous_events()
            .when_async(OrderCommand::PlaceOrder(place))
            .await;
        assert_invalid(result, field);
    }

    fn cancel(by: CancelledBy) -> OrderCommand {
        OrderCommand::CancelOrder(CancelOrder {
            cancelled_by: by,
            requested_by: None,
        })
    }

    fn cancel_asked_by(customer: &str) -> OrderCommand {
        OrderCommand::CancelOrder(CancelOrder {
            cancelled_by: CancelledBy::Customer,
            requested_by: Some(customer.into()),
        })
    }

    #[tokio::test]
    async fn a_customer_cancels_their_own_order() {
        OrderTest::with(())
            .given(vec![placed(place())])
            .when_async(cancel_asked_by("customer-1"))
            .await
            .then_expect_events(vec![OrderEvent::OrderCancelled {
                cancelled_by: CancelledBy::Customer,
            }]);
    }

    #[tokio::test]
    async fn another_customers_order_is_not_found() {
        OrderTest::with(())
            .given(vec![placed(place())])
            .when_async(cancel_asked_by("customer-2"))
            .await
            .then_expect_error(OrderError::NotFound);
    }

    #[tokio::test]
    async fn places_an_order() {
        accepts(place()).await;
    }

    #[tokio::test]
    async fn placing_twice_conflicts() {
        OrderTest::with(())
            .given(vec![placed(place())])
            .when_async(OrderCommand::PlaceOrder(place()))
            .await
            .then_expect_error(OrderError::AlreadyExists);
    }

    #[tokio::test]
    async fn customer_id_is_1_to_64_chars() {
        accepts(PlaceOrder {
            customer_id: "c".repeat(64),
            ..place()
        })
        .await;
        rejects(
            PlaceOrder {
                customer_id: String::new(),
                ..place()
            },
            "customerId",
        )
        .await;
        rejects(
            PlaceOrder {
                customer_id: "c".repeat(65),
                ..place()
            },
            "customerId",
        )
        .await;
    }

    #[tokio::test]
    async fn product_is_1_to_200_characters_of_any_script() {
        accepts(PlaceOrder {
            product: "컴".repeat(200),
            ..place()
        })
        .await;
        rejects(
            PlaceOrder {
                product: "컴".repeat(201),
                ..place()
            },
            "product",
        )
        .await;
        rejects(
            PlaceOrder {
                product: String::new(),
                ..place()
            },
            "product",
        )
        .await;
    }

    #[tokio::test]
    async fn qty_is_1_to_1000() {
        accepts(PlaceOrder { qty: 1, ..place() }).await;
        accepts(PlaceOrder {
            qty: 1000,
            ..place()
        })
        .await;
        rejects(PlaceOrder { qty: 0, ..place() }, "qty").await;
        rejects(
            PlaceOrder {
                qty: 1001,
                ..place()
            },
            "qty",
        )
        .await;
        OrderTest::with(())
            .given_no_previous_events()
            .when_async(OrderCommand::PlaceOrder(PlaceOrder { qty: -1, ..place() }))
            .await
            .then_expect_error_message("qty must be between 1 and 1000");
    }

    #[tokio::test]
    async fn price_is_1_to_a_billion() {
        accepts(PlaceOrder {
            price: 1,
            ..place()
        })
        .await;
        accepts(PlaceOrder {
            price: 1_000_000_000,
            ..place()
        })
        .await;
        rejects(
            PlaceOrder {
                price: 0,
                ..place()
            },
            "price",
        )
        .await;
        rejects(
            PlaceOrder {
                price: 1_000_000_001,
                ..place()
            },
            "price",
        )
        .await;
    }

    #[tokio::test]
    async fn cancels_a_placed_order() {
        OrderTest::with(())
            .given(vec![placed(place())])
            .when_async(cancel(CancelledBy::Customer))
            .await
            .then_expect_events(vec![OrderEvent::OrderCancelled {
                cancelled_by: CancelledBy::Customer,
            }]);
    }

    #[tokio::test]
    async fn cancelling_an_unknown_order_is_not_found() {
        OrderTest::with(())
            .given_no_previous_events()
            .when_async(cancel(CancelledBy::Customer))
            .await
            .then_expect_error(OrderError::NotFound);
    }

    #[tokio::test]
    async fn an_order_is_cancelled_at_most_once() {
        OrderTest::with(())
            .given(vec![
                placed(place()),
                OrderEvent::OrderCancelled {
                    cancelled_by: CancelledBy::Delivery,
                },
            ])
            .when_async(cancel(CancelledBy::Customer))
            .await
            .then_expect_error(OrderError::AlreadyCancelled);
    }

    #[test]
    fn state_answers_from_its_events() {
        let mut order = Order::default();
        assert_eq!(
            (order.customer_id(), order.amount(), order.is_cancelled()),
            (None, None, false)
        );
        order.apply(placed(place()));
        assert_eq!(order.customer_id(), Some("customer-1"));
        assert_eq!(order.amount(), Some(2000));
        order.apply(OrderEvent::OrderCancelled {
            cancelled_by: CancelledBy::Delivery,
        });
        assert!(order.is_cancelled());
        assert_eq!(order.cancelled_by(), Some(CancelledBy::Delivery));
    }

    #[test]
    fn rejections_have_stable_codes() {
        assert_eq!(OrderError::NotFound.code(), "order_not_found");
        assert_eq!(OrderError::NotFound.kind(), RejectionKind::NotFound);
        assert_eq!(
            OrderError::AlreadyCancelled.code(),
            "order_already_cancelled"
        );
        assert_eq!(OrderError::AlreadyCancelled.kind(), RejectionKind::Conflict);
        assert_eq!(OrderError::AlreadyExists.code(), "order_already_exists");
    }

    #[test]
    fn stored_format_is_the_contract() {
        assert_stored_as(
            &placed(place()),
            json!({"OrderPlaced": {
                "customerId": "customer-1", "product": "컴퓨터", "qty": 2, "price": 1000,
                "payMethod": "CARD"
            }}),
            EVENT_TYPES,
        );
        assert_stored_as(
            &OrderEvent::OrderCancelled {
                cancelled_by: CancelledBy::Customer,
            },
            json!({"OrderCancelled": {"cancelledBy": "CUSTOMER"}}),
            EVENT_TYPES,
        );
    }
}
