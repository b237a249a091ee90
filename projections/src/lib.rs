//! strata's projector workers: subscriptions over the global event log with
//! checkpoints, the view updaters and the policy runners.
//!
//! Empty until the projector issue lands; the event store already records what they
//! will read: a `global_position` per event and, on PostgreSQL, the writing
//! transaction's `xid8` for gap-safe ordering.
#![forbid(unsafe_code)]
