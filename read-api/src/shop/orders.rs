//! `GET /orderLists` (a page, by customerId and status) and `GET /orderLists/{orderId}`.

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
use crate::http::params::{one_of, user_id, Paging, ResourceId};
use crate::http::{ReadState, ViewTable};
use crate::page::Page;
use projections::shop::{OrderRow, ORDER_LIST};

use crate::store::Arg;

const ORDERS: ViewTable = ViewTable {
    view: &ORDER_LIST,
    missing: "order_not_found",
    noun: "order",
};
const ORDER_STATUSES: &[&str] = &["PLACED", "CANCELLED"];

pub(super) fn router() -> Router<ReadState> {
    Router::new()
        .route("/orderLists", get(list))
        .route("/orderLists/{id}", get(one))
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only this customer's orders.
    customer_id: Option<String>,
    /// Only orders in this status: `PLACED` or `CANCELLED`.
    status: Option<String>,
}

/// A page of orderList rows, in orderId order.
#[utoipa::path(
    get,
    path = "/orderLists",
    operation_id = "list_orders",
    tag = "orderLists",
    params(ListQuery, PageQuery, MinPositionQuery, MinPositionHeader),
    responses(
        (status = 200, description = "A page of rows", body = Page<OrderRow>, headers(
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
    if let Some(customer_id) = query.customer_id {
        let customer_id = user_id("customerId", customer_id)?;
        filters.push(("customer_id", Arg::Text(customer_id)));
    }
    if let Some(status) = query.status {
        let status = one_of("status", status, ORDER_STATUSES)?;
        filters.push(("order_status", Arg::Text(status)));
    }
    reads
        .page::<OrderRow>(&reader, &ORDERS, min, &paging, filters)
        .await
}

/// One orderList row.
#[utoipa::path(
    get,
    path = "/orderLists/{id}",
    operation_id = "get_order",
    tag = "orderLists",
    params(
        ("id" = Uuid, Path, description = "The order's id"),
        MinPositionQuery, MinPositionHeader, IfNoneMatch,
    ),
    responses(
        (status = 200, description = "The row", body = OrderRow, headers(
            ("ETag" = String, description = "The position of the last event applied to it"),
            ("X-Projection-Position" = i64, description = "The view's position when read"),
        )),
        (status = 304, description = "The client's `If-None-Match` names the current ETag"),
        (status = 404, description = "No such order (`order_not_found`)", body = ErrorBody,
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
        .one::<OrderRow>(&reader, &ORDERS, min, &id, &headers)
        .await
}
