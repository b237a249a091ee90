//! `GET /bookingLists` (a page, by roomId, userId and confirmStatus) and
//! `GET /bookingLists/{bookingId}`.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use super::error::ApiError;
use super::params::{one_of, positive, user_id, Paging, ResourceId};
use super::{page_response, resource_response};
use crate::page::Page;
use crate::store::{Arg, BookingRow, ViewRow, ViewStore};

const VIEW: &str = "bookingList";
const TABLE: &str = "booking_list";
const CONFIRM_STATUSES: &[&str] = &["BOOKED", "CONFIRMED", "DENIED", "DELETED"];

pub fn router() -> Router<ViewStore> {
    Router::new()
        .route("/bookingLists", get(list))
        .route("/bookingLists/{id}", get(one))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListQuery {
    room_id: Option<String>,
    user_id: Option<String>,
    confirm_status: Option<String>,
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
    if let Some(room_id) = query.room_id {
        filters.push(("room_id", Arg::Int(positive("roomId", &room_id)?)));
    }
    if let Some(user) = query.user_id {
        filters.push(("booking_user_id", Arg::Text(user_id("userId", user)?)));
    }
    if let Some(status) = query.confirm_status {
        let status = one_of("confirmStatus", status, CONFIRM_STATUSES)?;
        filters.push(("confirm_status", Arg::Text(status)));
    }
    let position = store.position(VIEW).await?;
    let rows = store
        .rows::<BookingRow>(&paging.query::<BookingRow>(TABLE, filters))
        .await?;
    let page = Page::from_rows(rows, paging.limit, BookingRow::key);
    Ok(page_response(position, page))
}

async fn one(
    State(store): State<ViewStore>,
    ResourceId(id): ResourceId,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let position = store.position(VIEW).await?;
    let row: BookingRow = store
        .row(TABLE, &id)
        .await?
        .ok_or_else(|| ApiError::NotFound {
            code: "booking_not_found",
            message: format!("no booking {id} in bookingList"),
        })?;
    Ok(resource_response(&headers, position, row.position, &row))
}
