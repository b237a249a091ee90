//! What a materialized view is to the platform: a name, the aggregate types whose
//! events change it, its tables, and how a batch of events changes them. Each context
//! registers its views ([`crate::shop::views`], …); workers, replay, `/admin/*` and
//! `/metrics` find them by name and never look inside.

use std::fmt;

use futures::future::BoxFuture;

use crate::event::LogEvent;
use crate::sql::ViewTx;
use crate::subscription::ProjectionError;

/// A materialized view: a set of SQL tables changed by events only (never by other
/// views or aggregates). Views are `'static` values a context lists; the platform passes
/// them around as `&'static dyn View`.
pub trait View: Send + Sync {
    /// The name the CLI, `/admin/projections` and the checkpoints use (`orderList`).
    fn name(&self) -> &'static str;

    /// The aggregate types whose events change the view. Others are skipped without
    /// being decoded, so an undecodable event stops only the views that read it.
    fn reads(&self) -> &[&'static str];

    /// The tables the view is made of (replay rebuilds and swaps them).
    fn tables(&self) -> &[&'static str];

    /// Applies events the view reads, in order, inside the batch's transaction.
    fn apply_batch<'a>(
        &'a self,
        tx: &'a mut ViewTx<'_>,
        events: &'a [&'a LogEvent],
    ) -> BoxFuture<'a, Result<(), ApplyError>>;
}

/// Why a batch could not be applied to a view.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The event at `position` cannot be applied: it is poison.
    #[error("{reason}")]
    Unappliable { position: i64, reason: String },
    /// The database refused the batch's writes (a constraint, say): one of its events
    /// is poison, but which one shows only when they are applied one at a time.
    #[error("{0}")]
    Refused(sqlx::Error),
    /// The database failed; the batch can be retried.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl fmt::Display for dyn View {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Debug for dyn View {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Applies a batch to `view`: the events of aggregate types it reads, in order. An
/// event that cannot be decoded or applied is poison; if the database refuses a batch
/// of several events, the caller retries them one at a time to find the poison one.
pub async fn apply(
    view: &'static dyn View,
    tx: &mut ViewTx<'_>,
    events: &[LogEvent],
) -> Result<(), ProjectionError> {
    let read: Vec<&LogEvent> = events
        .iter()
        .filter(|event| view.reads().contains(&event.aggregate_type.as_str()))
        .collect();
    match view.apply_batch(tx, &read).await {
        Ok(()) => Ok(()),
        Err(ApplyError::Unappliable { position, reason }) => Err(ProjectionError::Poison {
            view,
            position,
            reason,
        }),
        Err(ApplyError::Refused(error)) => match events {
            [event] => Err(ProjectionError::Poison {
                view,
                position: event.position,
                reason: error.to_string(),
            }),
            _ => Err(ProjectionError::Refused(view, error)),
        },
        Err(ApplyError::Database(error)) => Err(ProjectionError::Database(error)),
    }
}

/// The view among `views` named `name`.
pub fn find(views: &[&'static dyn View], name: &str) -> Result<&'static dyn View, UnknownView> {
    views
        .iter()
        .copied()
        .find(|view| view.name() == name)
        .ok_or_else(|| UnknownView {
            name: name.to_string(),
            known: views.iter().map(|view| view.name()).collect(),
        })
}

/// A view name that no context registered.
#[derive(Debug, thiserror::Error)]
#[error("unknown view '{name}'; views are {}", known.join(", "))]
pub struct UnknownView {
    name: String,
    known: Vec<&'static str>,
}
