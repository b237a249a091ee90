//! `GET /members` (a page, by grade) and `GET /members/{memberId}`; a customer reads only
//! their own membership.

use auth::Principal;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use projections::bookstore::{MemberRow, MEMBER_LIST};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::freshness::MinPosition;
use crate::http::openapi::{
    IfNoneMatch, MinPositionHeader, MinPositionQuery, PageQuery, ReadErrors,
};
use crate::http::params::{one_of, Paging, UserId};
use crate::http::{ReadState, ViewTable};
use crate::page::Page;
use crate::store::Arg;

const MEMBERS: ViewTable = ViewTable {
    view: &MEMBER_LIST,
    missing: "member_not_found",
    noun: "member",
};
const GRADES: &[&str] = &["BRONZE", "SILVER", "GOLD"];

pub(super) fn router() -> Router<ReadState> {
    Router::new()
        .route("/members", get(list))
        .route("/members/{id}", get(one))
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only members of this grade: `BRONZE`, `SILVER` or `GOLD`.
    grade: Option<String>,
}

/// A page of memberList rows, in memberId order.
#[utoipa::path(
    get,
    path = "/members",
    operation_id = "list_members",
    tag = "members",
    params(ListQuery, PageQuery, MinPositionQuery, MinPositionHeader),
    responses(
        (status = 200, description = "A page of rows", body = Page<MemberRow>, headers(
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
    if let Some(grade) = query.grade {
        filters.push(("grade", Arg::Text(one_of("grade", grade, GRADES)?)));
    }
    reads
        .page::<MemberRow>(&reader, &MEMBERS, min, &paging, filters)
        .await
}

/// One member's row.
#[utoipa::path(
    get,
    path = "/members/{id}",
    operation_id = "get_member",
    tag = "members",
    params(
        ("id" = String, Path, description = "The member's id (1 to 64 characters)"),
        MinPositionQuery, MinPositionHeader, IfNoneMatch,
    ),
    responses(
        (status = 200, description = "The row", body = MemberRow, headers(
            ("ETag" = String, description = "The position of the last event applied to it"),
            ("X-Projection-Position" = i64, description = "The view's position when read"),
        )),
        (status = 304, description = "The client's `If-None-Match` names the current ETag"),
        (status = 404, description = "No such member, or another customer \
            (`member_not_found`)", body = ErrorBody,
            headers(("X-Projection-Position" = i64, description = "The view's position"))),
        ReadErrors,
    )
)]
async fn one(
    State(reads): State<ReadState>,
    reader: Principal,
    MinPosition(min): MinPosition,
    UserId(id): UserId,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    reads
        .one::<MemberRow>(&reader, &MEMBERS, min, &id, &headers)
        .await
}
