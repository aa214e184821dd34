//! Liveness (`/health`), readiness (`/ready`) and the 404 fallback.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::Json;

use super::error::ApiError;
use super::openapi::{HealthBody, ReadyBody};
use super::AppState;

/// `GET /health`: 200 once the coordinator serves (it only binds after its backends and
/// workers are set up), with the backends' state.
#[utoipa::path(get, path = "/health", tag = "operations",
    responses(
        (status = 200, description = "Serving, backends answer", body = HealthBody),
        (status = 503, description = "Serving, but a backend does not answer", body = HealthBody),
    ))]
pub async fn health(State(state): State<Arc<AppState>>) -> (StatusCode, Json<HealthBody>) {
    let store = state.jobs.store().ping().await.is_ok();
    let queue = state.jobs.queue().ping().await.is_ok();
    let status = if store && queue {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(HealthBody {
            status: if status == StatusCode::OK {
                "ok"
            } else {
                "degraded"
            },
            store,
            queue,
        }),
    )
}

/// `GET /ready`: 200 when this coordinator can take work (its backends answered at the last
/// sample, the circuit breaker is not open, it is not shutting down), else 503. For load
/// balancers and orchestrators; `/health` says whether the process is alive.
#[utoipa::path(get, path = "/ready", tag = "operations",
    responses(
        (status = 200, description = "Can take work", body = ReadyBody),
        (status = 503, description = "Cannot take work now (Redis away, breaker open, draining)", body = ReadyBody),
    ))]
pub async fn ready(State(state): State<Arc<AppState>>) -> (StatusCode, Json<ReadyBody>) {
    let backends = state.protect.backends_up();
    let breaker = state.protect.breaker.state();
    let draining = state.draining.load(std::sync::atomic::Ordering::Relaxed);
    let ready = backends && !draining && breaker != crate::protect::BreakerState::Open;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(ReadyBody {
            ready,
            backends,
            breaker: breaker.as_str(),
            draining,
        }),
    )
}

/// Any other route.
pub async fn not_found(uri: Uri) -> ApiError {
    ApiError::NotFound(format!("no route for {}", uri.path()))
}
