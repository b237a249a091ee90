//! What a bounded context hands the command API: its aggregate types, its command
//! routes and their OpenAPI. The binary collects one [`Commands`] per context; nothing
//! here names a context.

use std::sync::Arc;

use axum::Router;
use utoipa::openapi::OpenApi;

use crate::dispatch::CommandService;
use crate::store::EventLog;

/// One context's part of the command API.
#[derive(Clone)]
pub struct Commands<L: EventLog> {
    /// The stored `aggregate_type`s of its streams (`/admin/streams` shows them).
    pub aggregate_types: &'static [&'static str],
    /// Its command routes, without the cross-cutting layers.
    pub routes: Router<Arc<CommandService<L>>>,
    /// The OpenAPI of those routes.
    pub openapi: OpenApi,
}
