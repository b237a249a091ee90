//! `POST /orders` (place and pay) and `POST /orders/{id}/cancel`.

use std::sync::Arc;

use auth::Role;
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use domain::shop::order::{CancelOrder, CancelledBy, Order, OrderCommand, PlaceOrder};
use domain::shop::payment::{MakePayment, Payment, PaymentCommand};
use domain::shop::PayMethod;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::dispatch::{Appended, CommandContext, CommandError, CommandService, Decision};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{required, CommandHeaders, JsonBody, ResourceId};
use crate::http::idempotency::{self, Accepted, Committed};
use crate::http::openapi::{CommandErrors, CommandParams, JsonBodyErrors};
use crate::store::EventLog;

pub fn router<L: EventLog>() -> Router<Arc<CommandService<L>>> {
    Router::new()
        .route("/orders", post(place_order::<L>))
        .route("/orders/{id}/cancel", post(cancel_order::<L>))
}

/// Every field is required: a missing or null one is a 422 naming it.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct PlaceOrderBody {
    #[schema(value_type = String, required = true, example = "customer-1", min_length = 1, max_length = 64, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$")]
    customer_id: Option<String>,
    #[schema(value_type = String, required = true, example = "keyboard", min_length = 1, max_length = 200, pattern = r"^[^\x00]*$")]
    product: Option<String>,
    #[schema(value_type = i64, required = true, example = 2, minimum = 1, maximum = 1000)]
    qty: Option<i64>,
    /// The unit price, in the smallest unit of the currency.
    #[schema(value_type = i64, required = true, example = 1000, minimum = 1, maximum = 1000000000)]
    price: Option<i64>,
    #[schema(value_type = PayMethodName, required = true)]
    pay_method: Option<PayMethod>,
}

// [`PayMethod`]'s wire names, for the OpenAPI document only (the domain carries no web
// derives); a test checks that the domain accepts each of them.
/// How the customer pays.
#[derive(ToSchema)]
#[schema(as = PayMethod)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(dead_code)]
enum PayMethodName {
    Card,
    Bank,
    Point,
}

/// `POST /orders`: the order was placed and its payment approved.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct OrderPlacedResponse {
    order_id: Uuid,
    payment_id: Uuid,
    #[schema(example = "PLACED")]
    order_status: &'static str,
}

/// `POST /orders/{id}/cancel`: the order was cancelled.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct OrderCancelledResponse {
    order_id: Uuid,
    #[schema(example = "CANCELLED")]
    order_status: &'static str,
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

/// Place an order and pay for it.
///
/// The order's orderList row is at `Location` once the projector has applied
/// `position` (read it with `?minPosition=`).
#[utoipa::path(
    post,
    path = "/orders",
    tag = "orders",
    params(CommandParams),
    request_body = PlaceOrderBody,
    responses(
        (status = 201, description = "Placed and paid", body = Committed<OrderPlacedResponse>,
            headers(("Location" = String, description = "The order's orderList row"))),
        (status = 402, description = "The payment was refused", body = ErrorBody),
        (status = 409, description = "A concurrent command changed a stream first",
            body = ErrorBody),
        (status = 422, description = "A field is missing or invalid (`field` names it), or the \
            Idempotency-Key was first used with another body", body = ErrorBody),
        JsonBodyErrors,
    )
)]
async fn place_order<L: EventLog>(
    State(service): State<Arc<CommandService<L>>>,
    headers: CommandHeaders,
    body: JsonBody<PlaceOrderBody>,
) -> Result<Response, ApiError> {
    let order = PlaceOrder::try_from(body.parsed)?;
    headers
        .principal
        .act_for("customerId", &order.customer_id)?;
    let (order_id, payment_id) = (Uuid::now_v7(), Uuid::now_v7());
    let accepted = Accepted::created(
        format!("/orderLists/{order_id}"),
        OrderPlacedResponse {
            order_id,
            payment_id,
            order_status: "PLACED",
        },
    );
    idempotency::run(
        service.log(),
        headers,
        body.raw,
        accepted,
        |context| async {
            let appended = place_and_pay(&service, order_id, payment_id, order, context).await?;
            Ok(appended.position)
        },
    )
    .await
}

/// Cancel an order (the customer's).
#[utoipa::path(
    post,
    path = "/orders/{id}/cancel",
    tag = "orders",
    params(("id" = Uuid, Path, description = "The order's id"), CommandParams),
    responses(
        (status = 200, description = "Cancelled", body = Committed<OrderCancelledResponse>),
        (status = 404, description = "No such order", body = ErrorBody),
        (status = 409, description = "The order is already cancelled, or a concurrent \
            command changed it first", body = ErrorBody),
        (status = 422, description = "The id is not a UUID, or the Idempotency-Key was first \
            used with another body", body = ErrorBody),
        CommandErrors,
    )
)]
async fn cancel_order<L: EventLog>(
    State(service): State<Arc<CommandService<L>>>,
    ResourceId(order_id): ResourceId,
    headers: CommandHeaders,
) -> Result<Response, ApiError> {
    headers.principal.require(&[Role::Customer, Role::Admin])?;
    let cancel = CancelOrder {
        cancelled_by: CancelledBy::Customer,
        requested_by: headers.principal.confined_to().map(str::to_owned),
    };
    let accepted = Accepted::ok(OrderCancelledResponse {
        order_id,
        order_status: "CANCELLED",
    });
    idempotency::run(
        service.log(),
        headers,
        Value::Null,
        accepted,
        |context| async {
            let command = OrderCommand::CancelOrder(cancel);
            let appended = service.execute::<Order>(order_id, command, context).await?;
            Ok(appended.position)
        },
    )
    .await
}

/// Places the order and makes its payment: both streams commit together or, when the
/// payment is refused, nothing is written at all (SPEC: no unpaid order).
async fn place_and_pay<L: EventLog>(
    service: &CommandService<L>,
    order_id: Uuid,
    payment_id: Uuid,
    order: PlaceOrder,
    context: CommandContext,
) -> Result<Appended, CommandError> {
    let decided = async {
        let pay_method = order.pay_method;
        let placed = Decision::<Order>::new(order_id)
            .decide(OrderCommand::PlaceOrder(order))
            .await?;
        let payment = MakePayment {
            order_id,
            amount: placed.aggregate().amount().unwrap_or_default(),
            pay_method,
        };
        let paid = Decision::<Payment>::new(payment_id)
            .decide(PaymentCommand::MakePayment(payment))
            .await?;
        Ok((placed, paid))
    };
    let outcome = match decided.await {
        Ok((placed, paid)) => service.commit_all(&[&placed, &paid], context).await,
        Err(error) => Err(error),
    };
    service.counted("PlaceOrder", outcome)
}

#[cfg(test)]
mod tests {
    use utoipa::PartialSchema;

    use super::*;

    #[test]
    fn the_documented_pay_methods_are_the_domains() {
        let schema = serde_json::to_value(PayMethodName::schema()).expect("a schema");
        let names = schema["enum"].as_array().expect("an enum of names");
        assert_eq!(names.len(), 3);
        for name in names {
            serde_json::from_value::<PayMethod>(name.clone()).expect("a domain PayMethod");
        }
    }
}
