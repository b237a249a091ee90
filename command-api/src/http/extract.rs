//! Extractors that turn a request into validated input or a clear `ApiError`.

use auth::Principal;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;

use super::error::ApiError;

pub const CORRELATION_ID: &str = "x-correlation-id";
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
const MAX_HEADER_ID_LENGTH: usize = 255;

/// A JSON body deserialized into `T`, and the raw value (kept to compare idempotent
/// retries). Wrong content type → 415, over the limit → 413, not JSON → 400, JSON of
/// the wrong shape → 422 naming the field.
pub struct JsonBody<T> {
    pub parsed: T,
    pub raw: Value,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(request.headers()) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes =
            Bytes::from_request(request, state)
                .await
                .map_err(|rejection| match rejection.status() {
                    StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
                    _ => ApiError::MalformedJson(rejection.body_text()),
                })?;
        parse(&bytes)
    }
}

/// A JSON body that may be absent (an empty body, or `null`); when present it is a
/// [`JsonBody`].
pub struct OptionalJsonBody<T>(pub Option<JsonBody<T>>);

impl<T> OptionalJsonBody<T> {
    /// The parsed body, if any, and the raw one (`Null` when absent).
    pub fn into_parts(self) -> (Option<T>, Value) {
        match self.0 {
            Some(body) => (Some(body.parsed), body.raw),
            None => (None, Value::Null),
        }
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for OptionalJsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let json = is_json(request.headers());
        let bytes =
            Bytes::from_request(request, state)
                .await
                .map_err(|rejection| match rejection.status() {
                    StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
                    _ => ApiError::MalformedJson(rejection.body_text()),
                })?;
        if bytes.is_empty() {
            return Ok(Self(None));
        }
        if !json {
            return Err(ApiError::UnsupportedMediaType);
        }
        if serde_json::from_slice::<()>(&bytes).is_ok() {
            return Ok(Self(None));
        }
        parse(&bytes).map(|body| Self(Some(body)))
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(content_type) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<JsonBody<T>, ApiError> {
    let mut raw: Value = serde_json::from_slice(bytes)
        .map_err(|error| ApiError::MalformedJson(error.to_string()))?;
    if !raw.is_object() {
        return Err(ApiError::invalid_field(
            "",
            "the body must be a JSON object",
        ));
    }
    if let Some(field) = field_with_nul(&raw) {
        // No text column stores NUL.
        let message = format!("{field} must not contain NUL characters");
        return Err(ApiError::invalid_field(field, message));
    }
    whole_numbers_as_integers(&mut raw);
    let parsed = serde_path_to_error::deserialize(&raw).map_err(|error| {
        let field = error.path().to_string();
        ApiError::invalid_field(field.clone(), format!("{field}: {}", error.inner()))
    })?;
    Ok(JsonBody { parsed, raw })
}

/// The path (as `serde_path_to_error` writes it) of the first key or string in `value`
/// that holds a NUL character.
fn field_with_nul(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => text.contains('\0').then(String::new),
        Value::Array(items) => items.iter().enumerate().find_map(|(index, item)| {
            field_with_nul(item).map(|inner| join(&format!("[{index}]"), &inner))
        }),
        Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            if key.contains('\0') {
                return Some(key.replace('\0', "\\0"));
            }
            field_with_nul(item).map(|inner| join(key, &inner))
        }),
        _ => None,
    }
}

/// Writes every number with no fractional part that fits an `i64` (`2.0`, `1e3`) as
/// that integer: JSON Schema counts them as integers, so a field the document declares
/// an integer takes them.
fn whole_numbers_as_integers(value: &mut Value) {
    match value {
        Value::Number(number) if !number.is_i64() && !number.is_u64() => {
            let whole = number
                .as_f64()
                .filter(|f| f.fract() == 0.0 && (i64::MIN as f64..i64::MAX as f64).contains(f));
            if let Some(whole) = whole {
                *value = Value::from(whole as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(whole_numbers_as_integers),
        _ => {}
    }
}

fn join(outer: &str, inner: &str) -> String {
    match inner.strip_prefix('[') {
        Some(_) => format!("{outer}{inner}"),
        None if inner.is_empty() => outer.to_string(),
        None => format!("{outer}.{inner}"),
    }
}

/// A resource id from the path: a UUID, or 422 naming `id`.
pub struct ResourceId(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for ResourceId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| ApiError::invalid_field("id", "the path needs one id"))?;
        resource_id(&raw).map(Self)
    }
}

/// An id from a path: a UUID, or 422 naming `id`.
pub(super) fn resource_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw)
        .map_err(|_| ApiError::invalid_field("id", format!("id '{raw}' is not a UUID")))
}

/// The headers a command carries besides its body, the bearer token's among them.
pub struct CommandHeaders {
    /// Set by the correlation middleware on every request (generated when absent).
    pub correlation_id: String,
    pub idempotency_key: Option<String>,
    /// Method and path: with the caller, the scope an idempotency key is valid in.
    pub route: String,
    pub principal: Principal,
    /// The request's time limit, where one applies.
    pub deadline: Option<crate::store::Deadline>,
}

impl<S: Send + Sync> FromRequestParts<S> for CommandHeaders {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let principal = Principal::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let (correlation_id, idempotency_key) =
            command_ids(&parts.headers).map_err(IntoResponse::into_response)?;
        Ok(Self {
            correlation_id,
            idempotency_key,
            route: format!("{} {}", parts.method, parts.uri.path()),
            principal,
            deadline: parts.extensions.get::<crate::store::Deadline>().cloned(),
        })
    }
}

impl CommandHeaders {
    /// Where `key` is valid: the caller's own requests to this route, so that one
    /// caller's key never answers another's request.
    pub fn scope_of(&self, key: &str) -> String {
        format!("{} {} {key}", self.principal, self.route)
    }
}

/// The correlation id (generated when absent) and the idempotency key, if any.
fn command_ids(headers: &HeaderMap) -> Result<(String, Option<String>), ApiError> {
    let correlation_id =
        header_id(headers, CORRELATION_ID)?.unwrap_or_else(|| Uuid::now_v7().to_string());
    Ok((correlation_id, header_id(headers, IDEMPOTENCY_KEY)?))
}

/// An id-like header: 1 to 255 visible ASCII characters.
pub fn header_id(headers: &HeaderMap, name: &'static str) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(name) else {
        return Ok(None);
    };
    let problem = "must be 1 to 255 visible ASCII characters";
    let text = value
        .to_str()
        .map_err(|_| ApiError::InvalidHeader { name, problem })?;
    let valid = !text.is_empty()
        && text.len() <= MAX_HEADER_ID_LENGTH
        && text.bytes().all(|b| b.is_ascii_graphic());
    if !valid {
        return Err(ApiError::InvalidHeader { name, problem });
    }
    Ok(Some(text.to_string()))
}

/// A field the body must carry: absent or null gives 422 naming it.
pub fn required<T>(field: &'static str, value: Option<T>) -> Result<T, ApiError> {
    value.ok_or_else(|| ApiError::invalid_field(field, format!("{field} is required")))
}
