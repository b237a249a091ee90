//! Projector workers: one task per view, each applying batches until it has caught
//! up, then waiting for new events — woken at once by an in-process signal when the
//! command side runs in the same process, else by polling.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::Instrument;

use crate::subscription::{Batch, ProjectionError, ProjectionStore, WorkerConnection};
use crate::view::View;
use crate::wake;

/// How long to wait before retrying a view another worker holds.
const RETRY_PAUSE: Duration = Duration::from_millis(5);

/// How a set of views is projected.
#[derive(Clone)]
pub struct Projector {
    store: ProjectionStore,
    views: Vec<&'static dyn View>,
    batch_size: i64,
    poll_interval: Duration,
    appended: Option<watch::Receiver<i64>>,
    /// Events this projector (and its clones) committed to a view, for metrics and tests.
    applied: Arc<AtomicU64>,
    /// Changes after every committed batch: readers waiting for a position wake on it.
    progress: Arc<watch::Sender<i64>>,
}

impl Projector {
    /// Batches of 500 events, polling every 100 ms unless [`Projector::woken_by`] is set.
    pub fn new(store: ProjectionStore, views: Vec<&'static dyn View>) -> Self {
        Self {
            store,
            views,
            batch_size: 500,
            poll_interval: Duration::from_millis(100),
            appended: None,
            applied: Arc::default(),
            progress: Arc::new(watch::Sender::new(0)),
        }
    }

    /// Announces committed batches on `progress`, shared with other projectors and
    /// the readers that wait on it.
    pub fn reporting_to(mut self, progress: Arc<watch::Sender<i64>>) -> Self {
        self.progress = progress;
        self
    }

    /// Changes whenever this projector commits a batch to any of its views.
    pub fn progress(&self) -> watch::Receiver<i64> {
        self.progress.subscribe()
    }

    /// Wakes the workers whenever the command side appends (the last position).
    pub fn woken_by(mut self, appended: watch::Receiver<i64>) -> Self {
        self.appended = Some(appended);
        self
    }

    pub fn with_batch_size(mut self, batch_size: i64) -> Self {
        self.batch_size = batch_size;
        self
    }

    pub fn views(&self) -> &[&'static dyn View] {
        &self.views
    }

    /// How many events this projector has applied and committed, over all its views.
    pub fn applied_events(&self) -> u64 {
        self.applied.load(Ordering::Relaxed)
    }

    /// Applies batches to `view` until it has every event that was in the log when
    /// this was called (waiting out other workers' batches and transactions that hold
    /// the read watermark back). Tests drain with this instead of sleeping.
    pub async fn catch_up(&self, view: &'static dyn View) -> Result<(), ProjectionError> {
        let mut connection = self.store.connect().await?;
        connection.register(view).await?;
        let head = connection.head().await?;
        loop {
            self.drain(&mut connection, view).await?;
            if connection.has_applied(view.name(), head).await? {
                return Ok(());
            }
            // Another worker holds the view, or an older transaction still holds
            // the read watermark below `head`.
            tokio::time::sleep(RETRY_PAUSE).await;
        }
    }

    /// Applies batches until nothing more can be read now, or another worker holds
    /// the view.
    async fn drain(
        &self,
        connection: &mut WorkerConnection,
        view: &'static dyn View,
    ) -> Result<(), ProjectionError> {
        loop {
            let batch = connection
                .run_batch(view, self.batch_size)
                .instrument(tracing::info_span!("batch", %view))
                .await?;
            match batch {
                Batch::Applied { events } => {
                    self.applied.fetch_add(events as u64, Ordering::Relaxed);
                    self.progress.send_modify(|batches| *batches += 1);
                }
                Batch::Failed => return Err(ProjectionError::Stopped(view)),
                Batch::CaughtUp | Batch::Busy => return Ok(()),
            }
        }
    }

    /// Catches every view up.
    pub async fn catch_up_all(&self) -> Result<(), ProjectionError> {
        for &view in &self.views {
            self.catch_up(view).await?;
        }
        Ok(())
    }

    /// Runs one worker per view until `stop` turns true; each finishes its current
    /// batch (committing its checkpoint) before it returns.
    pub async fn run(self, stop: watch::Receiver<bool>) {
        let mut workers = JoinSet::new();
        for &view in &self.views {
            let (worker, stop) = (self.clone(), stop.clone());
            workers.spawn(async move { worker.follow(view, stop).await });
        }
        while workers.join_next().await.is_some() {}
    }

    async fn follow(self, view: &'static dyn View, mut stop: watch::Receiver<bool>) {
        let mut appended = self.appended.clone();
        let mut connection = None;
        while !*stop.borrow() {
            let pause = match self.follow_once(&mut connection, view).await {
                Ok(true) => self.poll_interval,
                // Events are in the log but not readable yet (an older transaction
                // still holds the watermark, or another worker holds the view): look
                // again soon rather than at the next poll.
                Ok(false) => RETRY_PAUSE,
                Err(ProjectionError::Stopped(_)) | Err(ProjectionError::Poison { .. }) => {
                    tracing::warn!(view = %view, "view stopped at a poison event; see /admin/projections");
                    return;
                }
                Err(error) => {
                    tracing::warn!(view = %view, %error, "batch failed; reconnecting");
                    connection = None;
                    Duration::from_secs(1)
                }
            };
            tokio::select! {
                _ = stop.changed() => {}
                _ = tokio::time::sleep(pause) => {}
                _ = wake::changed(&mut appended) => {}
            }
        }
    }
}

impl Projector {
    /// Applies what can be read now on the worker's connection, opening it first;
    /// true when that reached the head of the log.
    async fn follow_once(
        &self,
        connection: &mut Option<WorkerConnection>,
        view: &'static dyn View,
    ) -> Result<bool, ProjectionError> {
        let connection = match connection {
            Some(connection) => connection,
            None => {
                let mut fresh = self.store.connect().await?;
                fresh.register(view).await?;
                connection.insert(fresh)
            }
        };
        self.drain(connection, view).await?;
        let head = connection.head().await?;
        Ok(connection.has_applied(view.name(), head).await?)
    }
}
