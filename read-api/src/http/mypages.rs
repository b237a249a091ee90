//! `GET /mypages/{userId}`: the user's page, composed of the contexts' sections (their
//! orders, bookings, latest notifications, …). Every user's page exists, empty before
//! their first order or booking.

use auth::Principal;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Serialize;
use serde_json::{Map, Value};
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

/// A user's page: the sections' lists under their fields; `position` and `updatedAt`
/// are those of its latest change.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MyPage {
    user_id: String,
    #[serde(flatten)]
    #[schema(ignore)]
    sections: Map<String, Value>,
    position: i64,
    updated_at: Option<String>,
}

/// A user's page: their orders, bookings and latest notifications, one list per
/// section.
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
    let mut page = MyPage {
        user_id,
        sections: Map::new(),
        position: 0,
        updated_at: None,
    };
    let mut view_position = i64::MAX;
    let mut latest = None;
    for section in sections.iter() {
        freshness.wait(&store, section.view().name(), min).await?;
        let read = section.read(&store, &page.user_id).await?;
        page.sections.insert(section.field().to_string(), read.rows);
        view_position = view_position.min(read.view_position);
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
        page.position,
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
        return;
    };
    for section in sections {
        page.properties
            .insert(section.field().to_string(), section.schema());
        page.required.push(section.field().to_string());
    }
}
