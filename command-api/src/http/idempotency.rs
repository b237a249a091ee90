//! `Idempotency-Key`: a retried command gets its first response and appends nothing.
//!
//! A key keeps the digest of its request's parsed JSON, not the request, and is
//! forgotten after the configured time (`--idempotency-key-ttl-seconds`, 24 h unless
//! set): a retry within it is recognised, one after it runs as a new command.
//!
//! The response is stored in the same transaction as the command's events, so a key
//! is either fully used (events + response) or not at all. A concurrent duplicate
//! loses the key's primary key race, its transaction rolls back, and it answers with
//! the winner's response; one that loses the race for the stream instead, and is then
//! refused on the winner's events (the member has joined, the order is cancelled),
//! finds the key recorded with those events and answers the winner's response too.

use std::future::Future;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::error::ApiError;
use super::extract::CommandHeaders;
use crate::dispatch::{CommandContext, CommandError};
use crate::store::{request_digest, EventLog, IdempotencyClaim, StoreError, StoredResponse};

/// A command's success response, known before the command runs except for its position.
pub struct Accepted {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: Value,
}

impl Accepted {
    pub fn created(location: String, body: impl Serialize) -> Self {
        Self {
            status: StatusCode::CREATED,
            location: Some(location),
            body: to_value(body),
        }
    }

    /// A decided answer other than success (a refusal the command recorded), with its
    /// own status.
    pub fn with_status(status: StatusCode, body: impl Serialize) -> Self {
        Self {
            status,
            location: None,
            body: to_value(body),
        }
    }

    pub fn ok(body: impl Serialize) -> Self {
        Self {
            status: StatusCode::OK,
            location: None,
            body: to_value(body),
        }
    }
}

/// The JSON of a command's response struct (plain fields: this cannot fail).
fn to_value(body: impl Serialize) -> Value {
    serde_json::to_value(body).unwrap_or_default()
}

/// A command's success body as sent: the command's own fields and `position`, the
/// global position of the last event it appended (for read-your-writes).
#[derive(Serialize, ToSchema)]
pub struct Committed<T> {
    #[serde(flatten)]
    pub body: T,
    #[schema(example = 42)]
    pub position: i64,
}

/// Runs `command` once per idempotency key (or every time without one) and answers
/// with `accepted` plus the position the command reached.
pub async fn run<L, F, Fut>(
    log: &L,
    headers: CommandHeaders,
    request_body: Value,
    accepted: Accepted,
    command: F,
) -> Result<Response, ApiError>
where
    L: EventLog,
    F: FnOnce(CommandContext) -> Fut,
    Fut: Future<Output = Result<i64, CommandError>>,
{
    run_deciding(log, headers, request_body, |mut context, key| async move {
        context.idempotency = key.claim(&accepted);
        let position = command(context).await?;
        Ok((accepted, position))
    })
    .await
}

/// The idempotency key of a request, if it sent one: a command whose response depends on
/// what it decided claims the key with that response, in the same commit.
pub struct RequestKey {
    /// The key's scope and the request's digest, when the request sent a key.
    sent: Option<SentKey>,
}

#[derive(Clone)]
struct SentKey {
    scope_key: String,
    request_digest: String,
}

impl RequestKey {
    /// The record of `response` under this request's key, if it has one.
    pub fn claim(&self, response: &Accepted) -> Option<IdempotencyClaim> {
        self.sent.clone().map(|sent| IdempotencyClaim {
            scope_key: sent.scope_key,
            request_digest: sent.request_digest,
            expires: true,
            status: response.status.as_u16(),
            location: response.location.clone(),
            response: response.body.clone(),
        })
    }
}

/// [`run`] for a command whose response is known only once it has decided (an order
/// taken or refused for want of stock): `command` sets its context's claim from the
/// [`RequestKey`] before it commits, and returns the response with its position.
pub async fn run_deciding<L, F, Fut>(
    log: &L,
    headers: CommandHeaders,
    request_body: Value,
    command: F,
) -> Result<Response, ApiError>
where
    L: EventLog,
    F: FnOnce(CommandContext, RequestKey) -> Fut,
    Fut: Future<Output = Result<(Accepted, i64), CommandError>>,
{
    // The digest is taken only for a request that sent a key.
    let sent = headers.idempotency_key.as_deref().map(|key| SentKey {
        scope_key: headers.scope_of(key),
        request_digest: request_digest(&request_body),
    });
    if let Some(sent) = &sent {
        if let Some(stored) = log.idempotent_response(&sent.scope_key).await? {
            return replay(stored, &sent.request_digest);
        }
    }
    let context = CommandContext {
        correlation_id: headers.correlation_id,
        causation_id: uuid::Uuid::now_v7().to_string(),
        actor: headers.principal.to_string(),
        idempotency: None,
        deadline: headers.deadline,
    };
    let key = RequestKey { sent: sent.clone() };
    match (command(context, key).await, &sent) {
        (Ok((accepted, position)), _) => Ok(respond(accepted, position)),
        (
            Err(
                error @ (CommandError::Rejected { .. }
                | CommandError::Store(StoreError::DuplicateRequest | StoreError::Conflict)),
            ),
            Some(sent),
        ) => match log.idempotent_response(&sent.scope_key).await? {
            Some(stored) => replay(stored, &sent.request_digest),
            None => Err(error.into()),
        },
        (Err(error), _) => Err(error.into()),
    }
}

/// The first response under a key, if `request_digest` is the first request's (a key
/// recorded before digests were kept has none to compare, and is answered).
fn replay(stored: StoredResponse, request_digest: &str) -> Result<Response, ApiError> {
    if stored
        .request_digest
        .is_some_and(|first| first != request_digest)
    {
        return Err(ApiError::IdempotencyKeyReused);
    }
    let status =
        StatusCode::from_u16(stored.status).map_err(|error| ApiError::Internal(Box::new(error)))?;
    let accepted = Accepted {
        status,
        location: stored.location,
        body: stored.response,
    };
    Ok(respond(accepted, stored.position))
}

fn respond(accepted: Accepted, position: i64) -> Response {
    let body = Committed {
        body: accepted.body,
        position,
    };
    let mut response = (accepted.status, Json(body)).into_response();
    if let Some(location) = accepted
        .location
        .and_then(|l| HeaderValue::from_str(&l).ok())
    {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}
