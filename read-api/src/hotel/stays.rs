//! `GET /hotelBookings` (a page, by guestId, hostId, roomId and status) and
//! `GET /hotelBookings/{bookingId}`. A customer reads their own stays as the guest; a
//! host reads the stays of their rooms.

use auth::{Principal, Role};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use projections::hotel::{HotelBookingRow, HOTEL_BOOKING_LIST};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::freshness::MinPosition;
use crate::http::openapi::{
    IfNoneMatch, MinPositionHeader, MinPositionQuery, PageQuery, ReadErrors,
};
use crate::http::params::{one_of, resource_id, user_id, Paging, ResourceId};
use crate::http::{resource_response, ReadState, ViewTable};
use crate::page::Page;
use crate::store::Arg;

const STAYS: ViewTable = ViewTable {
    view: &HOTEL_BOOKING_LIST,
    missing: "hotel_booking_not_found",
    noun: "stay",
};
const BOOKING_STATUSES: &[&str] = &["BOOKED", "CANCELLED"];

pub(super) fn router() -> Router<ReadState> {
    Router::new()
        .route("/hotelBookings", get(list))
        .route("/hotelBookings/{id}", get(one))
}

/// The column naming a confined reader in the stays they may read: a host's are the
/// stays of their rooms, a customer's their own as the guest. `None` for staff.
fn own_stays(reader: &Principal) -> Option<(&'static str, &str)> {
    let column = match reader.role {
        Role::Host => "host_id",
        _ => "guest_id",
    };
    reader.confined_to().map(|sub| (column, sub))
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only this guest's stays.
    guest_id: Option<String>,
    /// Only stays in this host's rooms.
    host_id: Option<String>,
    /// Only stays in this room.
    #[param(value_type = Option<Uuid>)]
    room_id: Option<String>,
    /// Only stays in this status: `BOOKED` or `CANCELLED`.
    status: Option<String>,
}

/// A page of hotelBookingList rows, in bookingId order.
#[utoipa::path(
    get,
    path = "/hotelBookings",
    operation_id = "list_hotel_bookings",
    tag = "hotelBookings",
    params(ListQuery, PageQuery, MinPositionQuery, MinPositionHeader),
    responses(
        (status = 200, description = "A page of rows", body = Page<HotelBookingRow>, headers(
            ("X-Projection-Position" = i64, description = "The view's position when read"),
        )),
        ReadErrors,
    )
)]
async fn list(
    State(reads): State<ReadState>,
    reader: Principal,
    MinPosition(min): MinPosition,
    query: Result<Query<ListQuery>, QueryRejection>,
    paging: Paging,
) -> Result<Response, ApiError> {
    let Query(query) = query?;
    let mut filters = Vec::new();
    if let Some(guest_id) = query.guest_id {
        filters.push(("guest_id", Arg::Text(user_id("guestId", guest_id)?)));
    }
    if let Some(host_id) = query.host_id {
        filters.push(("host_id", Arg::Text(user_id("hostId", host_id)?)));
    }
    if let Some(room_id) = query.room_id {
        filters.push(("room_id", Arg::Text(resource_id("roomId", &room_id)?)));
    }
    if let Some(status) = query.status {
        filters.push((
            "booking_status",
            Arg::Text(one_of("status", status, BOOKING_STATUSES)?),
        ));
    }
    reads
        .page_where::<HotelBookingRow>(
            own_stays(&reader),
            &STAYS,
            min,
            &paging,
            filters,
            Vec::new(),
        )
        .await
}

/// One stay.
#[utoipa::path(
    get,
    path = "/hotelBookings/{id}",
    operation_id = "get_hotel_booking",
    tag = "hotelBookings",
    params(
        ("id" = Uuid, Path, description = "The stay's id"),
        MinPositionQuery, MinPositionHeader, IfNoneMatch,
    ),
    responses(
        (status = 200, description = "The row", body = HotelBookingRow, headers(
            ("ETag" = String, description = "The position of the last event applied to it"),
            ("X-Projection-Position" = i64, description = "The view's position when read"),
        )),
        (status = 304, description = "The client's `If-None-Match` names the current ETag"),
        (status = 404, description = "No such stay, or one the caller may not read \
            (`hotel_booking_not_found`)", body = ErrorBody,
            headers(("X-Projection-Position" = i64, description = "The view's position"))),
        ReadErrors,
    )
)]
async fn one(
    State(reads): State<ReadState>,
    reader: Principal,
    MinPosition(min): MinPosition,
    ResourceId(id): ResourceId,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let readable = |row: &HotelBookingRow| match reader.confined_to() {
        None => true,
        Some(host) if reader.role == Role::Host => row.host_id == host,
        Some(guest) => row.guest_id == guest,
    };
    let (row, position) = reads.find(&STAYS, min, &id, readable).await?;
    let version = row.position.to_string();
    Ok(resource_response(&headers, position, &version, &row))
}
