//! `GET /rewards` (a page, by customerId and status) and `GET /rewards/{rewardId}`: the
//! rewards in wallets; a customer reads only their own.

use auth::Principal;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use projections::game::{WalletRow, WALLET_LIST};
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
use crate::store::Arg;

const REWARDS: ViewTable = ViewTable {
    view: &WALLET_LIST,
    missing: "reward_not_found",
    noun: "reward",
};
const REWARD_STATUSES: &[&str] = &["ISSUED", "EXCHANGED"];

pub(super) fn router() -> Router<ReadState> {
    Router::new()
        .route("/rewards", get(list))
        .route("/rewards/{id}", get(one))
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only this customer's rewards.
    customer_id: Option<String>,
    /// Only rewards in this status: `ISSUED` or `EXCHANGED`.
    status: Option<String>,
}

/// A page of walletList rows, in rewardId order.
#[utoipa::path(
    get,
    path = "/rewards",
    operation_id = "list_rewards",
    tag = "rewards",
    params(ListQuery, PageQuery, MinPositionQuery, MinPositionHeader),
    responses(
        (status = 200, description = "A page of rows", body = Page<WalletRow>, headers(
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
    if let Some(status) = query.status {
        filters.push((
            "reward_status",
            Arg::Text(one_of("status", status, REWARD_STATUSES)?),
        ));
    }
    reads
        .page::<WalletRow>(&reader, &REWARDS, min, &paging, filters)
        .await
}

/// One walletList row.
#[utoipa::path(
    get,
    path = "/rewards/{id}",
    operation_id = "get_reward",
    tag = "rewards",
    params(
        ("id" = Uuid, Path, description = "The reward's id"),
        MinPositionQuery, MinPositionHeader, IfNoneMatch,
    ),
    responses(
        (status = 200, description = "The row", body = WalletRow, headers(
            ("ETag" = String, description = "The position of the last event applied to it"),
            ("X-Projection-Position" = i64, description = "The view's position when read"),
        )),
        (status = 304, description = "The client's `If-None-Match` names the current ETag"),
        (status = 404, description = "No such reward in a wallet, or another customer's \
            (`reward_not_found`)", body = ErrorBody,
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
        .one::<WalletRow>(&reader, &REWARDS, min, &id, &headers)
        .await
}
