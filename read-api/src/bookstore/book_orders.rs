//! `GET /bookOrders` (a page, by memberId, bookId and status) and
//! `GET /bookOrders/{orderId}`; a customer reads only their own.

use auth::Principal;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use projections::bookstore::{BookOrderRow, BOOK_ORDER_LIST};
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

const BOOK_ORDERS: ViewTable = ViewTable {
    view: &BOOK_ORDER_LIST,
    missing: "book_order_not_found",
    noun: "book order",
};
const ORDER_STATUSES: &[&str] = &["ORDERED", "CANCELLED", "OUT_OF_STOCK"];

pub(super) fn router() -> Router<ReadState> {
    Router::new()
        .route("/bookOrders", get(list))
        .route("/bookOrders/{id}", get(one))
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only this member's orders.
    member_id: Option<String>,
    /// Only orders of this book.
    #[param(value_type = Option<Uuid>)]
    book_id: Option<String>,
    /// Only orders in this status: `ORDERED`, `CANCELLED` or `OUT_OF_STOCK`.
    status: Option<String>,
}

/// A page of bookOrderList rows, in orderId order.
#[utoipa::path(
    get,
    path = "/bookOrders",
    operation_id = "list_book_orders",
    tag = "bookOrders",
    params(ListQuery, PageQuery, MinPositionQuery, MinPositionHeader),
    responses(
        (status = 200, description = "A page of rows", body = Page<BookOrderRow>, headers(
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
    if let Some(member_id) = query.member_id {
        filters.push(("member_id", Arg::Text(user_id("memberId", member_id)?)));
    }
    if let Some(book_id) = query.book_id {
        filters.push(("book_id", Arg::Text(resource_id("bookId", &book_id)?)));
    }
    if let Some(status) = query.status {
        filters.push((
            "order_status",
            Arg::Text(one_of("status", status, ORDER_STATUSES)?),
        ));
    }
    reads
        .page::<BookOrderRow>(&reader, &BOOK_ORDERS, min, &paging, filters)
        .await
}

/// One bookOrderList row.
#[utoipa::path(
    get,
    path = "/bookOrders/{id}",
    operation_id = "get_book_order",
    tag = "bookOrders",
    params(
        ("id" = Uuid, Path, description = "The order's id"),
        MinPositionQuery, MinPositionHeader, IfNoneMatch,
    ),
    responses(
        (status = 200, description = "The row", body = BookOrderRow, headers(
            ("ETag" = String, description = "The position of the last event applied to it"),
            ("X-Projection-Position" = i64, description = "The view's position when read"),
        )),
        (status = 304, description = "The client's `If-None-Match` names the current ETag"),
        (status = 404, description = "No such order, or another member's \
            (`book_order_not_found`)", body = ErrorBody,
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
        .one::<BookOrderRow>(&reader, &BOOK_ORDERS, min, &id, &headers)
        .await
}
