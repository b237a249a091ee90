//! strata's projector workers: subscriptions over the global event log with
//! checkpoints, and the views they build.
//!
//! # Layout
//! The platform:
//! - [`view`]: the [`View`] trait every context's views implement, and lookup by name.
//! - [`table`]: views made of tables of [`table::ViewRow`]s (the one row type the read
//!   API serves too), applied a batch at a time.
//! - [`applied`]: whether a view has applied a position.
//! - [`event`]: events as read from the log.
//! - [`feed`]: the log as a policy follows it: checkpoint, lease, reads outside a batch.
//! - [`sql`]: one SQL text for both stores ([`sql::ViewTx`]).
//! - [`subscription`]: one batch: lock checkpoint, read in gap-safe order, apply, advance.
//! - [`worker`]: [`worker::Projector`], the loops that keep views caught up.
//! - [`replay`]: rebuild a view into shadow tables, compare, swap.
//! - [`status`]: checkpoint, head, lag and state per subscription (admin).
//! - [`wake`]: `LISTEN/NOTIFY` between processes, one debounced notify per burst.
//!
//! The contexts, each a folder with its views, row types and the events they read:
//! [`shop`], [`booking`], [`notifications`], [`bookstore`], [`hotel`], [`sharecar`],
//! [`game`].
#![forbid(unsafe_code)]

pub mod applied;
pub mod booking;
pub mod bookstore;
pub mod event;
pub mod feed;
pub mod game;
pub mod hotel;
pub mod notifications;
pub mod replay;
pub mod sharecar;
pub mod shop;
pub mod sql;
pub mod status;
pub mod subscription;
pub mod table;
pub mod view;
pub mod wake;
pub mod worker;

pub use event::LogEvent;
pub use replay::{rebuild, RebuildReport};
pub use status::{OpenTransaction, ProjectionStatus, Statuses};
pub use subscription::{
    Batch, Checkpoint, LogPoint, ProjectionError, ProjectionStore, WorkerConnection,
};
pub use view::View;
pub use worker::Projector;
