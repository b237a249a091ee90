//! Path and query parameters, parsed at the edge into what the store is asked for; a
//! value this API does not take is a 422 naming its field.

use std::ops::RangeInclusive;
use std::str::FromStr;

use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use serde::Deserialize;
use uuid::Uuid;

use super::error::ApiError;
use crate::page::{decode_cursor, DEFAULT_LIMIT, MAX_LIMIT};
use projections::table::ViewRow;

use crate::store::{Arg, Condition, RowQuery};

/// The longest user id (customerId, bookingUserId) the domain accepts.
const MAX_USER_ID_CHARS: usize = 64;

/// A resource's id from the path: a UUID, as the server generated it.
pub struct ResourceId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ResourceId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::invalid_field("id", "the path needs one id"))?;
        resource_id("id", &raw).map(Self)
    }
}

/// A user id from the path (`/mypages/{userId}`).
pub struct UserId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for UserId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::invalid_field("userId", "the path needs one user id"))?;
        user_id("userId", raw).map(Self)
    }
}

/// A query parameter naming a resource by its UUID (in its canonical form).
pub fn resource_id(field: &'static str, value: &str) -> Result<String, ApiError> {
    Uuid::parse_str(value)
        .map(|id| id.to_string())
        .map_err(|_| ApiError::invalid_field(field, format!("{field} '{value}' is not a UUID")))
}

/// A user id as a filter or path value: 1 to 64 characters, none of them a control
/// character (as the commands require).
pub fn user_id(field: &'static str, value: String) -> Result<String, ApiError> {
    let chars = value.chars().count();
    if (1..=MAX_USER_ID_CHARS).contains(&chars) && !value.chars().any(char::is_control) {
        Ok(value)
    } else {
        Err(ApiError::invalid_field(
            field,
            format!(
                "{field} must be 1 to {MAX_USER_ID_CHARS} characters, none of them a control \
                 character"
            ),
        ))
    }
}

/// `value` if it is one of `allowed` (upper-case statuses).
pub fn one_of(field: &'static str, value: String, allowed: &[&str]) -> Result<String, ApiError> {
    if allowed.contains(&value.as_str()) {
        Ok(value)
    } else {
        Err(ApiError::invalid_field(
            field,
            format!("{field} must be one of {}", allowed.join(", ")),
        ))
    }
}

/// An interval `[from, to)` from two query parameters (`freeFrom`, `freeTo`), each a
/// `(field, value)`: both or neither, each in `T`'s text form (`form` names it) and
/// `within` the values the views store, `to` after `from`.
pub fn interval<T: FromStr + PartialOrd + std::fmt::Display>(
    from: (&'static str, Option<String>),
    to: (&'static str, Option<String>),
    form: &str,
    within: RangeInclusive<T>,
) -> Result<Option<(T, T)>, ApiError> {
    let parse = |(field, value): (&'static str, String)| {
        let parsed = value.parse::<T>().map_err(|_| {
            ApiError::invalid_field(field, format!("{field} '{value}' is not {form}"))
        })?;
        if !within.contains(&parsed) {
            let (first, last) = (within.start(), within.end());
            let message = format!("{field} must be between {first} and {last}");
            return Err(ApiError::invalid_field(field, message));
        }
        Ok(parsed)
    };
    match (from, to) {
        ((_, None), (_, None)) => Ok(None),
        ((from_field, Some(from)), (to_field, Some(to))) => {
            let (from, to) = (parse((from_field, from))?, parse((to_field, to))?);
            if to <= from {
                let message = format!("{to_field} must be after {from_field}");
                return Err(ApiError::invalid_field(to_field, message));
            }
            Ok(Some((from, to)))
        }
        ((present, Some(_)), (missing, None)) | ((missing, None), (present, Some(_))) => {
            let message = format!("{missing} is needed with {present}");
            Err(ApiError::invalid_field(missing, message))
        }
    }
}

/// A positive integer (roomId, maxPrice).
pub fn positive(field: &'static str, value: &str) -> Result<i64, ApiError> {
    value
        .parse::<i64>()
        .ok()
        .filter(|number| *number > 0)
        .ok_or_else(|| {
            ApiError::invalid_field(field, format!("{field} must be a positive integer"))
        })
}

/// Which page a list read wants: `limit` and `after` from the query (the OpenAPI
/// document describes them as [`super::openapi::PageQuery`]).
pub struct Paging {
    pub limit: i64,
    after: Option<String>,
}

#[derive(Deserialize)]
struct PageQuery {
    limit: Option<String>,
    after: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for Paging {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let Query(query) = Query::<PageQuery>::try_from_uri(&parts.uri)?;
        Self::parse(query.limit.as_deref(), query.after.as_deref())
    }
}

impl Paging {
    /// `limit` (1 to 500, default 50) and `after` (a cursor from a previous page).
    fn parse(limit: Option<&str>, after: Option<&str>) -> Result<Self, ApiError> {
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(raw) => raw
                .parse::<i64>()
                .ok()
                .filter(|limit| (1..=MAX_LIMIT).contains(limit))
                .ok_or_else(|| {
                    ApiError::invalid_field("limit", format!("limit must be 1 to {MAX_LIMIT}"))
                })?,
        };
        let after = after
            .map(|cursor| {
                decode_cursor(cursor).ok_or_else(|| {
                    ApiError::invalid_field("after", "after must be a cursor from a previous page")
                })
            })
            .transpose()?;
        Ok(Self { limit, after })
    }

    /// The rows of `table` matching `filters` and `conditions` on this page, and one
    /// more to tell whether another page follows.
    pub fn query<R: ViewRow>(
        &self,
        table: &'static str,
        filters: Vec<(&'static str, Arg)>,
        conditions: Vec<Condition>,
    ) -> RowQuery<'static> {
        RowQuery {
            table,
            filters,
            conditions,
            after: self.after.clone(),
            order_by: crate::store::key::<R>(),
            limit: Some(self.limit + 1),
        }
    }
}
