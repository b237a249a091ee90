//! The bookstore context's commands: the catalogue (`POST /books`,
//! `POST /books/{id}/stock`), membership (`POST /members`) and book orders
//! (`POST /bookOrders`, `POST /bookOrders/{id}/cancel`), whose stock is taken and given
//! back in the order's own commit.

mod book_orders;
mod books;
mod members;

use cqrs_es::Aggregate;
use domain::bookstore::book::{Book, BookCommand};
use domain::bookstore::book_order::{BookOrder, BookOrderCommand};
use domain::bookstore::member::{Member, MemberCommand};
use domain::bookstore::shipment::{Shipment, ShipmentCommand};
use utoipa::OpenApi;

use crate::dispatch::CommandTarget;
use crate::registry::Commands;
use crate::store::EventLog;

/// The bookstore's aggregates, routes and their OpenAPI.
pub fn commands<L: EventLog>() -> Commands<L> {
    Commands {
        aggregate_types: &[Book::TYPE, Member::TYPE, BookOrder::TYPE, Shipment::TYPE],
        routes: books::router()
            .merge(members::router())
            .merge(book_orders::router()),
        openapi: BookstoreDoc::openapi(),
    }
}

#[derive(OpenApi)]
#[openapi(
    paths(
        books::register_book,
        books::add_stock,
        members::join,
        book_orders::order_book,
        book_orders::cancel_book_order,
    ),
    tags(
        (name = "books", description = "The catalogue: register books, add stock"),
        (name = "members", description = "Join the bookstore"),
        (name = "bookOrders", description = "Order books and cancel book orders"),
    )
)]
struct BookstoreDoc;

impl CommandTarget for Book {
    fn command_name(command: &BookCommand) -> &'static str {
        match command {
            BookCommand::RegisterBook(_) => "RegisterBook",
            BookCommand::AddStock { .. } => "AddStock",
            BookCommand::TakeStock { .. } => "TakeStock",
            BookCommand::ReturnStock { .. } => "ReturnStock",
        }
    }
}

impl CommandTarget for Member {
    fn command_name(command: &MemberCommand) -> &'static str {
        match command {
            MemberCommand::JoinMembership { .. } => "JoinMembership",
            MemberCommand::EarnMileage { .. } => "EarnMileage",
            MemberCommand::RevokeMileage { .. } => "RevokeMileage",
        }
    }
}

impl CommandTarget for BookOrder {
    fn command_name(command: &BookOrderCommand) -> &'static str {
        match command {
            BookOrderCommand::OrderBook(_) => "OrderBook",
            BookOrderCommand::CancelBookOrder { .. } => "CancelBookOrder",
        }
    }
}

impl CommandTarget for Shipment {
    fn command_name(command: &ShipmentCommand) -> &'static str {
        match command {
            ShipmentCommand::StartShipment { .. } => "StartShipment",
            ShipmentCommand::CancelShipment => "CancelShipment",
        }
    }
}
