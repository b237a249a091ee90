//! The bookstore context's views: **bookList** (the catalogue), **bookOrderList**,
//! **memberList**, and the mypage's sections **mypageBookOrders** (a member's orders)
//! and **mypageMembership** (their memberList row).

mod book_list;
mod book_order_list;
mod member_list;

use cqrs_es::Aggregate;
use domain::bookstore::book::{Book, BookEvent};
use domain::bookstore::book_order::{BookOrder, BookOrderEvent};
use domain::bookstore::member::{Member, MemberEvent};
use domain::bookstore::shipment::{Shipment, ShipmentEvent};

pub use book_list::BookRow;
pub use book_order_list::BookOrderRow;
pub use member_list::MemberRow;

use crate::event::LogEvent;
use crate::table::{ContextEvent, Table, TableView};
use crate::view::View;

/// bookList: one row per book.
pub static BOOK_LIST: TableView<BookRow> = TableView::new("bookList", Table::new("book_list"));

/// bookOrderList: one row per book order.
pub static BOOK_ORDER_LIST: TableView<BookOrderRow> =
    TableView::new("bookOrderList", Table::new("book_order_list"));

/// memberList: one row per member.
pub static MEMBER_LIST: TableView<MemberRow> =
    TableView::new("memberList", Table::new("member_list"));

/// The mypage's `bookOrders`: the same rows as bookOrderList, per member.
pub static MYPAGE_BOOK_ORDERS: TableView<BookOrderRow> = TableView::new(
    "mypageBookOrders",
    Table::new("mypage_book_orders").owned_by("user_id", "member_id"),
);

/// The mypage's `membership`: the member's memberList row.
pub static MYPAGE_MEMBERSHIP: TableView<MemberRow> = TableView::new(
    "mypageMembership",
    Table::new("mypage_membership").owned_by("user_id", "member_id"),
);

/// The bookstore's views.
pub fn views() -> Vec<&'static dyn View> {
    vec![
        &BOOK_LIST,
        &BOOK_ORDER_LIST,
        &MEMBER_LIST,
        &MYPAGE_BOOK_ORDERS,
        &MYPAGE_MEMBERSHIP,
    ]
}

/// A bookstore event as read from the log.
#[derive(Debug, Clone, PartialEq)]
pub enum BookstoreEvent {
    Book(BookEvent),
    Member(MemberEvent),
    BookOrder(BookOrderEvent),
    Shipment(ShipmentEvent),
}

impl ContextEvent for BookstoreEvent {
    const AGGREGATE_TYPES: &'static [&'static str] =
        &[Book::TYPE, Member::TYPE, BookOrder::TYPE, Shipment::TYPE];

    fn decode(event: &LogEvent) -> Result<Option<Self>, serde_json::Error> {
        Ok(Some(match event.aggregate_type.as_str() {
            Book::TYPE => Self::Book(event.payload_as()?),
            Member::TYPE => Self::Member(event.payload_as()?),
            BookOrder::TYPE => Self::BookOrder(event.payload_as()?),
            Shipment::TYPE => Self::Shipment(event.payload_as()?),
            _ => return Ok(None),
        }))
    }
}
