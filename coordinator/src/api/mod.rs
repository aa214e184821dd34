//! The HTTP API (axum): routes, shared state, the request-body limit, and the middleware
//! stack (request metrics outermost, then the protections, then the routes).
//!
//! Routes are registered with `utoipa_axum::routes!`, which adds each handler's
//! `#[utoipa::path]` description to the OpenAPI document served at `/openapi.json`: to add a
//! route, annotate the handler and add one `.routes(routes!(handler))` line to [`routes`].

mod actor;
mod assignment_stream;
mod assignments;
mod compute;
mod compute_stream;
pub mod error;
pub mod facilitator;
mod health;
mod info;
mod job_list;
mod jobs;
pub(crate) mod json;
mod jury_view;
mod market;
pub(crate) mod modules;
pub mod openapi;
pub mod payments;
pub mod quote;
mod registration;
pub mod request;
mod services;
mod submissions;
mod verify;
pub mod view;
mod webhooks;
mod workers;

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use notary_profile::ValidationLimits;
use notary_protocol::AttestationDomain;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::config::MAX_BODY_BYTES;
use crate::jobs::JobService;
use crate::modules::ModuleStore;
use crate::protect::Protection;
use crate::webhooks::guard::AddressPolicy;
use crate::webhooks::WebhookStore;

pub use view::JobView;

/// What every handler shares.
pub struct AppState {
    /// The job service: submits, awaits and reads jobs.
    pub jobs: Arc<JobService>,
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
    /// Most containers in a compute chain (`--max-chain`).
    pub max_chain: usize,
    /// Live stdout of the in-process workers' runs (`None` without them).
    pub taps: Option<notary_worker::OutputTaps>,
    /// Most requests in a compute batch (`--max-batch`).
    pub max_batch: usize,
    /// Largest module `POST /modules` accepts.
    pub max_module_bytes: usize,
    /// Set when shutdown begins: new jobs are refused with 503 while in-flight requests finish.
    pub draining: AtomicBool,
    /// x402 payments, refunds and registry writes (`None`: payments off).
    pub payments: Option<Arc<crate::payments::Payments>>,
    /// Lease TTL (workers idle longer are not counted as active).
    pub lease_ttl: Duration,
    /// Rate limit, circuit breaker, load caps and backend readiness.
    pub protect: Arc<Protection>,
    /// Webhooks and their outbox.
    pub webhooks: Arc<dyn WebhookStore>,
    /// Which webhook URLs may be registered.
    pub webhook_policy: Arc<AddressPolicy>,
    /// Checks actor-signed requests of open-fleet workers.
    pub actors: crate::actors::Actors,
    /// Whether self-registered workers are approved at once.
    pub approval: crate::workers::Approval,
    /// Leases held by remote workers over HTTP.
    pub assignments: Arc<dyn crate::assignments::AssignmentStore>,
    /// Intervals of on-chain requests not delivered yet (`GET /info`'s `pending.onchain`),
    /// counted by the on-chain watcher; 0 without one.
    pub onchain_pending: Arc<std::sync::atomic::AtomicU64>,
}

impl AppState {
    /// What turns a request into a job here (fuel, domain, admission limits, registries).
    pub fn job_defaults(&self) -> request::JobDefaults<'_> {
        request::JobDefaults {
            fuel: self.fuel,
            domain: self.domain,
            limits: &self.limits,
            modules: self.modules.as_ref(),
            webhooks: Some(self.webhooks.as_ref()),
        }
    }
}

/// Every route with its OpenAPI description. `package_limit` is the body limit of
/// `POST /modules` (larger than the API's default). With `paid`, `/verify` is the x402 flow
/// (issue 5) and the paid routes (`/quote`, `/notary/stats`, `/facilitator/*`) exist.
fn routes(package_limit: usize, paid: bool) -> OpenApiRouter<Arc<AppState>> {
    let modules = OpenApiRouter::new()
        .routes(routes!(modules::publish, modules::list))
        .layer(DefaultBodyLimit::max(package_limit));
    let router = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(modules)
        .routes(routes!(modules::show))
        .routes(routes!(info::info))
        .routes(routes!(health::health))
        .routes(routes!(health::ready))
        .routes(routes!(metrics_text))
        .routes(routes!(openapi_json))
        .routes(routes!(webhooks::register))
        .routes(routes!(webhooks::show, webhooks::delete))
        .routes(routes!(webhooks::deliveries))
        .routes(routes!(jobs::escalate))
        .routes(routes!(jobs::record))
        .routes(routes!(job_list::result))
        .routes(routes!(workers::list))
        .routes(routes!(workers::show))
        .routes(routes!(registration::provider))
        .routes(routes!(registration::verifier))
        .routes(routes!(registration::domain))
        .routes(routes!(services::declare, services::list))
        .routes(routes!(services::withdraw))
        .routes(routes!(modules::bytes))
        .routes(routes!(assignments::next))
        .routes(routes!(assignment_stream::stream))
        .routes(routes!(assignments::heartbeat))
        .routes(routes!(assignments::release))
        .routes(routes!(assignments::output))
        .routes(routes!(submissions::result))
        .routes(routes!(submissions::attest));
    if paid {
        router
            .routes(routes!(payments::submit))
            .routes(routes!(payments::status))
            .routes(routes!(payments::stats))
            .routes(routes!(quote::quote))
            .routes(routes!(facilitator::supported))
            .routes(routes!(facilitator::verify))
            .routes(routes!(facilitator::settle))
            .routes(routes!(market::prepare))
            .routes(routes!(market::confirm, job_list::list))
    } else {
        // Document 001's compute node is free: a node that charges offers only paid routes.
        router
            .routes(routes!(job_list::list))
            .routes(routes!(verify::submit))
            .routes(routes!(verify::status))
            .routes(routes!(compute::create, compute::results))
            .routes(routes!(compute::batch))
            .routes(routes!(compute_stream::stream))
    }
}

/// The OpenAPI document of [`routes`] (with or without payments), built once each.
pub fn openapi(paid: bool) -> &'static utoipa::openapi::OpenApi {
    // The document does not depend on the body limit.
    static FREE: LazyLock<utoipa::openapi::OpenApi> =
        LazyLock::new(|| routes(MAX_BODY_BYTES, false).split_for_parts().1);
    static PAID: LazyLock<utoipa::openapi::OpenApi> =
        LazyLock::new(|| routes(MAX_BODY_BYTES, true).split_for_parts().1);
    if paid {
        &PAID
    } else {
        &FREE
    }
}

/// The router. Tests call it directly with `tower::ServiceExt::oneshot`.
pub fn app(state: Arc<AppState>) -> Router {
    crate::metrics::init();
    let package_limit = modules::max_package_bytes(state.max_module_bytes);
    let (router, _) = routes(package_limit, state.payments.is_some()).split_for_parts();
    router
        // The body limit is enforced by our handler so an oversized body gets our 413 shape;
        // this layer only stops axum from buffering more than that.
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .fallback(health::not_found)
        .layer(middleware::from_fn_with_state(
            state.protect.clone(),
            crate::protect::guard,
        ))
        .layer(middleware::from_fn(track_http))
        .with_state(state)
}

/// `GET /metrics`: Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition format", body = String, content_type = "text/plain")))]
async fn metrics_text() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        crate::metrics::render(),
    )
        .into_response()
}

/// `GET /openapi.json`: this API's description.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object, content_type = "application/json")))]
async fn openapi_json(State(state): State<Arc<AppState>>) -> Response {
    static FREE: LazyLock<String> = LazyLock::new(|| {
        openapi(false)
            .to_pretty_json()
            .expect("the document serializes")
    });
    static PAID: LazyLock<String> = LazyLock::new(|| {
        openapi(true)
            .to_pretty_json()
            .expect("the document serializes")
    });
    let json = if state.payments.is_some() {
        &PAID
    } else {
        &FREE
    };
    ([(header::CONTENT_TYPE, "application/json")], json.as_str()).into_response()
}

/// Counts every answered request by route template (from the OpenAPI paths, so label values
/// stay bounded), method and status, including the protections' refusals.
async fn track_http(req: Request, next: Next) -> Response {
    let route = route_template(req.uri().path());
    let method = req.method().clone();
    let started = Instant::now();
    let resp = next.run(req).await;
    crate::metrics::http_request(
        route,
        method.as_str(),
        resp.status().as_u16(),
        started.elapsed(),
    );
    if resp.status() == axum::http::StatusCode::METHOD_NOT_ALLOWED {
        return method_not_allowed(resp, &method);
    }
    resp
}

/// axum's 405 has an empty body: give it the API's error shape, keeping its `Allow` header.
fn method_not_allowed(resp: Response, method: &axum::http::Method) -> Response {
    let (mut parts, _) = resp.into_parts();
    let allow = parts
        .headers
        .get(header::ALLOW)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = openapi::ErrorBody {
        error: "Method Not Allowed".into(),
        message: format!("{method} is not allowed here; allowed: {allow}"),
        params: serde_json::json!({ "allow": allow }),
    };
    parts.headers.insert(
        header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    let body = serde_json::to_string(&body).unwrap_or_default();
    Response::from_parts(parts, axum::body::Body::from(body))
}

/// The documented route template a path matches (`/verify/{id}`), or `unmatched`.
fn route_template(path: &str) -> &'static str {
    static TEMPLATES: LazyLock<Vec<String>> =
        // The paid document's paths are a superset of the free one's.
        LazyLock::new(|| openapi(true).paths.paths.keys().cloned().collect());
    let segments: Vec<&str> = path.split('/').collect();
    TEMPLATES
        .iter()
        .find(|t| {
            let ts: Vec<&str> = t.split('/').collect();
            ts.len() == segments.len()
                && ts.iter().zip(&segments).all(|(t, s)| {
                    t == s || (t.starts_with('{') && t.ends_with('}') && !s.is_empty())
                })
        })
        .map_or("unmatched", |t| t.as_str())
}
