//! The bookstore context's reads: the catalogue (`GET /books`), book orders
//! (`GET /bookOrders`), members (`GET /members`), and the mypage's `bookOrders` and
//! `membership`.

mod book_orders;
mod books;
mod members;

use projections::bookstore::{BookOrderRow, MemberRow, MYPAGE_BOOK_ORDERS, MYPAGE_MEMBERSHIP};
use utoipa::OpenApi;

use crate::mypage::RowsSection;
use crate::registry::Reads;

/// The mypage's `bookOrders`: the member's latest book orders, latest first.
static BOOK_ORDERS: RowsSection<BookOrderRow> = RowsSection::new(
    "bookOrders",
    &MYPAGE_BOOK_ORDERS,
    "order_id DESC",
    "/bookOrders?memberId=",
);

/// The mypage's `membership`: the member's memberList row, or null.
static MEMBERSHIP: RowsSection<MemberRow> = RowsSection::single("membership", &MYPAGE_MEMBERSHIP);

/// The bookstore's reads.
pub fn reads() -> Reads {
    Reads {
        routes: books::router()
            .merge(book_orders::router())
            .merge(members::router()),
        openapi: BookstoreDoc::openapi(),
        mypage: vec![&BOOK_ORDERS, &MEMBERSHIP],
    }
}

#[derive(OpenApi)]
#[openapi(
    paths(
        books::list,
        books::one,
        book_orders::list,
        book_orders::one,
        members::list,
        members::one,
    ),
    tags(
        (name = "books", description = "The catalogue, with stock"),
        (name = "bookOrders", description = "Book orders with their shipment"),
        (name = "members", description = "Members: mileage and grade"),
    )
)]
struct BookstoreDoc;
