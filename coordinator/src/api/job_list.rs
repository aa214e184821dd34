//! `GET /jobs` and `GET /jobs/:jobId/result` (issue 13, document 000).
//!
//! - `GET /jobs?limit=&cursor=&status=`: jobs newest first, `limit` (1 to 100, default 20) per
//!   page; `nextCursor` (opaque) continues after the page's last job, `null` at the end.
//!   `status` keeps only jobs in that state; a page looks at most [`MAX_SCAN`] jobs, so a
//!   filtered page may be short with a `nextCursor` to go on from.
//! - `GET /jobs/:jobId/result`: the job's status, result, attestations and, with payments on,
//!   its settlement (`pending`, `recorded`: written to the registry and kept, or `refunded`).
//!
//! Job records are public by id, as their registry records are; the list shows each job's view
//! (hashes and outcome, never the program or its input).

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::Json;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::error::ApiError;
#[allow(unused_imports)] // named by the OpenAPI annotations
use super::openapi::ErrorBody;
use super::verify::job_id;
use super::view::{AttestationView, JobView};
use super::AppState;
use crate::record::{JobRecord, JobStatus};

/// Largest page.
pub const MAX_LIMIT: usize = 100;
/// Default page.
pub const DEFAULT_LIMIT: usize = 20;
/// Most jobs one filtered page looks at.
pub const MAX_SCAN: usize = 1000;

/// `GET /jobs`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobList {
    /// Newest first.
    pub jobs: Vec<JobView>,
    /// Pass as `cursor` for the next page; `null` when there is none.
    pub next_cursor: Option<String>,
}

/// A paid job's settlement.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SettlementView {
    /// `pending` (not settled yet), `recorded` (the result is in the registry; the payment is
    /// kept), `released` (a marketplace deposit paid out to the seats that decided and the
    /// operator) or `refunded`.
    pub state: &'static str,
    /// The registry transaction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry_tx_hash: Option<String>,
    /// The refund transaction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund_tx_hash: Option<String>,
    /// A released deposit's transaction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release_tx_hash: Option<String>,
    /// Who a released deposit paid.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub payouts: Vec<crate::payments::Payout>,
}

/// `GET /jobs/:jobId/result`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobResultView {
    /// The job id.
    pub job_id: Uuid,
    /// `running`, `escalated`, `completed` or `error`.
    pub status: JobStatus,
    /// `VALID`, `INVALID`, `ERROR` or `TIMEOUT`, once completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<&'static str>,
    /// sha256 of the program's stdout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual_hash: Option<String>,
    /// Fuel consumed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fuel_used: Option<u64>,
    /// Every attestation the result stands on (one worker's, or the deciding round's agreeing
    /// jurors').
    pub attestations: Vec<AttestationView>,
    /// With payments on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settlement: Option<SettlementView>,
}

fn bad_query(field: &str, message: String) -> ApiError {
    ApiError::field(field, message)
}

/// A position in the list: the last job shown (created ms, id).
type Cursor = (u64, Uuid);

/// The query: limit, cursor, status.
fn parse_query(
    query: Option<&str>,
) -> Result<(usize, Option<Cursor>, Option<JobStatus>), ApiError> {
    let (mut limit, mut cursor, mut status) = (DEFAULT_LIMIT, None, None);
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        match name {
            "limit" => {
                limit = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| {
                        bad_query("limit", format!("limit must be from 1 to {MAX_LIMIT}"))
                    })?
            }
            "cursor" => {
                cursor = Some(
                    value
                        .split_once('_')
                        .and_then(|(ms, id)| Some((ms.parse().ok()?, id.parse().ok()?)))
                        .ok_or_else(|| {
                            bad_query("cursor", "cursor must be a nextCursor of this route".into())
                        })?,
                )
            }
            "status" => {
                status = Some(
                    [
                        JobStatus::Running,
                        JobStatus::Escalated,
                        JobStatus::Completed,
                        JobStatus::Error,
                    ]
                    .into_iter()
                    .find(|s| s.as_str() == value)
                    .ok_or_else(|| {
                        ApiError::field_with(
                            "status",
                            format!("unknown status {value:?}"),
                            json!({"supported": ["running", "escalated", "completed", "error"]}),
                        )
                    })?,
                )
            }
            _ => {
                return Err(ApiError::field_with(
                    name,
                    format!("unknown query parameter {name:?}"),
                    json!({"reason": "unknown_field", "supported": ["limit", "cursor", "status"]}),
                ))
            }
        }
    }
    Ok((limit, cursor, status))
}

/// A job's view with its payment, when it was paid.
/// A paid job's settlement (`None` for a job that was never paid).
pub(super) async fn settlement_of(
    state: &AppState,
    id: Uuid,
) -> Result<Option<SettlementView>, ApiError> {
    let Some(p) = &state.payments else {
        return Ok(None);
    };
    Ok(p.job_payment(id).await?.map(|(_, s)| SettlementView {
        state: if s.refund_tx_hash.is_some() {
            "refunded"
        } else if s.release_tx_hash.is_some() {
            "released"
        } else if s.registry_tx_hash.is_some() && s.settled {
            "recorded"
        } else {
            "pending"
        },
        registry_tx_hash: s.registry_tx_hash.map(|h| h.to_string()),
        refund_tx_hash: s.refund_tx_hash.map(|h| h.to_string()),
        release_tx_hash: s.release_tx_hash.map(|h| h.to_string()),
        payouts: s.payouts,
    }))
}

/// A job's view, with its payment when it was paid.
pub(super) async fn view_of(state: &AppState, record: &JobRecord) -> Result<JobView, ApiError> {
    if let Some(p) = &state.payments {
        if let Some((payment, s)) = p.job_payment(record.id()).await? {
            return Ok(crate::api::payments::paid_view(record, &payment, &s));
        }
    }
    Ok(JobView::from(record))
}

/// `GET /jobs`.
#[utoipa::path(get, path = "/jobs", tag = "verify",
    params(
        ("limit" = Option<u64>, Query, description = "jobs per page, 1 to 100 (default 20)"),
        ("cursor" = Option<String>, Query, description = "a nextCursor of this route"),
        ("status" = Option<String>, Query, description = "running, escalated, completed or error")),
    responses(
        (status = 200, description = "Jobs, newest first", body = JobList),
        (status = 400, description = "Bad Request: `params.field` names the bad query parameter", body = ErrorBody),
        (status = 429, description = "Rate Limited", body = ErrorBody),
        (status = 503, description = "Service Unavailable: a backend is away", body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
) -> Result<Json<JobList>, ApiError> {
    let (limit, mut cursor, status) = parse_query(query.as_deref())?;
    let store = state.jobs.store();
    let mut jobs = Vec::with_capacity(limit);
    let mut scanned = 0;
    let mut more = true;
    while jobs.len() < limit && scanned < MAX_SCAN {
        let want = if status.is_some() {
            (limit - jobs.len()).max(50).min(MAX_SCAN - scanned)
        } else {
            limit - jobs.len()
        };
        let page = store.recent(cursor, want).await?;
        scanned += page.len();
        more = page.len() == want;
        for record in &page {
            cursor = Some((record.created_at_ms, record.id()));
            let view = view_of(&state, record).await?;
            if status.is_none_or(|s| view.status == s) {
                jobs.push(view);
                if jobs.len() == limit {
                    break;
                }
            }
        }
        if !more {
            break;
        }
    }
    // A full page may be the last one: the next request then answers an empty page.
    let next_cursor = if more || jobs.len() == limit {
        cursor.map(|(ms, id)| format!("{ms}_{id}"))
    } else {
        None
    };
    Ok(Json(JobList { jobs, next_cursor }))
}

/// `GET /jobs/:jobId/result`.
#[utoipa::path(get, path = "/jobs/{jobId}/result", tag = "verify",
    params(("jobId" = Uuid, Path, description = "a job's id")),
    responses(
        (status = 200, description = "Status, result, attestations and settlement", body = JobResultView),
        (status = 400, description = "Bad Request: the id is not a UUID", body = ErrorBody),
        (status = 404, description = "Not Found: no such job", body = ErrorBody),
        (status = 429, description = "Rate Limited", body = ErrorBody),
        (status = 503, description = "Service Unavailable: a backend is away", body = ErrorBody),
    ))]
pub async fn result(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<JobResultView>, ApiError> {
    let id = job_id(&id)?;
    let record = super::jobs::stored(&state, id).await?;
    let settlement = settlement_of(&state, id).await?;
    let view = view_of(&state, &record).await?;
    let attestations = if view.attestations.is_empty() {
        view.attestation.into_iter().collect()
    } else {
        view.attestations
    };
    Ok(Json(JobResultView {
        job_id: id,
        status: view.status,
        result: view.result,
        actual_hash: view.actual_hash,
        fuel_used: view.fuel_used,
        attestations,
        settlement,
    }))
}
