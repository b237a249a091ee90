//! `GET /bookingLists` (a page, by roomId, userId and confirmStatus) and
//! `GET /bookingLists/{bookingId}`.

use auth::Principal;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::freshness::MinPosition;
use crate::http::openapi::{
    IfNoneMatch, MinPositionHeader, MinPositionQuery, PageQuery, ReadErrors,
};
use crate::http::params::{one_of, positive, user_id, Paging, ResourceId};
use crate::http::{ReadState, ViewTable};
use crate::page::Page;
use projections::booking::{BookingRow, BOOKING_LIST};

use crate::store::Arg;

const BOOKINGS: ViewTable = ViewTable {
    view: &BOOKING_LIST,
    missing: "booking_not_found",
    noun: "booking",
};
const CONFIRM_STATUSES: &[&str] = &["BOOKED", "CONFIRMED", "DENIED", "DELETED"];

pub(super) fn router() -> Router<ReadState> {
    Router::new()
        .route("/bookingLists", get(list))
        .route("/bookingLists/{id}", get(one))
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only this room's bookings (a positive integer).
    #[param(value_type = i64, required = false, minimum = 1)]
    room_id: Option<String>,
    /// Only this user's bookings.
    user_id: Option<String>,
    /// Only bookings whose confirm is `BOOKED`, `CONFIRMED`, `DENIED` or `DELETED`.
    confirm_status: Option<String>,
}

/// A page of bookingList rows, in bookingId order.
#[utoipa::path(
    get,
    path = "/bookingLists",
    operation_id = "list_bookings",
    tag = "bookingLists",
    params(ListQuery, PageQuery, MinPositionQuery, MinPositionHeader),
    responses(
        (status = 200, description = "A page of rows", body = Page<BookingRow>, headers(
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
    if let Some(room_id) = query.room_id {
        filters.push(("room_id", Arg::Int(positive("roomId", &room_id)?)));
    }
    if let Some(user) = query.user_id {
        filters.push(("booking_user_id", Arg::Text(user_id("userId", user)?)));
    }
    if let Some(status) = query.confirm_status {
        let status = one_of("confirmStatus", status, CONFIRM_STATUSES)?;
        filters.push(("confirm_status", Arg::Text(status)));
    }
    reads
        .page::<BookingRow>(&reader, &BOOKINGS, min, &paging, filters)
        .await
}

/// One bookingList row.
#[utoipa::path(
    get,
    path = "/bookingLists/{id}",
    operation_id = "get_booking",
    tag = "bookingLists",
    params(
        ("id" = Uuid, Path, description = "The booking's id"),
        MinPositionQuery, MinPositionHeader, IfNoneMatch,
    ),
    responses(
        (status = 200, description = "The row", body = BookingRow, headers(
            ("ETag" = String, description = "The position of the last event applied to it"),
            ("X-Projection-Position" = i64, description = "The view's position when read"),
        )),
        (status = 304, description = "The client's `If-None-Match` names the current ETag"),
        (status = 404, description = "No such booking (`booking_not_found`)", body = ErrorBody,
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
    reads
        .one::<BookingRow>(&reader, &BOOKINGS, min, &id, &headers)
        .await
}
