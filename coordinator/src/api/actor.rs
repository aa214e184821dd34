//! The extractor of actor-signed requests ([`Signed`]): the body is read within the API's limit
//! and checked with the headers by [`crate::actors::Actors`]; a request that fails is a 401
//! whose `params.reason` says why (`missing`, `bad_signature`, `expired`, `replayed`). Routes
//! then check the actor's role and approval (403).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use utoipa::IntoParams;

use super::error::ApiError;
use super::AppState;
use crate::config::MAX_BODY_BYTES;
use crate::record::now_ms;

/// A request whose actor signature checked out.
pub struct Signed {
    /// The signer.
    pub actor: notary_protocol::Address,
    /// The body, as signed.
    pub body: Bytes,
}

impl FromRequest<Arc<AppState>> for Signed {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &Arc<AppState>) -> Result<Self, ApiError> {
        let (method, uri, headers) = (
            req.method().clone(),
            req.uri().clone(),
            req.headers().clone(),
        );
        let body = super::json::body(Bytes::from_request(req, state).await, MAX_BODY_BYTES)?;
        let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
        let actor = state
            .actors
            .authenticate(&headers, method.as_str(), path, &body, now_ms())
            .await?
            .map_err(|failure| ApiError::ActorUnauthorized {
                message: failure.message(),
                reason: failure.reason(),
            })?;
        Ok(Signed { actor, body })
    }
}

/// The actor headers, as the OpenAPI document lists them on every signed route.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // only its description is used
pub struct ActorHeaders {
    /// The acting worker's address (`0x` + 40 hex).
    #[param(rename = "x-notary-actor")]
    actor: String,
    /// When the request was signed, unix seconds (accepted within ±60 s).
    #[param(rename = "x-notary-timestamp")]
    timestamp: String,
    /// `0x` + 65-byte EIP-191 `personal_sign` signature of
    /// `notary-actor:v1\n<METHOD>\n<path with query>\n<timestamp>\n<sha256 hex of the body>`.
    #[param(rename = "x-notary-signature")]
    signature: String,
}
