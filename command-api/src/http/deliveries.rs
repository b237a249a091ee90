//! `POST /deliveries/{id}/cancel`: staff cancel a delivery.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};

use super::error::ApiError;
use super::extract::{CommandHeaders, ResourceId};
use super::idempotency::{self, Accepted};
use crate::dispatch::CommandService;
use crate::store::EventLog;

pub fn router<L: EventLog>() -> Router<Arc<CommandService<L>>> {
    Router::new().route("/deliveries/{id}/cancel", post(cancel_delivery::<L>))
}

async fn cancel_delivery<L: EventLog>(
    State(service): State<Arc<CommandService<L>>>,
    ResourceId(delivery_id): ResourceId,
    headers: CommandHeaders,
) -> Result<Response, ApiError> {
    let accepted =
        Accepted::ok(json!({ "deliveryId": delivery_id, "deliveryStatus": "CANCELLED" }));
    idempotency::run(
        service.log(),
        headers,
        Value::Null,
        accepted,
        |context| async {
            let appended = service.cancel_delivery(delivery_id, context).await?;
            Ok(appended.position)
        },
    )
    .await
}
