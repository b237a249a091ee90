//! Read-your-writes: a read that names a position (`?minPosition=N`, or the header
//! `X-Min-Position: N`) waits until its view has applied it, woken by the projector's
//! progress (in-process, or `LISTEN` in a process of its own) and re-checking at
//! [`RECHECK`] in case a wake-up was lost. Past the bound it answers 503 with
//! `Retry-After` and the view's current position.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::HeaderName;
use serde::Deserialize;
use tokio::sync::{watch, Semaphore};
use tokio::time::Instant;

use super::error::ApiError;
use crate::store::ViewStore;

/// The header a client may name its position in instead of the query.
pub const MIN_POSITION: HeaderName = HeaderName::from_static("x-min-position");
/// How often a waiting read re-checks the view without a wake-up.
const RECHECK: Duration = Duration::from_millis(50);

/// How many reads of a process wait for a position at once by default: a share of their
/// own, so that waiting reads cannot take every slot of the in-flight limit.
pub const DEFAULT_WAITERS: usize = 64;

/// How long reads wait for a position, and what wakes them.
#[derive(Clone)]
pub struct Freshness {
    bound: Duration,
    progress: Option<watch::Receiver<i64>>,
    /// Permits of the reads waiting now; past them a read that would wait is 503 at once.
    waiting: Arc<Semaphore>,
    /// Where the log's head is read when the views are read elsewhere (a standby, whose
    /// head may lag the primary's).
    log: Option<ViewStore>,
}

impl Freshness {
    /// Reads wait at most `bound`, [`DEFAULT_WAITERS`] at once, re-checking every 50 ms
    /// until [`Self::woken_by`].
    pub fn new(bound: Duration) -> Self {
        Self {
            bound,
            progress: None,
            waiting: Arc::new(Semaphore::new(DEFAULT_WAITERS)),
            log: None,
        }
    }

    /// Reads the log's head from `log` (the primary) rather than from the views' store: a
    /// position a lagging standby has not received yet is waited for, not refused.
    pub fn head_from(mut self, log: ViewStore) -> Self {
        self.log = Some(log);
        self
    }

    /// At most `waiters` reads wait at once.
    pub fn with_waiters(mut self, waiters: usize) -> Self {
        self.waiting = Arc::new(Semaphore::new(waiters));
        self
    }

    /// Wakes waiting reads whenever `progress` changes (a projector committed a batch).
    pub fn woken_by(mut self, progress: watch::Receiver<i64>) -> Self {
        self.progress = Some(progress);
        self
    }

    /// What wakes waiting reads, if anything does.
    pub fn progress(&self) -> Option<watch::Receiver<i64>> {
        self.progress.clone()
    }

    /// Returns once every one of `views` has applied `min` (one bound for them all), at
    /// once when the read names none.
    pub async fn wait(
        &self,
        store: &ViewStore,
        views: &[&'static str],
        min: Option<i64>,
    ) -> Result<(), ApiError> {
        let Some(min) = min else {
            return Ok(());
        };
        let deadline = Instant::now() + self.bound;
        let mut progress = self.progress.clone();
        let mut waiting = views.to_vec();
        let mut head_checked = false;
        let mut received = false;
        let mut permit = None;
        loop {
            if let Some(progress) = &mut progress {
                progress.borrow_and_update();
            }
            received = received || self.has_received(store, min).await?;
            let mut behind = Vec::with_capacity(waiting.len());
            for view in waiting {
                if !received || !store.has_applied(view, min).await? {
                    behind.push(view);
                }
            }
            let Some(&view) = behind.first() else {
                return Ok(());
            };
            if !head_checked {
                // A position beyond the log's head is no write's: answered at once, not
                // after the bound.
                let head = self.log.as_ref().unwrap_or(store).head().await?;
                if min > head {
                    return Err(ApiError::invalid_field(
                        "minPosition",
                        format!("minPosition {min} is beyond the log's last position {head}"),
                    ));
                }
                head_checked = true;
            }
            waiting = behind;
            let now = Instant::now();
            if now >= deadline {
                return Err(ApiError::Behind {
                    view,
                    position: store.position(view).await?,
                    wanted: min,
                });
            }
            if permit.is_none() {
                match self.waiting.clone().try_acquire_owned() {
                    Ok(waiting) => permit = Some(waiting),
                    Err(_) => {
                        return Err(ApiError::Behind {
                            view,
                            position: store.position(view).await?,
                            wanted: min,
                        })
                    }
                }
            }
            let pause = RECHECK.min(deadline - now);
            match &mut progress {
                Some(progress) => {
                    let _ = tokio::time::timeout(pause, progress.changed()).await;
                }
                None => tokio::time::sleep(pause).await,
            }
        }
    }

    /// Whether the views' store has the commit at `position`, when the log lives
    /// elsewhere (a standby of it). A standby replays commits in the order they
    /// committed, not in position order: it may hold later positions before this one,
    /// and a view's check cannot see a commit that has not arrived. A position the log
    /// does not hold either (a rolled-back commit's) is left to that check.
    async fn has_received(&self, store: &ViewStore, position: i64) -> Result<bool, ApiError> {
        let Some(log) = &self.log else {
            return Ok(true);
        };
        Ok(position <= 0 || store.holds(position).await? || !log.holds(position).await?)
    }
}

/// The position a read must reflect, if it names one.
pub struct MinPosition(pub Option<i64>);

#[derive(Deserialize)]
struct MinPositionQuery {
    #[serde(rename = "minPosition")]
    min_position: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for MinPosition {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query: Result<Query<MinPositionQuery>, QueryRejection> =
            Query::try_from_uri(&parts.uri);
        let Query(query) = query?;
        // Both are checked, so a bad header is refused even where the query wins.
        let header = match parts.headers.get(MIN_POSITION) {
            None => None,
            Some(value) => {
                let raw = value.to_str().unwrap_or_default();
                Some(position("X-Min-Position", raw)?)
            }
        };
        let query = match query.min_position {
            None => None,
            Some(raw) => Some(position("minPosition", &raw)?),
        };
        Ok(Self(query.or(header)))
    }
}

fn position(field: &'static str, raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|position| *position >= 0)
        .ok_or_else(|| {
            ApiError::invalid_field(
                field,
                format!("{field} must be a position (an integer ≥ 0)"),
            )
        })
}
