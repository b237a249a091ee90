//! `GET /notifications` (a page, by userId).

use auth::Principal;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::http::error::ApiError;
use crate::http::freshness::MinPosition;
use crate::http::openapi::{MinPositionHeader, MinPositionQuery, PageQuery, ReadErrors};
use crate::http::params::{user_id, Paging};
use crate::http::{ReadState, ViewTable};
use crate::page::Page;
use projections::notifications::{NotificationRow, NOTIFICATIONS as NOTIFICATION_LIST};

use crate::store::Arg;

const NOTIFICATIONS: ViewTable = ViewTable {
    view: &NOTIFICATION_LIST,
    missing: "notification_not_found",
    noun: "notification",
};

pub(super) fn router() -> Router<ReadState> {
    Router::new().route("/notifications", get(list))
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only this user's notifications.
    user_id: Option<String>,
}

/// A page of notifications, in notificationId order.
#[utoipa::path(
    get,
    path = "/notifications",
    operation_id = "list_notifications",
    tag = "notifications",
    params(ListQuery, PageQuery, MinPositionQuery, MinPositionHeader),
    responses(
        (status = 200, description = "A page of rows", body = Page<NotificationRow>, headers(
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
    if let Some(user) = query.user_id {
        filters.push(("user_id", Arg::Text(user_id("userId", user)?)));
    }
    reads
        .page::<NotificationRow>(&reader, &NOTIFICATIONS, min, &paging, filters)
        .await
}
