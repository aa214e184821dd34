//! Prometheus metrics of the coordinator, served at `GET /metrics`.
//!
//! Every metric lives in the process-wide default registry of the `prometheus` crate (the
//! best-kept Rust client with a text encoder and no runtime of its own), so the in-process
//! workers of the embedded mode (`notary_worker_*`, see `notary_worker::metrics`) show up on the
//! same page. Names follow the Prometheus conventions: `notary_` prefix, `_total` for
//! counters, base units (`_seconds`).
//!
//! Each metric is recorded through a small function here, so call sites stay one line and a
//! new caller (payments: [`payment_check`]) needs no knowledge of the registry.

use std::sync::LazyLock;
use std::time::Duration;

use prometheus::{
    exponential_buckets, register_gauge, register_histogram, register_histogram_vec,
    register_int_counter, register_int_counter_vec, register_int_gauge, Encoder, Gauge, Histogram,
    HistogramVec, IntCounter, IntCounterVec, IntGauge, TextEncoder,
};

use crate::record::JobRecord;

/// Latency buckets from 1 ms to ~65 s.
fn latency_buckets() -> Vec<f64> {
    exponential_buckets(0.001, 2.0, 17).expect("valid buckets")
}

static HTTP_REQUESTS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "notary_http_requests_total",
        "HTTP requests answered, by route template, method and status code.",
        &["route", "method", "status"]
    )
    .expect("register notary_http_requests_total")
});

static HTTP_DURATION: LazyLock<HistogramVec> = LazyLock::new(|| {
    register_histogram_vec!(
        "notary_http_request_duration_seconds",
        "Time to answer an HTTP request, by route template and method.",
        &["route", "method"],
        latency_buckets()
    )
    .expect("register notary_http_request_duration_seconds")
});

static JOBS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "notary_jobs_total",
        "Jobs that reached their final state, by outcome (valid, invalid, error, timeout, or failed for a refundable infrastructure failure).",
        &["outcome"]
    )
    .expect("register notary_jobs_total")
});

static QUEUE_WAIT: LazyLock<Histogram> = LazyLock::new(|| {
    register_histogram!(
        "notary_job_queue_wait_seconds",
        "Time of a finished job not spent executing: queueing, leasing and result intake.",
        latency_buckets()
    )
    .expect("register notary_job_queue_wait_seconds")
});

static EXECUTION: LazyLock<Histogram> = LazyLock::new(|| {
    register_histogram!(
        "notary_job_execution_seconds",
        "Guest run time of finished jobs, as attested by the worker.",
        latency_buckets()
    )
    .expect("register notary_job_execution_seconds")
});

static END_TO_END: LazyLock<Histogram> = LazyLock::new(|| {
    register_histogram!(
        "notary_job_end_to_end_seconds",
        "From acceptance of a job to its final state.",
        latency_buckets()
    )
    .expect("register notary_job_end_to_end_seconds")
});

static FUEL: LazyLock<Histogram> = LazyLock::new(|| {
    register_histogram!(
        "notary_job_fuel_used",
        "Fuel consumed by finished jobs (wasmtime fuel units).",
        exponential_buckets(1e4, 10.0, 8).expect("valid buckets")
    )
    .expect("register notary_job_fuel_used")
});

static RUNNING: LazyLock<IntGauge> = LazyLock::new(|| {
    register_int_gauge!(
        "notary_running_sandboxes",
        "Jobs leased by workers (running in a sandbox) across the fleet, as last sampled from the queue."
    )
    .expect("register notary_running_sandboxes")
});

static QUEUE_DEPTH: LazyLock<IntGauge> = LazyLock::new(|| {
    register_int_gauge!(
        "notary_queue_depth",
        "Jobs waiting in the queue for a worker, as last sampled."
    )
    .expect("register notary_queue_depth")
});

static INTAKE_PENDING: LazyLock<IntGauge> = LazyLock::new(|| {
    register_int_gauge!(
        "notary_intake_pending",
        "Worker results submitted but not yet recorded by a coordinator, as last sampled."
    )
    .expect("register notary_intake_pending")
});

static LEASE_RECLAIMS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "notary_lease_reclaims_total",
        "Expired leases reclaimed by this coordinator's reaper, by action (redelivered, dead_lettered).",
        &["action"]
    )
    .expect("register notary_lease_reclaims_total")
});

static PAYMENT_CHECKS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "notary_payment_checks_total",
        "Payment verifications, by outcome.",
        &["outcome"]
    )
    .expect("register notary_payment_checks_total")
});

static BREAKER_STATE: LazyLock<Gauge> = LazyLock::new(|| {
    register_gauge!(
        "notary_circuit_breaker_state",
        "Circuit breaker of POST /verify: 0 closed, 1 half-open (probing), 2 open."
    )
    .expect("register notary_circuit_breaker_state")
});

static BREAKER_REJECTIONS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "notary_circuit_breaker_rejections_total",
        "New jobs answered 503 by the protections, by reason (open: circuit breaker; queue_depth, running_sandboxes: load caps; backends_down: Redis away).",
        &["reason"]
    )
    .expect("register notary_circuit_breaker_rejections_total")
});

static INFRA_FAILURES: LazyLock<IntCounter> = LazyLock::new(|| {
    register_int_counter!(
        "notary_infrastructure_failures_total",
        "Infrastructure failures seen while serving POST /verify (the breaker's input)."
    )
    .expect("register notary_infrastructure_failures_total")
});

static RATE_LIMITED: LazyLock<IntCounter> = LazyLock::new(|| {
    register_int_counter!(
        "notary_rate_limited_requests_total",
        "Requests answered 429: over the per-IP rate limit or the per-agent concurrency limit."
    )
    .expect("register notary_rate_limited_requests_total")
});

static JURY_ROUNDS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "notary_jury_rounds_total",
        "Jury rounds closed, by tier and outcome (unanimous, majority, no_majority).",
        &["tier", "outcome"]
    )
    .expect("register notary_jury_rounds_total")
});

static JUROR_VOTES: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "notary_juror_votes_total",
        "Jurors' answers in rounds with a verdict: agreed or dissented.",
        &["vote"]
    )
    .expect("register notary_juror_votes_total")
});

static JURORS_REPLACED: LazyLock<IntCounter> = LazyLock::new(|| {
    register_int_counter!(
        "notary_jurors_replaced_total",
        "Jurors replaced by the next worker of their job's order (no delivery, or a refused report)."
    )
    .expect("register notary_jurors_replaced_total")
});

static WORKERS_SUSPENDED: LazyLock<IntCounter> = LazyLock::new(|| {
    register_int_counter!(
        "notary_workers_suspended_total",
        "Workers suspended from new juries for too many dissents."
    )
    .expect("register notary_workers_suspended_total")
});

static REPORTS_REFUSED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "notary_reports_refused_total",
        "Worker reports that did not count, by fault: worker (bad signature, not allowed, runtime mismatch: no delivery used), report (misstates the job: a delivery used) or juror (a juror's report, either fault: the juror loses its seat).",
        &["fault"]
    )
    .expect("register notary_reports_refused_total")
});

static OPEN_CONNECTIONS: LazyLock<IntGauge> = LazyLock::new(|| {
    register_int_gauge!("notary_http_open_connections", "HTTP connections open now.")
        .expect("register notary_http_open_connections")
});

static CONNECTIONS_REFUSED: LazyLock<IntCounter> = LazyLock::new(|| {
    register_int_counter!(
        "notary_http_connections_refused_total",
        "Connections closed at once because the server or their client IP was at its connection limit."
    )
    .expect("register notary_http_connections_refused_total")
});

static WEBHOOK_DELIVERIES: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "notary_webhook_deliveries_total",
        "Webhook deliveries finished, by outcome (delivered: 2xx; exhausted: the retry schedule ran out; disabled: the receiver answered 410; dropped: the webhook was deleted or disabled).",
        &["outcome"]
    )
    .expect("register notary_webhook_deliveries_total")
});

static WEBHOOK_ATTEMPTS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "notary_webhook_attempts_total",
        "Webhook delivery attempts, by result (success: 2xx; http_error: another status; network_error: timeout, refused connection or address).",
        &["result"]
    )
    .expect("register notary_webhook_attempts_total")
});

static WEBHOOK_ATTEMPT_DURATION: LazyLock<Histogram> = LazyLock::new(|| {
    register_histogram!(
        "notary_webhook_attempt_duration_seconds",
        "Time of one webhook delivery attempt, from connecting to the receiver's status.",
        latency_buckets()
    )
    .expect("register notary_webhook_attempt_duration_seconds")
});

static WEBHOOK_LATENCY: LazyLock<Histogram> = LazyLock::new(|| {
    register_histogram!(
        "notary_webhook_delivery_latency_seconds",
        "From a job's final state to its webhook delivery's end (delivered, exhausted or disabled), retries included.",
        exponential_buckets(0.01, 4.0, 12).expect("valid buckets")
    )
    .expect("register notary_webhook_delivery_latency_seconds")
});

static WEBHOOK_OUTBOX: LazyLock<IntGauge> = LazyLock::new(|| {
    register_int_gauge!(
        "notary_webhook_outbox_depth",
        "Webhook deliveries waiting in the outbox (due, claimed or waiting for a retry), as last sampled."
    )
    .expect("register notary_webhook_outbox_depth")
});

/// Registers every metric, so `/metrics` lists them (at zero) before their first event.
pub fn init() {
    LazyLock::force(&HTTP_REQUESTS);
    LazyLock::force(&JURY_ROUNDS);
    LazyLock::force(&JUROR_VOTES);
    LazyLock::force(&JURORS_REPLACED);
    LazyLock::force(&WORKERS_SUSPENDED);
    LazyLock::force(&HTTP_DURATION);
    LazyLock::force(&JOBS);
    LazyLock::force(&QUEUE_WAIT);
    LazyLock::force(&EXECUTION);
    LazyLock::force(&END_TO_END);
    LazyLock::force(&FUEL);
    LazyLock::force(&RUNNING);
    LazyLock::force(&QUEUE_DEPTH);
    LazyLock::force(&INTAKE_PENDING);
    LazyLock::force(&LEASE_RECLAIMS);
    LazyLock::force(&PAYMENT_CHECKS);
    LazyLock::force(&BREAKER_STATE);
    LazyLock::force(&BREAKER_REJECTIONS);
    LazyLock::force(&INFRA_FAILURES);
    LazyLock::force(&RATE_LIMITED);
    LazyLock::force(&OPEN_CONNECTIONS);
    LazyLock::force(&REPORTS_REFUSED);
    for fault in ["worker", "report"] {
        REPORTS_REFUSED.with_label_values(&[fault]);
    }
    LazyLock::force(&CONNECTIONS_REFUSED);
    LazyLock::force(&WEBHOOK_DELIVERIES);
    LazyLock::force(&WEBHOOK_ATTEMPTS);
    LazyLock::force(&WEBHOOK_ATTEMPT_DURATION);
    LazyLock::force(&WEBHOOK_LATENCY);
    LazyLock::force(&WEBHOOK_OUTBOX);
    // Label values known in advance are exposed at zero, so dashboards and alerts see the
    // series before the first event (a vector with no children is not exposed at all).
    for outcome in ["valid", "invalid", "error", "timeout", "failed"] {
        JOBS.with_label_values(&[outcome]);
    }
    for action in ["redelivered", "dead_lettered"] {
        LEASE_RECLAIMS.with_label_values(&[action]);
    }
    for reason in ["open", "queue_depth", "running_sandboxes", "backends_down"] {
        BREAKER_REJECTIONS.with_label_values(&[reason]);
    }
    for outcome in PAYMENT_OUTCOMES {
        PAYMENT_CHECKS.with_label_values(&[outcome]);
    }
    for outcome in ["delivered", "exhausted", "disabled", "dropped"] {
        WEBHOOK_DELIVERIES.with_label_values(&[outcome]);
    }
    for result in ["success", "http_error", "network_error"] {
        WEBHOOK_ATTEMPTS.with_label_values(&[result]);
    }
    notary_worker::metrics::init();
}

/// The text exposition of every registered metric.
pub fn render() -> String {
    let mut out = Vec::new();
    TextEncoder::new()
        .encode(&prometheus::gather(), &mut out)
        .expect("text encoding into a Vec cannot fail");
    String::from_utf8(out).expect("the text format is UTF-8")
}

/// One answered HTTP request. `route` is the matched route template (`/verify/{id}`), never
/// the raw path, so label cardinality stays bounded.
pub fn http_request(route: &str, method: &str, status: u16, elapsed: Duration) {
    HTTP_REQUESTS
        .with_label_values(&[route, method, &status.to_string()])
        .inc();
    HTTP_DURATION
        .with_label_values(&[route, method])
        .observe(elapsed.as_secs_f64());
}

/// A job reached its final state (called once per job, by the coordinator that finalized it).
pub fn job_final(record: &JobRecord) {
    let Some(outcome) = &record.outcome else {
        return;
    };
    let label = match outcome.result {
        Some(v) => v.as_str().to_ascii_lowercase(),
        None => "failed".to_string(),
    };
    JOBS.with_label_values(&[&label]).inc();
    let total = outcome.total_ms / 1000.0;
    END_TO_END.observe(total);
    if outcome.result.is_some() {
        let exec = outcome.execution_ms / 1000.0;
        EXECUTION.observe(exec);
        QUEUE_WAIT.observe((total - exec).max(0.0));
        FUEL.observe(outcome.fuel_used as f64);
    }
}

/// The queue as last sampled.
pub fn queue_sample(waiting: u64, leased: u64, intake: u64) {
    QUEUE_DEPTH.set(waiting as i64);
    RUNNING.set(leased as i64);
    INTAKE_PENDING.set(intake as i64);
}

/// The reaper reclaimed expired leases.
pub fn lease_reclaims(redelivered: u64, dead_lettered: u64) {
    if redelivered > 0 {
        LEASE_RECLAIMS
            .with_label_values(&["redelivered"])
            .inc_by(redelivered);
    }
    if dead_lettered > 0 {
        LEASE_RECLAIMS
            .with_label_values(&["dead_lettered"])
            .inc_by(dead_lettered);
    }
}

/// The outcomes of a payment check, exposed at zero from the start: `valid` (accepted),
/// `invalid` (wrong amount, recipient, asset or signature: 402 Payment Failed), `replayed`
/// (already used), `unavailable` (the chain could not be asked). Other values may be passed
/// to [`payment_check`]; they appear from their first use.
pub const PAYMENT_OUTCOMES: [&str; 4] = ["valid", "invalid", "replayed", "unavailable"];

/// One payment verification and how it ended (see [`PAYMENT_OUTCOMES`]). For the x402
/// payment flow.
pub fn payment_check(outcome: &str) {
    PAYMENT_CHECKS.with_label_values(&[outcome]).inc();
}

/// The breaker changed state (0 closed, 1 half-open, 2 open).
pub fn breaker_state(state: u8) {
    BREAKER_STATE.set(f64::from(state));
}

/// The breaker refused a request.
pub fn breaker_rejection(reason: &str) {
    BREAKER_REJECTIONS.with_label_values(&[reason]).inc();
}

/// An infrastructure failure was seen while serving a request.
pub fn infrastructure_failure() {
    INFRA_FAILURES.inc();
}

/// A request was refused by the rate limit.
pub fn rate_limited() {
    RATE_LIMITED.inc();
}

/// A jury round of `tier` closed with `outcome`.
pub fn jury_round(tier: u8, outcome: &str) {
    JURY_ROUNDS
        .with_label_values(&[&tier.to_string(), outcome])
        .inc();
}

/// A juror's answer in a round with a verdict.
pub fn juror_vote(agreed: bool) {
    JUROR_VOTES
        .with_label_values(&[if agreed { "agreed" } else { "dissented" }])
        .inc();
}

/// A juror was replaced.
pub fn juror_replaced() {
    JURORS_REPLACED.inc();
}

/// A worker was suspended.
pub fn worker_suspended() {
    WORKERS_SUSPENDED.inc();
}

/// A worker report did not count; `fault` is `worker`, `report` or `juror`.
pub fn report_refused(fault: &str) {
    REPORTS_REFUSED.with_label_values(&[fault]).inc();
}

/// Connections open now.
pub fn set_open_connections(n: usize) {
    OPEN_CONNECTIONS.set(n as i64);
}

/// A connection was closed at once: over a connection limit.
pub fn connection_refused() {
    CONNECTIONS_REFUSED.inc();
}

/// A webhook delivery attempt ended with `result` (success, http_error, network_error).
pub fn webhook_attempt(result: &str, elapsed: Duration) {
    WEBHOOK_ATTEMPTS.with_label_values(&[result]).inc();
    WEBHOOK_ATTEMPT_DURATION.observe(elapsed.as_secs_f64());
}

/// A webhook delivery finished with `outcome`, `since_final_ms` after its job's final state.
pub fn webhook_delivery(outcome: &str, since_final_ms: u64) {
    WEBHOOK_DELIVERIES.with_label_values(&[outcome]).inc();
    if outcome != "dropped" {
        WEBHOOK_LATENCY.observe(since_final_ms as f64 / 1000.0);
    }
}

/// The webhook outbox as last sampled.
pub fn webhook_outbox_depth(depth: u64) {
    WEBHOOK_OUTBOX.set(depth as i64);
}
