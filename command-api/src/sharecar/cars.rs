//! `POST /cars`: staff register a car.

use std::sync::Arc;

use auth::Role;
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use chrono::Utc;
use domain::sharecar::car::{Car, CarCommand};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::dispatch::CommandService;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{required, CommandHeaders, JsonBody};
use crate::http::idempotency::{self, Accepted, Committed};
use crate::http::openapi::{CommandParams, JsonBodyErrors};
use crate::store::EventLog;

pub fn router<L: EventLog>() -> Router<Arc<CommandService<L>>> {
    Router::new().route("/cars", post(register_car::<L>))
}

/// Every field is required: a missing or null one is a 422 naming it.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct RegisterCarBody {
    #[schema(value_type = String, required = true, example = "Ioniq 5", min_length = 1, max_length = 100, pattern = r"^[^\x00]*$")]
    name: Option<String>,
    /// In minor units.
    #[schema(value_type = i64, required = true, example = 12000, minimum = 1, maximum = 1000000)]
    price_per_hour: Option<i64>,
}

/// `POST /cars`: the car is registered.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct CarRegisteredResponse {
    car_id: Uuid,
}

/// Register a car (manager or admin).
#[utoipa::path(
    post,
    path = "/cars",
    tag = "cars",
    params(CommandParams),
    request_body = RegisterCarBody,
    responses(
        (status = 201, description = "Registered", body = Committed<CarRegisteredResponse>,
            headers(("Location" = String, description = "The car's carList row"))),
        (status = 422, description = "A field is missing or invalid (`field` names it), or the \
            Idempotency-Key was first used with another body", body = ErrorBody),
        JsonBodyErrors,
    )
)]
async fn register_car<L: EventLog>(
    State(service): State<Arc<CommandService<L>>>,
    headers: CommandHeaders,
    body: JsonBody<RegisterCarBody>,
) -> Result<Response, ApiError> {
    headers.principal.require(&[Role::Manager, Role::Admin])?;
    let fields = body.parsed;
    let command = CarCommand::RegisterCar {
        name: required("name", fields.name)?,
        price_per_hour: required("pricePerHour", fields.price_per_hour)?,
        registered_at: Utc::now(),
    };
    let car_id = Uuid::now_v7();
    let accepted = Accepted::created(format!("/cars/{car_id}"), CarRegisteredResponse { car_id });
    idempotency::run(
        service.log(),
        headers,
        body.raw,
        accepted,
        |context| async {
            let appended = service.execute_new::<Car>(car_id, command, context).await?;
            Ok(appended.position)
        },
    )
    .await
}
