//! **bookList**: one row per book in `book_list` — the catalogue and each book's stock.
//!
//! - `BookRegistered` starts the row with its initial stock.
//! - `StockAdded` and `StockReturned` add to the stock, `StockTaken` takes from it.

use domain::bookstore::book::BookEvent;
use serde::Serialize;
use utoipa::ToSchema;

use super::BookstoreEvent;
use crate::event::{timestamp, LogEvent};
use crate::table::{Projected, ViewRow};

/// A row of bookList.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BookRow {
    pub book_id: String,
    pub title: String,
    pub author: String,
    pub price: i64,
    pub stock: i64,
    pub registered_at: String,
    pub position: i64,
    pub updated_at: String,
}

impl ViewRow for BookRow {
    const COLUMNS: &'static [(&'static str, &'static str)] = &[
        ("book_id", "text"),
        ("title", "text"),
        ("author", "text"),
        ("price", "bigint"),
        ("stock", "bigint"),
        ("registered_at", "text"),
        ("position", "bigint"),
        ("updated_at", "text"),
    ];
    // The catalogue is every caller's to read.
    const OWNER: Option<&'static str> = None;

    fn key(&self) -> &str {
        &self.book_id
    }

    fn owner(&self) -> Option<&str> {
        None
    }

    fn position(&self) -> i64 {
        self.position
    }

    fn updated_at(&self) -> &str {
        &self.updated_at
    }
}

impl Projected for BookRow {
    type Event = BookstoreEvent;

    fn key_of(event: &LogEvent, business: &BookstoreEvent) -> Option<String> {
        matches!(business, BookstoreEvent::Book(_)).then(|| event.aggregate_id.clone())
    }

    fn starts_row(business: &BookstoreEvent) -> bool {
        matches!(
            business,
            BookstoreEvent::Book(BookEvent::BookRegistered { .. })
        )
    }

    fn apply(
        row: &mut Option<Self>,
        event: &LogEvent,
        business: &BookstoreEvent,
    ) -> Result<(), String> {
        let BookstoreEvent::Book(book) = business else {
            return Ok(());
        };
        if let BookEvent::BookRegistered {
            title,
            author,
            price,
            stock,
            registered_at,
        } = book
        {
            *row = Some(BookRow {
                book_id: event.aggregate_id.clone(),
                title: title.clone(),
                author: author.clone(),
                price: *price,
                stock: *stock,
                registered_at: timestamp(registered_at),
                position: event.position,
                updated_at: event.recorded_at_text(),
            });
            return Ok(());
        }
        let Some(row) = row else {
            return Ok(());
        };
        row.stock += match book {
            BookEvent::StockAdded { qty, .. } | BookEvent::StockReturned { qty, .. } => *qty,
            BookEvent::StockTaken { qty, .. } => -qty,
            BookEvent::BookRegistered { .. } => 0,
        };
        row.position = event.position;
        row.updated_at = event.recorded_at_text();
        Ok(())
    }
}
