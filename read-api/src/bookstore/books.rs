//! `GET /books` (the catalogue, a page) and `GET /books/{bookId}`: every role reads them.

use auth::Principal;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use projections::bookstore::{BookRow, BOOK_LIST};

use crate::http::error::{ApiError, ErrorBody};
use crate::http::freshness::MinPosition;
use crate::http::openapi::{
    IfNoneMatch, MinPositionHeader, MinPositionQuery, PageQuery, ReadErrors,
};
use crate::http::params::{Paging, ResourceId};
use crate::http::{ReadState, ViewTable};
use crate::page::Page;

const BOOKS: ViewTable = ViewTable {
    view: &BOOK_LIST,
    missing: "book_not_found",
    noun: "book",
};

pub(super) fn router() -> Router<ReadState> {
    Router::new()
        .route("/books", get(list))
        .route("/books/{id}", get(one))
}

/// A page of the catalogue, in bookId order.
#[utoipa::path(
    get,
    path = "/books",
    operation_id = "list_books",
    tag = "books",
    params(PageQuery, MinPositionQuery, MinPositionHeader),
    responses(
        (status = 200, description = "A page of rows", body = Page<BookRow>, headers(
            ("X-Projection-Position" = i64, description = "The view's position when read"),
        )),
        ReadErrors,
    )
)]
async fn list(
    State(reads): State<ReadState>,
    reader: Principal,
    MinPosition(min): MinPosition,
    paging: Paging,
) -> Result<Response, ApiError> {
    reads
        .page::<BookRow>(&reader, &BOOKS, min, &paging, Vec::new())
        .await
}

/// One book of the catalogue.
#[utoipa::path(
    get,
    path = "/books/{id}",
    operation_id = "get_book",
    tag = "books",
    params(
        ("id" = Uuid, Path, description = "The book's id"),
        MinPositionQuery, MinPositionHeader, IfNoneMatch,
    ),
    responses(
        (status = 200, description = "The row", body = BookRow, headers(
            ("ETag" = String, description = "The position of the last event applied to it"),
            ("X-Projection-Position" = i64, description = "The view's position when read"),
        )),
        (status = 304, description = "The client's `If-None-Match` names the current ETag"),
        (status = 404, description = "No such book (`book_not_found`)", body = ErrorBody,
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
        .one::<BookRow>(&reader, &BOOKS, min, &id, &headers)
        .await
}
