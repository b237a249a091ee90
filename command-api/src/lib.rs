//! strata's write side: commands in, events out.
//!
//! A request is parsed at the edge into a domain command, an aggregate loaded through
//! cqrs-es decides, and its events are committed in one transaction together with
//! whatever guards its context attaches and the request's idempotency record.
//!
//! # Layout
//! The platform:
//! - [`store`]: the event-store backends (PostgreSQL, SQLite) behind [`store::EventLog`],
//!   and the [`store::Guard`]s contexts attach to commits ([`store::TimeSlots`] among
//!   them).
//! - [`dispatch`]: [`dispatch::CommandService`], one path for every aggregate: load,
//!   decide, commit, decide again after a lost race.
//! - [`http`]: extractors, idempotency, the one [`http::ApiError`], health and audit.
//! - [`outbound`]: calls to services outside strata, each target behind a timeout, a
//!   bulkhead and a circuit breaker.
//! - [`registry`]: [`registry::Commands`], what a context hands the command API.
//!
//! The contexts, each a folder with its routes and the [`dispatch::CommandTarget`] of its
//! aggregates: [`shop`], [`booking`], [`notifications`], [`bookstore`], [`hotel`],
//! [`sharecar`].
#![forbid(unsafe_code)]

pub mod booking;
pub mod bookstore;
pub mod dispatch;
pub mod game;
pub mod hotel;
pub mod http;
pub mod notifications;
pub mod outbound;
pub mod registry;
pub mod sharecar;
pub mod shop;
pub mod store;

pub use dispatch::{CommandContext, CommandError, CommandService, CommandTarget};
pub use registry::Commands;
