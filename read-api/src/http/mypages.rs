//! `GET /mypages/{userId}`: the user's orders, bookings and 20 latest notifications in
//! one document. Every user's page exists, empty before their first order or booking.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Serialize;

use super::error::ApiError;
use super::params::UserId;
use super::resource_response;
use crate::store::{Arg, BookingRow, NotificationRow, OrderRow, RowQuery, ViewRow, ViewStore};

const VIEW: &str = "mypage";

pub fn router() -> Router<ViewStore> {
    Router::new().route("/mypages/{id}", get(one))
}

/// A user's page; `position` and `updatedAt` are those of its latest change.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MyPage {
    user_id: String,
    orders: Vec<OrderRow>,
    bookings: Vec<BookingRow>,
    notifications: Vec<NotificationRow>,
    position: i64,
    updated_at: Option<String>,
}

async fn one(
    State(store): State<ViewStore>,
    UserId(user_id): UserId,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let position = store.position(VIEW).await?;
    let owned = |table, order_by| RowQuery {
        table,
        filters: vec![("user_id", Arg::Text(user_id.clone()))],
        after: None,
        order_by,
        limit: None,
    };
    let orders: Vec<OrderRow> = store.rows(&owned("mypage_orders", OrderRow::KEY)).await?;
    let bookings: Vec<BookingRow> = store
        .rows(&owned("mypage_bookings", BookingRow::KEY))
        .await?;
    let notifications: Vec<NotificationRow> = store
        .rows(&owned(
            "mypage_notifications",
            "send_dtm DESC, position DESC",
        ))
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
