//! The gate in front of a router, and the [`Principal`] extractor behind it.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::json;

use crate::principal::{Forbidden, Principal, Role};
use crate::tokens::Tokens;

/// Why a request was not let through.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("this route needs a bearer token: Authorization: Bearer <JWT>")]
    Missing,
    #[error("the Authorization header must be 'Bearer <JWT>'")]
    Malformed,
    #[error("the bearer token has expired")]
    Expired,
    #[error("the bearer token is not valid: {0}")]
    Invalid(&'static str),
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let (status, code) = match self {
            Self::Missing => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Self::Malformed | Self::Invalid(_) => (StatusCode::UNAUTHORIZED, "invalid_token"),
            Self::Expired => (StatusCode::UNAUTHORIZED, "token_expired"),
            Self::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
        };
        let body = json!({"error": code, "message": self.to_string()});
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            // RFC 6750 §3: a refused bearer token names the scheme, and why.
            let challenge = match self {
                Self::Missing => "Bearer",
                _ => "Bearer error=\"invalid_token\"",
            };
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        response
    }
}

#[derive(Clone)]
struct Gate {
    tokens: Arc<Tokens>,
    roles: &'static [Role],
}

/// Lets through to `router`'s routes only requests with a valid token of one of
/// `roles`; they carry its [`Principal`]. Requests for paths `router` does not serve
/// pass untouched (to the 404 fallback).
pub fn require(router: Router, tokens: Arc<Tokens>, roles: &'static [Role]) -> Router {
    router.route_layer(middleware::from_fn_with_state(
        Gate { tokens, roles },
        authenticate,
    ))
}

async fn authenticate(State(gate): State<Gate>, mut request: Request, next: Next) -> Response {
    match gate.admit(request.headers()) {
        Ok(principal) => {
            request.extensions_mut().insert(principal);
            next.run(request).await
        }
        Err(error) => error.into_response(),
    }
}

impl Gate {
    fn admit(&self, headers: &HeaderMap) -> Result<Principal, AuthError> {
        let value = headers
            .get(header::AUTHORIZATION)
            .ok_or(AuthError::Missing)?;
        let token = value
            .to_str()
            .ok()
            .and_then(|value| value.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .ok_or(AuthError::Malformed)?;
        let principal = self.tokens.verify(token)?;
        principal.require(self.roles)?;
        Ok(principal)
    }
}

/// The caller, as the gate of [`require`] verified it; a handler outside such a gate
/// answers 401.
impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AuthError> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or(AuthError::Missing)
    }
}
