//! `POST /hotelBookings` (a stay, paid and its nights claimed in one commit) and
//! `POST /hotelBookings/{id}/cancel`.

use std::sync::Arc;

use auth::Role;
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use chrono::{NaiveDate, Utc};
use domain::hotel::hotel_booking::{BookRoom, Canceller, HotelBooking, HotelBookingCommand};
use domain::hotel::hotel_payment::{HotelPayment, HotelPaymentCommand};
use domain::hotel::hotel_room::HotelRoom;
use domain::shop::PayMethod;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::openapi::Ref;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::dispatch::{CommandError, CommandService, Decision};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{required, CommandHeaders, JsonBody, ResourceId};
use crate::http::idempotency::{self, Accepted, Committed};
use crate::http::openapi::{CommandErrors, CommandParams, JsonBodyErrors};
use crate::store::EventLog;

pub fn router<L: EventLog>() -> Router<Arc<CommandService<L>>> {
    Router::new()
        .route("/hotelBookings", post(book_room::<L>))
        .route("/hotelBookings/{id}/cancel", post(cancel_stay::<L>))
}

/// Every field is required: a missing or null one is a 422 naming it.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct BookRoomBody {
    #[schema(value_type = Uuid, required = true)]
    room_id: Option<Uuid>,
    /// The guest: the customer's own sub.
    #[schema(value_type = String, required = true, example = "customer-1", min_length = 1, max_length = 64, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$")]
    guest_id: Option<String>,
    /// The first night, from today (UTC) to 365 days ahead.
    #[schema(value_type = NaiveDate, required = true, example = "2027-01-10")]
    start_date: Option<NaiveDate>,
    /// The check-out day: 1 to 30 nights after `startDate`; it may be another stay's
    /// first night.
    #[schema(value_type = NaiveDate, required = true, example = "2027-01-12")]
    end_date: Option<NaiveDate>,
    #[schema(schema_with = pay_method, required = true)]
    pay_method: Option<PayMethod>,
}

/// How the guest pays: the shop's `PayMethod`, documented there.
fn pay_method() -> Ref {
    Ref::from_schema_name("PayMethod")
}

/// `POST /hotelBookings`: the nights are booked and paid for.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct RoomBookedResponse {
    booking_id: Uuid,
    payment_id: Uuid,
    /// The room's price × nights.
    amount: i64,
}

/// `POST /hotelBookings/{id}/cancel`: the stay is cancelled and its nights released;
/// the refund follows by policy.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct StayCancelledResponse {
    booking_id: Uuid,
    #[schema(example = "CANCELLED")]
    booking_status: &'static str,
}

/// The stay as the guest asked for it.
#[derive(Clone)]
struct Stay {
    room_id: Uuid,
    guest_id: String,
    start_date: NaiveDate,
    end_date: NaiveDate,
    pay_method: PayMethod,
}

/// Book nights in a room and pay for them (a customer, for themself; or an admin).
///
/// The stay, its payment and the claim on the room's nights commit together: a refused
/// payment or a taken night stores nothing.
#[utoipa::path(
    post,
    path = "/hotelBookings",
    tag = "hotelBookings",
    params(CommandParams),
    request_body = BookRoomBody,
    responses(
        (status = 201, description = "Booked and paid", body = Committed<RoomBookedResponse>,
            headers(("Location" = String, description = "The stay's hotelBookingList row"))),
        (status = 402, description = "The payment was refused (`payment_refused`)",
            body = ErrorBody),
        (status = 409, description = "Some of the nights are taken (`room_unavailable`), or \
            the room is deleted (`room_deleted`)", body = ErrorBody),
        (status = 422, description = "A field is missing or invalid (`field` names it), \
            `room_not_found` (roomId), or the Idempotency-Key was first used with another \
            body", body = ErrorBody),
        JsonBodyErrors,
    )
)]
async fn book_room<L: EventLog>(
    State(service): State<Arc<CommandService<L>>>,
    headers: CommandHeaders,
    body: JsonBody<BookRoomBody>,
) -> Result<Response, ApiError> {
    let fields = body.parsed;
    let stay = Stay {
        room_id: required("roomId", fields.room_id)?,
        guest_id: required("guestId", fields.guest_id)?,
        start_date: required("startDate", fields.start_date)?,
        end_date: required("endDate", fields.end_date)?,
        pay_method: required("payMethod", fields.pay_method)?,
    };
    headers.principal.act_for("guestId", &stay.guest_id)?;
    let (booking_id, payment_id) = (Uuid::now_v7(), Uuid::now_v7());
    let (stay, service) = (&stay, &service);
    idempotency::run_deciding(
        service.log(),
        headers,
        body.raw,
        |context, key| async move {
            // A claim that loses a race to an overlapping one is decided again: the
            // next try finds the nights taken and says so.
            let outcome = service
                .deciding_again(|| async {
                    let mut context = context.clone();
                    let (booked, paid) =
                        decide_stay(service, booking_id, payment_id, stay.clone()).await?;
                    let accepted = Accepted::created(
                        format!("/hotelBookings/{booking_id}"),
                        RoomBookedResponse {
                            booking_id,
                            payment_id,
                            amount: booked.aggregate().amount().unwrap_or_default(),
                        },
                    );
                    context.idempotency = key.claim(&accepted);
                    let appended = service.commit_all(&[&booked, &paid], context).await?;
                    Ok((accepted, appended.position))
                })
                .await;
            service.counted("BookRoom", outcome)
        },
    )
    .await
}

/// The stay and its payment, decided on the room as it stands.
async fn decide_stay<L: EventLog>(
    service: &CommandService<L>,
    booking_id: Uuid,
    payment_id: Uuid,
    stay: Stay,
) -> Result<(Decision<HotelBooking>, Decision<HotelPayment>), CommandError> {
    let room = service.load::<HotelRoom>(stay.room_id).await?;
    let now = Utc::now();
    let book = BookRoom {
        room: room.facts(stay.room_id),
        guest_id: stay.guest_id.clone(),
        start_date: stay.start_date,
        end_date: stay.end_date,
        payment_id,
        today: now.date_naive(),
        booked_at: now,
    };
    let booked = Decision::<HotelBooking>::new(booking_id)
        .decide(HotelBookingCommand::BookRoom(book))
        .await?;
    let payment = HotelPaymentCommand::ApprovePayment {
        booking_id,
        guest_id: stay.guest_id,
        amount: booked.aggregate().amount().unwrap_or_default(),
        pay_method: stay.pay_method,
    };
    let paid = Decision::<HotelPayment>::new(payment_id)
        .decide(payment)
        .await?;
    Ok((booked, paid))
}

/// Cancel a stay (its guest, the room's host, or an admin), releasing its nights.
#[utoipa::path(
    post,
    path = "/hotelBookings/{id}/cancel",
    tag = "hotelBookings",
    params(("id" = Uuid, Path, description = "The stay's id"), CommandParams),
    responses(
        (status = 200, description = "Cancelled", body = Committed<StayCancelledResponse>),
        (status = 404, description = "No such stay, or another guest's or host's \
            (`hotel_booking_not_found`)", body = ErrorBody),
        (status = 409, description = "Already cancelled (`hotel_booking_already_cancelled`)",
            body = ErrorBody),
        (status = 422, description = "The id is not a UUID, or the Idempotency-Key was first \
            used with another body", body = ErrorBody),
        CommandErrors,
    )
)]
async fn cancel_stay<L: EventLog>(
    State(service): State<Arc<CommandService<L>>>,
    ResourceId(booking_id): ResourceId,
    headers: CommandHeaders,
) -> Result<Response, ApiError> {
    let principal = &headers.principal;
    principal.require(&[Role::Customer, Role::Host, Role::Admin])?;
    let by = match principal.role {
        Role::Host => Canceller::Host(principal.subject.clone()),
        Role::Admin => Canceller::Admin,
        _ => Canceller::Guest(principal.subject.clone()),
    };
    let accepted = Accepted::ok(StayCancelledResponse {
        booking_id,
        booking_status: "CANCELLED",
    });
    idempotency::run(
        service.log(),
        headers,
        Value::Null,
        accepted,
        |context| async {
            let command = HotelBookingCommand::CancelRoomBooking { by };
            let appended = service
                .execute::<HotelBooking>(booking_id, command, context)
                .await?;
            Ok(appended.position)
        },
    )
    .await
}
