//! `GET /carOrders` (a page, by userId, carId and status) and `GET /carOrders/{orderId}`;
//! a customer reads only their own.

use auth::Principal;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use projections::sharecar::{CarOrderRow, CAR_ORDER_LIST};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::freshness::MinPosition;
use crate::http::openapi::{
    IfNoneMatch, MinPositionHeader, MinPositionQuery, PageQuery, ReadErrors,
};
use crate::http::params::{one_of, resource_id, user_id, Paging, ResourceId};
use crate::http::{ReadState, ViewTable};
use crate::page::Page;
use crate::store::Arg;

const CAR_ORDERS: ViewTable = ViewTable {
    view: &CAR_ORDER_LIST,
    missing: "car_order_not_found",
    noun: "car order",
};
const ORDER_STATUSES: &[&str] = &["ORDERED", "CANCELLED"];

pub(super) fn router() -> Router<ReadState> {
    Router::new()
        .route("/carOrders", get(list))
        .route("/carOrders/{id}", get(one))
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only this user's orders.
    user_id: Option<String>,
    /// Only orders of this car.
    #[param(value_type = Option<Uuid>)]
    car_id: Option<String>,
    /// Only orders in this status: `ORDERED` or `CANCELLED`.
    status: Option<String>,
}

/// A page of carOrderList rows, in orderId order.
#[utoipa::path(
    get,
    path = "/carOrders",
    operation_id = "list_car_orders",
    tag = "carOrders",
    params(ListQuery, PageQuery, MinPositionQuery, MinPositionHeader),
    responses(
        (status = 200, description = "A page of rows", body = Page<CarOrderRow>, headers(
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
    if let Some(user) = query.user_id {
        filters.push(("user_id", Arg::Text(user_id("userId", user)?)));
    }
    if let Some(car_id) = query.car_id {
        filters.push(("car_id", Arg::Text(resource_id("carId", &car_id)?)));
    }
    if let Some(status) = query.status {
        filters.push((
            "order_status",
            Arg::Text(one_of("status", status, ORDER_STATUSES)?),
        ));
    }
    reads
        .page::<CarOrderRow>(&reader, &CAR_ORDERS, min, &paging, filters)
        .await
}

/// One carOrderList row.
#[utoipa::path(
    get,
    path = "/carOrders/{id}",
    operation_id = "get_car_order",
    tag = "carOrders",
    params(
        ("id" = Uuid, Path, description = "The order's id"),
        MinPositionQuery, MinPositionHeader, IfNoneMatch,
    ),
    responses(
        (status = 200, description = "The row", body = CarOrderRow, headers(
            ("ETag" = String, description = "The position of the last event applied to it"),
            ("X-Projection-Position" = i64, description = "The view's position when read"),
        )),
        (status = 304, description = "The client's `If-None-Match` names the current ETag"),
        (status = 404, description = "No such order, or another user's \
            (`car_order_not_found`)", body = ErrorBody,
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
        .one::<CarOrderRow>(&reader, &CAR_ORDERS, min, &id, &headers)
        .await
}
