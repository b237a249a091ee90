//! `POST /confirms/{id}/complete` and `/deny`: the manager's decision on a booking.
//!
//! Until bearer-token auth lands, the deciding manager names themself in the body
//! (`{"managerId": "..."}`); with auth, the token's `sub` takes its place.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;

use super::error::ApiError;
use super::extract::{required, CommandHeaders, JsonBody, ResourceId};
use super::idempotency::{self, Accepted};
use crate::dispatch::CommandService;
use crate::store::EventLog;

pub fn router<L: EventLog>() -> Router<Arc<CommandService<L>>> {
    Router::new()
        .route("/confirms/{id}/complete", post(complete_confirm::<L>))
        .route("/confirms/{id}/deny", post(deny_confirm::<L>))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DecisionBody {
    manager_id: Option<String>,
}

async fn complete_confirm<L: EventLog>(
    state: State<Arc<CommandService<L>>>,
    id: ResourceId,
    headers: CommandHeaders,
    body: JsonBody<DecisionBody>,
) -> Result<Response, ApiError> {
    decide(state, id, headers, body, true).await
}

async fn deny_confirm<L: EventLog>(
    state: State<Arc<CommandService<L>>>,
    id: ResourceId,
    headers: CommandHeaders,
    body: JsonBody<DecisionBody>,
) -> Result<Response, ApiError> {
    decide(state, id, headers, body, false).await
}

async fn decide<L: EventLog>(
    State(service): State<Arc<CommandService<L>>>,
    ResourceId(confirm_id): ResourceId,
    headers: CommandHeaders,
    body: JsonBody<DecisionBody>,
    approve: bool,
) -> Result<Response, ApiError> {
    let manager_id = required("managerId", body.parsed.manager_id)?;
    let status = if approve { "CONFIRMED" } else { "DENIED" };
    let accepted = Accepted::ok(json!({ "confirmId": confirm_id, "confirmStatus": status }));
    idempotency::run(
        service.log(),
        headers,
        body.raw,
        accepted,
        |context| async {
            let appended = service
                .decide_confirm(confirm_id, approve, manager_id, Utc::now(), context)
                .await?;
            Ok(appended.position)
        },
    )
    .await
}
