//! Actor-signed requests (issue 12, document 000's second header family): a worker of the open
//! fleet signs each HTTP request with its key (the scheme is in [`notary_protocol::actor`]);
//! [`Actors::authenticate`] checks one request and says who sent it, or why it is refused.
//!
//! The checks, in order: the three headers are present (`missing`); the actor is an address,
//! the timestamp a number and the signature recovers to the actor over this method, path,
//! query, timestamp and body (`bad_signature`); the timestamp is within ±[`SKEW`] of the
//! coordinator's clock (`expired`); the request was not accepted before (`replayed`, through
//! the [`ReplayCache`] a fleet shares in Redis). Only a request that passed the signature check
//! is remembered, so garbage cannot fill the cache. Which role a route needs is the route's
//! business.

mod replay;

use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderMap;
use notary_protocol::actor::{self, ACTOR_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use notary_protocol::Address;

pub use replay::{RedisReplayCache, ReplayCache, SqliteReplayCache};

use crate::error::Result;

/// How far a request's timestamp may be from the coordinator's clock, either way.
pub const SKEW: Duration = Duration::from_secs(60);

/// Why a request is not authenticated (the 401's `params.reason`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthFailure {
    /// A header is absent (or not text).
    Missing(&'static str),
    /// Malformed header, or the signature does not recover to the actor over this request.
    BadSignature(String),
    /// The timestamp is outside ±[`SKEW`].
    Expired {
        /// The request's timestamp.
        timestamp: u64,
        /// The coordinator's clock, unix seconds.
        now: u64,
    },
    /// This exact signed request was accepted before.
    Replayed,
}

impl AuthFailure {
    /// The machine-readable reason.
    pub fn reason(&self) -> &'static str {
        match self {
            AuthFailure::Missing(_) => "missing",
            AuthFailure::BadSignature(_) => "bad_signature",
            AuthFailure::Expired { .. } => "expired",
            AuthFailure::Replayed => "replayed",
        }
    }

    /// What went wrong, for a person.
    pub fn message(&self) -> String {
        match self {
            AuthFailure::Missing(header) => format!("the {header} header is missing"),
            AuthFailure::BadSignature(why) => format!("the actor signature is not valid: {why}"),
            AuthFailure::Expired { timestamp, now } => format!(
                "the request was signed at {timestamp}, more than {} s from the coordinator's clock ({now})",
                SKEW.as_secs()
            ),
            AuthFailure::Replayed => "this signed request was already used; sign each request anew".into(),
        }
    }
}

/// The authenticator.
pub struct Actors {
    replay: Arc<dyn ReplayCache>,
}

impl Actors {
    /// Authenticates with `replay` as the memory of used requests.
    pub fn new(replay: Arc<dyn ReplayCache>) -> Self {
        Actors { replay }
    }

    /// Checks one request (`path_and_query` exactly as received) at `now_ms`.
    pub async fn authenticate(
        &self,
        headers: &HeaderMap,
        method: &str,
        path_and_query: &str,
        body: &[u8],
        now_ms: u64,
    ) -> Result<std::result::Result<Address, AuthFailure>> {
        let header = |name: &'static str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .ok_or(AuthFailure::Missing(name))
        };
        let checked = (|| {
            let (who, ts, signature) = (
                header(ACTOR_HEADER)?,
                header(TIMESTAMP_HEADER)?,
                header(SIGNATURE_HEADER)?,
            );
            let actor: Address = who.parse().map_err(|_| {
                AuthFailure::BadSignature(format!("{ACTOR_HEADER} {who:?} is not an address"))
            })?;
            let timestamp: u64 = ts.parse().map_err(|_| {
                AuthFailure::BadSignature(format!("{TIMESTAMP_HEADER} {ts:?} is not unix seconds"))
            })?;
            actor::verify_request(actor, signature, method, path_and_query, timestamp, body)
                .map_err(|e| AuthFailure::BadSignature(e.to_string()))?;
            let now = now_ms / 1000;
            if timestamp.abs_diff(now) > SKEW.as_secs() {
                return Err(AuthFailure::Expired { timestamp, now });
            }
            Ok((actor, timestamp))
        })();
        let (actor, timestamp) = match checked {
            Ok(ok) => ok,
            Err(failure) => return Ok(Err(failure)),
        };
        // Per actor: two workers may sign the same text (same route, second and body).
        let digest = format!(
            "{actor:#x}:{}",
            actor::signing_hash(method, path_and_query, timestamp, body).to_hex()
        );
        // Remembered until the timestamp leaves the window (plus a second for rounding).
        let expires_at_ms = (timestamp + SKEW.as_secs() + 1) * 1000;
        if !self
            .replay
            .first_use(&digest, expires_at_ms, now_ms)
            .await?
        {
            return Ok(Err(AuthFailure::Replayed));
        }
        Ok(Ok(actor))
    }
}
