//! Liveness and the 404 fallback.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::Json;
use serde_json::{json, Value};

use super::AppState;
use crate::error::ApiError;

/// `GET /health`: 200 once the coordinator serves (it only binds after its backends and
/// workers are set up), with the backends' state.
pub async fn health(State(state): State<Arc<AppState>>) -> (StatusCode, Json<Value>) {
    let store = state.store.ping().await.is_ok();
    let queue = state.queue.ping().await.is_ok();
    let status = if store && queue {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(
            json!({"status": if status == StatusCode::OK { "ok" } else { "degraded" }, "store": store, "queue": queue}),
        ),
    )
}

/// Any other route.
pub async fn not_found(uri: Uri) -> ApiError {
    ApiError::NotFound(format!("no route for {}", uri.path()))
}
