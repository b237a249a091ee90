//! The one error type of the HTTP layer, mapped to a status and a stable code in one place.

use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::RejectionKind;
use serde::Serialize;
use utoipa::ToSchema;

use crate::dispatch::CommandError;
use crate::store::StoreError;

/// Seconds a client should wait before retrying when the store is unavailable or busy.
const RETRY_AFTER_SECONDS: &str = "1";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("the body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("the body must be sent as application/json")]
    UnsupportedMediaType,
    #[error("the body is larger than 64 KiB")]
    PayloadTooLarge,
    #[error("{message}")]
    InvalidField {
        code: &'static str,
        field: String,
        message: String,
    },
    #[error("header {name} {problem}")]
    InvalidHeader {
        name: &'static str,
        problem: &'static str,
    },
    /// The caller's role or identity does not allow the command.
    #[error(transparent)]
    Forbidden(#[from] auth::Forbidden),
    /// The aggregate refuses this caller, though the caller may see it.
    #[error("{message}")]
    NotPermitted { code: &'static str, message: String },
    #[error("this Idempotency-Key was first used with a different request body")]
    IdempotencyKeyReused,
    #[error("{message}")]
    NotFound { code: &'static str, message: String },
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("{0}")]
    PaymentRefused(String),
    #[error("no route for {0}")]
    RouteNotFound(String),
    #[error("method not allowed on this route")]
    MethodNotAllowed,
    #[error("the event store is unavailable; retry shortly")]
    Unavailable,
    /// A service strata calls out to cannot be reached, keeps failing or is not called
    /// now (its bulkhead full, its breaker open): retry after `retry_after`.
    #[error("{message}")]
    Unreachable {
        code: &'static str,
        message: String,
        retry_after: Duration,
    },
    #[error("the server is at its limit of requests in flight; retry shortly")]
    Overloaded,
    /// The process has as many live streams open as it allows (`STRATA_MAX_STREAMS`).
    #[error("too many live streams are open; retry shortly")]
    TooManyStreams,
    #[error("the request took longer than the server allows; nothing was written; retry shortly")]
    TimedOut,
    #[error(
        "the connection to the event store failed while the command committed: it may or \
         may not have been written; retry with the same Idempotency-Key to learn which"
    )]
    OutcomeUnknown,
    /// A bug or corrupt data: logged in full, answered without detail.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The body of every error response.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody<'a> {
    /// A stable machine code: clients branch on it, never on the message.
    #[schema(example = "invalid_field")]
    error: &'a str,
    /// Human text; for a 422 it names the field.
    #[schema(example = "qty must be between 1 and 1000")]
    message: String,
    /// The request field at fault (camelCase), on a 422 about one field.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "qty")]
    field: Option<&'a str>,
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::MalformedJson(_) => (StatusCode::BAD_REQUEST, "malformed_json"),
            Self::UnsupportedMediaType => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            Self::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Self::InvalidField { code, .. } => (StatusCode::UNPROCESSABLE_ENTITY, code),
            Self::InvalidHeader { .. } => (StatusCode::BAD_REQUEST, "invalid_header"),
            Self::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Self::NotPermitted { code, .. } => (StatusCode::FORBIDDEN, code),
            Self::IdempotencyKeyReused => {
                (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused")
            }
            Self::NotFound { code, .. } => (StatusCode::NOT_FOUND, code),
            Self::Conflict { code, .. } => (StatusCode::CONFLICT, code),
            Self::PaymentRefused(_) => (StatusCode::PAYMENT_REQUIRED, "payment_refused"),
            Self::RouteNotFound(_) => (StatusCode::NOT_FOUND, "route_not_found"),
            Self::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            Self::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Self::Unreachable { code, .. } => (StatusCode::SERVICE_UNAVAILABLE, code),
            Self::Overloaded => (StatusCode::SERVICE_UNAVAILABLE, "overloaded"),
            Self::TooManyStreams => (StatusCode::SERVICE_UNAVAILABLE, "too_many_streams"),
            Self::TimedOut => (StatusCode::SERVICE_UNAVAILABLE, "timed_out"),
            Self::OutcomeUnknown => (StatusCode::SERVICE_UNAVAILABLE, "commit_outcome_unknown"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    /// A request field that failed validation (camelCase, as the client sent it).
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidField {
            code: "invalid_field",
            field: field.into(),
            message: message.into(),
        }
    }
}

impl From<CommandError> for ApiError {
    fn from(error: CommandError) -> Self {
        match error {
            CommandError::Rejected {
                kind,
                code,
                field,
                message,
            } => match kind {
                RejectionKind::Invalid => Self::InvalidField {
                    code,
                    field: field.unwrap_or_default().to_string(),
                    message,
                },
                RejectionKind::NotFound => Self::NotFound { code, message },
                RejectionKind::Conflict => Self::Conflict { code, message },
                RejectionKind::PaymentRefused => Self::PaymentRefused(message),
                RejectionKind::Forbidden => Self::NotPermitted { code, message },
            },
            CommandError::Store(store) => store.into(),
            CommandError::Unreachable {
                code,
                message,
                retry_after,
            } => Self::Unreachable {
                code,
                message,
                retry_after,
            },
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict | StoreError::DuplicateRequest => Self::Conflict {
                code: "concurrency_conflict",
                message: "another command changed this resource first; reload and retry"
                    .to_string(),
            },
            StoreError::Refused(refusal) => CommandError::rejected(&*refusal).into(),
            StoreError::Unavailable(source) => {
                tracing::warn!(error = %source, "event store unavailable");
                Self::Unavailable
            }
            StoreError::TimedOut => Self::TimedOut,
            StoreError::Overloaded => Self::Overloaded,
            StoreError::OutcomeUnknown(source) => {
                tracing::warn!(error = %source, "commit outcome unknown");
                Self::OutcomeUnknown
            }
            StoreError::Internal(source) => Self::Internal(source),
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
            Self::InvalidField { field, .. } if !field.is_empty() => Some(field.as_str()),
            _ => None,
        };
        let body = ErrorBody {
            error: code,
            message: self.to_string(),
            field,
        };
        let retry_after = match &self {
            Self::Unreachable { retry_after, .. } => {
                Some(retry_after.as_secs_f64().ceil().max(1.0))
            }
            _ => None,
        };
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            let seconds = match retry_after {
                Some(seconds) => HeaderValue::from(seconds as u64),
                None => HeaderValue::from_static(RETRY_AFTER_SECONDS),
            };
            response.headers_mut().insert(header::RETRY_AFTER, seconds);
        }
        response
    }
}
