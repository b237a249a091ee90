//! strata's write side: commands in, events out.
//!
//! A request is parsed at the edge into a domain command, an aggregate loaded through
//! cqrs-es decides, and its events are committed in one transaction together with
//! whatever guards the command needs (a room reservation, an idempotency record).
//!
//! # Layout
//! - [`store`]: the event-store backends (PostgreSQL, SQLite) behind [`store::EventLog`].
//! - [`dispatch`]: [`dispatch::CommandService`], the use cases: load, decide, commit.
//! - [`http`]: the axum routes, extractors and the one [`http::ApiError`].
#![forbid(unsafe_code)]

pub mod dispatch;
pub mod http;
pub mod store;

pub use dispatch::{CommandContext, CommandError, CommandService};
