//! The one error type of the read API, mapped to a status and a stable code in one place.

use axum::extract::rejection::QueryRejection;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// Seconds a client should wait before retrying when the database is unavailable.
const RETRY_AFTER_SECONDS: &str = "1";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The query string cannot be parsed at all.
    #[error("the query string is malformed: {0}")]
    MalformedQuery(String),
    /// A path or query parameter has a value this API does not take.
    #[error("{message}")]
    InvalidField {
        field: &'static str,
        message: String,
    },
    /// No such row in a view that had applied up to `position`.
    #[error("{message}")]
    NotFound {
        code: &'static str,
        message: String,
        position: i64,
    },
    #[error("the view store is unavailable; retry shortly")]
    Unavailable,
    /// The view had not applied the position the read asked for within the bound.
    #[error("{view} has not applied position {wanted} yet (it is at {position}); retry shortly")]
    Behind {
        view: &'static str,
        position: i64,
        wanted: i64,
    },
    /// A bug or corrupt data: logged in full, answered without detail.
    #[error("internal error")]
    Internal(#[source] sqlx::Error),
}

/// The body of every error response.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody<'a> {
    /// A stable machine code: clients branch on it, never on the message.
    #[schema(example = "invalid_field")]
    error: &'a str,
    /// Human text; for a 422 it names the field.
    #[schema(example = "limit must be 1 to 500")]
    message: String,
    /// The parameter at fault, on a 422.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "limit")]
    field: Option<&'a str>,
}

impl ApiError {
    pub fn invalid_field(field: &'static str, message: impl Into<String>) -> Self {
        Self::InvalidField {
            field,
            message: message.into(),
        }
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::MalformedQuery(_) => (StatusCode::BAD_REQUEST, "malformed_query"),
            Self::InvalidField { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"),
            Self::NotFound { code, .. } => (StatusCode::NOT_FOUND, code),
            Self::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Self::Behind { .. } => (StatusCode::SERVICE_UNAVAILABLE, "view_behind"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::MalformedQuery(rejection.body_text())
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                tracing::warn!(%error, "view store unavailable");
                Self::Unavailable
            }
            error => Self::Internal(error),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let Self::Internal(source) = &self {
            tracing::error!(error = %source, "internal error");
        }
        let field = match &self {
            Self::InvalidField { field, .. } => Some(*field),
            _ => None,
        };
        let body = ErrorBody {
            error: code,
            message: self.to_string(),
            field,
        };
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_AFTER_SECONDS),
            );
        }
        if let Self::Behind { position, .. } | Self::NotFound { position, .. } = self {
            response
                .headers_mut()
                .insert(super::PROJECTION_POSITION, HeaderValue::from(position));
        }
        response
    }
}
