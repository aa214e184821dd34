//! Protections of the API (source document 002's "Rate Limits" and error table): what keeps
//! the service answering when clients, backends or guests misbehave.
//!
//! - [`rate_limit`]: 100 requests per minute per client IP (configurable, 0 = off), 429 with
//!   `Retry-After`; counted in Redis in fleet mode so replicas share one count.
//! - [`client_ip`]: the client IP is the TCP peer; `X-Forwarded-For` is read only from
//!   configured trusted proxies.
//! - [`agent`]: at most 10 unfinished verifications per agent (client IP), 429 beyond.
//! - [`breaker`]: opens after 10 infrastructure failures in 60 s, answering 503 with
//!   `Retry-After`, and closes after a successful half-open probe.
//! - Load caps: new jobs get 503 with `Retry-After` while the queue (waiting jobs) or the
//!   running sandboxes (leased jobs, fleet-wide) are above their caps, sampled from the queue
//!   every [`SAMPLE_EVERY`].
//! - Backend readiness: while Redis is unreachable (at start, or after it went away) new jobs
//!   get an immediate 503 instead of waiting on timeouts; `GET /ready` reports it.
//!
//! [`guard`] applies all of it as one axum middleware. Probes and scrapes (`/health`,
//! `/ready`, `/metrics`, `/openapi.json`) are never limited. The body and code size limits
//! (1 MB, 100 KB → 413) are enforced where the body is read (`api::verify`).
//! [`settings`] has the options.

pub mod agent;
pub mod breaker;
pub mod client_ip;
pub mod rate_limit;
pub mod settings;

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use notary_queue::JobQueue;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::store::JobStore;

pub use self::agent::AgentSlots;
pub use self::breaker::{Admission, BreakerState, CircuitBreaker};
pub use self::rate_limit::{Decision, RateLimiter};
pub use self::settings::{ProtectConfig, ProtectSettings};

/// How often the queue depth is sampled for the caps, `/ready` and the gauges.
pub const SAMPLE_EVERY: Duration = Duration::from_millis(250);

/// Paths that are never rate limited or refused: liveness and readiness probes, metric
/// scrapes and the API description.
const EXEMPT: &[&str] = &["/health", "/ready", "/metrics", "/openapi.json"];

/// `GET /verify/:id`: reading a job's status is not counted against the rate limit, so a
/// client polling its own jobs is never locked out (it should still long-poll with
/// `Prefer: wait=N` or follow `Retry-After`). Status reads are cheap, bounded by the
/// connection limits, and start no work.
fn is_status_poll(req: &Request) -> bool {
    req.method() == Method::GET && req.uri().path().starts_with("/verify/")
}

/// The open fleet's worker traffic (issue 12): polling for seats, heartbeats, releases and
/// submissions finish work that was admitted already, so neither the per-IP rate limit nor the
/// load caps and breaker (which guard new work) may starve them: a fleet under load is exactly
/// when its results must get in. Each is authenticated by signature (a cheap check), and the
/// connection limits still bound them.
fn is_worker_traffic(req: &Request) -> bool {
    let path = req.uri().path();
    path == "/assignments"
        || path.starts_with("/assignments/")
        || (req.method() == Method::POST
            && path.starts_with("/jobs/")
            && (path.ends_with("/result") || path.ends_with("/attest")))
}

/// Marker for an unknown sample.
const UNKNOWN: u64 = u64::MAX;

/// The protections of one coordinator.
pub struct Protection {
    config: ProtectConfig,
    limiter: RateLimiter,
    /// The circuit breaker of new work.
    pub breaker: CircuitBreaker,
    agents: Arc<AgentSlots>,
    store: Arc<dyn JobStore>,
    backends_up: AtomicBool,
    waiting: AtomicU64,
    leased: AtomicU64,
}

impl Protection {
    /// Protections for a coordinator; `redis` (URL and key prefix) makes the rate limit
    /// shared across replicas; `store` tells when an agent's jobs are final.
    pub fn new(
        config: ProtectConfig,
        redis: Option<(&str, &str)>,
        store: Arc<dyn JobStore>,
    ) -> crate::error::Result<Self> {
        let limit = config.rate_limit_per_minute;
        let limiter = match redis {
            Some((url, prefix)) => RateLimiter::redis(limit, url, prefix)?,
            None => RateLimiter::memory(limit),
        };
        let breaker = CircuitBreaker::new(
            config.breaker_failures,
            config.breaker_window,
            config.breaker_cooldown,
        );
        Ok(Protection {
            agents: Arc::new(AgentSlots::new(config.max_concurrent_per_agent)),
            store,
            config,
            limiter,
            breaker,
            // Embedded backends are in memory: up from the start. Fleet mode flips this once
            // Redis answers (`set_backends_up`).
            backends_up: AtomicBool::new(redis.is_none()),
            waiting: AtomicU64::new(UNKNOWN),
            leased: AtomicU64::new(UNKNOWN),
        })
    }

    /// Whether the backends answered at the last check.
    pub fn backends_up(&self) -> bool {
        self.backends_up.load(Ordering::Relaxed)
    }

    /// Records whether the backends answer.
    pub fn set_backends_up(&self, up: bool) {
        let was = self.backends_up.swap(up, Ordering::Relaxed);
        if was != up {
            if up {
                tracing::info!("backends reachable: taking work");
            } else {
                tracing::warn!("backends unreachable: new jobs get 503 until they return");
            }
        }
    }

    /// The last queue sample: (waiting, leased), if known.
    pub fn load(&self) -> Option<(u64, u64)> {
        let w = self.waiting.load(Ordering::Relaxed);
        let l = self.leased.load(Ordering::Relaxed);
        (w != UNKNOWN && l != UNKNOWN).then_some((w, l))
    }

    /// Why new work would be refused now for load, if it would.
    fn over_cap(&self) -> Option<(&'static str, String)> {
        let (waiting, leased) = self.load()?;
        let c = &self.config;
        if c.max_queue_depth > 0 && waiting >= c.max_queue_depth {
            return Some((
                "queue_depth",
                format!(
                    "the queue holds {waiting} jobs (cap {}); retry later",
                    c.max_queue_depth
                ),
            ));
        }
        if c.max_running_sandboxes > 0 && leased >= c.max_running_sandboxes {
            return Some((
                "running_sandboxes",
                format!(
                    "{leased} sandboxes are running (cap {}); retry later",
                    c.max_running_sandboxes
                ),
            ));
        }
        None
    }

    /// Samples the queue every [`SAMPLE_EVERY`] until `stop`: updates the caps' view, the
    /// readiness flag and the queue gauges.
    pub async fn sample(self: Arc<Self>, queue: Arc<dyn JobQueue>, stop: CancellationToken) {
        let mut tick = tokio::time::interval(SAMPLE_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.cancelled() => return,
            }
            match queue.depth().await {
                Ok(d) => {
                    self.waiting.store(d.waiting, Ordering::Relaxed);
                    self.leased.store(d.leased, Ordering::Relaxed);
                    crate::metrics::queue_sample(d.waiting, d.leased, d.intake);
                    self.set_backends_up(true);
                }
                Err(e) => {
                    tracing::debug!(error = %e, "queue sample failed");
                    self.waiting.store(UNKNOWN, Ordering::Relaxed);
                    self.leased.store(UNKNOWN, Ordering::Relaxed);
                    self.set_backends_up(false);
                }
            }
        }
    }
}

/// The client a request comes from, as the protections see it (its rate-limit key), for
/// handlers that pass it on: the job service shares worker slots fairly between clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientKey(pub String);

/// The protections as one middleware (see the module docs for the order of checks).
pub async fn guard(State(p): State<Arc<Protection>>, mut req: Request, next: Next) -> Response {
    if EXEMPT.contains(&req.uri().path()) || is_status_poll(&req) || is_worker_traffic(&req) {
        return next.run(req).await;
    }
    // Tests that call the router without a socket have no peer address: nothing to count.
    let agent: Option<IpAddr> =
        req.extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| {
                client_ip::limit_key(client_ip::client_ip(
                    peer.ip(),
                    req.headers(),
                    &p.config.trusted_proxies,
                ))
            });
    if let Some(ip) = agent {
        // While Redis is known to be away, counting would only add its timeout to every
        // request: let requests through to their own (fast) 503 instead.
        if p.backends_up() {
            if let Decision::Limit { retry_after_secs } = p.limiter.check(ip).await {
                crate::metrics::rate_limited();
                tracing::info!(client_ip = %ip, "rate limited");
                return refusal(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Rate Limited",
                    format!(
                        "too many requests: at most {} per minute per IP",
                        p.limiter.limit()
                    ),
                    json!({"limit": p.limiter.limit(), "windowSeconds": 60}),
                    retry_after_secs,
                );
            }
        }
    }
    if let Some(ip) = agent {
        // Who the request comes from: the job service shares slots between clients
        // (`jobs::fair`), and `GET /api/jobs` lists a client's own chains.
        req.extensions_mut().insert(ClientKey(ip.to_string()));
    }
    // Everything below guards new work only.
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    if !p.backends_up() {
        crate::metrics::breaker_rejection("backends_down");
        return refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Unavailable",
            "the job queue (Redis) is unreachable; retry later".into(),
            json!({"reason": "backends_down"}),
            1,
        );
    }
    let probe = match p.breaker.admit() {
        Admission::Pass => false,
        Admission::Probe => true,
        Admission::Reject { retry_after } => {
            crate::metrics::breaker_rejection("open");
            return refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service Unavailable",
                "circuit breaker open: too many infrastructure failures; retry later".into(),
                json!({"reason": "circuit_breaker_open"}),
                retry_after.as_secs_f64().ceil().max(1.0) as u64,
            );
        }
    };
    // From here on, a refusal or a dropped request (client gone, even while waiting on the
    // agent slots below) leaves no verdict: the guard frees the probe slot.
    let verdict = ProbeGuard {
        breaker: &p.breaker,
        probe,
        done: false,
    };
    if let Some((reason, message)) = p.over_cap() {
        crate::metrics::breaker_rejection(reason);
        return refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Unavailable",
            message,
            json!({"reason": reason}),
            1,
        );
    }
    let slot = match agent {
        Some(ip) if p.agents.limit() > 0 => match p.agents.acquire(ip, p.store.as_ref()).await {
            Some(slot) => Some(slot),
            None => {
                crate::metrics::rate_limited();
                tracing::info!(client_ip = %ip, "too many concurrent verifications");
                return refusal(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Rate Limited",
                    format!(
                        "too many concurrent verifications: at most {} unfinished per agent",
                        p.agents.limit()
                    ),
                    json!({"reason": "concurrency", "limit": p.agents.limit()}),
                    1,
                );
            }
        },
        _ => None,
    };
    let response = next.run(req).await;
    verdict.finish(response.status());
    match slot {
        // Accepted and still running: the agent's slot stays taken until the job is final.
        Some(slot) if response.status() == StatusCode::ACCEPTED => keep_slot(slot, response).await,
        _ => response,
    }
}

/// Ties `slot` to the job id of a `202` answer (a small JSON body, read and put back).
async fn keep_slot(slot: agent::SlotGuard, response: Response) -> Response {
    let (parts, body) = response.into_parts();
    match axum::body::to_bytes(body, 64 * 1024).await {
        Ok(bytes) => {
            let job = serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|v| v["jobId"].as_str().and_then(|s| Uuid::parse_str(s).ok()));
            if let Some(job) = job {
                slot.keep(job);
            }
            Response::from_parts(parts, Body::from(bytes))
        }
        Err(e) => {
            tracing::error!(error = %e, "could not read a 202 answer");
            refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service Unavailable",
                "the answer could not be completed; check the job with GET /verify/:id".into(),
                json!({}),
                1,
            )
        }
    }
}

struct ProbeGuard<'a> {
    breaker: &'a CircuitBreaker,
    probe: bool,
    done: bool,
}

impl ProbeGuard<'_> {
    fn finish(mut self, status: StatusCode) {
        self.done = true;
        if status == StatusCode::INTERNAL_SERVER_ERROR || status == StatusCode::SERVICE_UNAVAILABLE
        {
            self.breaker.failure(self.probe);
        } else if status.is_success() {
            self.breaker.success(self.probe);
        } else {
            self.breaker.inconclusive(self.probe);
        }
    }
}

impl Drop for ProbeGuard<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.breaker.inconclusive(self.probe);
        }
    }
}

/// A refusal in the API's error shape, with `Retry-After`.
fn refusal(
    status: StatusCode,
    code: &str,
    message: String,
    params: Value,
    retry_after_secs: u64,
) -> Response {
    let mut resp = (
        status,
        Json(json!({"error": code, "message": message, "params": params})),
    )
        .into_response();
    resp.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from_str(&retry_after_secs.max(1).to_string()).expect("digits"),
    );
    resp
}
