//! `POST /deliveries/{id}/cancel`: staff cancel a delivery.

use std::sync::Arc;

use auth::Role;
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::dispatch::CommandService;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{CommandHeaders, ResourceId};
use crate::http::idempotency::{self, Accepted, Committed};
use crate::http::openapi::{CommandErrors, CommandParams};
use crate::store::EventLog;
use domain::shop::delivery::{Delivery, DeliveryCommand};

pub fn router<L: EventLog>() -> Router<Arc<CommandService<L>>> {
    Router::new().route("/deliveries/{id}/cancel", post(cancel_delivery::<L>))
}

/// `POST /deliveries/{id}/cancel`: the delivery was cancelled.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct DeliveryCancelledResponse {
    delivery_id: Uuid,
    #[schema(example = "CANCELLED")]
    delivery_status: &'static str,
}

/// Cancel a delivery (staff).
#[utoipa::path(
    post,
    path = "/deliveries/{id}/cancel",
    tag = "deliveries",
    params(("id" = Uuid, Path, description = "The delivery's id"), CommandParams),
    responses(
        (status = 200, description = "Cancelled", body = Committed<DeliveryCancelledResponse>),
        (status = 404, description = "No such delivery", body = ErrorBody),
        (status = 409, description = "The delivery cannot be cancelled now, or a concurrent \
            command changed it first", body = ErrorBody),
        (status = 422, description = "The id is not a UUID, or the Idempotency-Key was first \
            used with another body", body = ErrorBody),
        CommandErrors,
    )
)]
async fn cancel_delivery<L: EventLog>(
    State(service): State<Arc<CommandService<L>>>,
    ResourceId(delivery_id): ResourceId,
    headers: CommandHeaders,
) -> Result<Response, ApiError> {
    headers.principal.require(&[Role::Manager, Role::Admin])?;
    let accepted = Accepted::ok(DeliveryCancelledResponse {
        delivery_id,
        delivery_status: "CANCELLED",
    });
    idempotency::run(
        service.log(),
        headers,
        Value::Null,
        accepted,
        |context| async {
            let command = DeliveryCommand::CancelDelivery;
            let appended = service
                .execute::<Delivery>(delivery_id, command, context)
                .await?;
            Ok(appended.position)
        },
    )
    .await
}
