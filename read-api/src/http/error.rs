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
    /// The process has as many live streams open as it allows (`STRATA_MAX_STREAMS`).
    #[error("too many live streams are open; retry shortly")]
    TooManyStreams,
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
            Self::TooManyStreams => (StatusCode::SERVICE_UNAVAILABLE, "too_many_streams"),
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
        if !is_unavailable(&error) {
            return Self::Internal(error);
        }
        tracing::warn!(%error, "view store unavailable");
        Self::Unavailable
    }
}

/// Whether `error` is the database going away rather than a bug: a broken wire
/// conversation, no connection to be had, the server ending the session (SQLSTATE
/// class 08, 57P01–57P03, 53300, as the command API sorts its store's), or a standby
/// cancelling the read for a conflict with what it replays (40001: a view's rebuild
/// swapping its table, say), which a retry a moment later does not meet.
fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08")
                || ["57P01", "57P02", "57P03", "53300", "40001"].contains(&&*code)
        }),
        _ => false,
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

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::error::Error as StdError;
    use std::fmt;

    use sqlx::error::{DatabaseError, ErrorKind};

    use super::*;

    /// A server error with only a SQLSTATE, as PostgreSQL sends one.
    #[derive(Debug)]
    struct ServerError(&'static str);

    impl fmt::Display for ServerError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "SQLSTATE {}", self.0)
        }
    }

    impl StdError for ServerError {}

    impl DatabaseError for ServerError {
        fn message(&self) -> &str {
            self.0
        }
        fn code(&self) -> Option<Cow<'_, str>> {
            Some(Cow::Borrowed(self.0))
        }
        fn as_error(&self) -> &(dyn StdError + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn StdError + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn StdError + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> ErrorKind {
            ErrorKind::Other
        }
    }

    fn answer(code: &'static str) -> ApiError {
        ApiError::from(sqlx::Error::Database(Box::new(ServerError(code))))
    }

    #[test]
    fn a_session_the_server_ended_is_unavailable_not_internal() {
        for code in ["57P01", "57P02", "57P03", "53300", "08006"] {
            assert!(matches!(answer(code), ApiError::Unavailable), "{code}");
        }
        assert!(matches!(answer("42P01"), ApiError::Internal(_)));
        assert!(matches!(
            ApiError::from(sqlx::Error::PoolTimedOut),
            ApiError::Unavailable
        ));
    }
}
