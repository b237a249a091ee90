//! The booking context: a meeting-room booking and the manager's confirm of it.

// The context is named for its main aggregate, as the spec names both.
#[allow(clippy::module_inception)]
pub mod booking;
pub mod confirm;
