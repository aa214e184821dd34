//! The HTTP API (axum): routes, shared state, and the request-body limit.

pub mod facilitator;
mod health;
mod info;
mod modules;
pub mod payments;
pub mod quote;
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
    /// x402 payments, refunds and registry writes (`None`: payments off).
    pub payments: Option<Arc<crate::payments::Payments>>,
    /// Lease TTL (workers idle longer are not counted as active).
    pub lease_ttl: Duration,
}

/// The router. Tests call it directly with `tower::ServiceExt::oneshot`.
pub fn app(state: Arc<AppState>) -> Router {
    let package_limit = modules::max_package_bytes(state.max_module_bytes);
    let router = Router::new()
        .route(
            "/modules",
            post(modules::publish)
                .get(modules::list)
                .layer(DefaultBodyLimit::max(package_limit)),
        )
        .route("/modules/{hash}", get(modules::show))
        .route("/info", get(info::info));
    // With payments on, /verify is the paid flow (issue 5) and the paid routes exist.
    let router = if state.payments.is_some() {
        router
            .route("/verify", post(payments::submit))
            .route("/verify/{id}", get(payments::status))
            .route("/notary/stats", get(payments::stats))
            .route("/quote", post(quote::quote))
            .route("/facilitator/supported", get(facilitator::supported))
            .route("/facilitator/verify", post(facilitator::verify))
            .route("/facilitator/settle", post(facilitator::settle))
    } else {
        router
            .route("/verify", post(verify::submit))
            .route("/verify/{id}", get(verify::status))
    };
    router
        .route("/health", get(health::health))
        // The body limit is enforced by our handler so an oversized body gets our 413 shape;
        // this layer only stops axum from buffering more than that.
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .fallback(health::not_found)
        .with_state(state)
}
