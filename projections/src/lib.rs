//! strata's projector workers: subscriptions over the global event log with
//! checkpoints, and the views they build.
//!
//! # Layout
//! - [`applied`]: whether a view has applied a position.
//! - [`event`]: events as read from the log, decoded into domain events.
//! - [`feed`]: the log as a policy follows it: checkpoint, lease, reads outside a batch.
//! - [`sql`]: one SQL text for both stores ([`sql::ViewTx`]).
//! - [`views`]: the four views and how each event changes them.
//! - [`subscription`]: one batch: lock checkpoint, read in gap-safe order, apply, advance.
//! - [`worker`]: [`worker::Projector`], the loops that keep views caught up.
//! - [`replay`]: rebuild a view into shadow tables, compare, swap.
//! - [`status`]: checkpoint, head, lag and state per subscription (admin).
//! - [`wake`]: `LISTEN/NOTIFY` between processes, one debounced notify per burst.
#![forbid(unsafe_code)]

pub mod applied;
pub mod event;
pub mod feed;
pub mod replay;
pub mod sql;
pub mod status;
pub mod subscription;
pub mod views;
pub mod wake;
pub mod worker;

pub use event::{BusinessEvent, LogEvent};
pub use replay::{rebuild, RebuildReport};
pub use status::{OpenTransaction, ProjectionStatus, Statuses};
pub use subscription::{
    Batch, Checkpoint, LogPoint, ProjectionError, ProjectionStore, WorkerConnection,
};
pub use views::ViewName;
pub use worker::Projector;
