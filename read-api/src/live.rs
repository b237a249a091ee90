//! Live streams (Server-Sent Events): [`Streams`], the bounds, heartbeat and shutdown
//! every stream of a process shares, and [`MypageChanges`], which tells each open
//! mypage stream when its user's sections changed (ADR 12).
//!
//! The mypage streams cost no database work while nothing changes for their users: one
//! task per process follows the projectors' progress (in-process, or `LISTEN` when the
//! projectors run elsewhere), asks each section's table which users' rows changed since
//! it last looked (one statement per section whose view moved), and broadcasts that.
//! Each stream only looks its user up in the broadcast.
//!
//! Where a look stands is a point in the log's reading order (`(transaction_id,
//! position)`, as the views read it): on PostgreSQL positions commit out of order, so a
//! view's position alone may go back, and a range of positions would miss a late commit.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use axum::http::{HeaderName, HeaderValue};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt};
use projections::LogPoint;
use tokio::sync::{broadcast, watch, OwnedSemaphorePermit, Semaphore};

use crate::mypage::MypageSection;
use crate::store::ViewStore;

/// How often an idle stream sends a comment, so that proxies keep it open and clients
/// notice a dead connection.
pub const HEARTBEAT: Duration = Duration::from_secs(15);

/// Streams a process keeps open at once by default (`STRATA_MAX_STREAMS`).
pub const DEFAULT_MAX_STREAMS: usize = 1024;

/// Streams one token's subject may keep open at once: a few tabs, not the whole bound.
pub const STREAMS_PER_SUBJECT: usize = 8;

/// What the streams of a process share: the bounds on how many are open, and the
/// shutdown that ends them.
#[derive(Clone)]
pub struct Streams {
    open: Arc<Semaphore>,
    per_subject: Arc<Mutex<HashMap<String, usize>>>,
    stopping: watch::Receiver<bool>,
}

/// An open stream's place within the bounds, given back when the stream ends.
pub struct StreamSlot {
    _permit: OwnedSemaphorePermit,
    subject: String,
    per_subject: Arc<Mutex<HashMap<String, usize>>>,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.per_subject.lock() {
            if let Some(count) = open.get_mut(&self.subject) {
                *count -= 1;
                if *count == 0 {
                    open.remove(&self.subject);
                }
            }
        }
    }
}

impl Streams {
    /// At most `max` streams at once, [`STREAMS_PER_SUBJECT`] of one subject; every
    /// stream ends when `stopping` turns true.
    pub fn new(max: usize, stopping: watch::Receiver<bool>) -> Self {
        Self {
            open: Arc::new(Semaphore::new(max)),
            per_subject: Arc::default(),
            stopping,
        }
    }

    /// A place for one more stream of `subject` (a token's `sub`), unless a bound is
    /// reached.
    pub fn admit(&self, subject: &str) -> Option<StreamSlot> {
        let mut open = self.per_subject.lock().ok()?;
        let count = open.entry(subject.to_string()).or_default();
        if *count >= STREAMS_PER_SUBJECT {
            return None;
        }
        let permit = self.open.clone().try_acquire_owned().ok()?;
        *count += 1;
        Some(StreamSlot {
            _permit: permit,
            subject: subject.to_string(),
            per_subject: self.per_subject.clone(),
        })
    }

    /// `events` as a `text/event-stream` response that holds `slot`, sends a heartbeat
    /// every [`HEARTBEAT`] and ends at shutdown.
    pub fn respond<S>(&self, slot: StreamSlot, events: S) -> Response
    where
        S: Stream<Item = Event> + Send + 'static,
    {
        let mut stopping = self.stopping.clone();
        let stopped = async move {
            // A process without a shutdown signal (its sender gone) never stops them.
            if stopping.wait_for(|stopping| *stopping).await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        let events = events.take_until(Box::pin(stopped)).map(move |event| {
            let _held = &slot;
            Ok::<_, Infallible>(event)
        });
        let heartbeat = KeepAlive::new().interval(HEARTBEAT).text("heartbeat");
        let mut response = Sse::new(events).keep_alive(heartbeat).into_response();
        // nginx buffers a response unless told not to; an event must not wait in it.
        response.headers_mut().insert(
            HeaderName::from_static("x-accel-buffering"),
            HeaderValue::from_static("no"),
        );
        response
    }
}

/// The first event of every stream: a comment saying it is subscribed, and how soon a
/// client should reconnect after losing it.
pub fn ready() -> Event {
    Event::default()
        .comment("ready")
        .retry(Duration::from_secs(1))
}

/// A point of the log as an event id: `transactionId-position`, or the position alone
/// where the transaction id is 0 (SQLite).
pub fn event_id(point: LogPoint) -> String {
    match point.transaction_id {
        0 => point.position.to_string(),
        transaction => format!("{transaction}-{}", point.position),
    }
}

/// The point an event id names; a bare position is the point before every transaction
/// that could hold it, so that resuming from it may repeat a change but never skips one.
pub fn parse_event_id(id: &str) -> Option<LogPoint> {
    let (transaction_id, position) = match id.split_once('-') {
        Some((transaction, position)) => (transaction.parse().ok()?, position.parse().ok()?),
        None => (0, id.parse().ok()?),
    };
    (transaction_id >= 0 && position >= 0).then_some(LogPoint {
        transaction_id,
        position,
    })
}

/// What one look at the views found: the users whose sections changed, and how far the
/// look covered every section.
pub struct Batch {
    changed: HashMap<String, Vec<&'static str>>,
    pub covered: LogPoint,
}

impl Batch {
    /// The fields of `user`'s sections that changed, if any did.
    pub fn sections_of(&self, user: &str) -> Option<&[&'static str]> {
        self.changed.get(user).map(Vec::as_slice)
    }
}

/// Each of `sections`' views' checkpoint now, by view name (the start before its first).
pub async fn section_points(
    store: &ViewStore,
    sections: &[&'static dyn MypageSection],
) -> Result<HashMap<&'static str, LogPoint>, sqlx::Error> {
    let checkpoints: HashMap<String, LogPoint> = store.checkpoints().await?.into_iter().collect();
    Ok(sections
        .iter()
        .map(|section| {
            let view = section.view().name();
            let point = checkpoints.get(view).copied().unwrap_or(LogPoint::START);
            (view, point)
        })
        .collect())
}

/// Batches kept for streams that fall behind; past them a stream is told to resync.
const BATCHES_KEPT: usize = 256;
/// How often the task looks at the views without a wake-up, while streams are open, in
/// case one was lost (a `LISTEN` connection that dropped).
const RECHECK: Duration = Duration::from_secs(1);
/// How often the task looks without any wake-up to follow (no projector announces its
/// progress to this process).
const POLL: Duration = Duration::from_millis(250);
/// Failed looks in a row after which the failure is logged as a warning.
const WARN_AFTER_FAILURES: u32 = 5;

/// What wakes a task that follows the projectors: each change of their progress, or a
/// timer.
pub struct Wakes {
    progress: Option<watch::Receiver<i64>>,
}

impl Wakes {
    /// Woken by `progress` (re-checking every [`RECHECK`]), or every [`POLL`] without it.
    pub fn new(progress: Option<watch::Receiver<i64>>) -> Self {
        Self { progress }
    }

    /// Resolves at the next wake-up.
    pub async fn next(&mut self) {
        match &mut self.progress {
            Some(progress) => {
                let woken = tokio::time::timeout(RECHECK, progress.changed()).await;
                if matches!(woken, Ok(Err(_))) {
                    // The projector is gone: a timer from now on.
                    self.progress = None;
                }
            }
            None => tokio::time::sleep(POLL).await,
        }
    }
}

/// The changes of the mypage's sections, as one task per process sees them.
#[derive(Clone)]
pub struct MypageChanges {
    batches: broadcast::Sender<Arc<Batch>>,
    /// Turns true once the task knows where each section stands: a stream subscribed
    /// before that could miss what changed in between.
    started: watch::Receiver<bool>,
    /// The task ends once every handle is gone.
    _handles: Arc<()>,
}

impl MypageChanges {
    /// Starts the task that looks at `sections` in `store` whenever `progress` changes
    /// (or every [`POLL`] without it).
    pub fn start(
        store: ViewStore,
        sections: Arc<[&'static dyn MypageSection]>,
        progress: Option<watch::Receiver<i64>>,
    ) -> Self {
        let (batches, _) = broadcast::channel(BATCHES_KEPT);
        let (start, started) = watch::channel(false);
        let handles = Arc::new(());
        let watcher = Watcher {
            store,
            sections,
            batches: batches.clone(),
            handles: Arc::downgrade(&handles),
            looked_up_to: HashMap::new(),
        };
        tokio::spawn(watcher.run(Wakes::new(progress), start));
        Self {
            batches,
            started,
            _handles: handles,
        }
    }

    /// The batches from now on, once the task has started (at once after the first
    /// stream of the process).
    pub async fn subscribe(&self) -> broadcast::Receiver<Arc<Batch>> {
        let mut started = self.started.clone();
        // The task holds the sender for as long as it runs, and it runs while `self` does.
        let _ = started.wait_for(|started| *started).await;
        self.batches.subscribe()
    }
}

struct Watcher {
    store: ViewStore,
    sections: Arc<[&'static dyn MypageSection]>,
    batches: broadcast::Sender<Arc<Batch>>,
    handles: Weak<()>,
    /// Per section view, the point up to which its changes were looked at.
    looked_up_to: HashMap<&'static str, LogPoint>,
}

impl Watcher {
    async fn run(mut self, mut wakes: Wakes, start: watch::Sender<bool>) {
        while self.looked_up_to.is_empty() {
            if self.handles.strong_count() == 0 {
                return;
            }
            match self.points().await {
                Ok(points) => self.looked_up_to = points,
                Err(_) => tokio::time::sleep(POLL).await,
            }
        }
        start.send_replace(true);
        let mut last_idle_look = None::<tokio::time::Instant>;
        let mut failures = 0;
        while self.handles.strong_count() > 0 {
            if self.batches.receiver_count() == 0 {
                // Nobody listens: only keep the starting point recent (at most once per
                // RECHECK), so that the first stream's first look is a short one.
                if last_idle_look.is_none_or(|at| at.elapsed() >= RECHECK) {
                    last_idle_look = Some(tokio::time::Instant::now());
                    if let Ok(points) = self.points().await {
                        // A stream that subscribed meanwhile may have started before
                        // these points: keep the older starting point for it.
                        if self.batches.receiver_count() == 0 {
                            self.looked_up_to = points;
                        }
                    }
                }
            } else {
                match self.look().await {
                    Ok(()) => failures = 0,
                    Err(error) => {
                        failures += 1;
                        if failures == WARN_AFTER_FAILURES {
                            tracing::warn!(%error, failures, "the mypage's live streams cannot see changes");
                        } else {
                            tracing::debug!(%error, "could not look at the mypage's sections");
                        }
                    }
                }
            }
            wakes.next().await;
        }
    }

    async fn points(&self) -> Result<HashMap<&'static str, LogPoint>, sqlx::Error> {
        section_points(&self.store, &self.sections).await
    }

    /// Finds which users' sections changed since the last look, and tells the streams.
    async fn look(&mut self) -> Result<(), sqlx::Error> {
        let points = self.points().await?;
        let mut changed: HashMap<String, Vec<&'static str>> = HashMap::new();
        for section in self.sections.iter() {
            let view = section.view().name();
            let (now, before) = (points[view], self.looked_up_to[view]);
            if now > before {
                let users = self
                    .store
                    .changed_users(section.table(), before, now)
                    .await?;
                for user in users {
                    let fields = changed.entry(user).or_default();
                    if !fields.contains(&section.field()) {
                        fields.push(section.field());
                    }
                }
            }
        }
        let covered = points.values().copied().min().unwrap_or(LogPoint::START);
        self.looked_up_to = points;
        if !changed.is_empty() {
            // No stream listening any more is no error: the next look starts afresh.
            let _ = self.batches.send(Arc::new(Batch { changed, covered }));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_id_names_its_point_and_a_bare_position_resumes_before_every_transaction() {
        let point = LogPoint {
            transaction_id: 7412,
            position: 41,
        };
        assert_eq!(event_id(point), "7412-41");
        assert_eq!(parse_event_id("7412-41"), Some(point));
        let sqlite = LogPoint {
            transaction_id: 0,
            position: 41,
        };
        assert_eq!(event_id(sqlite), "41");
        assert_eq!(parse_event_id("41"), Some(sqlite));
        for bad in ["", "yesterday", "-1", "3-", "1-2-3", "-5-4"] {
            assert_eq!(parse_event_id(bad), None, "{bad}");
        }
    }
}
