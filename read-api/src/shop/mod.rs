//! The shop context's reads: `GET /orderLists`, `GET /orderLists/{id}`, and the mypage's
//! `orders`.

mod orders;

use projections::shop::{OrderRow, MYPAGE_ORDERS};
use utoipa::OpenApi;

use crate::mypage::RowsSection;
use crate::registry::Reads;

/// The mypage's `orders`: the user's latest orders, latest first.
static ORDERS: RowsSection<OrderRow> = RowsSection::new(
    "orders",
    &MYPAGE_ORDERS,
    "order_id DESC",
    "/orderLists?customerId=",
);

/// The shop's reads.
pub fn reads() -> Reads {
    Reads {
        routes: orders::router(),
        openapi: ShopDoc::openapi(),
        mypage: vec![&ORDERS],
    }
}

#[derive(OpenApi)]
#[openapi(
    paths(orders::list, orders::one),
    tags((name = "orderLists", description = "Orders with their payment and delivery"))
)]
struct ShopDoc;
