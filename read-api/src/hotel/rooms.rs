//! `GET /hotelRooms` (a page; with `freeFrom` and `freeTo`, only rooms free over those
//! nights) and `GET /hotelRooms/{roomId}` with its booked nights: every role reads them.

use std::ops::RangeInclusive;

use auth::Principal;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::{NaiveDate, Utc};
use projections::hotel::{RoomRow, ROOM_LIST};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::TAKEN_NIGHTS;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::freshness::MinPosition;
use crate::http::openapi::{
    IfNoneMatch, MinPositionHeader, MinPositionQuery, PageQuery, ReadErrors,
};
use crate::http::params::{interval, positive, user_id, Paging, ResourceId};
use crate::http::{resource_response, ReadState, ViewTable};
use crate::page::Page;
use crate::store::{Arg, Condition};
use crate::time_slots;

const ROOMS: ViewTable = ViewTable {
    view: &ROOM_LIST,
    missing: "room_not_found",
    noun: "room",
};

pub(super) fn router() -> Router<ReadState> {
    Router::new()
        .route("/hotelRooms", get(list))
        .route("/hotelRooms/{id}", get(one))
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// With `freeTo`: only active rooms with no stay over the nights [freeFrom, freeTo).
    #[param(value_type = Option<NaiveDate>)]
    free_from: Option<String>,
    /// The check-out day of the nights asked about; after `freeFrom`.
    #[param(value_type = Option<NaiveDate>)]
    free_to: Option<String>,
    /// Only rooms whose price per night is at most this.
    #[param(value_type = Option<i64>, minimum = 1)]
    max_price: Option<String>,
    /// Only this host's rooms.
    host_id: Option<String>,
}

/// A room with the nights its stays hold.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct RoomWithNights {
    #[serde(flatten)]
    room: RoomRow,
    /// The active stays' nights `[startDate, endDate)` that end after today, in order;
    /// whose they are is not shown.
    booked_ranges: Vec<BookedNights>,
}

/// Nights `[startDate, endDate)` of one stay: the end is its check-out day.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct BookedNights {
    #[schema(value_type = NaiveDate)]
    start_date: String,
    #[schema(value_type = NaiveDate)]
    end_date: String,
}

/// A page of rooms, in roomId order.
#[utoipa::path(
    get,
    path = "/hotelRooms",
    operation_id = "list_hotel_rooms",
    tag = "hotelRooms",
    params(ListQuery, PageQuery, MinPositionQuery, MinPositionHeader),
    responses(
        (status = 200, description = "A page of rows", body = Page<RoomRow>, headers(
            ("X-Projection-Position" = i64, description = "The view's position when read"),
        )),
        ReadErrors,
    )
)]
async fn list(
    State(reads): State<ReadState>,
    MinPosition(min): MinPosition,
    query: Result<Query<ListQuery>, QueryRejection>,
    paging: Paging,
) -> Result<Response, ApiError> {
    let Query(query) = query?;
    let mut filters = Vec::new();
    let mut conditions = Vec::new();
    if let Some(host_id) = query.host_id {
        filters.push(("host_id", Arg::Text(user_id("hostId", host_id)?)));
    }
    if let Some(max_price) = query.max_price {
        let max_price = positive("maxPrice", &max_price)?;
        conditions.push(Condition::AtMost("price", Arg::Int(max_price)));
    }
    let nights = interval::<NaiveDate>(
        ("freeFrom", query.free_from),
        ("freeTo", query.free_to),
        "a date (YYYY-MM-DD)",
        stored_dates(),
    )?;
    if let Some((from, to)) = nights {
        filters.push(("room_status", Arg::Text("ACTIVE".to_string())));
        conditions.push(TAKEN_NIGHTS.free_over(from.to_string(), to.to_string()));
    }
    reads
        .page_where::<RoomRow>(None, &ROOMS, min, &paging, filters, conditions)
        .await
}

/// One room, with the nights booked from today on.
#[utoipa::path(
    get,
    path = "/hotelRooms/{id}",
    operation_id = "get_hotel_room",
    tag = "hotelRooms",
    params(
        ("id" = Uuid, Path, description = "The room's id"),
        MinPositionQuery, MinPositionHeader, IfNoneMatch,
    ),
    responses(
        (status = 200, description = "The row and its booked nights", body = RoomWithNights,
            headers(
                ("ETag" = String, description = "The position of the last event applied to it"),
                ("X-Projection-Position" = i64, description = "The view's position when read"),
            )),
        (status = 304, description = "The client's `If-None-Match` names the current ETag"),
        (status = 404, description = "No such room (`room_not_found`)", body = ErrorBody,
            headers(("X-Projection-Position" = i64, description = "The view's position"))),
        ReadErrors,
    )
)]
async fn one(
    State(reads): State<ReadState>,
    _reader: Principal,
    MinPosition(min): MinPosition,
    ResourceId(id): ResourceId,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    reads.fresh(&[TAKEN_NIGHTS.view.name()], min).await?;
    let (room, position) = reads.find::<RoomRow>(&ROOMS, min, &id, |_| true).await?;
    let today = Utc::now().date_naive().to_string();
    let ranges = TAKEN_NIGHTS.of(reads.store(), &id, &today).await?;
    let version = time_slots::version(room.position, &ranges);
    let booked_ranges = ranges
        .into_iter()
        .map(|(start_date, end_date)| BookedNights {
            start_date,
            end_date,
        })
        .collect();
    let body = RoomWithNights {
        room,
        booked_ranges,
    };
    Ok(resource_response(&headers, position, &version, &body))
}

/// The dates whose stored text (`YYYY-MM-DD`, four-digit years) sorts as they do.
fn stored_dates() -> RangeInclusive<NaiveDate> {
    let first = NaiveDate::from_ymd_opt(1, 1, 1).unwrap_or(NaiveDate::MIN);
    let last = NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(NaiveDate::MAX);
    first..=last
}
