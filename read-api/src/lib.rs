//! strata's read side: axum routes over the materialized views only — never the
//! events table, never an aggregate.
//!
//! # Layout
//! The platform:
//! - [`store`]: [`ViewStore`], the view tables on either database, read into the views'
//!   own row types.
//! - [`page`]: keyset pages and their opaque cursors.
//! - [`http`]: query parameters, read-your-writes, the mypage, the one
//!   [`http::ApiError`].
//! - [`mypage`]: the sections a mypage is composed of.
//! - [`live`]: live streams (Server-Sent Events): their bound, and when a user's
//!   sections change.
//! - [`registry`]: [`Reads`], what a context hands the read API.
//! - [`time_slots`]: free resources and taken ranges, the read side of the time-slot
//!   guard.
//!
//! The contexts, each a folder with its read routes and mypage sections: [`shop`],
//! [`booking`], [`notifications`], [`bookstore`], [`hotel`], [`sharecar`], [`game`].
#![forbid(unsafe_code)]

pub mod booking;
pub mod bookstore;
pub mod game;
pub mod hotel;
pub mod http;
pub mod live;
pub mod mypage;
pub mod notifications;
pub mod page;
pub mod registry;
pub mod sharecar;
pub mod shop;
pub mod store;
pub mod time_slots;

pub use http::{routes, Freshness};
pub use live::Streams;
pub use registry::Reads;
pub use store::ViewStore;
