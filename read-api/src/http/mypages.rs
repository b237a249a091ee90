//! `GET /mypages/{userId}`: the user's page, composed of the contexts' sections, a list
//! each. Every user's page exists, with empty lists before the user's first rows.

use auth::Principal;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use std::collections::BTreeMap;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use utoipa::openapi::{OpenApi, RefOr, Schema};
use utoipa::ToSchema;

use super::error::ApiError;
use super::freshness::MinPosition;
use super::openapi::{IfNoneMatch, MinPositionHeader, MinPositionQuery, ReadErrors};
use super::params::UserId;
use super::resource_response;
use super::ReadState;
use crate::mypage::MypageSection;

pub(super) fn router() -> Router<ReadState> {
    Router::new().route("/mypages/{id}", get(one))
}

/// A user's page: the sections' lists under their fields, in the order of the
/// contexts, each its latest 100 rows, latest first, with `more` naming the list
/// endpoint of those that hold more; `position` and `updatedAt` are those of its latest
/// change.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct MyPage {
    user_id: String,
    #[schema(ignore)]
    sections: Vec<(&'static str, Box<RawValue>)>,
    /// Where the rest of each list that shows only its latest rows is.
    #[schema(value_type = Option<BTreeMap<String, String>>)]
    more: BTreeMap<&'static str, String>,
    position: i64,
    updated_at: Option<String>,
}

impl Serialize for MyPage {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut page = serializer.serialize_map(None)?;
        page.serialize_entry("userId", &self.user_id)?;
        for (field, rows) in &self.sections {
            page.serialize_entry(field, rows)?;
        }
        if !self.more.is_empty() {
            page.serialize_entry("more", &self.more)?;
        }
        page.serialize_entry("position", &self.position)?;
        page.serialize_entry("updatedAt", &self.updated_at)?;
        page.end()
    }
}

/// A user's page: one list per context's section.
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
        (status = 200, description = "The page (empty lists before the user's first \
            rows)", body = MyPage, headers(
            ("ETag" = String, description = "The position of each section's latest change"),
            ("X-Projection-Position" = i64, description = "The lowest position of the \
                sections' views when read"),
        )),
        (status = 304, description = "The client's `If-None-Match` names the current ETag"),
        ReadErrors,
    )
)]
async fn one(
    State(ReadState {
        store,
        freshness,
        sections,
    }): State<ReadState>,
    reader: Principal,
    MinPosition(min): MinPosition,
    UserId(user_id): UserId,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if reader.confined_to().is_some_and(|owner| owner != user_id) {
        // Another customer's page is answered as if there were none, like their rows.
        let mut position = i64::MAX;
        for section in sections.iter() {
            position = position.min(store.position(section.view().name()).await?);
        }
        return Err(ApiError::NotFound {
            code: "mypage_not_found",
            message: format!("no mypage of {user_id}"),
            position: if sections.is_empty() { 0 } else { position },
        });
    }
    let views: Vec<&'static str> = sections
        .iter()
        .map(|section| section.view().name())
        .collect();
    freshness.wait(&store, &views, min).await?;
    let mut page = MyPage {
        user_id,
        sections: Vec::with_capacity(sections.len()),
        more: BTreeMap::new(),
        position: 0,
        updated_at: None,
    };
    let mut view_position = i64::MAX;
    let mut latest = None;
    // The ETag names each section's latest change: the sections' views move on
    // separately, so the page's latest position alone could stay while a section changes.
    let mut etag = Vec::with_capacity(sections.len());
    for section in sections.iter() {
        let read = section.read(&store, &page.user_id).await?;
        page.sections.push((section.field(), read.rows));
        if let Some(more) = read.more {
            page.more.insert(section.field(), more);
        }
        view_position = view_position.min(read.view_position);
        etag.push(
            read.latest
                .as_ref()
                .map_or(0, |(position, _)| *position)
                .to_string(),
        );
        latest = latest.max(read.latest);
    }
    if let Some((position, updated_at)) = latest {
        page.position = position;
        page.updated_at = Some(updated_at);
    }
    let view_position = if sections.is_empty() {
        0
    } else {
        view_position
    };
    Ok(resource_response(
        &headers,
        view_position,
        &etag.join("."),
        &page,
    ))
}

/// Adds each section's list to the `MyPage` schema of `doc`.
pub(crate) fn document_sections(doc: &mut OpenApi, sections: &[&'static dyn MypageSection]) {
    let Some(RefOr::T(Schema::Object(page))) = doc
        .components
        .as_mut()
        .and_then(|components| components.schemas.get_mut("MyPage"))
    else {
        panic!("the read API documents the MyPage object its mypage route answers");
    };
    for section in sections {
        page.properties
            .insert(section.field().to_string(), section.schema());
        page.required.push(section.field().to_string());
    }
}
