//! The car-sharing context's views: **carList**, **carOrderList**, and the mypage's
//! section **mypageCarOrders** (a user's car orders).

mod car_list;
mod car_order_list;

use cqrs_es::Aggregate;
use domain::sharecar::car::{Car, CarEvent};
use domain::sharecar::car_order::{CarOrder, CarOrderEvent};
use domain::sharecar::car_payment::{CarPayment, CarPaymentEvent};
use domain::sharecar::car_reservation::{CarReservation, CarReservationEvent};

pub use car_list::CarRow;
pub use car_order_list::CarOrderRow;

use crate::event::LogEvent;
use crate::table::{ContextEvent, Table, TableView};
use crate::view::View;

/// carList: one row per car.
pub static CAR_LIST: TableView<CarRow> = TableView::new("carList", Table::new("car_list"));

/// carOrderList: one row per car order.
pub static CAR_ORDER_LIST: TableView<CarOrderRow> =
    TableView::new("carOrderList", Table::new("car_order_list"));

/// The mypage's `carOrders`: the same rows as carOrderList, whose `user_id` is the
/// mypage's.
pub static MYPAGE_CAR_ORDERS: TableView<CarOrderRow> =
    TableView::new("mypageCarOrders", Table::new("mypage_car_orders"));

/// Car sharing's views.
pub fn views() -> Vec<&'static dyn View> {
    vec![&CAR_LIST, &CAR_ORDER_LIST, &MYPAGE_CAR_ORDERS]
}

/// A car-sharing event as read from the log.
#[derive(Debug, Clone, PartialEq)]
pub enum SharecarEvent {
    Car(CarEvent),
    Order(CarOrderEvent),
    Payment(CarPaymentEvent),
    Reservation(CarReservationEvent),
}

impl ContextEvent for SharecarEvent {
    const AGGREGATE_TYPES: &'static [&'static str] = &[
        Car::TYPE,
        CarOrder::TYPE,
        CarPayment::TYPE,
        CarReservation::TYPE,
    ];

    fn decode(event: &LogEvent) -> Result<Option<Self>, serde_json::Error> {
        Ok(Some(match event.aggregate_type.as_str() {
            Car::TYPE => Self::Car(event.payload_as()?),
            CarOrder::TYPE => Self::Order(event.payload_as()?),
            CarPayment::TYPE => Self::Payment(event.payload_as()?),
            CarReservation::TYPE => Self::Reservation(event.payload_as()?),
            _ => return Ok(None),
        }))
    }
}
