//! What a client sees when something fails: [`ApiError`] maps each case to the status code
//! and the `error` code of source document 002's error table, in one body shape
//! ([`ErrorBody`](super::openapi::ErrorBody)), and never leaks internals.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};

use super::openapi::ErrorBody;
use crate::error::{Error, Rejected};

/// An error answered to a client.
#[derive(Debug)]
pub enum ApiError {
    /// 400: invalid body or parameters.
    BadRequest {
        /// What is wrong, for a person.
        message: String,
        /// Machine-readable details (which field, which bound).
        params: Value,
    },
    /// 401: a credential is missing or wrong (webhook management).
    Unauthorized(String),
    /// 401: an actor-signed request that is not authenticated (`params.reason`: `missing`,
    /// `bad_signature`, `expired`, `replayed`).
    ActorUnauthorized {
        /// What is wrong, for a person.
        message: String,
        /// The machine-readable reason.
        reason: &'static str,
    },
    /// 403: an authenticated actor that may not do this (wrong role, not approved).
    Forbidden {
        /// Why, for a person.
        message: String,
        /// `reason` and details.
        params: Value,
    },
    /// 404: no such job.
    NotFound(String),
    /// 409: the request clashes with what exists (a module name owned by other bytes).
    Conflict {
        /// What clashes, for a person.
        message: String,
        /// What exists.
        params: Value,
    },
    /// 422: a well-formed submission whose content failed a check (`params.check`).
    Unprocessable {
        /// Which check, and why.
        message: String,
        /// `reason`, `check`, `detail`.
        params: Value,
    },
    /// 413: body or code too large.
    PayloadTooLarge {
        /// What was too large.
        message: String,
        /// The limit and the size seen.
        params: Value,
    },
    /// 503: the service cannot take work now (backend down, shutting down).
    Unavailable(String),
    /// 503 with details (`params.reason`, e.g. `jury_unavailable`).
    UnavailableFor {
        /// Why, for a person.
        message: String,
        /// `reason` and details.
        params: Value,
    },
    /// 408: the request body did not arrive in time.
    RequestTimeout(String),
    /// 500: an infrastructure failure with its code from the error table (e.g. "VM Spawn
    /// Failed"); `body` carries the job fields when there is a job.
    Internal {
        /// The table's code.
        code: &'static str,
        /// What happened, for a person.
        message: String,
        /// Extra fields merged into the body (the job view).
        body: Option<Value>,
    },
}

impl ApiError {
    /// A 400 about one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            message: message.into(),
            params: json!({ "field": field }),
        }
    }

    /// A 400 about one field, with extra parameters.
    pub fn field_with(field: &str, message: impl Into<String>, mut params: Value) -> Self {
        if let Value::Object(map) = &mut params {
            map.insert("field".into(), Value::String(field.into()));
        }
        ApiError::BadRequest {
            message: message.into(),
            params,
        }
    }
}

impl From<Rejected> for ApiError {
    fn from(r: Rejected) -> Self {
        match r {
            Rejected::Invalid { message, params } => ApiError::BadRequest { message, params },
            Rejected::TooLarge { message, params } => ApiError::PayloadTooLarge { message, params },
            Rejected::Unavailable { message, params } => {
                ApiError::UnavailableFor { message, params }
            }
            Rejected::Conflict { message, params } => ApiError::Conflict { message, params },
        }
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        // Backend failures are logged here and answered without internals.
        tracing::error!(error = %e, "backend failure while serving a request");
        ApiError::Unavailable("a backend service is unavailable; retry later".into())
    }
}

impl From<notary_queue::Error> for ApiError {
    fn from(e: notary_queue::Error) -> Self {
        Error::from(e).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = |error: &str, message: String, params: Value| ErrorBody {
            error: error.to_string(),
            message,
            params,
        };
        let (status, body, header) = match self {
            ApiError::BadRequest { message, params } => (
                StatusCode::BAD_REQUEST,
                body("Bad Request", message, params),
                None,
            ),
            ApiError::Unauthorized(message) => (
                StatusCode::UNAUTHORIZED,
                body("Unauthorized", message, json!({})),
                Some((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))),
            ),
            ApiError::ActorUnauthorized { message, reason } => (
                StatusCode::UNAUTHORIZED,
                body("Unauthorized", message, json!({ "reason": reason })),
                Some((
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("NotaryActor"),
                )),
            ),
            ApiError::Forbidden { message, params } => (
                StatusCode::FORBIDDEN,
                body("Forbidden", message, params),
                None,
            ),
            ApiError::NotFound(message) => (
                StatusCode::NOT_FOUND,
                body("Not Found", message, json!({})),
                None,
            ),
            ApiError::Conflict { message, params } => (
                StatusCode::CONFLICT,
                body("Conflict", message, params),
                None,
            ),
            ApiError::Unprocessable { message, params } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                body("Unprocessable Entity", message, params),
                None,
            ),
            ApiError::PayloadTooLarge { message, params } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                body("Payload Too Large", message, params),
                None,
            ),
            ApiError::RequestTimeout(message) => (
                StatusCode::REQUEST_TIMEOUT,
                body("Request Timeout", message, json!({})),
                None,
            ),
            ApiError::Unavailable(message) => (
                StatusCode::SERVICE_UNAVAILABLE,
                body("Service Unavailable", message, json!({})),
                Some((header::RETRY_AFTER, HeaderValue::from_static("1"))),
            ),
            ApiError::UnavailableFor { message, params } => (
                StatusCode::SERVICE_UNAVAILABLE,
                body("Service Unavailable", message, params),
                Some((header::RETRY_AFTER, HeaderValue::from_static("5"))),
            ),
            ApiError::Internal {
                code,
                message,
                body: job,
            } => {
                let error = body(code, message, json!({}));
                // The job's fields ride along (document 002: a 500 carries the job); the
                // error's own three fields win.
                let mut job = match job {
                    Some(Value::Object(map)) => map,
                    _ => serde_json::Map::new(),
                };
                for own in ["error", "message", "params"] {
                    job.remove(own);
                }
                let resp = (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Json(ErrorWithJob { error, job }),
                );
                return resp.into_response();
            }
        };
        let mut resp = (status, Json(body)).into_response();
        if let Some((name, value)) = header {
            resp.headers_mut().insert(name, value);
        }
        resp
    }
}

/// A 500's body: the error, and the job it is about.
#[derive(Serialize)]
struct ErrorWithJob {
    #[serde(flatten)]
    error: ErrorBody,
    #[serde(flatten)]
    job: serde_json::Map<String, Value>,
}
