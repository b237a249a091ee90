//! `GET /mypages/{userId}`: the user's page, composed of the contexts' sections, a list
//! each. Every user's page exists, with empty lists before the user's first rows.
//! `GET /mypages/{userId}/changes`: a live stream saying when its sections change.

use auth::Principal;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName};
use axum::response::sse::Event;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use std::collections::BTreeMap;
use std::sync::Arc;

use futures::StreamExt;
use tokio::sync::broadcast::error::RecvError;

use projections::LogPoint;
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
use crate::live;
use crate::mypage::MypageSection;
use crate::store::ViewStore;

pub(super) fn router() -> Router<ReadState> {
    Router::new()
        .route("/mypages/{id}", get(one))
        .route("/mypages/{id}/changes", get(changes))
}

/// The header a reconnecting client names the last event it received in.
const LAST_EVENT_ID: HeaderName = HeaderName::from_static("last-event-id");

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
        ..
    }): State<ReadState>,
    reader: Principal,
    MinPosition(min): MinPosition,
    UserId(user_id): UserId,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    refuse_others(&store, &sections, &reader, &user_id).await?;
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

/// Another customer's page is answered as if there were none, like their rows.
async fn refuse_others(
    store: &ViewStore,
    sections: &[&'static dyn MypageSection],
    reader: &Principal,
    user_id: &str,
) -> Result<(), ApiError> {
    if reader.confined_to().is_none_or(|owner| owner == user_id) {
        return Ok(());
    }
    let mut position = i64::MAX;
    for section in sections {
        position = position.min(store.position(section.view().name()).await?);
    }
    Err(ApiError::NotFound {
        code: "mypage_not_found",
        message: format!("no mypage of {user_id}"),
        position: if sections.is_empty() { 0 } else { position },
    })
}

/// What `GET /mypages/{id}/changes` sends when sections of the page changed.
#[derive(Serialize, ToSchema)]
pub struct SectionsChanged {
    /// The fields of the sections that changed (`orders`, …).
    sections: Vec<&'static str>,
}

/// A live stream of the page's changes (Server-Sent Events): `event: change` with the
/// sections that changed, its `id` the point of the log up to which every change has
/// been sent; `event: resync` when the client should read the whole page again; a
/// comment every 15 s. With `Last-Event-ID` (an `id` the stream sent, or a position),
/// the sections changed after it are sent at once.
#[utoipa::path(
    get,
    path = "/mypages/{id}/changes",
    operation_id = "follow_mypage",
    tag = "mypages",
    params(
        ("id" = String, Path, description = "The user's id (1 to 64 characters)"),
        ("Last-Event-ID" = Option<String>, Header, description = "Resume after this \
            event: the `id` of the last event received (`41`, or `7412-41` on \
            PostgreSQL: a transaction and a position)"),
    ),
    responses(
        (status = 200, description = "The stream: `event: change` with `SectionsChanged` \
            as data", content_type = "text/event-stream", body = SectionsChanged),
        ReadErrors,
    )
)]
async fn changes(
    State(state): State<ReadState>,
    reader: Principal,
    UserId(user_id): UserId,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    refuse_others(&state.store, &state.sections, &reader, &user_id).await?;
    let since = last_event_id(&headers)?;
    let slot = state
        .streams
        .admit(&reader.subject)
        .ok_or(ApiError::TooManyStreams)?;
    // Subscribed before looking back, so that no change falls between the two.
    let batches = state.changes.subscribe().await;
    let mut first = vec![live::ready()];
    if let Some(since) = since {
        first.extend(changed_since(&state, &user_id, since).await?);
    }
    let every_section: Arc<[&'static str]> = state.sections.iter().map(|s| s.field()).collect();
    let live = futures::stream::unfold(batches, move |mut batches| {
        let (user, every_section) = (user_id.clone(), every_section.clone());
        async move {
            loop {
                let event = match batches.recv().await {
                    Ok(batch) => match batch.sections_of(&user) {
                        None => continue,
                        Some(sections) => changed(sections.to_vec(), batch.covered),
                    },
                    Err(RecvError::Lagged(_)) => resync(&every_section),
                    Err(RecvError::Closed) => return None,
                };
                return Some((event, batches));
            }
        }
    });
    Ok(state
        .streams
        .respond(slot, futures::stream::iter(first).chain(live)))
}

/// The event saying `sections` changed, every change up to `covered` sent.
fn changed(sections: Vec<&'static str>, covered: LogPoint) -> Event {
    Event::default()
        .event("change")
        .id(live::event_id(covered))
        .json_data(SectionsChanged { sections })
        .unwrap_or_default()
}

/// The event asking the client to read every section again.
fn resync(every_section: &[&'static str]) -> Event {
    Event::default()
        .event("resync")
        .json_data(serde_json::json!({ "sections": every_section }))
        .unwrap_or_default()
}

/// The user's sections that changed after `since`, as the first event of a resumed
/// stream (none when nothing did).
async fn changed_since(
    state: &ReadState,
    user: &str,
    since: LogPoint,
) -> Result<Option<Event>, ApiError> {
    // Read before the rows: every change up to it is among what the rows show.
    let covered = live::section_points(&state.store, &state.sections)
        .await?
        .into_values()
        .min()
        .unwrap_or(LogPoint::START);
    let mut sections = Vec::new();
    for section in state.sections.iter() {
        if state
            .store
            .changed_since(section.table(), user, since)
            .await?
        {
            sections.push(section.field());
        }
    }
    Ok((!sections.is_empty()).then(|| changed(sections, covered.max(since))))
}

/// The point a reconnecting client resumes after, if it names one.
fn last_event_id(headers: &HeaderMap) -> Result<Option<LogPoint>, ApiError> {
    let Some(value) = headers.get(LAST_EVENT_ID) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|raw| live::parse_event_id(raw.trim()))
        .map(Some)
        .ok_or_else(|| {
            ApiError::invalid_field(
                "Last-Event-ID",
                "Last-Event-ID must be an id this stream sent, or a position (an integer ≥ 0)",
            )
        })
}
