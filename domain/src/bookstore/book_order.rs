//! The `BookOrder` aggregate: a member's order of copies of one book.
//!
//! The command API looks the book up first and asks the book for the copies; the order
//! records what the book answered: `BookOrdered` when the copies were taken (in the same
//! commit as the book's `StockTaken`), `OutOfStocked` when there were too few, which is
//! recorded as well, so the refused customer can be told of a restock. An order is
//! cancelled at most once, by its member or an admin; a refused order cannot be.

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::rules::{int_range, InvalidField};
use crate::{Rejection, RejectionKind};

/// Most copies one order may hold.
pub const MAX_QTY: i64 = 100;

/// A book order's state, rebuilt from its events (and snapshotted as JSON).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BookOrder {
    /// Who ordered, whether the order was served or refused.
    member_id: Option<String>,
    /// What was ordered, when the stock served it (`None` for a refused order).
    order: Option<Ordered>,
    cancelled: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Ordered {
    member_id: String,
    book_id: Uuid,
    qty: i64,
    amount: i64,
}

impl BookOrder {
    /// The ordered book and copies, once ordered (not for a refused order).
    pub fn book_and_qty(&self) -> Option<(Uuid, i64)> {
        self.order.as_ref().map(|order| (order.book_id, order.qty))
    }
}

/// What can be asked of a book order.
#[derive(Debug, Clone, PartialEq)]
pub enum BookOrderCommand {
    OrderBook(OrderBook),
    /// `requested_by` is the asking member when a customer asks (another's order is
    /// answered as not found); `None` for an admin.
    CancelBookOrder {
        requested_by: Option<String>,
    },
}

/// Order a book, with what the command API looked up: its title and price, and
/// whether the book gave the copies.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderBook {
    pub member_id: String,
    pub book_id: Uuid,
    pub title: String,
    pub qty: i64,
    pub price: i64,
    pub in_stock: bool,
    pub at: DateTime<Utc>,
}

impl OrderBook {
    /// Checks what depends on the command alone.
    pub fn validate(&self) -> Result<(), BookOrderError> {
        int_range("qty", self.qty, 1, MAX_QTY)?;
        Ok(())
    }
}

/// What happened to a book order. The serialized form is the stored contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum BookOrderEvent {
    #[serde(rename = "BookOrdered", rename_all = "camelCase")]
    BookOrdered {
        member_id: String,
        book_id: Uuid,
        title: String,
        qty: i64,
        amount: i64,
        ordered_at: DateTime<Utc>,
    },
    #[serde(rename = "OutOfStocked", rename_all = "camelCase")]
    OutOfStocked {
        member_id: String,
        book_id: Uuid,
        title: String,
        qty: i64,
        ordered_at: DateTime<Utc>,
    },
    #[serde(rename = "BookOrderCancelled", rename_all = "camelCase")]
    BookOrderCancelled {
        member_id: String,
        book_id: Uuid,
        qty: i64,
        amount: i64,
    },
}

/// The stored type names of [`BookOrderEvent`].
pub const EVENT_TYPES: &[&str] = &["BookOrdered", "OutOfStocked", "BookOrderCancelled"];

impl DomainEvent for BookOrderEvent {
    fn event_type(&self) -> String {
        match self {
            BookOrderEvent::BookOrdered { .. } => "BookOrdered",
            BookOrderEvent::OutOfStocked { .. } => "OutOfStocked",
            BookOrderEvent::BookOrderCancelled { .. } => "BookOrderCancelled",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

/// Why a book order command was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BookOrderError {
    #[error("{reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("book order not found")]
    NotFound,
    /// The order names a book the catalogue does not have.
    #[error("bookId names no book in the catalogue")]
    BookNotFound,
    #[error("book order already exists")]
    AlreadyExists,
    #[error("book order is already cancelled")]
    AlreadyCancelled,
    #[error("an order refused for want of stock cannot be cancelled")]
    OutOfStock,
}

impl From<InvalidField> for BookOrderError {
    fn from(invalid: InvalidField) -> Self {
        BookOrderError::Invalid {
            field: invalid.field,
            reason: invalid.reason,
        }
    }
}

impl Rejection for BookOrderError {
    fn kind(&self) -> RejectionKind {
        match self {
            BookOrderError::Invalid { .. } | BookOrderError::BookNotFound => RejectionKind::Invalid,
            BookOrderError::NotFound => RejectionKind::NotFound,
            BookOrderError::AlreadyExists
            | BookOrderError::AlreadyCancelled
            | BookOrderError::OutOfStock => RejectionKind::Conflict,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            BookOrderError::Invalid { .. } => "invalid_field",
            BookOrderError::NotFound => "book_order_not_found",
            BookOrderError::BookNotFound => "book_not_found",
            BookOrderError::AlreadyExists => "book_order_already_exists",
            BookOrderError::AlreadyCancelled => "book_order_already_cancelled",
            BookOrderError::OutOfStock => "book_order_out_of_stock",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            BookOrderError::Invalid { field, .. } => Some(field),
            BookOrderError::BookNotFound => Some("bookId"),
            _ => None,
        }
    }
}

impl BookOrder {
    /// Decides a command against the current state: the events to record, or why not.
    fn decide(&self, command: BookOrderCommand) -> Result<Vec<BookOrderEvent>, BookOrderError> {
        match command {
            BookOrderCommand::OrderBook(order) => {
                if self.member_id.is_some() {
                    return Err(BookOrderError::AlreadyExists);
                }
                order.validate()?;
                Ok(vec![if order.in_stock {
                    BookOrderEvent::BookOrdered {
                        member_id: order.member_id,
                        book_id: order.book_id,
                        title: order.title,
                        qty: order.qty,
                        amount: order.qty.saturating_mul(order.price),
                        ordered_at: order.at,
                    }
                } else {
                    BookOrderEvent::OutOfStocked {
                        member_id: order.member_id,
                        book_id: order.book_id,
                        title: order.title,
                        qty: order.qty,
                        ordered_at: order.at,
                    }
                }])
            }
            BookOrderCommand::CancelBookOrder { requested_by } => {
                // Another member's order is not found, refused or not, so ids cannot be
                // probed.
                let Some(member_id) = &self.member_id else {
                    return Err(BookOrderError::NotFound);
                };
                if requested_by.is_some_and(|member| &member != member_id) {
                    return Err(BookOrderError::NotFound);
                }
                let Some(order) = &self.order else {
                    return Err(BookOrderError::OutOfStock);
                };
                if self.cancelled {
                    return Err(BookOrderError::AlreadyCancelled);
                }
                Ok(vec![BookOrderEvent::BookOrderCancelled {
                    member_id: order.member_id.clone(),
                    book_id: order.book_id,
                    qty: order.qty,
                    amount: order.amount,
                }])
            }
        }
    }
}

impl Aggregate for BookOrder {
    const TYPE: &'static str = "BookOrder";
    type Command = BookOrderCommand;
    type Event = BookOrderEvent;
    type Error = BookOrderError;
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
            BookOrderEvent::BookOrdered {
                member_id,
                book_id,
                qty,
                amount,
                ..
            } => {
                self.member_id = Some(member_id.clone());
                self.order = Some(Ordered {
                    member_id,
                    book_id,
                    qty,
                    amount,
                })
            }
            BookOrderEvent::OutOfStocked { member_id, .. } => self.member_id = Some(member_id),
            BookOrderEvent::BookOrderCancelled { .. } => self.cancelled = true,
        }
    }
}

#[cfg(test)]
mod tests {
    use cqrs_es::test::TestFramework;
    use serde_json::json;

    use super::*;
    use crate::testing::{assert_invalid, assert_stored_as};

    type BookOrderTest = TestFramework<BookOrder>;

    fn at() -> DateTime<Utc> {
        "2026-12-01T09:00:00Z".parse().unwrap()
    }

    fn order(in_stock: bool) -> OrderBook {
        OrderBook {
            member_id: "kim".into(),
            book_id: Uuid::nil(),
            title: "데미안".into(),
            qty: 2,
            price: 12_000,
            in_stock,
            at: at(),
        }
    }

    fn ordered() -> BookOrderEvent {
        BookOrderEvent::BookOrdered {
            member_id: "kim".into(),
            book_id: Uuid::nil(),
            title: "데미안".into(),
            qty: 2,
            amount: 24_000,
            ordered_at: at(),
        }
    }

    fn refused() -> BookOrderEvent {
        BookOrderEvent::OutOfStocked {
            member_id: "kim".into(),
            book_id: Uuid::nil(),
            title: "데미안".into(),
            qty: 2,
            ordered_at: at(),
        }
    }

    fn cancel(by: Option<&str>) -> BookOrderCommand {
        BookOrderCommand::CancelBookOrder {
            requested_by: by.map(str::to_owned),
        }
    }

    #[tokio::test]
    async fn an_order_the_stock_serves_costs_price_times_qty() {
        BookOrderTest::with(())
            .given_no_previous_events()
            .when_async(BookOrderCommand::OrderBook(order(true)))
            .await
            .then_expect_events(vec![ordered()]);
    }

    #[tokio::test]
    async fn an_order_the_stock_cannot_serve_is_recorded_as_out_of_stock() {
        BookOrderTest::with(())
            .given_no_previous_events()
            .when_async(BookOrderCommand::OrderBook(order(false)))
            .await
            .then_expect_events(vec![refused()]);
    }

    #[tokio::test]
    async fn an_order_holds_1_to_100_copies() {
        for qty in [0, 101] {
            let result = BookOrderTest::with(())
                .given_no_previous_events()
                .when_async(BookOrderCommand::OrderBook(OrderBook {
                    qty,
                    ..order(true)
                }))
                .await;
            assert_invalid(result, "qty");
        }
    }

    #[tokio::test]
    async fn an_order_is_cancelled_once_by_its_member_or_an_admin() {
        let cancelled = BookOrderEvent::BookOrderCancelled {
            member_id: "kim".into(),
            book_id: Uuid::nil(),
            qty: 2,
            amount: 24_000,
        };
        BookOrderTest::with(())
            .given(vec![ordered()])
            .when_async(cancel(Some("kim")))
            .await
            .then_expect_events(vec![cancelled.clone()]);
        BookOrderTest::with(())
            .given(vec![ordered()])
            .when_async(cancel(None))
            .await
            .then_expect_events(vec![cancelled.clone()]);
        BookOrderTest::with(())
            .given(vec![ordered(), cancelled])
            .when_async(cancel(None))
            .await
            .then_expect_error(BookOrderError::AlreadyCancelled);
    }

    #[tokio::test]
    async fn another_members_order_is_not_found_and_a_refused_order_cannot_be_cancelled() {
        BookOrderTest::with(())
            .given(vec![ordered()])
            .when_async(cancel(Some("lee")))
            .await
            .then_expect_error(BookOrderError::NotFound);
        BookOrderTest::with(())
            .given(vec![refused()])
            .when_async(cancel(Some("kim")))
            .await
            .then_expect_error(BookOrderError::OutOfStock);
        BookOrderTest::with(())
            .given(vec![refused()])
            .when_async(cancel(Some("lee")))
            .await
            .then_expect_error(BookOrderError::NotFound);
    }

    #[test]
    fn events_are_stored_under_their_names() {
        assert_stored_as(
            &ordered(),
            json!({"BookOrdered": {"memberId": "kim", "bookId": Uuid::nil(), "title": "데미안",
                   "qty": 2, "amount": 24000, "orderedAt": "2026-12-01T09:00:00Z"}}),
            EVENT_TYPES,
        );
    }
}
