//! `GET /cars` (a page; with `freeFrom` and `freeTo`, only cars free over that interval)
//! and `GET /cars/{carId}` with its booked intervals: every role reads them.

use std::ops::RangeInclusive;

use auth::Principal;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use projections::event::timestamp;
use projections::sharecar::{CarRow, CAR_LIST};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::TAKEN_TIMES;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::freshness::MinPosition;
use crate::http::openapi::{
    IfNoneMatch, MinPositionHeader, MinPositionQuery, PageQuery, ReadErrors,
};
use crate::http::params::{interval, Paging, ResourceId};
use crate::http::{resource_response, ReadState, ViewTable};
use crate::page::Page;
use crate::time_slots;

const CARS: ViewTable = ViewTable {
    view: &CAR_LIST,
    missing: "car_not_found",
    noun: "car",
};

pub(super) fn router() -> Router<ReadState> {
    Router::new()
        .route("/cars", get(list))
        .route("/cars/{id}", get(one))
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// With `freeTo`: only cars with no order over [freeFrom, freeTo).
    #[param(value_type = Option<DateTime<Utc>>)]
    free_from: Option<String>,
    /// After `freeFrom`.
    #[param(value_type = Option<DateTime<Utc>>)]
    free_to: Option<String>,
}

/// A car with the intervals its orders hold.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct CarWithTimes {
    #[serde(flatten)]
    car: CarRow,
    /// The active orders' intervals `[startDtm, endDtm)` that end after now, in order;
    /// whose they are is not shown.
    booked_ranges: Vec<BookedTime>,
}

/// One order's interval `[startDtm, endDtm)`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct BookedTime {
    #[schema(value_type = DateTime<Utc>)]
    start_dtm: String,
    #[schema(value_type = DateTime<Utc>)]
    end_dtm: String,
}

/// A page of cars, in carId order.
#[utoipa::path(
    get,
    path = "/cars",
    operation_id = "list_cars",
    tag = "cars",
    params(ListQuery, PageQuery, MinPositionQuery, MinPositionHeader),
    responses(
        (status = 200, description = "A page of rows", body = Page<CarRow>, headers(
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
    let free = interval::<DateTime<Utc>>(
        ("freeFrom", query.free_from),
        ("freeTo", query.free_to),
        "an RFC 3339 time",
        stored_times(),
    )?;
    let conditions = free
        .map(|(from, to)| TAKEN_TIMES.free_over(timestamp(&from), timestamp(&to)))
        .into_iter()
        .collect();
    reads
        .page_where::<CarRow>(None, &CARS, min, &paging, Vec::new(), conditions)
        .await
}

/// One car, with the intervals booked from now on.
#[utoipa::path(
    get,
    path = "/cars/{id}",
    operation_id = "get_car",
    tag = "cars",
    params(
        ("id" = Uuid, Path, description = "The car's id"),
        MinPositionQuery, MinPositionHeader, IfNoneMatch,
    ),
    responses(
        (status = 200, description = "The row and its booked intervals", body = CarWithTimes,
            headers(
                ("ETag" = String, description = "The car's and its orders' versions"),
                ("X-Projection-Position" = i64, description = "The view's position when read"),
            )),
        (status = 304, description = "The client's `If-None-Match` names the current ETag"),
        (status = 404, description = "No such car (`car_not_found`)", body = ErrorBody,
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
    reads.fresh(&[TAKEN_TIMES.view.name()], min).await?;
    let (car, position) = reads.find::<CarRow>(&CARS, min, &id, |_| true).await?;
    let ranges = TAKEN_TIMES
        .of(reads.store(), &id, &timestamp(&Utc::now()))
        .await?;
    let version = time_slots::version(car.position, &ranges);
    let booked_ranges = ranges
        .into_iter()
        .map(|(start_dtm, end_dtm)| BookedTime { start_dtm, end_dtm })
        .collect();
    let body = CarWithTimes { car, booked_ranges };
    Ok(resource_response(&headers, position, &version, &body))
}

/// The times whose stored text (RFC 3339, four-digit years) sorts as they do.
fn stored_times() -> RangeInclusive<DateTime<Utc>> {
    let at = |text: &str| text.parse().unwrap_or_default();
    at("0001-01-01T00:00:00Z")..=at("9999-12-31T23:59:59.999999Z")
}
