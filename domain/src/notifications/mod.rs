//! The notifications context, shared: any context's policies tell a user something
//! through it.

pub mod notification;
