//! `GET /workers` and `GET /workers/:address` (issue 11): every worker the coordinator knows
//! (allowed, or booked on a jury) with its status and its jury record: jobs, agreements,
//! dissents, and whether it is suspended from new juries.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Json;
use notary_protocol::Address;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::error::ApiError;
#[allow(unused_imports)] // named by the OpenAPI annotations
use super::openapi::ErrorBody;
use super::AppState;
use crate::workers::WorkerStats;

/// One worker.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkerView {
    /// Its signing address (checksummed).
    pub address: String,
    /// `suspended` (too many dissents; no new juries), `active` (alive in the queue within
    /// the lease TTL) or `inactive`.
    pub status: &'static str,
    /// Whether its attestations are accepted (`--allow-worker`, or the coordinator's own).
    pub allowed: bool,
    /// Its jury record.
    #[serde(flatten)]
    pub stats: WorkerStats,
}

/// `GET /workers`.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct WorkerList {
    /// Ascending by address.
    pub workers: Vec<WorkerView>,
}

/// `GET /workers`: every allowed or booked worker.
#[utoipa::path(get, path = "/workers", tag = "workers",
    responses(
        (status = 200, description = "Every worker: status and jury record", body = WorkerList),
        (status = 429, description = "Rate Limited", body = ErrorBody),
        (status = 503, description = "Service Unavailable: a backend is away", body = ErrorBody),
    ))]
pub async fn list(State(state): State<Arc<AppState>>) -> Result<Json<WorkerList>, ApiError> {
    let juries = state.jobs.juries();
    let mut known: BTreeSet<Address> = juries.allowed().iter().copied().collect();
    known.extend(juries.book().workers().await?);
    let mut workers = Vec::with_capacity(known.len());
    let alive = juries.alive().await?;
    for worker in known {
        let stats = juries.book().stats(worker).await?;
        workers.push(view(&state, worker, stats, alive.contains(&worker)));
    }
    Ok(Json(WorkerList { workers }))
}

/// `GET /workers/:address`.
#[utoipa::path(get, path = "/workers/{address}", tag = "workers",
    params(("address" = String, Path, description = "a worker's 0x address")),
    responses(
        (status = 200, description = "The worker", body = WorkerView),
        (status = 400, description = "Bad Request: not an address", body = ErrorBody),
        (status = 404, description = "Not Found: neither allowed nor ever on a jury", body = ErrorBody),
        (status = 429, description = "Rate Limited", body = ErrorBody),
        (status = 503, description = "Service Unavailable: a backend is away", body = ErrorBody),
    ))]
pub async fn show(
    State(state): State<Arc<AppState>>,
    Path(address): Path<String>,
) -> Result<Json<WorkerView>, ApiError> {
    let worker: Address = address.parse().map_err(|_| ApiError::BadRequest {
        message: format!("{address:?} is not an address (0x and 40 hex characters)"),
        params: json!({"field": "address"}),
    })?;
    let juries = state.jobs.juries();
    let stats = juries.book().stats(worker).await?;
    if !juries.allowed().contains(&worker) && stats == WorkerStats::default() {
        return Err(ApiError::NotFound(format!("no worker {worker} is known")));
    }
    let alive = juries.alive().await?.contains(&worker);
    Ok(Json(view(&state, worker, stats, alive)))
}

fn view(state: &AppState, worker: Address, stats: WorkerStats, alive: bool) -> WorkerView {
    let status = if stats.suspended_at_ms.is_some() {
        "suspended"
    } else if alive {
        "active"
    } else {
        "inactive"
    };
    WorkerView {
        address: worker.to_checksum(None),
        status,
        allowed: state.jobs.juries().allowed().contains(&worker),
        stats,
    }
}
