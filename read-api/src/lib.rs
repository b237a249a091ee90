//! strata's read side: axum routes over the materialized views only — never the
//! events table, never an aggregate.
//!
//! # Layout
//! - [`store`]: [`ViewStore`], the view tables on either database, and the rows read
//!   from them as the API shows them (SPEC §3, camelCase).
//! - [`page`]: keyset pages and their opaque cursors.
//! - [`http`]: the routes, their query parameters and the one [`http::ApiError`].
#![forbid(unsafe_code)]

pub mod http;
pub mod page;
pub mod store;

pub use http::{routes, Freshness};
pub use store::ViewStore;
