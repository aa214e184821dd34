//! `GET /info` in the shape of source document 001: the node's "containers" (here, the
//! registered modules) and its pending job counts.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::ApiError;
#[allow(unused_imports)] // named by the OpenAPI annotations
use super::openapi::ErrorBody;
use super::AppState;

/// `GET /info`: `{"containers": [{id, external, image, description}], "pending": {offchain,
/// onchain}}`. A container's `id` is `name@version`, its `image` the module hash (what a job
/// names as `moduleHash`); every module can start a job, so `external` is true. `offchain`
/// counts jobs queued or running, `onchain` the intervals of on-chain requests
/// (`--compute-coordinator`) not delivered yet, due or not.
#[utoipa::path(get, path = "/info", tag = "verify",
    responses(
        (status = 200, description = "Containers (registered modules) and pending job counts", body = InfoView),
        (status = 429, description = "Rate Limited", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds to wait"))),
        (status = 503, description = "Service Unavailable", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds to wait"))),
    ))]
pub async fn info(State(state): State<Arc<AppState>>) -> Result<Json<InfoView>, ApiError> {
    let modules = state.modules.list().await?;
    let depth = state
        .jobs
        .queue()
        .depth()
        .await
        .map_err(crate::error::Error::from)?;
    Ok(Json(InfoView {
        containers: modules
            .iter()
            .map(|m| Container {
                id: format!("{}@{}", m.manifest.name, m.manifest.version),
                external: true,
                image: m.manifest.sha256.to_hex(),
                description: m.manifest.description.clone(),
            })
            .collect(),
        pending: Pending {
            offchain: depth.waiting + depth.leased,
            onchain: state
                .onchain_pending
                .load(std::sync::atomic::Ordering::Relaxed),
        },
    }))
}

/// Document 001's node info.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct InfoView {
    /// The registered modules, oldest first.
    pub containers: Vec<Container>,
    /// Jobs not yet final.
    pub pending: Pending,
}

/// A registered module as document 001's container.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Container {
    /// `name@version` (a name and version belong to one module).
    pub id: String,
    /// Whether jobs may start it: always true here.
    pub external: bool,
    /// The module hash (what a job names as `moduleHash`).
    pub image: String,
    /// The manifest's description.
    pub description: String,
}

/// Jobs queued or running.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Pending {
    /// Jobs submitted through the API, queued or running.
    pub offchain: u64,
    /// Intervals of on-chain requests not delivered yet (due or not).
    pub onchain: u64,
}
