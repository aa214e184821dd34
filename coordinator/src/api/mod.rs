//! The HTTP API (axum): routes, shared state, and the request-body limit.

mod health;
mod info;
mod modules;
mod verify;
mod view;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use notary_protocol::AttestationDomain;
use notary_queue::JobQueue;
use notary_worker::sandbox::ValidationLimits;

use crate::config::MAX_BODY_BYTES;
use crate::modules::ModuleStore;
use crate::store::JobStore;

pub use view::job_view;

/// What every handler shares.
pub struct AppState {
    /// Job records.
    pub store: Arc<dyn JobStore>,
    /// The job queue.
    pub queue: Arc<dyn JobQueue>,
    /// Fuel budget per job.
    pub fuel: u64,
    /// Attestation domain put in every job.
    pub domain: AttestationDomain,
    /// Module admission limits (the workers' own).
    pub limits: ValidationLimits,
    /// How long POST /verify waits for a result before answering 202.
    pub sync_wait: Duration,
    /// The module registry.
    pub modules: Arc<dyn ModuleStore>,
    /// Largest module `POST /modules` accepts.
    pub max_module_bytes: usize,
    /// Set when shutdown begins: new jobs are refused with 503 while in-flight requests finish.
    pub draining: AtomicBool,
}

/// The router. Tests call it directly with `tower::ServiceExt::oneshot`.
pub fn app(state: Arc<AppState>) -> Router {
    let package_limit = modules::max_package_bytes(state.max_module_bytes);
    Router::new()
        .route(
            "/modules",
            post(modules::publish)
                .get(modules::list)
                .layer(DefaultBodyLimit::max(package_limit)),
        )
        .route("/modules/{hash}", get(modules::show))
        .route("/info", get(info::info))
        .route("/verify", post(verify::submit))
        .route("/verify/{id}", get(verify::status))
        .route("/health", get(health::health))
        // The body limit is enforced by our handler so an oversized body gets our 413 shape;
        // this layer only stops axum from buffering more than that.
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .fallback(health::not_found)
        .with_state(state)
}
