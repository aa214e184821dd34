//! Assignments over HTTP (issue 12): how a worker of the open fleet takes, keeps and finishes
//! its seats without reaching the fleet's Redis. Every route is actor-signed
//! ([`super::actor`]).
//!
//! - `GET /assignments?waitSeconds=N`: the actor's next seat (its jury seats first, then tier-1
//!   jobs), waiting up to N seconds (at most [`MAX_WAIT_SECS`]); 204 when there is none.
//! - `POST /assignments/:id/heartbeat`: renews the lease (409 `lease_lost` when it was reaped).
//! - `POST /assignments/:id/release`: gives the seat back at once (shutting down).
//! - `POST /assignments/:id/output`: a piece of a streamed job's live stdout (the job's spec
//!   has `stream`), appended to the job's output log for `POST /api/jobs/stream`.
//! - `GET /assignments/stream` ([`super::assignment_stream`]): the same seats as server-sent
//!   events.
//! - Submissions ([`super::submissions`]): `POST /jobs/:jobId/result` and `/attest`.
//!
//! The coordinator leases from the same queue as Redis workers, in the actor's name (its
//! address is the lease identity), so leases, heartbeats, reaping, delivery limits and
//! targeted seats are the same: a remote juror that stops heartbeating loses its seat to the
//! next juror in the seeded order.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use notary_protocol::Address;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::actor::{ActorHeaders, Signed};
use super::error::ApiError;
#[allow(unused_imports)] // named by the OpenAPI annotations
use super::openapi::ErrorBody;
use super::AppState;
use crate::assignments::{Assignment, Seat};
use crate::record::now_ms;
use crate::workers::Role;

/// Longest long poll, seconds.
pub const MAX_WAIT_SECS: u64 = 20;
/// The header naming the worker process (and slot) that holds a lease.
pub const WORKER_ID_HEADER: &str = "x-notary-worker-id";

/// A seat handed to a remote worker.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssignmentView {
    /// Name it by this id to heartbeat, release or submit.
    pub assignment_id: String,
    /// The job.
    pub job_id: String,
    /// `provider` (a tier-1 job: submit to `POST /jobs/:jobId/result`) or `verifier` (a jury
    /// seat: `POST /jobs/:jobId/attest`).
    pub seat: Seat,
    /// Which delivery of the job (1 for the first).
    pub attempt: u32,
    /// The job spec to run (`notary-worker exec` runs one).
    #[schema(value_type = Object)]
    pub job: Value,
    /// The lease lapses this long after the last heartbeat (heartbeat every third of it).
    pub lease_ttl_ms: u64,
    /// When the lease lapses without a heartbeat (unix ms).
    pub lease_expires_at_ms: u64,
    /// Where the result goes.
    pub submit_to: String,
}

/// A heartbeat's answer.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HeartbeatView {
    /// Always true (a lost lease is a 409).
    pub held: bool,
    /// When the lease lapses without another heartbeat (unix ms).
    pub lease_expires_at_ms: u64,
}

/// A release's answer.
#[derive(Serialize, ToSchema)]
pub struct ReleaseView {
    /// Whether the seat went back to the queue now (false: the lease had lapsed already).
    pub released: bool,
}

/// What roles an actor may act in: the allow list's workers hold both; a registered worker
/// the roles it registered, once approved.
pub(super) async fn roles_of(state: &AppState, actor: Address) -> Result<Vec<Role>, ApiError> {
    let juries = state.jobs.juries();
    if juries.allowed().contains(&actor) {
        return Ok(vec![Role::Provider, Role::Verifier]);
    }
    match juries.book().registration(actor).await? {
        Some(r) if r.approved => Ok(r.roles),
        Some(_) => Err(forbidden(
            "not_approved",
            format!("{actor} is registered but not approved yet"),
        )),
        None => Err(forbidden(
            "not_registered",
            format!("{actor} has not registered (POST /providers/register or /verifiers/register)"),
        )),
    }
}

pub(super) fn forbidden(reason: &str, message: String) -> ApiError {
    ApiError::Forbidden {
        message,
        params: json!({ "reason": reason }),
    }
}

pub(super) fn conflict(reason: &str, message: String) -> ApiError {
    ApiError::Conflict {
        message,
        params: json!({ "reason": reason }),
    }
}

/// How long an assignment outlives its last heartbeat: the lease TTL and then some, so a
/// submission right after a slow run still finds it (the queue decides whether the lease held).
pub(super) fn keep_for(state: &AppState) -> Duration {
    (state.lease_ttl * 4).max(Duration::from_secs(60))
}

/// A signed route's query parameters: each of `supported`, or `nonce` (ignored: it makes
/// otherwise equal signed requests differ); 400 naming any other.
pub(super) fn query_params<'q>(
    query: Option<&'q str>,
    supported: &[&'static str],
) -> Result<Vec<(&'q str, &'q str)>, ApiError> {
    let mut params = Vec::new();
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if name == "nonce" && value.len() <= 64 {
            continue;
        }
        if !supported.contains(&name) {
            let mut all = supported.to_vec();
            all.push("nonce");
            return Err(ApiError::field_with(
                name,
                format!("unknown query parameter {name:?}"),
                json!({"reason": "unknown_field", "supported": all}),
            ));
        }
        params.push((name, value));
    }
    Ok(params)
}

/// `waitSeconds`.
fn wait_of(query: Option<&str>) -> Result<Duration, ApiError> {
    let mut wait = 0;
    for (_, value) in query_params(query, &["waitSeconds"])? {
        wait = value.parse::<u64>().map_err(|_| {
            ApiError::field(
                "waitSeconds",
                "waitSeconds must be a whole number of seconds",
            )
        })?;
    }
    Ok(Duration::from_secs(wait.min(MAX_WAIT_SECS)))
}

/// The queue consumer a remote worker's leases are held by: its address and process.
pub(super) fn consumer(actor: Address, headers: &HeaderMap) -> Result<String, ApiError> {
    let id = headers
        .get(WORKER_ID_HEADER)
        .map(|v| v.to_str().unwrap_or("\u{0}"))
        .unwrap_or("default");
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    if !ok {
        return Err(ApiError::field(
            WORKER_ID_HEADER,
            "x-notary-worker-id: 1 to 64 of A-Z a-z 0-9 - _ . :",
        ));
    }
    Ok(format!("http-{actor:#x}-{id}"))
}

/// `GET /assignments`: the actor's next seat.
#[utoipa::path(get, path = "/assignments", tag = "workers",
    params(ActorHeaders,
        ("waitSeconds" = Option<u64>, Query, description = "long poll: wait up to this many seconds (at most 20) for a seat"),
        ("nonce" = Option<String>, Query, description = "ignored: makes two otherwise equal signed requests differ"),
        ("x-notary-worker-id" = Option<String>, Header, description = "the worker process (and slot) that will hold the lease")),
    responses(
        (status = 200, description = "A seat", body = AssignmentView),
        (status = 204, description = "No seat within the wait"),
        (status = 400, description = "Bad Request: a bad query parameter or worker id", body = ErrorBody),
        (status = 401, description = "Unauthorized: `params.reason` is missing, bad_signature, expired or replayed", body = ErrorBody),
        (status = 403, description = "Forbidden: `params.reason` not_registered or not_approved", body = ErrorBody),
        (status = 429, description = "Rate Limited", body = ErrorBody),
        (status = 503, description = "Service Unavailable: a backend is away", body = ErrorBody),
    ))]
pub async fn next(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    signed: Signed,
) -> Result<Response, ApiError> {
    let wait = wait_of(query.as_deref())?;
    let consumer = consumer(signed.actor, &headers)?;
    let roles = roles_of(&state, signed.actor).await?;
    let identity = format!("{:#x}", signed.actor);
    // Leased in a task of its own, so a client that hangs up mid-wait does not drop a lease
    // half-taken (it would then lapse, costing the job a delivery).
    let task = {
        let state = state.clone();
        tokio::spawn(async move { lease(&state, &consumer, &identity, wait, &roles).await })
    };
    let found = task
        .await
        .map_err(|e| ApiError::Unavailable(format!("leasing failed: {e}")))??;
    Ok(match found {
        Some(view) => (StatusCode::OK, Json(view)).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

pub(super) async fn lease(
    state: &AppState,
    consumer: &str,
    identity: &str,
    wait: Duration,
    roles: &[Role],
) -> Result<Option<AssignmentView>, ApiError> {
    let queue = state.jobs.queue();
    // A worker registered only as verifier sits on juries only: no tier-1 jobs. A suspended
    // worker takes no new seats: it finishes the jury seats it holds.
    let actor: Address = identity
        .parse()
        .map_err(|_| ApiError::Unavailable("bad identity".into()))?;
    let suspended = state
        .jobs
        .juries()
        .book()
        .suspended()
        .await?
        .contains(&actor);
    let leased = if roles.contains(&Role::Provider) && !suspended {
        queue.lease_as(consumer, identity, wait).await?
    } else {
        queue.lease_seats(consumer, identity, wait).await?
    };
    let Some(mut lease) = leased else {
        return Ok(None);
    };
    let seat = Seat::of(&lease);
    let job: Value = serde_json::from_str(&lease.job.payload).unwrap_or(Value::Null);
    let job_id = lease.job.job_id.clone();
    let attempt = lease.job.attempt;
    lease.job.payload = String::new();
    let assignment = Assignment {
        id: uuid::Uuid::new_v4().to_string(),
        actor,
        lease,
    };
    state.assignments.put(&assignment, keep_for(state)).await?;
    let path = match seat {
        Seat::Provider => "result",
        Seat::Verifier => "attest",
    };
    tracing::debug!(
        job_id,
        worker = identity,
        seat = seat.as_str(),
        "seat assigned over HTTP"
    );
    Ok(Some(AssignmentView {
        assignment_id: assignment.id,
        submit_to: format!("/jobs/{job_id}/{path}"),
        job_id,
        seat,
        attempt,
        job,
        lease_ttl_ms: state.lease_ttl.as_millis() as u64,
        lease_expires_at_ms: now_ms() + state.lease_ttl.as_millis() as u64,
    }))
}

/// The actor's assignment `id` (404 when it ended or never was; 403 when it is another's).
pub(super) async fn owned(
    state: &AppState,
    id: &str,
    actor: Address,
) -> Result<Assignment, ApiError> {
    let assignment = state.assignments.get(id).await?.ok_or_else(|| {
        ApiError::NotFound(format!(
            "no assignment {id} (it ended, lapsed or never was)"
        ))
    })?;
    if assignment.actor != actor {
        return Err(forbidden(
            "not_your_assignment",
            format!("assignment {id} belongs to another worker"),
        ));
    }
    Ok(assignment)
}

/// `POST /assignments/:id/heartbeat`.
#[utoipa::path(post, path = "/assignments/{id}/heartbeat", tag = "workers",
    params(ActorHeaders, ("id" = String, Path, description = "the assignment id")),
    responses(
        (status = 200, description = "Renewed", body = HeartbeatView),
        (status = 401, description = "Unauthorized", body = ErrorBody),
        (status = 403, description = "Forbidden: another worker's assignment", body = ErrorBody),
        (status = 404, description = "Not Found: the assignment ended or lapsed", body = ErrorBody),
        (status = 409, description = "Conflict: `params.reason` lease_lost (reaped: the seat is someone else's now)", body = ErrorBody),
        (status = 429, description = "Rate Limited", body = ErrorBody),
        (status = 503, description = "Service Unavailable", body = ErrorBody),
    ))]
pub async fn heartbeat(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    signed: Signed,
) -> Result<Json<HeartbeatView>, ApiError> {
    let assignment = owned(&state, &id, signed.actor).await?;
    if !state.jobs.queue().heartbeat(&assignment.lease).await? {
        state.assignments.remove(&id).await?;
        return Err(conflict(
            "lease_lost",
            format!("the lease of assignment {id} lapsed and was reclaimed"),
        ));
    }
    state.assignments.touch(&id, keep_for(&state)).await?;
    Ok(Json(HeartbeatView {
        held: true,
        lease_expires_at_ms: now_ms() + state.lease_ttl.as_millis() as u64,
    }))
}

/// `POST /assignments/:id/release`.
#[utoipa::path(post, path = "/assignments/{id}/release", tag = "workers",
    params(ActorHeaders, ("id" = String, Path, description = "the assignment id")),
    responses(
        (status = 200, description = "Released (or lapsed already)", body = ReleaseView),
        (status = 401, description = "Unauthorized", body = ErrorBody),
        (status = 403, description = "Forbidden: another worker's assignment", body = ErrorBody),
        (status = 404, description = "Not Found: the assignment ended or lapsed", body = ErrorBody),
        (status = 429, description = "Rate Limited", body = ErrorBody),
        (status = 503, description = "Service Unavailable", body = ErrorBody),
    ))]
pub async fn release(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    signed: Signed,
) -> Result<Json<ReleaseView>, ApiError> {
    let assignment = owned(&state, &id, signed.actor).await?;
    if !state.assignments.remove(&id).await? {
        return Err(ApiError::NotFound(format!("no assignment {id}")));
    }
    let released = state.jobs.queue().release(&assignment.lease).await?;
    Ok(Json(ReleaseView { released }))
}

/// A piece of live output (`POST /assignments/:id/output`): `data` (base64) written at byte
/// `offset` of this delivery's stdout, or `end: true` once the run is over.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OutputBody {
    /// The bytes, base64.
    #[serde(default)]
    pub data: Option<String>,
    /// Where in this delivery's stdout they start.
    #[serde(default)]
    pub offset: Option<u64>,
    /// The run is over: nothing more comes.
    #[serde(default)]
    pub end: bool,
}

/// An output piece's answer.
#[derive(Serialize, ToSchema)]
pub struct OutputView {
    /// Always true: appended to the job's output log.
    pub accepted: bool,
}

/// `POST /assignments/:id/output`.
#[utoipa::path(post, path = "/assignments/{id}/output", tag = "workers",
    params(ActorHeaders, ("id" = String, Path, description = "the assignment id")),
    request_body(content = OutputBody, content_type = "application/json"),
    responses(
        (status = 202, description = "Appended to the job's output log", body = OutputView),
        (status = 400, description = "Bad Request: not an output piece", body = ErrorBody),
        (status = 401, description = "Unauthorized", body = ErrorBody),
        (status = 403, description = "Forbidden: another worker's assignment", body = ErrorBody),
        (status = 404, description = "Not Found: the assignment ended or lapsed", body = ErrorBody),
        (status = 429, description = "Rate Limited", body = ErrorBody),
        (status = 503, description = "Service Unavailable", body = ErrorBody),
    ))]
pub async fn output(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    signed: Signed,
) -> Result<(StatusCode, Json<OutputView>), ApiError> {
    let fields = super::json::object(&signed.body)?;
    super::json::only(&fields, &["data", "offset", "end"])?;
    let body: OutputBody = serde_json::from_value(Value::Object(fields))
        .map_err(|e| ApiError::field("data", format!("not an output piece: {e}")))?;
    let assignment = owned(&state, &id, signed.actor).await?;
    let attempt = assignment.lease.job.attempt;
    let piece = match (body.data, body.offset, body.end) {
        (None, None, true) => notary_queue::OutputPiece::End { attempt },
        (Some(data), Some(offset), false) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(data.as_bytes())
                .map_err(|e| ApiError::field("data", format!("data must be base64: {e}")))?;
            if bytes.len() > notary_queue::OUTPUT_PIECE_MAX {
                return Err(ApiError::field(
                    "data",
                    format!(
                        "a piece holds at most {} bytes",
                        notary_queue::OUTPUT_PIECE_MAX
                    ),
                ));
            }
            notary_queue::OutputPiece::Data {
                attempt,
                offset,
                bytes,
            }
        }
        _ => {
            return Err(ApiError::field(
                "data",
                "an output piece is {\"data\", \"offset\"} or {\"end\": true}",
            ))
        }
    };
    state
        .jobs
        .queue()
        .append_output(&assignment.lease.job.job_id, &piece)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(OutputView { accepted: true })))
}
