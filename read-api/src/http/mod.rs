//! HTTP plumbing of the read API: the contexts' routers merged once, with the mypage
//! composed of their sections. Every response carries `X-Projection-Position`, the
//! position the view had applied when it was read (in the same statement as the rows);
//! single resources carry an `ETag` (the position of the last event applied to them) and
//! answer `If-None-Match` with 304.

pub mod error;
pub mod freshness;
mod mypages;
pub mod openapi;
pub mod params;

pub use error::ApiError;
pub use freshness::{Freshness, MIN_POSITION};
pub(crate) use mypages::document_sections;
pub use mypages::MyPage;
pub use openapi::ApiDoc;

use std::sync::Arc;

use auth::Principal;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use projections::table::ViewRow;
use projections::View;
use serde::Serialize;

use crate::live::{MypageChanges, Streams};
use crate::mypage::MypageSection;
use crate::page::Page;
use crate::registry::Reads;
use crate::store::{Arg, Condition, ViewStore};
use params::Paging;

/// The header naming the view position a read reflects.
pub const PROJECTION_POSITION: HeaderName = HeaderName::from_static("x-projection-position");

/// What every read handler may use.
#[derive(Clone)]
pub struct ReadState {
    store: ViewStore,
    freshness: Freshness,
    /// The mypage's sections, in the order the contexts were listed.
    sections: Arc<[&'static dyn MypageSection]>,
    /// The bound and shutdown of live streams.
    streams: Streams,
    /// When users' sections change, for their streams.
    changes: MypageChanges,
}

/// A view of one table that a route serves, and how a row missing from it is reported.
pub struct ViewTable {
    pub view: &'static dyn View,
    /// The 404's error code, e.g. `order_not_found`.
    pub missing: &'static str,
    /// What a row is, in the 404's message.
    pub noun: &'static str,
}

impl ViewTable {
    fn table(&self) -> &'static str {
        self.view.tables()[0]
    }
}

impl ReadState {
    /// A page of `table`'s rows matching `filters`, once its view has applied `min`;
    /// only the reader's own rows when the reader is confined to them, whatever the
    /// filters.
    pub async fn page<R: ViewRow>(
        &self,
        reader: &Principal,
        table: &ViewTable,
        min: Option<i64>,
        paging: &Paging,
        filters: Vec<(&'static str, Arg)>,
    ) -> Result<Response, ApiError> {
        let owner = R::OWNER.zip(reader.confined_to());
        self.page_where::<R>(owner, table, min, paging, filters, Vec::new())
            .await
    }

    /// A page of `table`'s rows matching `filters` and `conditions`, once its view has
    /// applied `min`; with `owner` (a column and the reader's `sub`), only the rows
    /// whose column names the reader.
    pub async fn page_where<R: ViewRow>(
        &self,
        owner: Option<(&'static str, &str)>,
        table: &ViewTable,
        min: Option<i64>,
        paging: &Paging,
        mut filters: Vec<(&'static str, Arg)>,
        conditions: Vec<Condition>,
    ) -> Result<Response, ApiError> {
        if let Some((column, reader)) = owner {
            filters.push((column, Arg::Text(reader.to_string())));
        }
        let view = table.view.name();
        let mut views = vec![view];
        for condition in &conditions {
            if let Condition::FreeOver { taken, .. } = condition {
                views.push(taken.view.name());
            }
        }
        self.fresh(&views, min).await?;
        let query = paging.query::<R>(table.table(), filters, conditions);
        let (rows, position) = self.store.rows::<R>(view, &query).await?;
        let page = Page::from_rows(rows, paging.limit, R::key);
        Ok(page_response(position, page))
    }

    /// The row of `table` keyed `id`, once its view has applied `min`: 304 when the
    /// client's `If-None-Match` names it, 404 when there is none or it is another
    /// customer's (so that ids cannot be probed).
    pub async fn one<R: ViewRow>(
        &self,
        reader: &Principal,
        table: &ViewTable,
        min: Option<i64>,
        id: &str,
        request: &HeaderMap,
    ) -> Result<Response, ApiError> {
        let readable = |row: &R| {
            reader
                .confined_to()
                .is_none_or(|owner| row.owner().is_none_or(|row_owner| row_owner == owner))
        };
        let (row, position) = self.find(table, min, id, readable).await?;
        Ok(resource_response(
            request,
            position,
            &row.position().to_string(),
            &row,
        ))
    }

    /// The row of `table` keyed `id` and the view's position, once the view has applied
    /// `min`; 404 when there is none or the reader may not read it (`readable`).
    pub async fn find<R: ViewRow>(
        &self,
        table: &ViewTable,
        min: Option<i64>,
        id: &str,
        readable: impl Fn(&R) -> bool,
    ) -> Result<(R, i64), ApiError> {
        let view = table.view.name();
        self.freshness.wait(&self.store, &[view], min).await?;
        let (row, position) = self.store.row::<R>(view, table.table(), id).await?;
        let row = row.filter(readable).ok_or_else(|| ApiError::NotFound {
            code: table.missing,
            message: format!("no {} {id} in {view}", table.noun),
            position,
        })?;
        Ok((row, position))
    }

    /// Waits until every one of `views` has applied `min` (read-your-writes).
    pub async fn fresh(&self, views: &[&'static str], min: Option<i64>) -> Result<(), ApiError> {
        self.freshness.wait(&self.store, views, min).await
    }

    /// The views' store, for reads beyond rows of one table.
    pub fn store(&self) -> &ViewStore {
        &self.store
    }
}

/// The contexts' read routes and the mypage of their sections over `store`, with the
/// mypage's live stream among `streams`, without cross-cutting layers (the binary adds
/// them).
pub fn routes(
    store: ViewStore,
    freshness: Freshness,
    streams: Streams,
    contexts: Vec<Reads>,
) -> Router {
    let mut routes = mypages::router();
    let mut sections = Vec::new();
    for context in contexts {
        routes = routes.merge(context.routes);
        sections.extend(context.mypage);
    }
    let sections: Arc<[&'static dyn MypageSection]> = sections.into();
    let changes = MypageChanges::start(store.clone(), sections.clone(), freshness.progress());
    routes.with_state(ReadState {
        store,
        freshness,
        sections,
        streams,
        changes,
    })
}

/// A page of a list read.
fn page_response<T: Serialize>(view_position: i64, page: Page<T>) -> Response {
    with_position(Json(page).into_response(), view_position)
}

/// One resource, or 304 when the client's `If-None-Match` names its current ETag
/// (`version`, quoted).
pub fn resource_response<T: Serialize>(
    request: &HeaderMap,
    view_position: i64,
    version: &str,
    body: &T,
) -> Response {
    let etag = format!("\"{version}\"");
    let mut response = if client_has(request, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Json(body).into_response()
    };
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    with_position(response, view_position)
}

/// Whether `If-None-Match` lists `etag` (weakly compared, as RFC 9110 asks) or `*`.
fn client_has(request: &HeaderMap, etag: &str) -> bool {
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|tag| tag.trim())
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
}

fn with_position(mut response: Response, view_position: i64) -> Response {
    response
        .headers_mut()
        .insert(PROJECTION_POSITION, HeaderValue::from(view_position));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn if_none_match(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn if_none_match_matches_its_etag_in_a_list_weakly_or_as_a_wildcard() {
        assert!(client_has(&if_none_match("\"7\""), "\"7\""));
        assert!(client_has(&if_none_match("\"3\", W/\"7\""), "\"7\""));
        assert!(client_has(&if_none_match("*"), "\"7\""));
        assert!(!client_has(&if_none_match("\"6\""), "\"7\""));
        assert!(!client_has(&HeaderMap::new(), "\"7\""));
    }
}
