//! Car sharing's commands: a manager's `POST /cars`; a user's `POST /carOrders` (the
//! order, its payment and the car's interval claimed in one commit) and
//! `POST /carOrders/{id}/cancel`.

mod cars;
mod orders;

use cqrs_es::Aggregate;
use domain::sharecar::car::{Car, CarCommand};
use domain::sharecar::car_order::{CarOrder, CarOrderCommand, CarOrderEvent};
use domain::sharecar::car_payment::{CarPayment, CarPaymentCommand};
use domain::sharecar::car_reservation::{CarReservation, CarReservationCommand};
use utoipa::OpenApi;
use uuid::Uuid;

use crate::dispatch::CommandTarget;
use crate::registry::Commands;
use crate::store::{EventLog, Guard, TimeSlots};

/// A car's time: no two active orders of one car overlap.
static CAR_TIME: TimeSlots = TimeSlots::new(
    "car_slots",
    "car_unavailable",
    "the car is already ordered for an overlapping period",
);

/// Car sharing's aggregates, routes and their OpenAPI.
pub fn commands<L: EventLog>() -> Commands<L> {
    Commands {
        aggregate_types: &[
            Car::TYPE,
            CarOrder::TYPE,
            CarPayment::TYPE,
            CarReservation::TYPE,
        ],
        routes: cars::router().merge(orders::router()),
        openapi: SharecarDoc::openapi(),
    }
}

#[derive(OpenApi)]
#[openapi(
    paths(cars::register_car, orders::order_car, orders::cancel_car_order),
    tags(
        (name = "cars", description = "Staff register cars"),
        (name = "carOrders", description = "Users order a car for an interval and pay; \
            orders are cancelled"),
    )
)]
struct SharecarDoc;

impl CommandTarget for Car {
    fn command_name(command: &CarCommand) -> &'static str {
        match command {
            CarCommand::RegisterCar { .. } => "RegisterCar",
        }
    }
}

impl CommandTarget for CarOrder {
    fn command_name(command: &CarOrderCommand) -> &'static str {
        match command {
            CarOrderCommand::OrderCar(_) => "OrderCar",
            CarOrderCommand::CancelCarOrder { .. } => "CancelCarOrder",
        }
    }

    /// An order claims its car's interval; a cancelled one releases it.
    fn guards(order_id: Uuid, events: &[CarOrderEvent]) -> Vec<Box<dyn Guard>> {
        events
            .iter()
            .map(|event| match event {
                CarOrderEvent::CarOrdered {
                    car_id,
                    start_dtm,
                    end_dtm,
                    ..
                } => CAR_TIME.claim(order_id, *car_id, *start_dtm, *end_dtm),
                CarOrderEvent::CarOrderCancelled { .. } => CAR_TIME.release(order_id),
            })
            .collect()
    }
}

impl CommandTarget for CarPayment {
    fn command_name(command: &CarPaymentCommand) -> &'static str {
        match command {
            CarPaymentCommand::ApprovePay { .. } => "ApprovePay",
            CarPaymentCommand::CancelPay => "CancelPay",
        }
    }
}

impl CommandTarget for CarReservation {
    fn command_name(command: &CarReservationCommand) -> &'static str {
        match command {
            CarReservationCommand::ConfirmReservation { .. } => "ConfirmReservation",
            CarReservationCommand::CancelReservation { .. } => "CancelReservation",
        }
    }
}
