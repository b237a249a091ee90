//! `POST /carOrders` (an order, paid and its interval claimed in one commit) and
//! `POST /carOrders/{id}/cancel`.

use std::sync::Arc;

use auth::Role;
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use chrono::{DateTime, Utc};
use domain::sharecar::car::Car;
use domain::sharecar::car_order::{CarOrder, CarOrderCommand, OrderCar};
use domain::sharecar::car_payment::{CarPayment, CarPaymentCommand};
use domain::shop::PayMethod;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::openapi::Ref;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::dispatch::{CommandError, CommandService, Decision};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{required, CommandHeaders, JsonBody, ResourceId};
use crate::http::idempotency::{self, Accepted, Committed};
use crate::http::openapi::{CommandErrors, CommandParams, JsonBodyErrors};
use crate::store::EventLog;

pub fn router<L: EventLog>() -> Router<Arc<CommandService<L>>> {
    Router::new()
        .route("/carOrders", post(order_car::<L>))
        .route("/carOrders/{id}/cancel", post(cancel_car_order::<L>))
}

/// Every field is required: a missing or null one is a 422 naming it.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct OrderCarBody {
    #[schema(value_type = Uuid, required = true)]
    car_id: Option<Uuid>,
    /// The customer's own sub.
    #[schema(value_type = String, required = true, example = "customer-1", min_length = 1, max_length = 64, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$")]
    user_id: Option<String>,
    /// From now to 365 days ahead.
    #[schema(value_type = DateTime<Utc>, required = true)]
    start_dtm: Option<DateTime<Utc>>,
    /// After `startDtm`, at most 7 days later; it may be another order's start.
    #[schema(value_type = DateTime<Utc>, required = true)]
    end_dtm: Option<DateTime<Utc>>,
    #[schema(schema_with = pay_method, required = true)]
    pay_method: Option<PayMethod>,
}

/// How the user pays: the shop's `PayMethod`, documented there.
fn pay_method() -> Ref {
    Ref::from_schema_name("PayMethod")
}

/// `POST /carOrders`: the car is ordered and paid for; its reservation is confirmed by
/// policy.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct CarOrderedResponse {
    order_id: Uuid,
    payment_id: Uuid,
    /// pricePerHour × hours, the hours rounded up.
    amount: i64,
}

/// `POST /carOrders/{id}/cancel`: the order is cancelled and its interval released; the
/// reservation and then the payment are cancelled by policy.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct CarOrderCancelledResponse {
    order_id: Uuid,
    #[schema(example = "CANCELLED")]
    order_status: &'static str,
}

/// The order as the user asked for it.
#[derive(Clone)]
struct Order {
    car_id: Uuid,
    user_id: String,
    start_dtm: DateTime<Utc>,
    end_dtm: DateTime<Utc>,
    pay_method: PayMethod,
}

/// Order a car for an interval and pay for it (a customer, for themself; or an admin).
///
/// The order, its payment and the claim on the car's interval commit together: a
/// refused payment or a taken interval stores nothing.
#[utoipa::path(
    post,
    path = "/carOrders",
    tag = "carOrders",
    params(CommandParams),
    request_body = OrderCarBody,
    responses(
        (status = 201, description = "Ordered and paid", body = Committed<CarOrderedResponse>,
            headers(("Location" = String, description = "The order's carOrderList row"))),
        (status = 402, description = "The payment was refused (`payment_refused`)",
            body = ErrorBody),
        (status = 409, description = "The car is taken for part of the interval \
            (`car_unavailable`)", body = ErrorBody),
        (status = 422, description = "A field is missing or invalid (`field` names it), \
            `car_not_found` (carId), or the Idempotency-Key was first used with another body",
            body = ErrorBody),
        JsonBodyErrors,
    )
)]
async fn order_car<L: EventLog>(
    State(service): State<Arc<CommandService<L>>>,
    headers: CommandHeaders,
    body: JsonBody<OrderCarBody>,
) -> Result<Response, ApiError> {
    let fields = body.parsed;
    let order = Order {
        car_id: required("carId", fields.car_id)?,
        user_id: required("userId", fields.user_id)?,
        start_dtm: required("startDtm", fields.start_dtm)?,
        end_dtm: required("endDtm", fields.end_dtm)?,
        pay_method: required("payMethod", fields.pay_method)?,
    };
    headers.principal.act_for("userId", &order.user_id)?;
    let (order_id, payment_id) = (Uuid::now_v7(), Uuid::now_v7());
    let (order, service) = (&order, &service);
    idempotency::run_deciding(
        service.log(),
        headers,
        body.raw,
        |context, key| async move {
            // A claim that loses a race to an overlapping one is decided again: the
            // next try finds the hours taken and says so.
            let outcome = service
                .deciding_again(|| async {
                    let mut context = context.clone();
                    let (ordered, paid) =
                        decide_order(service, order_id, payment_id, order.clone()).await?;
                    let accepted = Accepted::created(
                        format!("/carOrders/{order_id}"),
                        CarOrderedResponse {
                            order_id,
                            payment_id,
                            amount: ordered.aggregate().amount().unwrap_or_default(),
                        },
                    );
                    context.idempotency = key.claim(&accepted);
                    let appended = service.commit_all(&[&ordered, &paid], context).await?;
                    Ok((accepted, appended.position))
                })
                .await;
            service.counted("OrderCar", outcome)
        },
    )
    .await
}

/// The order and its payment, decided on the car as registered.
async fn decide_order<L: EventLog>(
    service: &CommandService<L>,
    order_id: Uuid,
    payment_id: Uuid,
    order: Order,
) -> Result<(Decision<CarOrder>, Decision<CarPayment>), CommandError> {
    let car = service.load::<Car>(order.car_id).await?;
    let command = OrderCar {
        car: car.facts(order.car_id),
        user_id: order.user_id.clone(),
        start_dtm: order.start_dtm,
        end_dtm: order.end_dtm,
        payment_id,
        now: Utc::now(),
    };
    let ordered = Decision::<CarOrder>::new(order_id)
        .decide(CarOrderCommand::OrderCar(command))
        .await?;
    let payment = CarPaymentCommand::ApprovePay {
        order_id,
        user_id: order.user_id,
        amount: ordered.aggregate().amount().unwrap_or_default(),
        pay_method: order.pay_method,
    };
    let paid = Decision::<CarPayment>::new(payment_id)
        .decide(payment)
        .await?;
    Ok((ordered, paid))
}

/// Cancel a car order (its user, or an admin), releasing the car's interval.
#[utoipa::path(
    post,
    path = "/carOrders/{id}/cancel",
    tag = "carOrders",
    params(("id" = Uuid, Path, description = "The order's id"), CommandParams),
    responses(
        (status = 200, description = "Cancelled", body = Committed<CarOrderCancelledResponse>),
        (status = 404, description = "No such order, or another user's \
            (`car_order_not_found`)", body = ErrorBody),
        (status = 409, description = "Already cancelled (`car_order_already_cancelled`)",
            body = ErrorBody),
        (status = 422, description = "The id is not a UUID, or the Idempotency-Key was first \
            used with another body", body = ErrorBody),
        CommandErrors,
    )
)]
async fn cancel_car_order<L: EventLog>(
    State(service): State<Arc<CommandService<L>>>,
    ResourceId(order_id): ResourceId,
    headers: CommandHeaders,
) -> Result<Response, ApiError> {
    headers.principal.require(&[Role::Customer, Role::Admin])?;
    let requested_by = headers.principal.confined_to().map(str::to_owned);
    let accepted = Accepted::ok(CarOrderCancelledResponse {
        order_id,
        order_status: "CANCELLED",
    });
    idempotency::run(
        service.log(),
        headers,
        Value::Null,
        accepted,
        |context| async {
            let command = CarOrderCommand::CancelCarOrder { requested_by };
            let appended = service
                .execute::<CarOrder>(order_id, command, context)
                .await?;
            Ok(appended.position)
        },
    )
    .await
}
