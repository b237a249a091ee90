//! `GET /admin/projections` (where each view stands) and
//! `POST /admin/projections/{name}/rebuild` (rebuild a view in the background).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use command_api::http::ApiError;
use projections::{ProjectionStore, ViewName};
use serde_json::{json, Value};

/// Events per transaction while rebuilding a view.
pub const REBUILD_BATCH: i64 = 5_000;

#[derive(Clone)]
struct AdminState {
    store: ProjectionStore,
    /// Views this process is rebuilding now: one rebuild per view at a time.
    rebuilding: Arc<Mutex<HashSet<ViewName>>>,
}

pub fn router(store: ProjectionStore) -> Router {
    let state = AdminState {
        store,
        rebuilding: Arc::default(),
    };
    Router::new()
        .route("/admin/projections", get(projections))
        .route("/admin/projections/{name}/rebuild", post(rebuild))
        .with_state(state)
}

async fn projections(State(state): State<AdminState>) -> Result<Json<Value>, ApiError> {
    let items = state.store.statuses().await.map_err(|error| {
        tracing::warn!(%error, "projection status unavailable");
        ApiError::Unavailable
    })?;
    let rebuilding = state
        .rebuilding
        .lock()
        .map(|set| set.clone())
        .unwrap_or_default();
    let items: Vec<Value> = items
        .into_iter()
        .map(|mut status| {
            if rebuilding.iter().any(|view| view.as_str() == status.name)
                && status.state == "running"
            {
                status.state = "rebuilding".to_string();
            }
            json!(status)
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}

async fn rebuild(
    State(state): State<AdminState>,
    Path(name): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let view: ViewName =
        name.parse().map_err(
            |error: projections::views::UnknownView| ApiError::NotFound {
                code: "unknown_view",
                message: error.to_string(),
            },
        )?;
    let started = state
        .rebuilding
        .lock()
        .map(|mut set| set.insert(view))
        .unwrap_or(false);
    if !started {
        return Err(ApiError::Conflict {
            code: "rebuild_in_progress",
            message: format!("{view} is already being rebuilt"),
        });
    }
    tokio::spawn(async move {
        if let Err(error) = projections::rebuild(&state.store, view, REBUILD_BATCH).await {
            tracing::error!(view = %view, %error, "rebuild failed");
        }
        if let Ok(mut set) = state.rebuilding.lock() {
            set.remove(&view);
        }
    });
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "view": view.as_str(), "state": "rebuilding" })),
    ))
}
