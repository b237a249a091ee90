//! Overload protection: a bounded number of requests in flight per process, beyond which
//! a request fails at once with 503 and `Retry-After` instead of queueing, and a time
//! limit on each request.
//!
//! `/health/*` and `/metrics` pass outside the limit, within a small share of their own:
//! a probe must tell a busy process from a dead one, and scrapers must not crowd out
//! requests or probes. That is why the limit is a semaphore in a middleware that looks at
//! the path, not tower's `ConcurrencyLimit` + `LoadShed`, which shed every request of
//! the service they wrap. A command's commits share its request's [`Deadline`]: a
//! request answered `timed_out` has written nothing and never will; one whose commit
//! is in flight when its time is up is answered `commit_outcome_unknown`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tokio::sync::Semaphore;

use super::ApiError;
use crate::store::Deadline;

/// How much a process takes on at once.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Requests in flight beyond which new ones get 503.
    pub max_in_flight: usize,
    /// How long one request may take before it gets 503.
    pub request_timeout: Duration,
}

#[derive(Clone)]
struct Guard {
    in_flight: Arc<Semaphore>,
    /// A share of their own for probes, and another for `/metrics`, so that scrapers
    /// crowd out neither requests nor what orchestrators need.
    probes: Arc<Semaphore>,
    scrapes: Arc<Semaphore>,
    timeout: Duration,
}

/// Probes in flight at once.
const MAX_PROBES: usize = 16;
/// Scrapes of `/metrics` in flight at once.
const MAX_SCRAPES: usize = 4;

/// Wraps every route of `router` except `/health/*` and `/metrics` in `limits`.
pub fn limited(router: Router, limits: Limits) -> Router {
    let guard = Guard {
        in_flight: Arc::new(Semaphore::new(limits.max_in_flight)),
        probes: Arc::new(Semaphore::new(MAX_PROBES)),
        scrapes: Arc::new(Semaphore::new(MAX_SCRAPES)),
        timeout: limits.request_timeout,
    };
    router.layer(middleware::from_fn_with_state(guard, admit))
}

async fn admit(State(guard): State<Guard>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let share = match path {
        "/metrics" => Some(&guard.scrapes),
        _ if path.starts_with("/health/") => Some(&guard.probes),
        _ => None,
    };
    if let Some(share) = share {
        let Ok(_permit) = share.try_acquire() else {
            return ApiError::Overloaded.into_response();
        };
        return next.run(request).await;
    }
    let Ok(_permit) = guard.in_flight.try_acquire() else {
        return ApiError::Overloaded.into_response();
    };
    let deadline = Deadline::new(Instant::now() + guard.timeout);
    request.extensions_mut().insert(deadline.clone());
    match tokio::time::timeout_at(deadline.at().into(), next.run(request)).await {
        Ok(response) => response,
        Err(_) if deadline.abandon() => ApiError::TimedOut.into_response(),
        Err(_) => ApiError::OutcomeUnknown.into_response(),
    }
}
