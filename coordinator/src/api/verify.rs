//! `POST /verify` and `GET /verify/:id` (source document 002).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use std::time::Duration;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::json;
use uuid::Uuid;

use super::error::ApiError;
#[allow(unused_imports)] // named by the OpenAPI annotations
use super::openapi::{ErrorBody, VerifyRequest};
use super::request::parse_verify_request;
use super::view::{Accepted, JobView};
use super::AppState;
use crate::config::MAX_BODY_BYTES;
use crate::protect::ClientKey;
use crate::record::JobStatus;

/// `POST /verify`: validate, store, queue, then wait briefly for the result.
#[utoipa::path(post, path = "/verify", tag = "verify",
    request_body(content = VerifyRequest, content_type = "application/json"),
    params(("Prefer" = Option<String>, Header, description = "`respond-async`: answer 202 at once")),
    responses(
        (status = 200, description = "Completed: the attested verdict", body = JobView),
        (status = 202, description = "Accepted, still running: poll `checkStatusAt`", body = Accepted,
            headers(("Location" = String, description = "where to poll: this job's /verify/{id}"),
                ("Retry-After" = u64, description = "seconds before polling again"))),
        (status = 400, description = "Bad Request: invalid body, field or module", body = ErrorBody),
        (status = 413, description = "Payload Too Large: code over 100 KB or body over 1 MB", body = ErrorBody),
        (status = 429, description = "Rate Limited: 100 requests per minute per IP", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds until the window ends"))),
        (status = 500, description = "VM Spawn Failed: the job could not run (refundable); carries the job", body = ErrorBody),
        (status = 503, description = "Service Unavailable: circuit breaker open, load caps, Redis away or shutting down", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds to wait"))),
    ))]
pub async fn submit(
    State(state): State<Arc<AppState>>,
    client: Option<Extension<ClientKey>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let record = accept(&state, &headers, body).await?;
    let client = client.map(|Extension(ClientKey(key))| key);
    let record = start(&state, record, &headers, client.as_deref(), false).await?;
    let view = JobView::from(&record);
    answer(&record, view)
}

/// Checks a `POST /verify` request (size, content type, draining, body) and builds its job.
pub(crate) async fn accept(
    state: &AppState,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<crate::record::JobRecord, ApiError> {
    let body = super::json::body(body, MAX_BODY_BYTES)?;
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            let v = v.trim().to_ascii_lowercase();
            v == "application/json" || (v.starts_with("application/") && v.ends_with("+json"))
        });
    if !is_json {
        return Err(ApiError::field(
            "Content-Type",
            "Content-Type must be application/json",
        ));
    }
    if state.draining.load(Ordering::Relaxed) {
        return Err(ApiError::Unavailable(
            "the coordinator is shutting down; retry on another replica".into(),
        ));
    }

    let parsed = parse_verify_request(&body, &state.job_defaults()).await?;
    let mut record = parsed.record;
    if let Some(request) = record.validation_request {
        // Checked before any payment: the request must exist and name this notary.
        let Some(payments) = &state.payments else {
            return Err(ApiError::field(
                "erc8004RequestHash",
                "this notary answers no ERC-8004 validation registry (payments are off)",
            ));
        };
        payments.check_validation_request(request).await??;
    }
    // The jury is fixed now, before any payment (the 402's pending job carries it).
    record.jury = state.jobs.plan_jury(parsed.jury, &record.spec).await??;
    Ok(record)
}

/// Submits an accepted job of `client` (who shares the slots fairly with others) to the job
/// service, then waits up to the sync wait (none with `Prefer: respond-async`); returns the
/// record as it is then. A job nobody `paid` for may start running while its record is stored
/// ([`crate::jobs::JobService::submit_unpaid`]).
pub(crate) async fn start(
    state: &AppState,
    record: crate::record::JobRecord,
    headers: &HeaderMap,
    client: Option<&str>,
    paid: bool,
) -> Result<crate::record::JobRecord, ApiError> {
    let id = record.id();
    let sync = !(prefers_async(headers) || state.sync_wait.is_zero());
    // Registered before the job is queued: a fast worker cannot finish it unseen, and the wait
    // starts without reading back the record just stored.
    let watch = sync.then(|| state.jobs.watch_final(id));
    let submitted = if paid {
        state.jobs.submit(&record, client).await
    } else {
        state.jobs.submit_unpaid(&record, client).await
    };
    submitted.map_err(|e| match e {
        crate::error::Error::Queue(_) => {
            ApiError::Unavailable("the job queue is unavailable; retry later".into())
        }
        other => other.into(),
    })?;
    let Some(watch) = watch else {
        return Ok(record);
    };
    state
        .jobs
        .await_watched(watch, state.sync_wait)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("job {id} vanished (retention too short?)")))
}

/// The answer to `POST /verify` for a job as it is now: 200 when completed (or escalated: a
/// split jury waits for the client), 500 with the error table's code for an infrastructure
/// failure, 202 while running. `view` is the body.
pub(crate) fn answer(
    record: &crate::record::JobRecord,
    view: JobView,
) -> Result<Response, ApiError> {
    let id = record.id();
    match record.status() {
        // Escalated: the jury split and the client decides (`POST /jobs/:jobId/escalate`).
        JobStatus::Completed | JobStatus::Escalated => {
            Ok((StatusCode::OK, Json(view)).into_response())
        }
        JobStatus::Error => {
            let outcome = record
                .outcome
                .as_ref()
                .expect("error status has an outcome");
            let code = outcome.error_code.as_deref().unwrap_or("VM Spawn Failed");
            Err(ApiError::Internal {
                code: static_code(code),
                message: outcome.error_message.clone().unwrap_or_default(),
                body: serde_json::to_value(view).ok(),
            })
        }
        JobStatus::Running | JobStatus::PendingPayment => Ok(with_poll_headers(
            id,
            (
                StatusCode::ACCEPTED,
                Json(Accepted::running(id, "Verification started")),
            ),
        )),
    }
}

/// `GET /verify/:id`: 202 while running, 200 once final (status `completed` or `error`) or
/// `escalated` (a split jury waits for `POST /jobs/:jobId/escalate`), 402 while a payment is
/// pending.
#[utoipa::path(get, path = "/verify/{id}", tag = "verify",
    params(("id" = uuid::Uuid, Path, description = "job id (UUID) returned by POST /verify; anything else is 400"),
        ("Prefer" = Option<String>, Header, description = "`wait=N` (RFC 7240): wait up to N seconds (at most the sync wait) for the job to be final before answering")),
    responses(
        (status = 200, description = "Final: completed (VALID, INVALID, ERROR, TIMEOUT) or error; or escalated (a split jury waits for POST /jobs/{jobId}/escalate)", body = JobView),
        (status = 202, description = "Queued or running", body = JobView,
            headers(("Location" = String, description = "where to poll: this job's /verify/{id}"),
                ("Retry-After" = u64, description = "seconds before polling again"))),
        (status = 400, description = "Bad Request: the id is not a UUID", body = ErrorBody),
        (status = 402, description = "Payment pending", body = JobView),
        (status = 404, description = "Not Found: no such job (or past its retention)", body = ErrorBody),
        (status = 429, description = "Rate Limited", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds until the window ends"))),
        (status = 503, description = "Service Unavailable: Redis away", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds to wait"))),
    ))]
pub async fn status(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = job_id(&id)?;
    let record = current(&state, id, &headers).await?;
    let code = match record.status() {
        JobStatus::PendingPayment => StatusCode::PAYMENT_REQUIRED,
        JobStatus::Running => {
            return Ok(with_poll_headers(
                id,
                (StatusCode::ACCEPTED, Json(JobView::from(&record))),
            ))
        }
        JobStatus::Completed | JobStatus::Error | JobStatus::Escalated => StatusCode::OK,
    };
    Ok((code, Json(JobView::from(&record))).into_response())
}

/// The `:id` of a job route.
pub(crate) fn job_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| ApiError::BadRequest {
        message: format!("{id:?} is not a job id (UUID)"),
        params: json!({"field": "id"}),
    })
}

/// The job as it is now or, if it is running and the client sent `Prefer: wait=N`, once final
/// or after N seconds (at most the sync wait), whichever comes first: a long poll.
pub(crate) async fn current(
    state: &AppState,
    id: Uuid,
    headers: &HeaderMap,
) -> Result<crate::record::JobRecord, ApiError> {
    let record = state
        .jobs
        .get(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("job {id} does not exist")))?;
    let wait = preferred_wait(headers).min(state.sync_wait);
    if record.status() != JobStatus::Running || wait.is_zero() {
        return Ok(record);
    }
    Ok(state.jobs.await_final(id, wait).await?.unwrap_or(record))
}

/// Seconds a client should wait before polling a running job again (`Retry-After` of a 202).
pub const POLL_AFTER_SECS: u64 = 1;

/// A 202 with where to poll (`Location`) and when (`Retry-After`).
pub(crate) fn with_poll_headers(id: Uuid, response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    let h = response.headers_mut();
    if let Ok(location) = HeaderValue::from_str(&format!("/verify/{id}")) {
        h.insert(header::LOCATION, location);
    }
    h.insert(header::RETRY_AFTER, HeaderValue::from(POLL_AFTER_SECS));
    response
}

/// `Prefer: wait=N` (RFC 7240, seconds); zero when absent or malformed.
fn preferred_wait(headers: &HeaderMap) -> Duration {
    preferences(headers)
        .find_map(|p| {
            let (name, value) = p.split_once('=')?;
            if !name.trim().eq_ignore_ascii_case("wait") {
                return None;
            }
            value.trim().trim_matches('"').parse::<u64>().ok()
        })
        .map_or(Duration::ZERO, Duration::from_secs)
}

/// Every preference of the `Prefer` headers (RFC 7240), trimmed.
fn preferences(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
}

/// `Prefer: respond-async` (RFC 7240) asks for an immediate 202.
fn prefers_async(headers: &HeaderMap) -> bool {
    preferences(headers).any(|p| p.eq_ignore_ascii_case("respond-async"))
}

/// The error-table codes an outcome can carry.
pub(crate) fn static_code(code: &str) -> &'static str {
    match code {
        "Registry Write Failed" => "Registry Write Failed",
        "Service Unavailable" => "Service Unavailable",
        _ => "VM Spawn Failed",
    }
}
