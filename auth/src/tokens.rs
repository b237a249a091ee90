//! Issuing and verifying HS256 bearer tokens with one secret.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::http::AuthError;
use crate::principal::{Principal, Role};

/// The shortest secret accepted: RFC 7518 §3.2 asks for a key at least as long as the
/// hash (256 bits) for HS256.
pub const MIN_SECRET_BYTES: usize = 32;

/// Whether `subject` can be a token's `sub`: 1 to 64 characters, the length of the
/// ids it stands for.
pub fn is_valid_subject(subject: &str) -> bool {
    (1..=64).contains(&subject.chars().count()) && !subject.chars().any(char::is_control)
}

/// How many verified tokens are remembered: a client sends its token with every
/// request, and decoding and verifying it each time cost 3 µs of the 69 µs an order took
/// (`docs/performance.md`).
const REMEMBERED_TOKENS: usize = 4096;

/// Issues and verifies tokens. Its `Debug` shows no key.
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// Tokens whose signature was verified, with what they name and when they expire.
    verified: Mutex<HashMap<Box<str>, Verified>>,
}

#[derive(Clone)]
struct Verified {
    principal: Principal,
    /// Seconds since the Unix epoch.
    expires: u64,
}

/// A configured secret too short to sign with.
#[derive(Debug, thiserror::Error)]
#[error("the JWT secret must be at least {MIN_SECRET_BYTES} bytes long (it is {0})")]
pub struct WeakSecret(usize);

#[derive(Serialize, Deserialize)]
struct Claims {
    sub: String,
    role: Role,
    /// Seconds since the Unix epoch.
    exp: u64,
}

impl Tokens {
    pub fn from_secret(secret: &[u8]) -> Result<Self, WeakSecret> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(WeakSecret(secret.len()));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub"]);
        Ok(Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            verified: Mutex::default(),
        })
    }

    /// Tokens over a random secret that lives only as long as this value: for a
    /// server started without one.
    pub fn generated() -> Self {
        let mut secret = [0u8; MIN_SECRET_BYTES];
        getrandom::getrandom(&mut secret).expect("the operating system's random source");
        Self::from_secret(&secret).expect("a secret of the minimum length")
    }

    /// A token for `subject` in `role`, valid for `valid_for` from now.
    pub fn issue(&self, subject: &str, role: Role, valid_for: Duration) -> String {
        self.issue_until(subject, role, SystemTime::now() + valid_for)
    }

    /// A token for `subject` in `role` that expires at `expires_at`.
    pub fn issue_until(&self, subject: &str, role: Role, expires_at: SystemTime) -> String {
        let claims = Claims {
            sub: subject.to_string(),
            role,
            exp: seconds_since_epoch(expires_at),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signs any claims")
    }

    /// The principal a token names, if this secret signed it and it has not expired
    /// (with jsonwebtoken's 60 s leeway for clock skew).
    pub fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        self.verify_at(token, seconds_since_epoch(SystemTime::now()))
    }

    /// [`Tokens::verify`] at `now`, in seconds since the Unix epoch: a remembered token
    /// is checked against it; one seen first is decoded and verified against the clock.
    fn verify_at(&self, token: &str, now: u64) -> Result<Principal, AuthError> {
        let remembered = self.remembered().get(token).cloned();
        if let Some(verified) = remembered {
            return match now <= verified.expires.saturating_add(self.validation.leeway) {
                true => Ok(verified.principal),
                false => Err(AuthError::Expired),
            };
        }
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|error| rejection(error.kind()))?
            .claims;
        if !is_valid_subject(&claims.sub) {
            return Err(AuthError::Invalid("its sub must be 1 to 64 characters"));
        }
        let principal = Principal {
            subject: claims.sub,
            role: claims.role,
        };
        let mut remembered = self.remembered();
        if remembered.len() >= REMEMBERED_TOKENS {
            let leeway = self.validation.leeway;
            remembered.retain(|_, verified| now <= verified.expires.saturating_add(leeway));
        }
        if remembered.len() >= REMEMBERED_TOKENS {
            remembered.clear();
        }
        let verified = Verified {
            principal: principal.clone(),
            expires: claims.exp,
        };
        remembered.insert(token.into(), verified);
        Ok(principal)
    }

    fn remembered(&self) -> std::sync::MutexGuard<'_, HashMap<Box<str>, Verified>> {
        self.verified.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn seconds_since_epoch(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

/// Why a token was refused, in words that reveal nothing of the secret.
fn rejection(kind: &ErrorKind) -> AuthError {
    AuthError::Invalid(match kind {
        ErrorKind::ExpiredSignature => return AuthError::Expired,
        ErrorKind::InvalidSignature => "its signature does not match",
        ErrorKind::InvalidAlgorithm => "it must be signed with HS256",
        ErrorKind::MissingRequiredClaim(_) => "it must carry the claims sub, role and exp",
        ErrorKind::Json(_) => {
            "its claims must be sub, role (customer, manager, host or admin) and exp"
        }
        _ => "it is not a well-formed JWT",
    })
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Tokens { .. }")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    fn tokens() -> Tokens {
        Tokens::from_secret(&[7; MIN_SECRET_BYTES]).unwrap()
    }

    #[test]
    fn a_token_names_its_subject_and_role() {
        let tokens = tokens();
        let token = tokens.issue("alice", Role::Customer, HOUR);
        let principal = tokens.verify(&token).unwrap();
        assert_eq!(principal.subject, "alice");
        assert_eq!(principal.role, Role::Customer);
    }

    #[test]
    fn an_expired_token_is_refused() {
        let tokens = tokens();
        let token = tokens.issue_until("alice", Role::Admin, SystemTime::now() - HOUR);
        assert!(matches!(tokens.verify(&token), Err(AuthError::Expired)));
    }

    #[test]
    fn a_remembered_token_is_refused_once_it_expires() {
        let tokens = tokens();
        let token = tokens.issue("alice", Role::Customer, HOUR);
        let now = seconds_since_epoch(SystemTime::now());
        assert!(
            tokens.verify_at(&token, now).is_ok(),
            "verified and remembered"
        );
        assert!(
            tokens.verify_at(&token, now + 3600).is_ok(),
            "within the leeway"
        );
        let past_leeway = now + 3600 + tokens.validation.leeway + 2;
        assert!(matches!(
            tokens.verify_at(&token, past_leeway),
            Err(AuthError::Expired)
        ));
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let token = Tokens::generated().issue("alice", Role::Admin, HOUR);
        let refused = tokens().verify(&token).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "the bearer token is not valid: its signature does not match"
        );
    }

    #[test]
    fn an_unknown_role_or_garbage_is_refused() {
        let tokens = tokens();
        let claims = serde_json::json!({"sub": "alice", "role": "root", "exp": u64::MAX / 2});
        let root = jsonwebtoken::encode(&Header::default(), &claims, &tokens.encoding).unwrap();
        assert!(matches!(tokens.verify(&root), Err(AuthError::Invalid(_))));
        assert!(matches!(tokens.verify("x.y.z"), Err(AuthError::Invalid(_))));
    }

    #[test]
    fn an_empty_subject_is_refused() {
        let tokens = tokens();
        let token = tokens.issue("", Role::Admin, HOUR);
        assert!(matches!(tokens.verify(&token), Err(AuthError::Invalid(_))));
    }

    #[test]
    fn a_short_secret_is_refused_and_keys_never_print() {
        assert!(Tokens::from_secret(b"too short").is_err());
        assert_eq!(format!("{:?}", tokens()), "Tokens { .. }");
    }
}
