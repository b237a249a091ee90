//! strata's read side: axum routes over the materialized views only.
//!
//! Empty until the read-API issue lands (it needs the views the projectors build).
#![forbid(unsafe_code)]
