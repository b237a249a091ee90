//! `POST /bookings` (create, reserving the room) and `POST /bookings/{id}/cancel`.

use std::sync::Arc;

use auth::Role;
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use chrono::{DateTime, Utc};
use domain::booking::booking::{Booking, BookingCommand, CreateBooking};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::dispatch::CommandService;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{required, CommandHeaders, JsonBody, OptionalJsonBody, ResourceId};
use crate::http::idempotency::{self, Accepted, Committed};
use crate::http::openapi::{CommandParams, JsonBodyErrors};
use crate::store::EventLog;

/// The reason recorded when a client cancels without giving one.
const DEFAULT_CANCEL_REASON: &str = "CANCELLED_BY_USER";

pub fn router<L: EventLog>() -> Router<Arc<CommandService<L>>> {
    Router::new()
        .route("/bookings", post(create_booking::<L>))
        .route("/bookings/{id}/cancel", post(cancel_booking::<L>))
}

/// Every field is required: a missing or null one is a 422 naming it.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct CreateBookingBody {
    #[schema(value_type = i64, required = true, example = 101, minimum = 1)]
    room_id: Option<i64>,
    #[schema(value_type = DateTime<Utc>, required = true)]
    use_start_dtm: Option<DateTime<Utc>>,
    /// After `useStartDtm`.
    #[schema(value_type = DateTime<Utc>, required = true)]
    use_end_dtm: Option<DateTime<Utc>>,
    #[schema(value_type = String, required = true, example = "user-1", min_length = 1, max_length = 64, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$")]
    booking_user_id: Option<String>,
}

/// An optional body: without one the reason is `CANCELLED_BY_USER`.
#[derive(Deserialize, ToSchema)]
struct CancelBookingBody {
    #[schema(
        example = "CANCELLED_BY_USER",
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00]*$"
    )]
    reason: Option<String>,
}

/// `POST /bookings`: the booking was made and the room reserved.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct BookingCreatedResponse {
    booking_id: Uuid,
}

/// `POST /bookings/{id}/cancel`: the booking was cancelled and the room released.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct BookingCancelledResponse {
    booking_id: Uuid,
    #[schema(example = "CANCELLED")]
    booking_status: &'static str,
}

/// Book a room for an interval; its confirm then awaits a manager's decision.
#[utoipa::path(
    post,
    path = "/bookings",
    tag = "bookings",
    params(CommandParams),
    request_body = CreateBookingBody,
    responses(
        (status = 201, description = "Booked", body = Committed<BookingCreatedResponse>,
            headers(("Location" = String, description = "The booking's bookingList row"))),
        (status = 409, description = "The room is already booked for an overlapping \
            interval (`room_unavailable`)", body = ErrorBody),
        (status = 422, description = "A field is missing or invalid (`field` names it), or the \
            Idempotency-Key was first used with another body", body = ErrorBody),
        JsonBodyErrors,
    )
)]
async fn create_booking<L: EventLog>(
    State(service): State<Arc<CommandService<L>>>,
    headers: CommandHeaders,
    body: JsonBody<CreateBookingBody>,
) -> Result<Response, ApiError> {
    let fields = body.parsed;
    let booking = CreateBooking {
        room_id: required("roomId", fields.room_id)?,
        use_start_dtm: required("useStartDtm", fields.use_start_dtm)?,
        use_end_dtm: required("useEndDtm", fields.use_end_dtm)?,
        booking_user_id: required("bookingUserId", fields.booking_user_id)?,
        requested_at: Utc::now(),
    };
    headers
        .principal
        .act_for("bookingUserId", &booking.booking_user_id)?;
    let booking_id = Uuid::now_v7();
    let accepted = Accepted::created(
        format!("/bookingLists/{booking_id}"),
        BookingCreatedResponse { booking_id },
    );
    idempotency::run(
        service.log(),
        headers,
        body.raw,
        accepted,
        |context| async {
            let command = BookingCommand::CreateBooking(booking);
            let appended = service
                .execute_new::<Booking>(booking_id, command, context)
                .await?;
            Ok(appended.position)
        },
    )
    .await
}

/// Cancel a booking, releasing its room.
#[utoipa::path(
    post,
    path = "/bookings/{id}/cancel",
    tag = "bookings",
    params(("id" = Uuid, Path, description = "The booking's id"), CommandParams),
    request_body(content = Option<CancelBookingBody>, description = "Optional"),
    responses(
        (status = 200, description = "Cancelled", body = Committed<BookingCancelledResponse>),
        (status = 404, description = "No such booking", body = ErrorBody),
        (status = 409, description = "The booking is already cancelled, or a concurrent \
            command changed it first", body = ErrorBody),
        (status = 422, description = "The id is not a UUID, a field is invalid, or the \
            Idempotency-Key was first used with another body", body = ErrorBody),
        JsonBodyErrors,
    )
)]
async fn cancel_booking<L: EventLog>(
    State(service): State<Arc<CommandService<L>>>,
    ResourceId(booking_id): ResourceId,
    headers: CommandHeaders,
    body: OptionalJsonBody<CancelBookingBody>,
) -> Result<Response, ApiError> {
    headers.principal.require(&[Role::Customer, Role::Admin])?;
    let requested_by = headers.principal.confined_to().map(str::to_owned);
    let (body, raw) = body.into_parts();
    let reason = body
        .and_then(|body| body.reason)
        .unwrap_or_else(|| DEFAULT_CANCEL_REASON.to_string());
    let accepted = Accepted::ok(BookingCancelledResponse {
        booking_id,
        booking_status: "CANCELLED",
    });
    idempotency::run(service.log(), headers, raw, accepted, |context| async {
        let command = BookingCommand::CancelBooking {
            reason,
            requested_by,
        };
        let appended = service
            .execute::<Booking>(booking_id, command, context)
            .await?;
        Ok(appended.position)
    })
    .await
}
