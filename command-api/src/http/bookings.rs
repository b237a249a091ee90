//! `POST /bookings` (create, reserving the room) and `POST /bookings/{id}/cancel`.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use chrono::{DateTime, Utc};
use domain::booking::CreateBooking;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::error::ApiError;
use super::extract::{required, CommandHeaders, JsonBody, OptionalJsonBody, ResourceId};
use super::idempotency::{self, Accepted};
use crate::dispatch::CommandService;
use crate::store::EventLog;

/// The reason recorded when a client cancels without giving one.
const DEFAULT_CANCEL_REASON: &str = "CANCELLED_BY_USER";

pub fn router<L: EventLog>() -> Router<Arc<CommandService<L>>> {
    Router::new()
        .route("/bookings", post(create_booking::<L>))
        .route("/bookings/{id}/cancel", post(cancel_booking::<L>))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateBookingBody {
    room_id: Option<i64>,
    use_start_dtm: Option<DateTime<Utc>>,
    use_end_dtm: Option<DateTime<Utc>>,
    booking_user_id: Option<String>,
}

#[derive(Deserialize)]
struct CancelBookingBody {
    reason: Option<String>,
}

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
    let booking_id = Uuid::now_v7();
    let accepted = Accepted::created(
        format!("/bookingLists/{booking_id}"),
        json!({ "bookingId": booking_id }),
    );
    idempotency::run(
        service.log(),
        headers,
        body.raw,
        accepted,
        |context| async {
            let appended = service.create_booking(booking_id, booking, context).await?;
            Ok(appended.position)
        },
    )
    .await
}

async fn cancel_booking<L: EventLog>(
    State(service): State<Arc<CommandService<L>>>,
    ResourceId(booking_id): ResourceId,
    headers: CommandHeaders,
    OptionalJsonBody(body): OptionalJsonBody<CancelBookingBody>,
) -> Result<Response, ApiError> {
    let (reason, raw) = match body {
        Some(body) => (body.parsed.reason, body.raw),
        None => (None, Value::Null),
    };
    let reason = reason.unwrap_or_else(|| DEFAULT_CANCEL_REASON.to_string());
    let accepted = Accepted::ok(json!({ "bookingId": booking_id, "bookingStatus": "CANCELLED" }));
    idempotency::run(service.log(), headers, raw, accepted, |context| async {
        let appended = service.cancel_booking(booking_id, reason, context).await?;
        Ok(appended.position)
    })
    .await
}
