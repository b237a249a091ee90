//! `POST /hotelRooms` (a host registers a room) and `POST /hotelRooms/{id}/delete`.

use std::sync::Arc;

use auth::Role;
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use chrono::Utc;
use domain::hotel::hotel_room::{HotelRoom, HotelRoomCommand};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::dispatch::CommandService;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{required, CommandHeaders, JsonBody, ResourceId};
use crate::http::idempotency::{self, Accepted, Committed};
use crate::http::openapi::{CommandErrors, CommandParams, JsonBodyErrors};
use crate::store::EventLog;

pub fn router<L: EventLog>() -> Router<Arc<CommandService<L>>> {
    Router::new()
        .route("/hotelRooms", post(register_room::<L>))
        .route("/hotelRooms/{id}/delete", post(delete_room::<L>))
}

/// A host registers a room for themself (`hostId` left out, or their sub); an admin
/// names the host.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct RegisterRoomBody {
    #[schema(value_type = String, required = true, example = "Ocean view", min_length = 1, max_length = 100, pattern = r"^[^\x00]*$")]
    name: Option<String>,
    /// The price per night, in minor units.
    #[schema(value_type = i64, required = true, example = 120000, minimum = 1, maximum = 1000000)]
    price: Option<i64>,
    /// The room's host: required from an admin; a host may leave it out.
    #[schema(
        example = "host-1",
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*$"
    )]
    host_id: Option<String>,
}

/// `POST /hotelRooms`: the room is registered.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct RoomRegisteredResponse {
    room_id: Uuid,
}

/// `POST /hotelRooms/{id}/delete`: the room is deleted; its future stays are cancelled
/// by the hotel's policy.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct RoomDeletedResponse {
    room_id: Uuid,
    #[schema(example = "DELETED")]
    room_status: &'static str,
}

/// Register a room (a host, for themself; or an admin, naming the host).
#[utoipa::path(
    post,
    path = "/hotelRooms",
    tag = "hotelRooms",
    params(CommandParams),
    request_body = RegisterRoomBody,
    responses(
        (status = 201, description = "Registered", body = Committed<RoomRegisteredResponse>,
            headers(("Location" = String, description = "The room's roomList row"))),
        (status = 422, description = "A field is missing or invalid (`field` names it), or the \
            Idempotency-Key was first used with another body", body = ErrorBody),
        JsonBodyErrors,
    )
)]
async fn register_room<L: EventLog>(
    State(service): State<Arc<CommandService<L>>>,
    headers: CommandHeaders,
    body: JsonBody<RegisterRoomBody>,
) -> Result<Response, ApiError> {
    let principal = &headers.principal;
    principal.require(&[Role::Host, Role::Admin])?;
    let fields = body.parsed;
    let host_id = match principal.role {
        Role::Admin => required("hostId", fields.host_id)?,
        _ => principal
            .acting_as("hostId", fields.host_id.as_deref())?
            .to_string(),
    };
    let command = HotelRoomCommand::RegisterRoom {
        host_id,
        name: required("name", fields.name)?,
        price: required("price", fields.price)?,
        registered_at: Utc::now(),
    };
    let room_id = Uuid::now_v7();
    let accepted = Accepted::created(
        format!("/hotelRooms/{room_id}"),
        RoomRegisteredResponse { room_id },
    );
    idempotency::run(
        service.log(),
        headers,
        body.raw,
        accepted,
        |context| async {
            let appended = service
                .execute_new::<HotelRoom>(room_id, command, context)
                .await?;
            Ok(appended.position)
        },
    )
    .await
}

/// Delete a room (its host, or an admin). Its stays from today on are cancelled by the
/// hotel's policy, and refunded.
#[utoipa::path(
    post,
    path = "/hotelRooms/{id}/delete",
    tag = "hotelRooms",
    params(("id" = Uuid, Path, description = "The room's id"), CommandParams),
    responses(
        (status = 200, description = "Deleted", body = Committed<RoomDeletedResponse>),
        (status = 403, description = "Another host's room (`not_room_host`)", body = ErrorBody),
        (status = 404, description = "No such room (`room_not_found`)", body = ErrorBody),
        (status = 409, description = "Already deleted (`room_already_deleted`)",
            body = ErrorBody),
        (status = 422, description = "The id is not a UUID, or the Idempotency-Key was first \
            used with another body", body = ErrorBody),
        CommandErrors,
    )
)]
async fn delete_room<L: EventLog>(
    State(service): State<Arc<CommandService<L>>>,
    ResourceId(room_id): ResourceId,
    headers: CommandHeaders,
) -> Result<Response, ApiError> {
    headers.principal.require(&[Role::Host, Role::Admin])?;
    let requested_by = headers.principal.confined_to().map(str::to_owned);
    let accepted = Accepted::ok(RoomDeletedResponse {
        room_id,
        room_status: "DELETED",
    });
    idempotency::run(
        service.log(),
        headers,
        Value::Null,
        accepted,
        |context| async {
            let command = HotelRoomCommand::DeleteRoom {
                requested_by,
                deleted_on: Utc::now().date_naive(),
            };
            let appended = service
                .execute::<HotelRoom>(room_id, command, context)
                .await?;
            Ok(appended.position)
        },
    )
    .await
}
