//! `/health/*` (every process) and `GET /admin/streams/{aggregateType}/{id}`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::error::ApiError;
use crate::dispatch::CommandService;
use crate::store::EventLog;

/// The aggregate types whose streams `/admin/streams` shows.
const AGGREGATE_TYPES: [&str; 6] = [
    "Order",
    "Payment",
    "Delivery",
    "Booking",
    "Confirm",
    "Notification",
];

pub fn health<L: EventLog>() -> Router<Arc<CommandService<L>>> {
    Router::new()
        .route("/health/live", get(live))
        .route("/health/ready", get(ready::<L>))
}

pub fn admin<L: EventLog>() -> Router<Arc<CommandService<L>>> {
    Router::new().route("/admin/streams/{aggregate_type}/{id}", get(stream::<L>))
}

async fn live() -> Json<serde_json::Value> {
    Json(json!({ "status": "live" }))
}

async fn ready<L: EventLog>(State(service): State<Arc<CommandService<L>>>) -> Response {
    if service.log().is_ready().await {
        Json(json!({ "status": "ready" })).into_response()
    } else {
        let body = json!({
            "error": "not_ready",
            "message": "the database does not answer or migrations are not applied",
        });
        (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
    }
}

async fn stream<L: EventLog>(
    State(service): State<Arc<CommandService<L>>>,
    Path((aggregate_type, id)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if !AGGREGATE_TYPES.contains(&aggregate_type.as_str()) {
        return Err(ApiError::NotFound {
            code: "unknown_aggregate_type",
            message: format!("aggregate types are {}", AGGREGATE_TYPES.join(", ")),
        });
    }
    let events = service.stream(&aggregate_type, &id).await?;
    if events.is_empty() {
        return Err(ApiError::NotFound {
            code: "stream_not_found",
            message: format!("no {aggregate_type} stream with id {id}"),
        });
    }
    Ok(Json(json!({ "items": events })))
}
