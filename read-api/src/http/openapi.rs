//! The read API's own OpenAPI (the mypage), generated from the handlers'
//! `#[utoipa::path]` annotations; each context documents its reads beside it
//! ([`crate::registry::Reads::openapi`]).
//!
//! The types below only describe, for the document, what every read shares: the
//! read-your-writes parameters ([`super::freshness::MinPosition`] reads them) and the
//! errors every read may give. They are never built.
#![allow(dead_code)]

use utoipa::{IntoParams, IntoResponses, OpenApi};

use super::error::ErrorBody;
use super::mypages;

/// The read API: the views, never the events.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "strata read API",
        description = "Reads over the materialized views. Every response has \
                       `X-Projection-Position`; every error is JSON `{error, message, field?}` \
                       with a stable `error` code."
    ),
    paths(mypages::one, mypages::changes),
    components(schemas(ErrorBody)),
    tags((name = "mypages", description = "A user's page: a section per context"))
)]
pub struct ApiDoc;

/// Read-your-writes, in the query.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MinPositionQuery {
    /// Wait (up to a bound, 2 s by default) until the view has applied this global
    /// position, e.g. a command response's `position`; past the bound, 503.
    #[param(rename = "minPosition", value_type = i64, required = false, minimum = 0)]
    min_position: Option<i64>,
}

/// Which page of a list: parsed by [`super::params::Paging`].
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Rows per page: 1 to 500, default 50.
    #[param(value_type = i64, required = false, minimum = 1, maximum = 500)]
    limit: Option<String>,
    /// The `next` cursor of the previous page.
    after: Option<String>,
}

/// Read-your-writes, as a header (the query's `minPosition` wins when both are sent).
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct MinPositionHeader {
    /// As `minPosition`.
    #[param(rename = "X-Min-Position", value_type = i64, required = false, minimum = 0)]
    min_position: Option<i64>,
}

/// A single resource's conditional request.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IfNoneMatch {
    /// ETags the client holds: when one is current, the answer is 304 without a body.
    #[param(rename = "If-None-Match", value_type = String, required = false)]
    if_none_match: Option<String>,
}

/// What any read may answer besides its own outcomes.
#[derive(IntoResponses)]
pub enum ReadErrors {
    /// No bearer token, or one that is expired or not signed with the server's secret
    /// (`unauthorized`, `token_expired`, `invalid_token`; with `WWW-Authenticate`).
    #[response(status = 401, headers(("WWW-Authenticate" = String)))]
    Unauthenticated(ErrorBody<'static>),
    /// The query string cannot be parsed (`malformed_query`).
    #[response(status = 400)]
    MalformedQuery(ErrorBody<'static>),
    /// A path or query parameter has a value this API does not take (`invalid_field`;
    /// `field` names it).
    #[response(status = 422)]
    InvalidField(ErrorBody<'static>),
    /// The view store is unavailable (`unavailable`), the view had not applied
    /// `minPosition` within the bound (`view_behind`, with `X-Projection-Position`), or
    /// too many live streams are open (`too_many_streams`): retry after `Retry-After`
    /// seconds.
    #[response(status = 503, headers(("Retry-After" = u32)))]
    Unavailable(ErrorBody<'static>),
}
