//! `/metrics` (coordinator and worker process), `/health` and `/ready`.
//!
//! Metrics live in one registry per process and tests run in parallel, so checks compare a
//! value before and after the events a test causes.

use std::time::{Duration, Instant};

use notary_protocol::WorkerKey;
use notary_queue::test_utils::RedisServer;

use crate::support::*;

/// The value of the sample `name{labels}` (exact label text as exposed), or 0 if absent.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| {
            let (name, value) = l.rsplit_once(' ')?;
            (name == series).then(|| value.parse().unwrap())
        })
        .unwrap_or(0.0)
}

async fn metrics(url: &str) -> String {
    let resp = client().get(format!("{url}/metrics")).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let ctype = resp.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ctype.starts_with("text/plain"), "{ctype}");
    resp.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coordinator_metrics_count_jobs_requests_and_refusals() {
    let mut config = test_config(None, 1, vec![]);
    config.protect.rate_limit_per_minute = 5;
    let c = Coordinator::start(config).await;
    let before = metrics(&c.url).await;
    // Every metric the issue names is exposed from the start.
    for name in [
        "notary_jobs_total",
        "notary_http_requests_total",
        "notary_job_queue_wait_seconds",
        "notary_job_execution_seconds",
        "notary_job_end_to_end_seconds",
        "notary_job_fuel_used",
        "notary_running_sandboxes",
        "notary_queue_depth",
        "notary_lease_reclaims_total",
        "notary_payment_checks_total",
        "notary_circuit_breaker_state",
        "notary_rate_limited_requests_total",
        "notary_http_open_connections",
        "notary_http_connections_refused_total",
        "notary_worker_running_sandboxes",
    ] {
        assert!(
            before.contains(&format!("# TYPE {name} ")),
            "{name} missing from /metrics"
        );
    }

    let (status, _) = c.verify(hello(HELLO_HASH)).await;
    assert_eq!(status, 200);
    let (status, _) = c.verify(hello(&"0".repeat(64))).await;
    assert_eq!(status, 200);
    let mut limited = false;
    for _ in 0..10 {
        // (Job status reads are not counted: polling is never limited.)
        let (status, _) = c.get("/modules/not-a-hash").await;
        limited |= status == 429;
    }
    assert!(limited, "the limit of 5 per minute never applied");
    let after = metrics(&c.url).await;

    let delta = |series: &str| sample(&after, series) - sample(&before, series);
    assert!(delta("notary_jobs_total{outcome=\"valid\"}") >= 1.0);
    assert!(delta("notary_jobs_total{outcome=\"invalid\"}") >= 1.0);
    assert!(delta("notary_job_execution_seconds_count") >= 2.0);
    assert!(delta("notary_job_fuel_used_count") >= 2.0);
    assert!(
        delta("notary_http_requests_total{method=\"POST\",route=\"/verify\",status=\"200\"}")
            >= 2.0
    );
    assert!(
        delta(
            "notary_http_requests_total{method=\"GET\",route=\"/modules/{hash}\",status=\"429\"}"
        ) >= 1.0
    );
    assert!(delta("notary_rate_limited_requests_total") >= 1.0);
    // The embedded worker's own metrics are on the same page.
    assert!(delta("notary_worker_jobs_total{outcome=\"valid\"}") >= 1.0);
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_liveness_and_ready_is_readiness() {
    let c = Coordinator::embedded(1).await;
    let (status, body) = c.get("/health").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
    let (status, body) = c.get("/ready").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ready"], true);
    assert_eq!(body["breaker"], "closed");
    c.shutdown().await;
}

/// A `notary-worker` process serves its own `/metrics` with `--metrics-listen`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_process_serves_its_metrics() {
    let redis = RedisServer::start();
    let key = WorkerKey::generate();
    let config = test_config(Some(redis.url()), 0, vec![key.address()]);
    let prefix = config.redis_prefix.clone();
    let c = Coordinator::start(config).await;
    let port = notary_queue::test_utils::free_port();
    let mut child = std::process::Command::new(worker_bin())
        .args(["--redis", &redis.url(), "--redis-prefix", &prefix])
        .args(["--concurrency", "1", "--heartbeat-ms", "400"])
        .args(["--module-cache-dir", &cache_dir().display().to_string()])
        .args(["--metrics-listen", &format!("127.0.0.1:{port}")])
        .env("NOTARY_WORKER_KEY", key.to_hex())
        .env("RUST_LOG", "warn")
        .spawn()
        .unwrap();
    let (status, body) = c.verify(hello(HELLO_HASH)).await;
    assert_eq!(
        (status, body["result"].as_str()),
        (200, Some("VALID")),
        "{body}"
    );
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    let text = loop {
        if let Ok(r) = client().get(format!("{url}/metrics")).send().await {
            break r.text().await.unwrap();
        }
        assert!(Instant::now() < deadline, "worker metrics never answered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        sample(&text, "notary_worker_jobs_total{outcome=\"valid\"}"),
        1.0,
        "{text}"
    );
    assert_eq!(sample(&text, "notary_worker_execution_seconds_count"), 1.0);
    assert!(sample(&text, "notary_worker_queue_wait_seconds_count") >= 1.0);
    assert_eq!(sample(&text, "notary_worker_running_sandboxes"), 0.0);
    let (status, _) = (
        client()
            .get(format!("{url}/health"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        (),
    );
    assert_eq!(status, 200);
    let _ = child.kill();
    let _ = child.wait();
    c.shutdown().await;
}
