//! Car sharing's reads: cars (`GET /cars`, with a free-car search and each car's booked
//! intervals), car orders (`GET /carOrders`), and the mypage's `carOrders`.

mod car_orders;
mod cars;

use projections::sharecar::{CarOrderRow, CAR_ORDER_LIST, MYPAGE_CAR_ORDERS};
use utoipa::OpenApi;

use crate::mypage::RowsSection;
use crate::registry::Reads;
use crate::time_slots::TakenRanges;

/// The intervals the cars' active orders hold, from carOrderList.
static TAKEN_TIMES: TakenRanges = TakenRanges {
    view: &CAR_ORDER_LIST,
    resource: "car_id",
    start: "start_dtm",
    end: "end_dtm",
    active: ("order_status", "ORDERED"),
};

/// The mypage's `carOrders`: the user's latest car orders.
static CAR_ORDERS: RowsSection<CarOrderRow> = RowsSection::new(
    "carOrders",
    &MYPAGE_CAR_ORDERS,
    "order_id DESC",
    "/carOrders?userId=",
);

/// Car sharing's reads.
pub fn reads() -> Reads {
    Reads {
        routes: cars::router().merge(car_orders::router()),
        openapi: SharecarDoc::openapi(),
        mypage: vec![&CAR_ORDERS],
    }
}

#[derive(OpenApi)]
#[openapi(
    paths(cars::list, cars::one, car_orders::list, car_orders::one),
    tags(
        (name = "cars", description = "Cars, free ones, and their booked intervals"),
        (name = "carOrders", description = "Car orders with their payment and reservation"),
    )
)]
struct SharecarDoc;
