//! The shop context's commands: `POST /orders` (place and pay in one commit),
//! `POST /orders/{id}/cancel`, `POST /deliveries/{id}/cancel`.

mod deliveries;
mod orders;

use cqrs_es::Aggregate;
use domain::shop::delivery::{Delivery, DeliveryCommand};
use domain::shop::order::{Order, OrderCommand};
use domain::shop::payment::{Payment, PaymentCommand};
use utoipa::OpenApi;

use crate::dispatch::CommandTarget;
use crate::registry::Commands;
use crate::store::EventLog;

/// The shop's aggregates, routes and their OpenAPI.
pub fn commands<L: EventLog>() -> Commands<L> {
    Commands {
        aggregate_types: &[Order::TYPE, Payment::TYPE, Delivery::TYPE],
        routes: orders::router().merge(deliveries::router()),
        openapi: ShopDoc::openapi(),
    }
}

#[derive(OpenApi)]
#[openapi(
    paths(orders::place_order, orders::cancel_order, deliveries::cancel_delivery),
    tags(
        (name = "orders", description = "Place, pay for and cancel orders"),
        (name = "deliveries", description = "Staff cancel deliveries"),
    )
)]
struct ShopDoc;

impl CommandTarget for Order {
    fn command_name(command: &OrderCommand) -> &'static str {
        match command {
            OrderCommand::PlaceOrder(_) => "PlaceOrder",
            OrderCommand::CancelOrder(_) => "CancelOrder",
        }
    }
}

impl CommandTarget for Payment {
    fn command_name(command: &PaymentCommand) -> &'static str {
        match command {
            PaymentCommand::MakePayment(_) => "MakePayment",
            PaymentCommand::CancelPayment => "CancelPayment",
        }
    }
}

impl CommandTarget for Delivery {
    fn command_name(command: &DeliveryCommand) -> &'static str {
        match command {
            DeliveryCommand::StartDelivery { .. } => "StartDelivery",
            DeliveryCommand::CancelDelivery => "CancelDelivery",
        }
    }
}
