//! `GET /mypages/{userId}`: the user's orders, bookings and 20 latest notifications in
//! one document. Every user's page exists, empty before their first order or booking.

use auth::Principal;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::ApiError;
use super::freshness::MinPosition;
use super::openapi::{IfNoneMatch, MinPositionHeader, MinPositionQuery, ReadErrors};
use super::params::UserId;
use super::resource_response;
use super::ReadState;
use crate::store::{Arg, BookingRow, NotificationRow, OrderRow, RowQuery, ViewRow};

const VIEW: &str = "mypage";

pub(super) fn router() -> Router<ReadState> {
    Router::new().route("/mypages/{id}", get(one))
}

/// A user's page; `position` and `updatedAt` are those of its latest change.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct MyPage {
    user_id: String,
    orders: Vec<OrderRow>,
    bookings: Vec<BookingRow>,
    notifications: Vec<NotificationRow>,
    position: i64,
    updated_at: Option<String>,
}

/// A user's page: their orders, bookings and 20 latest notifications.
#[utoipa::path(
    get,
    path = "/mypages/{id}",
    operation_id = "get_mypage",
    tag = "mypages",
    params(
        ("id" = String, Path, description = "The user's id (1 to 64 characters)"),
        MinPositionQuery, MinPositionHeader, IfNoneMatch,
    ),
    responses(
        (status = 200, description = "The page (empty lists before the user's first order \
            or booking)", body = MyPage, headers(
            ("ETag" = String, description = "The position of the page's latest change"),
            ("X-Projection-Position" = i64, description = "The view's position when read"),
        )),
        (status = 304, description = "The client's `If-None-Match` names the current ETag"),
        ReadErrors,
    )
)]
async fn one(
    State(ReadState { store, freshness }): State<ReadState>,
    reader: Principal,
    MinPosition(min): MinPosition,
    UserId(user_id): UserId,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if reader.confined_to().is_some_and(|owner| owner != user_id) {
        // Another customer's page is answered as if there were none, like their rows.
        return Err(ApiError::NotFound {
            code: "mypage_not_found",
            message: format!("no mypage of {user_id}"),
            position: store.position(VIEW).await?,
        });
    }
    freshness.wait(&store, VIEW, min).await?;
    let owned = |table, order_by| RowQuery {
        table,
        filters: vec![("user_id", Arg::Text(user_id.clone()))],
        after: None,
        order_by,
        limit: None,
    };
    // The page's position is the one read with its first table: the other two are
    // read after it, so they are at least as fresh.
    let (orders, position) = store
        .rows::<OrderRow>(VIEW, &owned("mypage_orders", OrderRow::KEY))
        .await?;
    let (bookings, _) = store
        .rows::<BookingRow>(VIEW, &owned("mypage_bookings", BookingRow::KEY))
        .await?;
    let newest_first = "send_dtm DESC, position DESC";
    let (notifications, _) = store
        .rows::<NotificationRow>(VIEW, &owned("mypage_notifications", newest_first))
        .await?;
    let latest = orders
        .iter()
        .map(|row| (row.position, &row.updated_at))
        .chain(bookings.iter().map(|row| (row.position, &row.updated_at)))
        .chain(
            notifications
                .iter()
                .map(|row| (row.position, &row.updated_at)),
        )
        .max();
    let page = MyPage {
        position: latest.map_or(0, |(position, _)| position),
        updated_at: latest.map(|(_, updated_at)| updated_at.clone()),
        user_id,
        orders,
        bookings,
        notifications,
    };
    Ok(resource_response(&headers, position, page.position, &page))
}
