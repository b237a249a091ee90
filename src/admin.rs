//! `GET /admin/projections`: where each view stands.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use command_api::http::ApiError;
use projections::ProjectionStore;
use serde_json::{json, Value};

pub fn router(store: ProjectionStore) -> Router {
    Router::new()
        .route("/admin/projections", get(projections))
        .with_state(store)
}

async fn projections(State(store): State<ProjectionStore>) -> Result<Json<Value>, ApiError> {
    let items = store.statuses().await.map_err(|error| {
        tracing::warn!(%error, "projection status unavailable");
        ApiError::Unavailable
    })?;
    Ok(Json(json!({ "items": items })))
}
