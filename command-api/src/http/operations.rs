//! `/health/*` (every process) and `GET /admin/streams/{aggregateType}/{id}`.

use std::future::Future;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::extract::resource_id;
use crate::dispatch::CommandService;
use crate::store::{EventLog, RecordedEvent};

/// What `/health/ready` asks: whether the database a process serves from answers, with
/// the migrations applied.
pub trait Readiness: Send + Sync + 'static {
    fn is_ready(&self) -> impl Future<Output = bool> + Send;
}

impl<L: EventLog> Readiness for CommandService<L> {
    async fn is_ready(&self) -> bool {
        self.log().is_ready().await
    }
}

pub fn health<R: Readiness>() -> Router<Arc<R>> {
    Router::new()
        .route("/health/live", get(live))
        .route("/health/ready", get(ready::<R>))
}

pub fn admin<L: EventLog>() -> Router<Arc<CommandService<L>>> {
    Router::new().route("/admin/streams/{aggregate_type}/{id}", get(stream::<L>))
}

/// A health probe's answer.
#[derive(Serialize, ToSchema)]
struct Health {
    /// `live` or `ready`.
    #[schema(example = "ready")]
    status: &'static str,
}

/// A stream's events, oldest first.
#[derive(Serialize, ToSchema)]
struct StreamEvents {
    items: Vec<RecordedEvent>,
}

/// Liveness: the process answers.
#[utoipa::path(
    get,
    path = "/health/live",
    operation_id = "health_live",
    tag = "operations",
    security(()),
    responses((status = 200, description = "Alive", body = Health))
)]
async fn live() -> Json<Health> {
    Json(Health { status: "live" })
}

/// Readiness: the database answers and its migrations are applied (for a process that
/// writes, the server takes writes; see [`Readiness`]).
#[utoipa::path(
    get,
    path = "/health/ready",
    operation_id = "health_ready",
    tag = "operations",
    security(()),
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "The database does not answer, its migrations are not \
            applied, or it takes no writes where the process writes (`not_ready`)", body = ErrorBody),
    )
)]
async fn ready<R: Readiness>(State(readiness): State<Arc<R>>) -> Response {
    if readiness.is_ready().await {
        Json(Health { status: "ready" }).into_response()
    } else {
        let body = json!({
            "error": "not_ready",
            "message": "the database does not answer, its migrations are not applied, or it takes no writes",
        });
        (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
    }
}

/// A stream's events with their metadata (audit, time travel).
#[utoipa::path(
    get,
    path = "/admin/streams/{aggregate_type}/{id}",
    operation_id = "get_stream",
    tag = "operations",
    params(
        ("aggregate_type" = String, Path, description = "An aggregate type a context \
            registered, e.g. `Order`; any other is 404 `unknown_aggregate_type`"),
        ("id" = String, Path, description = "The aggregate's id"),
    ),
    responses(
        (status = 200, description = "The stream's events, oldest first", body = StreamEvents),
        (status = 401, description = "No valid bearer token", body = ErrorBody,
            headers(("WWW-Authenticate" = String))),
        (status = 403, description = "The token is not an admin's", body = ErrorBody),
        (status = 404, description = "An unknown aggregate type (`unknown_aggregate_type`) \
            or no such stream (`stream_not_found`)", body = ErrorBody),
        (status = 422, description = "An id that is not a UUID", body = ErrorBody),
        (status = 503, description = "The event store is unavailable", body = ErrorBody,
            headers(("Retry-After" = u32))),
    )
)]
async fn stream<L: EventLog>(
    State(service): State<Arc<CommandService<L>>>,
    Path((aggregate_type, id)): Path<(String, String)>,
) -> Result<Json<StreamEvents>, ApiError> {
    let known = service.aggregate_types();
    if !known.contains(&aggregate_type.as_str()) {
        return Err(ApiError::NotFound {
            code: "unknown_aggregate_type",
            message: format!("aggregate types are {}", known.join(", ")),
        });
    }
    // Every stream strata writes is named by a UUID; anything else names none.
    resource_id(&id)?;
    let events = service.stream(&aggregate_type, &id).await?;
    if events.is_empty() {
        return Err(ApiError::NotFound {
            code: "stream_not_found",
            message: format!("no {aggregate_type} stream with id {id}"),
        });
    }
    Ok(Json(StreamEvents { items: events }))
}
