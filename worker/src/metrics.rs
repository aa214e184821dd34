//! Prometheus metrics of a worker, and the small HTTP server that exposes them.
//!
//! Metrics live in the `prometheus` crate's process-wide default registry: a `notary-worker`
//! serves them with `--metrics-listen ADDR` (`GET /metrics`, plus `GET /health`), and in the
//! coordinator's embedded mode they appear on the coordinator's own `/metrics`. Names carry
//! the `notary_worker_` prefix so a fleet-wide query never mixes them with the coordinator's.

use std::sync::LazyLock;
use std::time::Duration;

use prometheus::{
    exponential_buckets, register_histogram, register_int_counter, register_int_counter_vec,
    register_int_gauge, Encoder, Histogram, IntCounter, IntCounterVec, IntGauge, TextEncoder,
};

fn latency_buckets() -> Vec<f64> {
    exponential_buckets(0.001, 2.0, 17).expect("valid buckets")
}

static JOBS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "notary_worker_jobs_total",
        "Jobs this worker ran, by attested outcome (valid, invalid, error, timeout, failed) or `not_a_job` for an unreadable payload.",
        &["outcome"]
    )
    .expect("register notary_worker_jobs_total")
});

static EXECUTION: LazyLock<Histogram> = LazyLock::new(|| {
    register_histogram!(
        "notary_worker_execution_seconds",
        "Guest run time of each job on this worker.",
        latency_buckets()
    )
    .expect("register notary_worker_execution_seconds")
});

static QUEUE_WAIT: LazyLock<Histogram> = LazyLock::new(|| {
    register_histogram!(
        "notary_worker_queue_wait_seconds",
        "From a job's enqueueing (coordinator clock) to its lease by this worker.",
        latency_buckets()
    )
    .expect("register notary_worker_queue_wait_seconds")
});

static FUEL: LazyLock<Histogram> = LazyLock::new(|| {
    register_histogram!(
        "notary_worker_fuel_used",
        "Fuel consumed by each job on this worker (wasmtime fuel units).",
        exponential_buckets(1e4, 10.0, 8).expect("valid buckets")
    )
    .expect("register notary_worker_fuel_used")
});

static RUNNING: LazyLock<IntGauge> = LazyLock::new(|| {
    register_int_gauge!(
        "notary_worker_running_sandboxes",
        "Jobs running in a sandbox on this worker now."
    )
    .expect("register notary_worker_running_sandboxes")
});

static QUEUE_ERRORS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "notary_worker_queue_errors_total",
        "Failed queue calls (Redis away), by operation (lease, heartbeat, submit).",
        &["operation"]
    )
    .expect("register notary_worker_queue_errors_total")
});

static LEASES_LOST: LazyLock<IntCounter> = LazyLock::new(|| {
    register_int_counter!(
        "notary_worker_leases_lost_total",
        "Leases this worker found reclaimed by a reaper while it was still running the job."
    )
    .expect("register notary_worker_leases_lost")
});

/// Registers every worker metric, so they are listed (at zero) before their first event.
pub fn init() {
    LazyLock::force(&JOBS);
    LazyLock::force(&EXECUTION);
    LazyLock::force(&QUEUE_WAIT);
    LazyLock::force(&FUEL);
    LazyLock::force(&RUNNING);
    LazyLock::force(&QUEUE_ERRORS);
    LazyLock::force(&LEASES_LOST);
    for outcome in [
        "valid",
        "invalid",
        "error",
        "timeout",
        "failed",
        "not_a_job",
    ] {
        JOBS.with_label_values(&[outcome]);
    }
    for operation in ["lease", "heartbeat", "submit"] {
        QUEUE_ERRORS.with_label_values(&[operation]);
    }
}

/// A job finished on this worker with `outcome` (`VALID`, …; lower-cased for the label).
pub fn job_done(outcome: &str, execution_ms: f64, fuel: u64) {
    JOBS.with_label_values(&[&outcome.to_ascii_lowercase()])
        .inc();
    EXECUTION.observe(execution_ms / 1000.0);
    FUEL.observe(fuel as f64);
}

/// A leased payload was not a job.
pub fn not_a_job() {
    JOBS.with_label_values(&["not_a_job"]).inc();
}

/// A job was leased `wait` after it was enqueued.
pub fn leased(wait: Duration) {
    QUEUE_WAIT.observe(wait.as_secs_f64());
}

/// Counts a running sandbox for as long as the guard lives.
pub struct RunningSandbox(());

impl RunningSandbox {
    /// One more sandbox running.
    pub fn start() -> Self {
        RUNNING.inc();
        RunningSandbox(())
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        RUNNING.dec();
    }
}

/// A queue call failed.
pub fn queue_error(operation: &str) {
    QUEUE_ERRORS.with_label_values(&[operation]).inc();
}

/// A heartbeat found the lease gone.
pub fn lease_lost() {
    LEASES_LOST.inc();
}

/// The text exposition of every registered metric.
pub fn render() -> String {
    let mut out = Vec::new();
    TextEncoder::new()
        .encode(&prometheus::gather(), &mut out)
        .expect("text encoding into a Vec cannot fail");
    String::from_utf8(out).expect("the text format is UTF-8")
}

/// Serves `GET /metrics` (Prometheus text format) and `GET /health` on `listener` until
/// `stop` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::http::header;
    use axum::routing::get;
    init();
    let app = axum::Router::new()
        .route(
            "/metrics",
            get(|| async {
                (
                    [(
                        header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    render(),
                )
            }),
        )
        .route("/health", get(|| async { "ok" }));
    axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await
}
