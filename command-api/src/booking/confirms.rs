//! `POST /confirms/{id}/complete` and `/deny`: the manager's decision on a booking,
//! recorded under the token's `sub`.

use std::sync::Arc;

use auth::Role;
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::dispatch::CommandService;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{CommandHeaders, OptionalJsonBody, ResourceId};
use crate::http::idempotency::{self, Accepted, Committed};
use crate::http::openapi::{CommandParams, JsonBodyErrors};
use crate::store::EventLog;
use domain::booking::confirm::{Confirm, ConfirmCommand};

pub fn router<L: EventLog>() -> Router<Arc<CommandService<L>>> {
    Router::new()
        .route("/confirms/{id}/complete", post(complete_confirm::<L>))
        .route("/confirms/{id}/deny", post(deny_confirm::<L>))
}

/// An optional body: the decision is recorded under the token's `sub`, which
/// `managerId`, when given, must be.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct DecisionBody {
    #[schema(
        example = "manager-1",
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\x00]*$"
    )]
    manager_id: Option<String>,
}

/// `POST /confirms/{id}/complete` or `/deny`: the decision was recorded.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct ConfirmDecidedResponse {
    confirm_id: Uuid,
    /// `CONFIRMED` or `DENIED`.
    #[schema(example = "CONFIRMED")]
    confirm_status: &'static str,
}

/// Approve a booking (a manager).
#[utoipa::path(
    post,
    path = "/confirms/{id}/complete",
    tag = "confirms",
    params(("id" = Uuid, Path, description = "The confirm's id"), CommandParams),
    request_body(content = Option<DecisionBody>, description = "Optional"),
    responses(
        (status = 200, description = "Confirmed", body = Committed<ConfirmDecidedResponse>),
        (status = 404, description = "No such confirm", body = ErrorBody),
        (status = 409, description = "Already decided or deleted, or a concurrent command \
            changed it first", body = ErrorBody),
        (status = 422, description = "The id is not a UUID, or the Idempotency-Key was first \
            used with another body", body = ErrorBody),
        JsonBodyErrors,
    )
)]
async fn complete_confirm<L: EventLog>(
    state: State<Arc<CommandService<L>>>,
    id: ResourceId,
    headers: CommandHeaders,
    body: OptionalJsonBody<DecisionBody>,
) -> Result<Response, ApiError> {
    decide(state, id, headers, body, true).await
}

/// Deny a booking (a manager).
#[utoipa::path(
    post,
    path = "/confirms/{id}/deny",
    tag = "confirms",
    params(("id" = Uuid, Path, description = "The confirm's id"), CommandParams),
    request_body(content = Option<DecisionBody>, description = "Optional"),
    responses(
        (status = 200, description = "Denied", body = Committed<ConfirmDecidedResponse>),
        (status = 404, description = "No such confirm", body = ErrorBody),
        (status = 409, description = "Already decided or deleted, or a concurrent command \
            changed it first", body = ErrorBody),
        (status = 422, description = "The id is not a UUID, or the Idempotency-Key was first \
            used with another body", body = ErrorBody),
        JsonBodyErrors,
    )
)]
async fn deny_confirm<L: EventLog>(
    state: State<Arc<CommandService<L>>>,
    id: ResourceId,
    headers: CommandHeaders,
    body: OptionalJsonBody<DecisionBody>,
) -> Result<Response, ApiError> {
    decide(state, id, headers, body, false).await
}

async fn decide<L: EventLog>(
    State(service): State<Arc<CommandService<L>>>,
    ResourceId(confirm_id): ResourceId,
    headers: CommandHeaders,
    body: OptionalJsonBody<DecisionBody>,
    approve: bool,
) -> Result<Response, ApiError> {
    headers.principal.require(&[Role::Manager, Role::Admin])?;
    let (body, raw) = body.into_parts();
    let named = body.and_then(|body| body.manager_id);
    let manager_id = headers
        .principal
        .acting_as("managerId", named.as_deref())?
        .to_string();
    let status = if approve { "CONFIRMED" } else { "DENIED" };
    let accepted = Accepted::ok(ConfirmDecidedResponse {
        confirm_id,
        confirm_status: status,
    });
    idempotency::run(service.log(), headers, raw, accepted, |context| async {
        let at = Utc::now();
        let command = if approve {
            ConfirmCommand::CompleteConfirm { manager_id, at }
        } else {
            ConfirmCommand::DenyConfirm { manager_id, at }
        };
        let appended = service
            .execute::<Confirm>(confirm_id, command, context)
            .await?;
        Ok(appended.position)
    })
    .await
}
