//! `GET /workers` and `GET /workers/:address` (issues 11 and 12): every worker the coordinator
//! knows (allowed, registered, or booked on a jury) with its status, its registration (roles,
//! runtime, engine, approval) and its jury record: jobs, agreements, dissents, and whether it
//! is suspended from new juries.

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
use crate::payments::registry::{on_chain_worker, OnChainWorker};
use crate::workers::{Registered, Service, WorkerStats};

/// One worker.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkerView {
    /// Its signing address (checksummed).
    pub address: String,
    /// `suspended` (too many dissents; no new juries), `unapproved` (registered, waiting for
    /// an operator's approval), `active` (alive in the queue within the lease TTL) or
    /// `inactive`.
    pub status: &'static str,
    /// Whether it is on the operator's allow list (`--allow-worker`, or the coordinator's
    /// own).
    pub allowed: bool,
    /// Its registration, if it registered itself (open fleet).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration: Option<Registered>,
    /// What it earned from released marketplace deposits (token base units; 0 before its
    /// first share).
    pub earnings: u64,
    /// The services it declared (a provider; none: it serves every job).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<Service>,
    /// Its registry entry, when the fleet has a registry contract (`GET /workers/:address`
    /// and registration answers; the list leaves it out to spare the chain).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anchor: Option<OnChainWorker>,
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
        workers.push(view(&state, worker, alive.contains(&worker)).await?);
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
    let mut view = worker_view(&state, worker).await?;
    if let Some((chain, registry)) = super::registration::anchoring(&state) {
        view.anchor = on_chain_worker(chain, registry, worker)
            .await
            .map_err(|e| {
                tracing::warn!(%worker, error = %e, "reading the registry failed");
                ApiError::Unavailable("the registry contract could not be read; retry later".into())
            })?;
    }
    if !view.allowed && view.registration.is_none() && view.stats == WorkerStats::default() {
        return Err(ApiError::NotFound(format!("no worker {worker} is known")));
    }
    Ok(Json(view))
}

/// One worker's view, whatever the coordinator knows of it.
pub async fn worker_view(state: &AppState, worker: Address) -> crate::error::Result<WorkerView> {
    let alive = state.jobs.juries().alive().await?.contains(&worker);
    view(state, worker, alive).await
}

async fn view(state: &AppState, worker: Address, alive: bool) -> crate::error::Result<WorkerView> {
    let juries = state.jobs.juries();
    let stats = juries.book().stats(worker).await?;
    let registration = juries.book().registration(worker).await?;
    let services = if registration.is_some() {
        juries.book().services(worker).await?
    } else {
        Vec::new()
    };
    let allowed = juries.allowed().contains(&worker);
    let status = if stats.suspended_at_ms.is_some() {
        "suspended"
    } else if !allowed && !registration.as_ref().is_some_and(|r| r.approved) {
        "unapproved"
    } else if alive {
        "active"
    } else {
        "inactive"
    };
    Ok(WorkerView {
        address: worker.to_checksum(None),
        status,
        allowed,
        registration,
        services,
        earnings: juries.book().earnings(worker).await?,
        anchor: None,
        stats,
    })
}
