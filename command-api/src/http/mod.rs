//! HTTP plumbing of the command API: the contexts' routers merged once, with the
//! cross-cutting layers (correlation id, tracing, body limit, JSON fallbacks); the
//! extractors, idempotency and the one [`ApiError`] every context's handlers use;
//! `/health/*` and `/admin/streams`.

pub mod error;
pub mod extract;
pub mod idempotency;
pub mod openapi;
mod operations;
pub mod overload;

pub use error::{ApiError, ErrorBody};
pub use extract::{CORRELATION_ID, IDEMPOTENCY_KEY};
pub use openapi::{ApiDoc, HealthDoc};
pub use operations::Readiness;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::trace::TraceLayer;
use uuid::Uuid;

use crate::dispatch::CommandService;
use crate::store::EventLog;

/// Bodies above this are refused with 413.
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// Only `/health/*`, without the cross-cutting layers: what a process that serves no
/// command answers (a projector, the read API), merged before [`layered`] wraps it.
/// Readiness asks `readiness`: the command service's event store, or a read API's
/// standby.
pub fn health_routes<R: Readiness>(readiness: Arc<R>) -> Router {
    operations::health().with_state(readiness)
}

/// The contexts' command routes without the cross-cutting layers, so a caller can
/// guard them ([`auth::require`]) and merge more routes before [`layered`] wraps them
/// all. Their handlers take the caller's [`auth::Principal`] from the guard.
pub fn routes<L: EventLog>(
    service: Arc<CommandService<L>>,
    contexts: impl IntoIterator<Item = Router<Arc<CommandService<L>>>>,
) -> Router {
    contexts
        .into_iter()
        .fold(Router::new(), Router::merge)
        .with_state(service)
}

/// `GET /admin/streams/{aggregateType}/{id}` (audit), without the cross-cutting layers.
pub fn admin_routes<L: EventLog>(service: Arc<CommandService<L>>) -> Router {
    operations::admin().with_state(service)
}

/// JSON fallbacks, the body limit, tracing and correlation ids around `routes`.
pub fn layered(routes: Router) -> Router {
    routes
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(middleware::from_fn(correlate))
}

/// Gives every request a correlation id (the client's, or a new one) and echoes it.
async fn correlate(mut request: Request, next: Next) -> Response {
    let correlation_id = match extract::header_id(request.headers(), CORRELATION_ID) {
        Ok(Some(id)) => id,
        Ok(None) => Uuid::now_v7().to_string(),
        Err(error) => return error.into_response(),
    };
    let value = HeaderValue::from_str(&correlation_id).expect("validated as visible ASCII");
    request.headers_mut().insert(CORRELATION_ID, value.clone());
    let mut response = next.run(request).await;
    response.headers_mut().insert(CORRELATION_ID, value);
    response
}

fn request_span(request: &Request) -> tracing::Span {
    let correlation_id = request
        .headers()
        .get(CORRELATION_ID)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        correlation_id,
    )
}

async fn route_not_found(uri: Uri) -> ApiError {
    ApiError::RouteNotFound(uri.path().to_string())
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
