//! `GET /missions` (a page, by customerId) and `GET /missions/{missionId}`; a customer
//! reads only their own.

use auth::Principal;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use projections::game::{MissionRow, MISSION_LIST};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::freshness::MinPosition;
use crate::http::openapi::{
    IfNoneMatch, MinPositionHeader, MinPositionQuery, PageQuery, ReadErrors,
};
use crate::http::params::{user_id, Paging, ResourceId};
use crate::http::{ReadState, ViewTable};
use crate::page::Page;
use crate::store::Arg;

const MISSIONS: ViewTable = ViewTable {
    view: &MISSION_LIST,
    missing: "mission_not_found",
    noun: "mission",
};

pub(super) fn router() -> Router<ReadState> {
    Router::new()
        .route("/missions", get(list))
        .route("/missions/{id}", get(one))
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only this customer's missions.
    customer_id: Option<String>,
}

/// A page of missionList rows, in missionId order.
#[utoipa::path(
    get,
    path = "/missions",
    operation_id = "list_missions",
    tag = "missions",
    params(ListQuery, PageQuery, MinPositionQuery, MinPositionHeader),
    responses(
        (status = 200, description = "A page of rows", body = Page<MissionRow>, headers(
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
    if let Some(customer) = query.customer_id {
        filters.push(("customer_id", Arg::Text(user_id("customerId", customer)?)));
    }
    reads
        .page::<MissionRow>(&reader, &MISSIONS, min, &paging, filters)
        .await
}

/// One missionList row.
#[utoipa::path(
    get,
    path = "/missions/{id}",
    operation_id = "get_mission",
    tag = "missions",
    params(
        ("id" = Uuid, Path, description = "The mission's id"),
        MinPositionQuery, MinPositionHeader, IfNoneMatch,
    ),
    responses(
        (status = 200, description = "The row", body = MissionRow, headers(
            ("ETag" = String, description = "The position of the last event applied to it"),
            ("X-Projection-Position" = i64, description = "The view's position when read"),
        )),
        (status = 304, description = "The client's `If-None-Match` names the current ETag"),
        (status = 404, description = "No such mission, or another customer's \
            (`mission_not_found`)", body = ErrorBody,
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
        .one::<MissionRow>(&reader, &MISSIONS, min, &id, &headers)
        .await
}
