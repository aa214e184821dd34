//! What a client sees when something fails: [`ApiError`] maps each case to the status code
//! and the `error` code of source document 002's error table, in one body shape
//! ([`ErrorBody`](super::openapi::ErrorBody)), and never leaks internals.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

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
    /// 404: no such job.
    NotFound(String),
    /// 409: the request clashes with what exists (a module name owned by other bytes).
    Conflict {
        /// What clashes, for a person.
        message: String,
        /// What exists.
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

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            ApiError::BadRequest { message, params } => (
                StatusCode::BAD_REQUEST,
                json!({"error": "Bad Request", "message": message, "params": params}),
            ),
            ApiError::Unauthorized(message) => {
                let mut resp = (
                    StatusCode::UNAUTHORIZED,
                    Json(json!({"error": "Unauthorized", "message": message, "params": {}})),
                )
                    .into_response();
                resp.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                return resp;
            }
            ApiError::NotFound(message) => (
                StatusCode::NOT_FOUND,
                json!({"error": "Not Found", "message": message, "params": {}}),
            ),
            ApiError::Conflict { message, params } => (
                StatusCode::CONFLICT,
                json!({"error": "Conflict", "message": message, "params": params}),
            ),
            ApiError::PayloadTooLarge { message, params } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                json!({"error": "Payload Too Large", "message": message, "params": params}),
            ),
            ApiError::RequestTimeout(message) => (
                StatusCode::REQUEST_TIMEOUT,
                json!({"error": "Request Timeout", "message": message, "params": {}}),
            ),
            ApiError::Unavailable(message) => {
                let mut resp = (
                    StatusCode::SERVICE_UNAVAILABLE,
                    Json(json!({"error": "Service Unavailable", "message": message, "params": {}})),
                )
                    .into_response();
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                return resp;
            }
            ApiError::Internal {
                code,
                message,
                body,
            } => {
                let mut out = json!({"error": code, "message": message, "params": {}});
                if let (Some(Value::Object(extra)), Value::Object(map)) = (body, &mut out) {
                    for (k, v) in extra {
                        map.entry(k).or_insert(v);
                    }
                }
                (StatusCode::INTERNAL_SERVER_ERROR, out)
            }
        };
        (status, Json(body)).into_response()
    }
}
