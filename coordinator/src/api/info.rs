//! `GET /info` in the shape of source document 001: the node's "containers" (here, the
//! registered modules) and its pending job counts.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use super::error::ApiError;
#[allow(unused_imports)] // named by the OpenAPI annotations
use super::openapi::ErrorBody;
use super::AppState;

/// `GET /info`: `{"containers": [{id, external, image, description}], "pending": {offchain,
/// onchain}}`. A container's `id` is `name@version`, its `image` the module hash (what a job
/// names as `moduleHash`); every module can start a job, so `external` is true. `offchain`
/// counts jobs queued or running; nothing is submitted on chain yet, so `onchain` is 0.
#[utoipa::path(get, path = "/info", tag = "verify",
    responses(
        (status = 200, description = "Containers (registered modules) and pending job counts", body = Object),
        (status = 429, description = "Rate Limited", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds to wait"))),
        (status = 503, description = "Service Unavailable", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds to wait"))),
    ))]
pub async fn info(State(state): State<Arc<AppState>>) -> Result<Json<Value>, ApiError> {
    let modules = state.modules.list().await?;
    let depth = state
        .jobs
        .queue()
        .depth()
        .await
        .map_err(crate::error::Error::from)?;
    let containers: Vec<Value> = modules
        .iter()
        .map(|m| {
            json!({
                "id": format!("{}@{}", m.manifest.name, m.manifest.version),
                "external": true,
                "image": m.manifest.sha256,
                "description": m.manifest.description,
            })
        })
        .collect();
    Ok(Json(json!({
        "containers": containers,
        "pending": {
            "offchain": depth.waiting + depth.leased,
            "onchain": 0,
        },
    })))
}
