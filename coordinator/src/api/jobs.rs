//! `POST /jobs/:jobId/escalate` (source document 000): a split jury's job gets a fresh jury of
//! the next tier (3 -> 5 -> 7) that excludes every earlier juror. Free for the requester: a
//! split jury is the fleet's problem, not the client's. Like the job's view, the route needs
//! only the job id.
//!
//! `GET /jobs/:jobId` (document 000): the full record, the job's view plus the spec the
//! workers ran, so anyone can run it again and compare (`notary-worker reverify`).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::ApiError;
#[allow(unused_imports)] // named by the OpenAPI annotations
use super::openapi::ErrorBody;
use super::verify::{job_id, with_poll_headers};
use super::view::JobView;
use super::AppState;

/// `POST /jobs/:jobId/escalate`.
#[utoipa::path(post, path = "/jobs/{jobId}/escalate", tag = "verify",
    params(("jobId" = uuid::Uuid, Path, description = "an escalated job's id")),
    responses(
        (status = 202, description = "A fresh jury of the next tier is seated; the job runs again (poll its /verify/{id})", body = JobView,
            headers(("Location" = String, description = "where to poll: this job's /verify/{id}"),
                ("Retry-After" = u64, description = "seconds before polling again"))),
        (status = 400, description = "Bad Request: the id is not a UUID", body = ErrorBody),
        (status = 404, description = "Not Found: no such job", body = ErrorBody),
        (status = 409, description = "Conflict: the job is not escalated (`params.reason`: `not_escalated`), its jury is at tier 7 (`max_tier`), or too few fresh eligible workers (`not_enough_workers`); nothing changed", body = ErrorBody),
        (status = 429, description = "Rate Limited", body = ErrorBody),
        (status = 503, description = "Service Unavailable: a backend is away", body = ErrorBody),
    ))]
pub async fn escalate(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = job_id(&id)?;
    let record = state
        .jobs
        .escalate(id)
        .await??
        .ok_or_else(|| ApiError::NotFound(format!("job {id} does not exist")))?;
    Ok(with_poll_headers(id, (StatusCode::ACCEPTED, Json(JobView::from(&record)))).into_response())
}

/// `GET /jobs/:jobId`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobRecordView {
    /// The job as `GET /verify/:id` shows it.
    #[serde(flatten)]
    pub job: JobView,
    /// The job spec every worker ran (program, input, hashes, fuel budget, attestation
    /// domain): run it again to check the attestations.
    #[schema(value_type = Object)]
    pub spec: serde_json::Value,
    /// A paid job's settlement (state, transactions, payouts), as `GET /jobs/{jobId}/result`
    /// shows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settlement: Option<super::job_list::SettlementView>,
}

/// `GET /jobs/:jobId`: the full record (request, jury rounds, attestations, payment and
/// settlement).
#[utoipa::path(get, path = "/jobs/{jobId}", tag = "verify",
    params(("jobId" = uuid::Uuid, Path, description = "a job's id")),
    responses(
        (status = 200, description = "The job and the spec its workers ran", body = JobRecordView),
        (status = 400, description = "Bad Request: the id is not a UUID", body = ErrorBody),
        (status = 404, description = "Not Found: no such job", body = ErrorBody),
        (status = 429, description = "Rate Limited", body = ErrorBody),
        (status = 503, description = "Service Unavailable: a backend is away", body = ErrorBody),
    ))]
pub async fn record(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<JobRecordView>, ApiError> {
    let record = stored(&state, job_id(&id)?).await?;
    Ok(Json(JobRecordView {
        job: super::job_list::view_of(&state, &record).await?,
        spec: serde_json::to_value(&record.spec).map_err(crate::error::Error::from)?,
        settlement: super::job_list::settlement_of(&state, record.id()).await?,
    }))
}

/// A stored job, or 404.
pub(super) async fn stored(
    state: &AppState,
    id: uuid::Uuid,
) -> Result<crate::record::JobRecord, ApiError> {
    state
        .jobs
        .store()
        .get(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("job {id} does not exist")))
}
