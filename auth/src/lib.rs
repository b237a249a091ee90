//! Who is asking: bearer tokens (HS256 JWTs with `sub`, `role` and `exp`), the
//! [`Principal`] a verified token names, and the rules every API applies to it.
//!
//! - [`Tokens`] issues and verifies tokens with one secret.
//! - [`require`] guards a router: requests without a valid token get 401, those of a
//!   role the router does not serve get 403; the others carry their [`Principal`],
//!   which handlers take as an extractor.
//! - [`Principal`]'s methods are the ownership rules: a customer acts on and sees only
//!   their own resources; managers and admins see everyone's.
#![forbid(unsafe_code)]

mod http;
mod principal;
mod tokens;

pub use http::{require, AuthError};
pub use principal::{Forbidden, Principal, Role};
pub use tokens::{is_valid_subject, Tokens, WeakSecret, MIN_SECRET_BYTES};
