//! `POST /orders` (place and pay) and `POST /orders/{id}/cancel`.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use domain::order::{CancelledBy, PlaceOrder};
use domain::PayMethod;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::error::ApiError;
use super::extract::{required, CommandHeaders, JsonBody, ResourceId};
use super::idempotency::{self, Accepted};
use crate::dispatch::CommandService;
use crate::store::EventLog;

pub fn router<L: EventLog>() -> Router<Arc<CommandService<L>>> {
    Router::new()
        .route("/orders", post(place_order::<L>))
        .route("/orders/{id}/cancel", post(cancel_order::<L>))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlaceOrderBody {
    customer_id: Option<String>,
    product: Option<String>,
    qty: Option<i64>,
    price: Option<i64>,
    pay_method: Option<PayMethod>,
}

impl TryFrom<PlaceOrderBody> for PlaceOrder {
    type Error = ApiError;

    fn try_from(body: PlaceOrderBody) -> Result<Self, ApiError> {
        Ok(Self {
            customer_id: required("customerId", body.customer_id)?,
            product: required("product", body.product)?,
            qty: required("qty", body.qty)?,
            price: required("price", body.price)?,
            pay_method: required("payMethod", body.pay_method)?,
        })
    }
}

async fn place_order<L: EventLog>(
    State(service): State<Arc<CommandService<L>>>,
    headers: CommandHeaders,
    body: JsonBody<PlaceOrderBody>,
) -> Result<Response, ApiError> {
    let order = PlaceOrder::try_from(body.parsed)?;
    let (order_id, payment_id) = (Uuid::now_v7(), Uuid::now_v7());
    let accepted = Accepted::created(
        format!("/orderLists/{order_id}"),
        json!({ "orderId": order_id, "paymentId": payment_id, "orderStatus": "PLACED" }),
    );
    idempotency::run(
        service.log(),
        headers,
        body.raw,
        accepted,
        |context| async {
            let placed = service
                .place_order(order_id, payment_id, order, context)
                .await?;
            Ok(placed.position)
        },
    )
    .await
}

async fn cancel_order<L: EventLog>(
    State(service): State<Arc<CommandService<L>>>,
    ResourceId(order_id): ResourceId,
    headers: CommandHeaders,
) -> Result<Response, ApiError> {
    let accepted = Accepted::ok(json!({ "orderId": order_id, "orderStatus": "CANCELLED" }));
    idempotency::run(
        service.log(),
        headers,
        Value::Null,
        accepted,
        |context| async {
            let appended = service
                .cancel_order(order_id, CancelledBy::Customer, context)
                .await?;
            Ok(appended.position)
        },
    )
    .await
}
