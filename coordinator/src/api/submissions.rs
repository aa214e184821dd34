//! Submissions of the open fleet (issue 12, document 000): `POST /jobs/:jobId/result` by a
//! provider seat (a tier-1 job) and `POST /jobs/:jobId/attest` by a verifier seat (a juror),
//! each `{"assignmentId", "report"}` with the signed report `notary-worker exec` prints. The
//! assignment must be the actor's, for this job and this kind of seat; then every check the
//! intake makes runs before the queue takes the report, and a failed one is a 422 naming it
//! (`params.check`), so a worker learns at once why its work does not count.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use notary_protocol::WorkerReport;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::actor::{ActorHeaders, Signed};
use super::assignments::{conflict, forbidden, keep_for, owned, roles_of};
use super::error::ApiError;
#[allow(unused_imports)] // named by the OpenAPI annotations
use super::openapi::ErrorBody;
use super::AppState;
use crate::assignments::Seat;
use crate::jobs::intake::Precheck;
use crate::workers::Role;

/// A submission's answer.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubmittedView {
    /// The job.
    pub job_id: String,
    /// The assignment it ended.
    pub assignment_id: String,
    /// Always true: the intake has it (a juror's answer stays sealed until its round closes).
    pub accepted: bool,
}

/// A submission body.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Submission {
    /// The assignment the report is for.
    pub assignment_id: String,
    /// The signed report, as `notary-worker exec` prints it.
    #[schema(value_type = Object)]
    pub report: WorkerReport,
}

/// `POST /jobs/:jobId/result`: a provider seat's report.
#[utoipa::path(post, path = "/jobs/{jobId}/result", tag = "workers",
    params(ActorHeaders, ("jobId" = String, Path, description = "the job")),
    request_body(content = Submission, content_type = "application/json"),
    responses(
        (status = 202, description = "Taken by the intake", body = SubmittedView),
        (status = 400, description = "Bad Request: not a submission", body = ErrorBody),
        (status = 401, description = "Unauthorized", body = ErrorBody),
        (status = 403, description = "Forbidden: another worker's assignment, or the role is missing", body = ErrorBody),
        (status = 404, description = "Not Found: no such assignment or job", body = ErrorBody),
        (status = 409, description = "Conflict: `params.reason` wrong_job, wrong_seat or job_final", body = ErrorBody),
        (status = 413, description = "Payload Too Large", body = ErrorBody),
        (status = 422, description = "A check failed: `params.check` (worker or report) and `params.detail`", body = ErrorBody),
        (status = 429, description = "Rate Limited", body = ErrorBody),
        (status = 503, description = "Service Unavailable", body = ErrorBody),
    ))]
pub async fn result(
    State(state): State<Arc<AppState>>,
    Path(job_id): Path<String>,
    signed: Signed,
) -> Result<(StatusCode, Json<SubmittedView>), ApiError> {
    submit(&state, &job_id, signed, Seat::Provider).await
}

/// `POST /jobs/:jobId/attest`: a verifier seat's (a juror's) report.
#[utoipa::path(post, path = "/jobs/{jobId}/attest", tag = "workers",
    params(ActorHeaders, ("jobId" = String, Path, description = "the job")),
    request_body(content = Submission, content_type = "application/json"),
    responses(
        (status = 202, description = "Taken by the intake (sealed until the round closes)", body = SubmittedView),
        (status = 400, description = "Bad Request: not a submission", body = ErrorBody),
        (status = 401, description = "Unauthorized", body = ErrorBody),
        (status = 403, description = "Forbidden: another worker's assignment, or the role is missing", body = ErrorBody),
        (status = 404, description = "Not Found: no such assignment or job", body = ErrorBody),
        (status = 409, description = "Conflict: `params.reason` wrong_job, wrong_seat or job_final", body = ErrorBody),
        (status = 413, description = "Payload Too Large", body = ErrorBody),
        (status = 422, description = "A check failed: `params.check` (worker or report) and `params.detail`", body = ErrorBody),
        (status = 429, description = "Rate Limited", body = ErrorBody),
        (status = 503, description = "Service Unavailable", body = ErrorBody),
    ))]
pub async fn attest(
    State(state): State<Arc<AppState>>,
    Path(job_id): Path<String>,
    signed: Signed,
) -> Result<(StatusCode, Json<SubmittedView>), ApiError> {
    submit(&state, &job_id, signed, Seat::Verifier).await
}

async fn submit(
    state: &AppState,
    job_id: &str,
    signed: Signed,
    route: Seat,
) -> Result<(StatusCode, Json<SubmittedView>), ApiError> {
    let fields = super::json::object(&signed.body)?;
    super::json::only(&fields, &["assignmentId", "report"])?;
    let submission: Submission = serde_json::from_value(Value::Object(fields))
        .map_err(|e| ApiError::field("report", format!("not a submission: {e}")))?;
    let id = submission.assignment_id;
    let assignment = owned(state, &id, signed.actor).await?;
    if assignment.lease.job.job_id != job_id || submission.report.job_id.to_string() != job_id {
        return Err(conflict(
            "wrong_job",
            format!(
                "assignment {id} is for job {}; the path and the report must name it",
                assignment.lease.job.job_id
            ),
        ));
    }
    let seat = Seat::of(&assignment.lease);
    if seat != route {
        let path = if seat == Seat::Provider {
            "result"
        } else {
            "attest"
        };
        return Err(conflict(
            "wrong_seat",
            format!(
                "assignment {id} is a {} seat: submit to /jobs/{job_id}/{path}",
                seat.as_str()
            ),
        ));
    }
    let role = match seat {
        Seat::Provider => Role::Provider,
        Seat::Verifier => Role::Verifier,
    };
    if !roles_of(state, signed.actor).await?.contains(&role) {
        return Err(forbidden(
            "wrong_role",
            format!("{} is not registered as a {}", signed.actor, role.as_str()),
        ));
    }
    let report = submission.report;
    if report.attestation.worker != signed.actor {
        return Err(refused(
            "worker",
            format!(
                "the attestation names {}, not the actor {}",
                report.attestation.worker, signed.actor
            ),
        ));
    }
    match state.jobs.precheck(&report).await? {
        Precheck::Passed => {}
        Precheck::UnknownJob => return Err(ApiError::NotFound(format!("no job {job_id}"))),
        Precheck::Final => {
            state.assignments.remove(&id).await?;
            return Err(conflict(
                "job_final",
                format!("job {job_id} is final already"),
            ));
        }
        Precheck::Refused(check, why) => return Err(refused(check, why)),
    }
    // Claimed first, so two concurrent submissions of one assignment submit once.
    if !state.assignments.remove(&id).await? {
        return Err(ApiError::NotFound(format!("no assignment {id}")));
    }
    let payload = serde_json::to_string(&report).map_err(crate::error::Error::from)?;
    if let Err(e) = state.jobs.queue().submit(&assignment.lease, payload).await {
        // The queue is away: the assignment stays, so the worker's retry finds it.
        let _ = state.assignments.put(&assignment, keep_for(state)).await;
        return Err(e.into());
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(SubmittedView {
            job_id: job_id.to_string(),
            assignment_id: id,
            accepted: true,
        }),
    ))
}

fn refused(check: &str, detail: String) -> ApiError {
    ApiError::Unprocessable {
        message: format!("the report failed the {check} check: {detail}"),
        params: json!({"reason": "check_failed", "check": check, "detail": detail}),
    }
}
