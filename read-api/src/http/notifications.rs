//! `GET /notifications` (a page, by userId).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use super::error::ApiError;
use super::page_response;
use super::params::{user_id, Paging};
use crate::page::Page;
use crate::store::{Arg, NotificationRow, ViewRow, ViewStore};

const VIEW: &str = "notifications";
const TABLE: &str = "notifications";

pub fn router() -> Router<ViewStore> {
    Router::new().route("/notifications", get(list))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListQuery {
    user_id: Option<String>,
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
    if let Some(user) = query.user_id {
        filters.push(("user_id", Arg::Text(user_id("userId", user)?)));
    }
    let position = store.position(VIEW).await?;
    let rows = store
        .rows::<NotificationRow>(&paging.query::<NotificationRow>(TABLE, filters))
        .await?;
    let page = Page::from_rows(rows, paging.limit, NotificationRow::key);
    Ok(page_response(position, page))
}
