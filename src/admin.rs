//! `GET /admin/projections` (where each view stands),
//! `GET /admin/projections/changes` (the same, live),
//! `POST /admin/projections/{name}/rebuild` (rebuild a view in the background),
//! `GET /admin/deadLetters` (what policies could not do) and
//! `POST /admin/deadLetters/resend` (send a refused notification again),
//! `GET /admin/outbound` (each outbound target's circuit breaker), and their OpenAPI
//! document, [`AdminDoc`].

use std::collections::HashSet;
use std::sync::{Arc, Mutex, Weak};

use auth::Principal;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::Event;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use command_api::http::extract::{required, JsonBody};
use command_api::http::openapi::JsonBodyErrors;
use command_api::http::{ApiError, ErrorBody};
use command_api::outbound::{Outbound, TargetStatus};
use futures::StreamExt;
use policies::{DeadLetter, NotificationSink, ResendError};
use projections::{ProjectionError, ProjectionStatus, ProjectionStore, View};
use read_api::live::{self, Streams, Wakes};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use utoipa::{OpenApi, ToSchema};

/// How long a transaction must have been open before `/admin/projections` names it as
/// what holds a view or policy back: shorter ones are ordinary commits in flight.
pub const HELD_BACK_AFTER: std::time::Duration = std::time::Duration::from_secs(5);

/// Events per transaction while rebuilding a view.
pub const REBUILD_BATCH: i64 = 5_000;

#[derive(Clone)]
struct AdminState {
    store: ProjectionStore,
    /// The views the contexts registered.
    views: Arc<[&'static dyn View]>,
    /// Views this process is rebuilding now: one rebuild per view at a time.
    rebuilding: Arc<Mutex<HashSet<&'static str>>>,
    /// Where a refused notification is sent again.
    sink: Arc<NotificationSink>,
    /// The services outside strata this process calls.
    outbound: Outbound,
    /// The bound and shutdown of live streams.
    streams: Streams,
    /// Where each view and policy stands, kept current while streams follow it.
    statuses: StatusFeed,
}

/// A view this process is rebuilding, shown so until the guard drops.
struct Rebuilding {
    views: Arc<Mutex<HashSet<&'static str>>>,
    view: &'static str,
}

impl Rebuilding {
    /// Marks `view` as rebuilding, unless it already is.
    fn mark(views: &Arc<Mutex<HashSet<&'static str>>>, view: &'static str) -> Option<Self> {
        let marked = views
            .lock()
            .map(|mut set| set.insert(view))
            .unwrap_or(false);
        marked.then(|| Self {
            views: views.clone(),
            view,
        })
    }
}

impl Drop for Rebuilding {
    fn drop(&mut self) {
        if let Ok(mut set) = self.views.lock() {
            set.remove(self.view);
        }
    }
}

/// The `/admin/projections` routes.
#[derive(OpenApi)]
#[openapi(
    paths(projections, follow_projections, rebuild, dead_letters, resend, outbound_breakers),
    components(schemas(ErrorBody)),
    tags((name = "admin", description = "Projections: where each stands, rebuilds; \
        dead letters"))
)]
pub struct AdminDoc;

/// Every view and policy, and where each stands.
#[derive(Serialize, ToSchema, PartialEq)]
struct Projections {
    items: Vec<ProjectionStatus>,
}

/// A rebuild has started.
#[derive(Serialize, ToSchema)]
struct RebuildStarted {
    #[schema(example = "orderList")]
    view: &'static str,
    #[schema(example = "rebuilding")]
    state: &'static str,
}

/// What the admin routes work with.
pub struct Admin {
    /// Views and checkpoints.
    pub store: ProjectionStore,
    /// The views a rebuild may name.
    pub views: Vec<&'static dyn View>,
    /// Where a refused notification is sent again.
    pub sink: Arc<NotificationSink>,
    /// The services outside strata this process calls.
    pub outbound: Outbound,
    /// The bound and shutdown of live streams.
    pub streams: Streams,
    /// The projectors' progress, where this process hears of it.
    pub progress: Option<watch::Receiver<i64>>,
}

/// The routes of `admin`.
pub fn router(admin: Admin) -> Router {
    let rebuilding: Arc<Mutex<HashSet<&'static str>>> = Arc::default();
    let statuses = StatusFeed::start(admin.store.clone(), rebuilding.clone(), admin.progress);
    let state = AdminState {
        store: admin.store,
        views: admin.views.into(),
        rebuilding,
        sink: admin.sink,
        outbound: admin.outbound,
        streams: admin.streams,
        statuses,
    };
    Router::new()
        .route("/admin/outbound", get(outbound_breakers))
        .route("/admin/projections", get(projections))
        .route("/admin/projections/changes", get(follow_projections))
        .route("/admin/projections/{name}/rebuild", post(rebuild))
        .route("/admin/deadLetters", get(dead_letters))
        .route("/admin/deadLetters/resend", post(resend))
        .with_state(state)
}

/// Each outbound target's breaker.
#[derive(Serialize, ToSchema)]
struct OutboundBreakers {
    items: Vec<TargetStatus>,
}

/// Each outbound target's circuit breaker: state, failures in a row, and while open,
/// when the next probe may go.
#[utoipa::path(
    get,
    path = "/admin/outbound",
    operation_id = "list_outbound_breakers",
    tag = "admin",
    responses(
        (status = 200, description = "Every outbound target", body = OutboundBreakers),
        (status = 401, description = "No valid bearer token", body = ErrorBody,
            headers(("WWW-Authenticate" = String))),
        (status = 403, description = "The token is not an admin's", body = ErrorBody),
    )
)]
async fn outbound_breakers(State(state): State<AdminState>) -> Json<OutboundBreakers> {
    Json(OutboundBreakers {
        items: state.outbound.statuses(),
    })
}

/// Where each view and policy stands: checkpoint, head, lag and state.
#[utoipa::path(
    get,
    path = "/admin/projections",
    operation_id = "list_projections",
    tag = "admin",
    responses(
        (status = 200, description = "Every view and policy", body = Projections),
        (status = 401, description = "No valid bearer token", body = ErrorBody,
            headers(("WWW-Authenticate" = String))),
        (status = 403, description = "The token is not an admin's", body = ErrorBody),
        (status = 503, description = "The database is unavailable", body = ErrorBody,
            headers(("Retry-After" = u32))),
    )
)]
async fn projections(State(state): State<AdminState>) -> Result<Json<Projections>, ApiError> {
    Ok(Json(statuses(&state.store, &state.rebuilding).await?))
}

/// Where each view and policy stands, a view this process rebuilds shown so.
async fn statuses(
    store: &ProjectionStore,
    rebuilding: &Mutex<HashSet<&'static str>>,
) -> Result<Projections, ApiError> {
    let items = store
        .statuses(HELD_BACK_AFTER)
        .await
        .map_err(|error| {
            tracing::warn!(%error, "projection status unavailable");
            ApiError::Unavailable
        })?
        .items;
    let rebuilding = rebuilding.lock().map(|set| set.clone()).unwrap_or_default();
    let items = items
        .into_iter()
        .map(|mut status| {
            if rebuilding.contains(status.name.as_str()) && status.state == "running" {
                status.state = "rebuilding".to_string();
            }
            status
        })
        .collect();
    Ok(Projections { items })
}

/// Where each view and policy stands, as one task per process sees it while streams
/// follow it: after batches of the projectors (at most every [`STATUS_EVERY`]), and
/// every second (lag grows while a projector is down, and a rebuild ends).
/// The least time between two reads of the statuses for the live stream.
const STATUS_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

#[derive(Clone)]
struct StatusFeed {
    latest: watch::Sender<Option<Arc<Projections>>>,
    /// The task ends once every handle is gone.
    _handles: Arc<()>,
}

impl StatusFeed {
    fn start(
        store: ProjectionStore,
        rebuilding: Arc<Mutex<HashSet<&'static str>>>,
        progress: Option<watch::Receiver<i64>>,
    ) -> Self {
        let latest = watch::Sender::new(None);
        let handles = Arc::new(());
        tokio::spawn(Self::follow(
            store,
            rebuilding,
            Wakes::new(progress),
            latest.clone(),
            Arc::downgrade(&handles),
        ));
        Self {
            latest,
            _handles: handles,
        }
    }

    async fn follow(
        store: ProjectionStore,
        rebuilding: Arc<Mutex<HashSet<&'static str>>>,
        mut wakes: Wakes,
        latest: watch::Sender<Option<Arc<Projections>>>,
        handles: Weak<()>,
    ) {
        while handles.strong_count() > 0 {
            if latest.receiver_count() > 0 {
                if let Ok(now) = statuses(&store, &rebuilding).await {
                    latest.send_if_modified(|latest| {
                        let changed = latest.as_deref() != Some(&now);
                        if changed {
                            *latest = Some(Arc::new(now));
                        }
                        changed
                    });
                }
                // Under load every batch would wake it: statuses read the activity of
                // the whole server, and a person reads them.
                tokio::time::sleep(STATUS_EVERY).await;
            }
            wakes.next().await;
        }
    }
}

/// The event carrying where each view and policy stands; its id is the log's head.
fn projections_event(projections: &Projections) -> Event {
    let head = projections.items.iter().map(|item| item.head).max();
    Event::default()
        .event("projections")
        .id(head.unwrap_or(0).to_string())
        .json_data(projections)
        .unwrap_or_default()
}

/// Where each view and policy stands, live (Server-Sent Events): `event: projections`
/// with the same document as `GET /admin/projections`, at once and whenever it
/// changes; a comment every 15 s.
#[utoipa::path(
    get,
    path = "/admin/projections/changes",
    operation_id = "follow_projections",
    tag = "admin",
    responses(
        (status = 200, description = "The stream: `event: projections` with `Projections` \
            as data", content_type = "text/event-stream", body = Projections),
        (status = 401, description = "No valid bearer token", body = ErrorBody,
            headers(("WWW-Authenticate" = String))),
        (status = 403, description = "The token is not an admin's", body = ErrorBody),
        (status = 503, description = "The database is unavailable, or too many live \
            streams are open (`too_many_streams`)", body = ErrorBody,
            headers(("Retry-After" = u32))),
    )
)]
async fn follow_projections(
    State(state): State<AdminState>,
    reader: Principal,
) -> Result<Response, ApiError> {
    let slot = state
        .streams
        .admit(&reader.subject)
        .ok_or(ApiError::TooManyStreams)?;
    let latest = state.statuses.latest.subscribe();
    let now = statuses(&state.store, &state.rebuilding).await?;
    let first = [live::ready(), projections_event(&now)];
    let later = futures::stream::unfold(
        (latest, Arc::new(now)),
        |(mut latest, mut sent)| async move {
            loop {
                latest.changed().await.ok()?;
                let Some(now) = latest.borrow_and_update().clone() else {
                    continue;
                };
                if now != sent {
                    sent = now.clone();
                    return Some((projections_event(&now), (latest, sent)));
                }
            }
        },
    );
    Ok(state
        .streams
        .respond(slot, futures::stream::iter(first).chain(later)))
}

/// Rebuild a view in the background: the old view keeps serving until the new one has
/// caught up, then they swap.
#[utoipa::path(
    post,
    path = "/admin/projections/{name}/rebuild",
    operation_id = "rebuild_projection",
    tag = "admin",
    params(("name" = String, Path,
        description = "The view, by its name in `/admin/projections` (`orderList`, …)")),
    responses(
        (status = 202, description = "The rebuild has started", body = RebuildStarted),
        (status = 401, description = "No valid bearer token", body = ErrorBody,
            headers(("WWW-Authenticate" = String))),
        (status = 403, description = "The token is not an admin's", body = ErrorBody),
        (status = 404, description = "No such view (`unknown_view`)", body = ErrorBody),
        (status = 409, description = "The view is already being rebuilt, by this process \
            (`rebuild_in_progress`) or another (`rebuild_running`)", body = ErrorBody),
    )
)]
async fn rebuild(
    State(state): State<AdminState>,
    Path(name): Path<String>,
) -> Result<(StatusCode, Json<RebuildStarted>), ApiError> {
    let view =
        projections::view::find(&state.views, &name).map_err(|error| ApiError::NotFound {
            code: "unknown_view",
            message: error.to_string(),
        })?;
    let Some(marked) = Rebuilding::mark(&state.rebuilding, view.name()) else {
        return Err(ApiError::Conflict {
            code: "rebuild_in_progress",
            message: format!("{view} is already being rebuilt"),
        });
    };
    let rebuild = match projections::replay::Rebuild::start(&state.store, view).await {
        Ok(rebuild) => rebuild,
        Err(ProjectionError::RebuildRunning(_)) => {
            return Err(ApiError::Conflict {
                code: "rebuild_running",
                message: format!("{view} is being rebuilt by another process"),
            })
        }
        Err(error) => {
            tracing::warn!(%error, "rebuild could not start");
            return Err(ApiError::Unavailable);
        }
    };
    tokio::spawn(async move {
        // Dropped however the rebuild ends, a panic included: the view is shown
        // rebuilding only while it is.
        let _marked = marked;
        if let Err(error) = rebuild.run(REBUILD_BATCH).await {
            tracing::error!(view = %view, %error, "rebuild failed");
        }
    });
    Ok((
        StatusCode::ACCEPTED,
        Json(RebuildStarted {
            view: view.name(),
            state: "rebuilding",
        }),
    ))
}

/// What policies could not do and skipped, oldest first (at most 500).
#[derive(Serialize, ToSchema)]
struct DeadLetters {
    items: Vec<DeadLetter>,
}

/// What a policy could not do for an event and skipped: a command the domain refused,
/// a notification the webhook refused (a 3xx or 4xx).
#[utoipa::path(
    get,
    path = "/admin/deadLetters",
    operation_id = "list_dead_letters",
    tag = "admin",
    responses(
        (status = 200, description = "The dead letters, oldest first", body = DeadLetters),
        (status = 401, description = "No valid bearer token", body = ErrorBody,
            headers(("WWW-Authenticate" = String))),
        (status = 403, description = "The token is not an admin's", body = ErrorBody),
        (status = 503, description = "The database is unavailable", body = ErrorBody,
            headers(("Retry-After" = u32))),
    )
)]
async fn dead_letters(State(state): State<AdminState>) -> Result<Json<DeadLetters>, ApiError> {
    let items = policies::dead_letters::list(&state.store)
        .await
        .map_err(|error| {
            tracing::warn!(%error, "dead letters unavailable");
            ApiError::Unavailable
        })?;
    Ok(Json(DeadLetters { items }))
}

/// The dead letter to send again.
#[derive(Deserialize, ToSchema)]
struct ResendBody {
    /// A dead letter's `key`, as `GET /admin/deadLetters` lists it.
    #[schema(value_type = String, required = true, min_length = 1, pattern = r"^[^\x00]*$")]
    key: Option<String>,
}

/// The notification went out again; its dead letter is gone.
#[derive(Serialize, ToSchema)]
struct Resent {
    key: String,
    #[schema(example = true)]
    delivered: bool,
}

/// Send a notification the webhook refused again (once the receiver is fixed), in one
/// request with its `Idempotency-Key`: taken, its dead letter is forgotten; refused
/// again, it stays, with the new refusal. Two resends at once may both send it; the
/// receiver tells them apart by the key.
#[utoipa::path(
    post,
    path = "/admin/deadLetters/resend",
    operation_id = "resend_dead_letter",
    tag = "admin",
    request_body = ResendBody,
    responses(
        (status = 200, description = "Delivered", body = Resent),
        (status = 404, description = "No dead letter has this key (`dead_letter_not_found`)",
            body = ErrorBody),
        (status = 409, description = "Not a refused notification (`not_resendable`), or \
            refused again (`webhook_refused`)", body = ErrorBody),
        (status = 422, description = "`key` is missing or invalid", body = ErrorBody),
        (status = 503, description = "The webhook cannot be reached (`webhook_unavailable`) \
            or the database is unavailable", body = ErrorBody,
            headers(("Retry-After" = u32))),
        JsonBodyErrors,
    )
)]
async fn resend(
    State(state): State<AdminState>,
    body: JsonBody<ResendBody>,
) -> Result<Json<Resent>, ApiError> {
    let key = required("key", body.parsed.key)?;
    match state.sink.resend(&state.store, &key).await {
        Ok(()) => Ok(Json(Resent {
            key,
            delivered: true,
        })),
        Err(error @ ResendError::NotFound) => Err(ApiError::NotFound {
            code: "dead_letter_not_found",
            message: error.to_string(),
        }),
        Err(error @ ResendError::NotResendable(_)) => Err(ApiError::Conflict {
            code: "not_resendable",
            message: error.to_string(),
        }),
        Err(error @ ResendError::Refused(_)) => Err(ApiError::Conflict {
            code: "webhook_refused",
            message: error.to_string(),
        }),
        Err(ResendError::Sink(error)) => Err(ApiError::Unreachable {
            code: "webhook_unavailable",
            message: error.to_string(),
            retry_after: std::time::Duration::from_secs(1),
        }),
        Err(error @ ResendError::Corrupt(_)) => Err(ApiError::Internal(Box::new(error))),
        Err(ResendError::Store(error)) => {
            tracing::warn!(%error, "dead letter not sent again");
            Err(ApiError::Unavailable)
        }
    }
}
