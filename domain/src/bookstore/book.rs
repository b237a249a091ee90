//! The `Book` aggregate: a title in the catalogue and its stock.
//!
//! Managers register a book and add stock. An order takes stock and its cancellation
//! gives it back, each in the same commit as the order's own event; stock never goes
//! below zero, so of concurrent orders for the last copies only as many as there are
//! copies can take one: each is decided on the stock its commit is checked against.

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::rules::{int_range, text_length, InvalidField};
use crate::{Rejection, RejectionKind};

/// Most characters in a title.
pub const MAX_TITLE_CHARS: usize = 200;
/// Most characters in an author's name.
pub const MAX_AUTHOR_CHARS: usize = 100;
/// Highest price of a book, in minor units.
pub const MAX_PRICE: i64 = 1_000_000;
/// Most copies a book is registered with.
pub const MAX_INITIAL_STOCK: i64 = 100_000;
/// Most copies added at once.
pub const MAX_ADDED: i64 = 10_000;

/// A book's state, rebuilt from its events (and snapshotted as JSON).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Book {
    registered: Option<Registered>,
    stock: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Registered {
    title: String,
    price: i64,
}

impl Book {
    /// The title, once registered.
    pub fn title(&self) -> Option<&str> {
        self.registered.as_ref().map(|book| book.title.as_str())
    }

    /// The unit price, once registered.
    pub fn price(&self) -> Option<i64> {
        self.registered.as_ref().map(|book| book.price)
    }

    /// Copies in stock.
    pub fn stock(&self) -> i64 {
        self.stock
    }
}

/// What can be asked of a book.
#[derive(Debug, Clone, PartialEq)]
pub enum BookCommand {
    RegisterBook(RegisterBook),
    AddStock {
        qty: i64,
        at: DateTime<Utc>,
    },
    /// An order takes `qty` copies.
    TakeStock {
        order_id: Uuid,
        qty: i64,
    },
    /// A cancelled order gives its copies back.
    ReturnStock {
        order_id: Uuid,
        qty: i64,
    },
}

/// Register a new book.
#[derive(Debug, Clone, PartialEq)]
pub struct RegisterBook {
    pub title: String,
    pub author: String,
    pub price: i64,
    pub stock: i64,
    pub at: DateTime<Utc>,
}

/// What happened to a book. The serialized form is the stored contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum BookEvent {
    #[serde(rename = "BookRegistered", rename_all = "camelCase")]
    BookRegistered {
        title: String,
        author: String,
        price: i64,
        stock: i64,
        registered_at: DateTime<Utc>,
    },
    #[serde(rename = "StockAdded", rename_all = "camelCase")]
    StockAdded { qty: i64, added_at: DateTime<Utc> },
    #[serde(rename = "StockTaken", rename_all = "camelCase")]
    StockTaken { order_id: Uuid, qty: i64 },
    #[serde(rename = "StockReturned", rename_all = "camelCase")]
    StockReturned { order_id: Uuid, qty: i64 },
}

/// The stored type names of [`BookEvent`].
pub const EVENT_TYPES: &[&str] = &[
    "BookRegistered",
    "StockAdded",
    "StockTaken",
    "StockReturned",
];

impl DomainEvent for BookEvent {
    fn event_type(&self) -> String {
        match self {
            BookEvent::BookRegistered { .. } => "BookRegistered",
            BookEvent::StockAdded { .. } => "StockAdded",
            BookEvent::StockTaken { .. } => "StockTaken",
            BookEvent::StockReturned { .. } => "StockReturned",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

/// Why a book command was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BookError {
    #[error("{reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("book not found")]
    NotFound,
    #[error("book already registered")]
    AlreadyRegistered,
    /// Fewer copies are left than the order asks for.
    #[error("only {left} copies left")]
    OutOfStock { left: i64 },
}

impl From<InvalidField> for BookError {
    fn from(invalid: InvalidField) -> Self {
        BookError::Invalid {
            field: invalid.field,
            reason: invalid.reason,
        }
    }
}

impl Rejection for BookError {
    fn kind(&self) -> RejectionKind {
        match self {
            BookError::Invalid { .. } => RejectionKind::Invalid,
            BookError::NotFound => RejectionKind::NotFound,
            BookError::AlreadyRegistered | BookError::OutOfStock { .. } => RejectionKind::Conflict,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            BookError::Invalid { .. } => "invalid_field",
            BookError::NotFound => "book_not_found",
            BookError::AlreadyRegistered => "book_already_registered",
            BookError::OutOfStock { .. } => "out_of_stock",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            BookError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}

impl Book {
    /// Decides a command against the current state: the events to record, or why not.
    fn decide(&self, command: BookCommand) -> Result<Vec<BookEvent>, BookError> {
        if let BookCommand::RegisterBook(book) = command {
            if self.registered.is_some() {
                return Err(BookError::AlreadyRegistered);
            }
            text_length("title", &book.title, 1, MAX_TITLE_CHARS)?;
            text_length("author", &book.author, 1, MAX_AUTHOR_CHARS)?;
            int_range("price", book.price, 1, MAX_PRICE)?;
            int_range("stock", book.stock, 0, MAX_INITIAL_STOCK)?;
            return Ok(vec![BookEvent::BookRegistered {
                title: book.title,
                author: book.author,
                price: book.price,
                stock: book.stock,
                registered_at: book.at,
            }]);
        }
        if self.registered.is_none() {
            return Err(BookError::NotFound);
        }
        match command {
            BookCommand::RegisterBook(_) => unreachable!("decided above"),
            BookCommand::AddStock { qty, at } => {
                int_range("qty", qty, 1, MAX_ADDED)?;
                Ok(vec![BookEvent::StockAdded { qty, added_at: at }])
            }
            BookCommand::TakeStock { order_id, qty } => {
                if self.stock < qty {
                    return Err(BookError::OutOfStock { left: self.stock });
                }
                Ok(vec![BookEvent::StockTaken { order_id, qty }])
            }
            BookCommand::ReturnStock { order_id, qty } => {
                Ok(vec![BookEvent::StockReturned { order_id, qty }])
            }
        }
    }
}

impl Aggregate for Book {
    const TYPE: &'static str = "Book";
    type Command = BookCommand;
    type Event = BookEvent;
    type Error = BookError;
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
            BookEvent::BookRegistered {
                title,
                price,
                stock,
                ..
            } => {
                self.registered = Some(Registered { title, price });
                self.stock = stock;
            }
            BookEvent::StockAdded { qty, .. } | BookEvent::StockReturned { qty, .. } => {
                self.stock += qty
            }
            BookEvent::StockTaken { qty, .. } => self.stock -= qty,
        }
    }
}

#[cfg(test)]
mod tests {
    use cqrs_es::test::TestFramework;
    use serde_json::json;

    use super::*;
    use crate::testing::{assert_invalid, assert_stored_as};

    type BookTest = TestFramework<Book>;

    fn at() -> DateTime<Utc> {
        "2026-12-01T09:00:00Z".parse().unwrap()
    }

    fn register(stock: i64) -> RegisterBook {
        RegisterBook {
            title: "데미안".into(),
            author: "Hesse".into(),
            price: 12_000,
            stock,
            at: at(),
        }
    }

    fn registered(stock: i64) -> BookEvent {
        BookEvent::BookRegistered {
            title: "데미안".into(),
            author: "Hesse".into(),
            price: 12_000,
            stock,
            registered_at: at(),
        }
    }

    #[tokio::test]
    async fn a_book_is_registered_once() {
        BookTest::with(())
            .given_no_previous_events()
            .when_async(BookCommand::RegisterBook(register(3)))
            .await
            .then_expect_events(vec![registered(3)]);
        BookTest::with(())
            .given(vec![registered(3)])
            .when_async(BookCommand::RegisterBook(register(3)))
            .await
            .then_expect_error(BookError::AlreadyRegistered);
    }

    #[tokio::test]
    async fn a_registration_breaking_a_rule_names_its_field() {
        let cases = [
            (
                "title",
                RegisterBook {
                    title: String::new(),
                    ..register(1)
                },
            ),
            (
                "title",
                RegisterBook {
                    title: "x".repeat(201),
                    ..register(1)
                },
            ),
            (
                "author",
                RegisterBook {
                    author: "x".repeat(101),
                    ..register(1)
                },
            ),
            (
                "price",
                RegisterBook {
                    price: 0,
                    ..register(1)
                },
            ),
            (
                "price",
                RegisterBook {
                    price: 1_000_001,
                    ..register(1)
                },
            ),
            (
                "stock",
                RegisterBook {
                    stock: -1,
                    ..register(1)
                },
            ),
            (
                "stock",
                RegisterBook {
                    stock: 100_001,
                    ..register(1)
                },
            ),
        ];
        for (field, book) in cases {
            let result = BookTest::with(())
                .given_no_previous_events()
                .when_async(BookCommand::RegisterBook(book))
                .await;
            assert_invalid(result, field);
        }
    }

    #[tokio::test]
    async fn stock_is_added_between_1_and_10000_copies_to_a_registered_book() {
        BookTest::with(())
            .given(vec![registered(0)])
            .when_async(BookCommand::AddStock {
                qty: 10_000,
                at: at(),
            })
            .await
            .then_expect_events(vec![BookEvent::StockAdded {
                qty: 10_000,
                added_at: at(),
            }]);
        for qty in [0, 10_001] {
            let result = BookTest::with(())
                .given(vec![registered(0)])
                .when_async(BookCommand::AddStock { qty, at: at() })
                .await;
            assert_invalid(result, "qty");
        }
        BookTest::with(())
            .given_no_previous_events()
            .when_async(BookCommand::AddStock { qty: 1, at: at() })
            .await
            .then_expect_error(BookError::NotFound);
    }

    #[tokio::test]
    async fn an_order_takes_stock_only_while_enough_is_left() {
        let order_id = Uuid::now_v7();
        BookTest::with(())
            .given(vec![registered(2)])
            .when_async(BookCommand::TakeStock { order_id, qty: 2 })
            .await
            .then_expect_events(vec![BookEvent::StockTaken { order_id, qty: 2 }]);
        BookTest::with(())
            .given(vec![
                registered(2),
                BookEvent::StockTaken { order_id, qty: 2 },
            ])
            .when_async(BookCommand::TakeStock {
                order_id: Uuid::now_v7(),
                qty: 1,
            })
            .await
            .then_expect_error(BookError::OutOfStock { left: 0 });
    }

    #[tokio::test]
    async fn a_cancelled_order_gives_its_stock_back() {
        let order_id = Uuid::now_v7();
        BookTest::with(())
            .given(vec![
                registered(1),
                BookEvent::StockTaken { order_id, qty: 1 },
            ])
            .when_async(BookCommand::ReturnStock { order_id, qty: 1 })
            .await
            .then_expect_events(vec![BookEvent::StockReturned { order_id, qty: 1 }]);
    }

    #[test]
    fn events_are_stored_under_their_names() {
        let order_id = Uuid::nil();
        assert_stored_as(
            &BookEvent::StockTaken { order_id, qty: 2 },
            json!({"StockTaken": {"orderId": order_id, "qty": 2}}),
            EVENT_TYPES,
        );
        assert_stored_as(
            &registered(5),
            json!({"BookRegistered": {"title": "데미안", "author": "Hesse", "price": 12000,
                   "stock": 5, "registeredAt": "2026-12-01T09:00:00Z"}}),
            EVENT_TYPES,
        );
    }
}
