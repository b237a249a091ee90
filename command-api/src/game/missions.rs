//! `POST /missions`: a customer achieves a mission, once per customer and mission code.

use std::sync::Arc;

use auth::Role;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::Utc;
use domain::game::mission::{mission_id, Mission, MissionCommand};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::dispatch::CommandService;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{required, CommandHeaders, JsonBody};
use crate::http::idempotency::{self, Accepted, Committed};
use crate::http::openapi::{CommandParams, JsonBodyErrors};
use crate::store::EventLog;

/// The code of a second achievement of a mission.
const ALREADY_ACHIEVED: &str = "mission_already_achieved";

pub fn router<L: EventLog>() -> Router<Arc<CommandService<L>>> {
    Router::new().route("/missions", post(achieve_mission::<L>))
}

/// Every field is required: a missing or null one is a 422 naming it.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct AchieveMissionBody {
    /// The customer's own sub (a manager or admin, the game server, names anyone).
    #[schema(value_type = String, required = true, example = "customer-1", min_length = 1, max_length = 64, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$")]
    customer_id: Option<String>,
    #[schema(value_type = String, required = true, example = "FIRST-WIN", min_length = 1, max_length = 64, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$")]
    mission_code: Option<String>,
}

/// `POST /missions`: the mission is achieved; its reward follows by policy.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct MissionAchievedResponse {
    mission_id: Uuid,
}

/// `POST /missions` for a mission the customer has achieved before (409).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct AlreadyAchievedResponse {
    #[schema(example = "mission_already_achieved")]
    error: &'static str,
    message: String,
    /// The mission achieved before.
    mission_id: Uuid,
}

/// Achieve a mission (a customer, for themself; a manager or admin for anyone). The
/// mission's id follows from the customer and the code: a second achievement is 409.
#[utoipa::path(
    post,
    path = "/missions",
    tag = "missions",
    params(CommandParams),
    request_body = AchieveMissionBody,
    responses(
        (status = 201, description = "Achieved", body = Committed<MissionAchievedResponse>,
            headers(("Location" = String, description = "The mission's missionList row"))),
        (status = 409, description = "Achieved before (`mission_already_achieved`), with \
            its `missionId`", body = AlreadyAchievedResponse),
        (status = 422, description = "A field is missing or invalid (`field` names it), or the \
            Idempotency-Key was first used with another body", body = ErrorBody),
        JsonBodyErrors,
    )
)]
async fn achieve_mission<L: EventLog>(
    State(service): State<Arc<CommandService<L>>>,
    headers: CommandHeaders,
    body: JsonBody<AchieveMissionBody>,
) -> Result<Response, ApiError> {
    let fields = body.parsed;
    let customer_id = required("customerId", fields.customer_id)?;
    let mission_code = required("missionCode", fields.mission_code)?;
    if !matches!(headers.principal.role, Role::Manager | Role::Admin) {
        headers.principal.act_for("customerId", &customer_id)?;
    }
    let mission_id = mission_id(&customer_id, &mission_code);
    let accepted = Accepted::created(
        format!("/missions/{mission_id}"),
        MissionAchievedResponse { mission_id },
    );
    let achieved = idempotency::run(
        service.log(),
        headers,
        body.raw,
        accepted,
        |context| async {
            let command = MissionCommand::AchieveMission {
                customer_id,
                mission_code,
                achieved_at: Utc::now(),
            };
            let appended = service
                .execute_new::<Mission>(mission_id, command, context)
                .await?;
            Ok(appended.position)
        },
    )
    .await;
    match achieved {
        Err(ApiError::Conflict {
            code: ALREADY_ACHIEVED,
            message,
        }) => {
            let body = AlreadyAchievedResponse {
                error: ALREADY_ACHIEVED,
                message,
                mission_id,
            };
            Ok((StatusCode::CONFLICT, Json(body)).into_response())
        }
        other => other,
    }
}
