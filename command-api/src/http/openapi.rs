//! The command API's own OpenAPI (health and audit), generated from the handlers'
//! `#[utoipa::path]` annotations; each context documents its commands beside them
//! ([`crate::registry::Commands::openapi`]).
//!
//! The types below only describe, for the document, what every command shares: its
//! headers and the errors its extractors and the event store give. They are never built.
#![allow(dead_code)]

use utoipa::{IntoParams, IntoResponses, OpenApi};

use super::error::ErrorBody;
use super::operations;

/// The command API: `/health/*` and `/admin/streams/*`; the contexts add their commands.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "strata command API",
        description = "Commands in, events out. Every error is JSON `{error, message, field?}` \
                       with a stable `error` code."
    ),
    paths(operations::live, operations::ready, operations::stream),
    components(schemas(ErrorBody)),
    tags((name = "operations", description = "Health and audit"))
)]
pub struct ApiDoc;

/// Only `/health/*`: what a process that serves no command documents besides its own.
#[derive(OpenApi)]
#[openapi(
    paths(operations::live, operations::ready),
    components(schemas(ErrorBody)),
    tags((name = "operations", description = "Health"))
)]
pub struct HealthDoc;

/// The headers every command takes.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct CommandParams {
    /// A retry with the same key (and the same body) returns the first response and
    /// appends nothing; with another body it is a 422. 1 to 255 visible ASCII characters.
    #[param(
        rename = "Idempotency-Key",
        value_type = String,
        required = false,
        pattern = r"^[!-~]{1,255}$"
    )]
    idempotency_key: Option<String>,
    /// Stored in the metadata of every event the command and its policies cause;
    /// generated when absent, echoed in the response. 1 to 255 visible ASCII characters.
    #[param(
        rename = "X-Correlation-Id",
        value_type = String,
        required = false,
        pattern = r"^[!-~]{1,255}$"
    )]
    correlation_id: Option<String>,
}

/// What any command may answer besides its own outcomes.
#[derive(IntoResponses)]
pub enum CommandErrors {
    /// No bearer token, or one that is expired or not signed with the server's secret
    /// (`unauthorized`, `token_expired`, `invalid_token`; with `WWW-Authenticate`).
    #[response(status = 401, headers(("WWW-Authenticate" = String)))]
    Unauthenticated(ErrorBody<'static>),
    /// The token's role may not send this command, or the body names someone the
    /// caller may not act for (`forbidden`).
    #[response(status = 403)]
    Forbidden(ErrorBody<'static>),
    /// An `Idempotency-Key` or `X-Correlation-Id` header that is not 1 to 255 visible
    /// ASCII characters.
    #[response(status = 400)]
    InvalidHeader(ErrorBody<'static>),
    /// The event store is unavailable or overloaded: retry after `Retry-After` seconds.
    #[response(status = 503, headers(("Retry-After" = u32)))]
    Unavailable(ErrorBody<'static>),
}

/// What any command with a JSON body may answer besides its own outcomes.
#[derive(IntoResponses)]
pub enum JsonBodyErrors {
    /// No bearer token, or one that is expired or not signed with the server's secret
    /// (`unauthorized`, `token_expired`, `invalid_token`; with `WWW-Authenticate`).
    #[response(status = 401, headers(("WWW-Authenticate" = String)))]
    Unauthenticated(ErrorBody<'static>),
    /// The token's role may not send this command, or the body names someone the
    /// caller may not act for (`forbidden`).
    #[response(status = 403)]
    Forbidden(ErrorBody<'static>),
    /// The body is not JSON, or a header is not 1 to 255 visible ASCII characters.
    #[response(status = 400)]
    Malformed(ErrorBody<'static>),
    /// The body is larger than 64 KiB.
    #[response(status = 413)]
    TooLarge(ErrorBody<'static>),
    /// The body is not sent as `application/json`.
    #[response(status = 415)]
    NotJson(ErrorBody<'static>),
    /// The event store is unavailable or overloaded: retry after `Retry-After` seconds.
    #[response(status = 503, headers(("Retry-After" = u32)))]
    Unavailable(ErrorBody<'static>),
}
