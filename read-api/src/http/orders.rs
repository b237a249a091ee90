//! `GET /orderLists` (a page, by customerId and status) and `GET /orderLists/{orderId}`.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use super::error::ApiError;
use super::params::{one_of, user_id, Paging, ResourceId};
use super::{page_response, resource_response};
use crate::page::Page;
use crate::store::{Arg, OrderRow, ViewRow, ViewStore};

const VIEW: &str = "orderList";
const TABLE: &str = "order_list";
const ORDER_STATUSES: &[&str] = &["PLACED", "CANCELLED"];

pub fn router() -> Router<ViewStore> {
    Router::new()
        .route("/orderLists", get(list))
        .route("/orderLists/{id}", get(one))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListQuery {
    customer_id: Option<String>,
    status: Option<String>,
    limit: Option<String>,
    after: Option<String>,
}

async fn list(
    State(store): State<ViewStore>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query?;
    let paging = Paging::parse(query.limit.as_deref(), query.after.as_deref())?;
    let mut filters = Vec::new();
    if let Some(customer_id) = query.customer_id {
        let customer_id = user_id("customerId", customer_id)?;
        filters.push(("customer_id", Arg::Text(customer_id)));
    }
    if let Some(status) = query.status {
        let status = one_of("status", status, ORDER_STATUSES)?;
        filters.push(("order_status", Arg::Text(status)));
    }
    let position = store.position(VIEW).await?;
    let rows = store
        .rows::<OrderRow>(&paging.query::<OrderRow>(TABLE, filters))
        .await?;
    let page = Page::from_rows(rows, paging.limit, OrderRow::key);
    Ok(page_response(position, page))
}

async fn one(
    State(store): State<ViewStore>,
    ResourceId(id): ResourceId,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let position = store.position(VIEW).await?;
    let row: OrderRow = store
        .row(TABLE, &id)
        .await?
        .ok_or_else(|| ApiError::NotFound {
            code: "order_not_found",
            message: format!("no order {id} in orderList"),
        })?;
    Ok(resource_response(&headers, position, row.position, &row))
}
