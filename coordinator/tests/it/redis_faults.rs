//! Redis faults with real `redis-server` processes: unreachable at start, killed and restarted
//! under load (with AOF, nothing accepted is lost), requests never hang.

use std::time::{Duration, Instant};

use notary_protocol::WorkerKey;
use notary_queue::test_utils::{RedisServer, RedisServerOptions};
use serde_json::{json, Value};

use crate::support::*;

/// The longest any request may take while Redis is away (the store's commands give up after
/// their timeouts and retries; the protections answer at once once the outage is seen).
const REQUEST_BOUND: Duration = Duration::from_secs(10);

fn numbered_job(n: usize) -> Value {
    json!({
        "taskType": "code-execution",
        "code": format!("let s = 0; for (let i = 0; i < 2000000; i++) s += i; console.log({n})"),
        "expectedHash": sha256_hex(format!("{n}\n").as_bytes()),
    })
}

/// One request with a hard bound: a hang fails the test instead of stalling it.
async fn bounded(req: reqwest::RequestBuilder) -> (u16, Value, Duration) {
    let started = Instant::now();
    let resp = tokio::time::timeout(REQUEST_BOUND, req.send())
        .await
        .unwrap_or_else(|_| panic!("request hung for more than {REQUEST_BOUND:?}"));
    let elapsed = started.elapsed();
    match resp {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let body = resp.json().await.unwrap_or(Value::Null);
            (status, body, elapsed)
        }
        Err(e) => panic!("request failed at the HTTP level: {e}"),
    }
}

/// Waits (up to 20 s) until the coordinator's `/ready` answers 200.
async fn wait_ready(c: &Coordinator) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, _) = c.get("/ready").await;
        if status == 200 {
            return;
        }
        assert!(Instant::now() < deadline, "never became ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_unreachable_at_start_then_ready_once_it_answers() {
    let mut redis = RedisServer::start_with(RedisServerOptions::durable());
    let url = redis.url();
    redis.kill(); // nothing listens on its port now
    let c = Coordinator::start_serving(test_config(Some(url), 1, vec![])).await;

    let (status, body) = c.get("/ready").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["ready"], false);
    assert_eq!(body["backends"], false);
    let (status, body, took) = bounded(
        client()
            .post(format!("{}/verify", c.url))
            .json(&hello(HELLO_HASH)),
    )
    .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"], "Service Unavailable");
    assert!(took < Duration::from_secs(1), "503 took {took:?}");
    // Alive all along.
    let (status, _) = c.get("/health").await;
    assert_eq!(status, 503, "health reports the backend state");

    redis.restart();
    wait_ready(&c).await;
    let (status, body) = c.verify(hello(HELLO_HASH)).await;
    assert_eq!(
        (status, body["result"].as_str()),
        (200, Some("VALID")),
        "{body}"
    );
    c.shutdown().await;
}

/// A run of jobs through a coordinator and a worker process while Redis (AOF, fsync always)
/// is SIGKILLed and restarted: every job answered 202 completes VALID, every refusal is a
/// quick 503, no request hangs, and the fleet resumes by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_and_restarted_mid_run_loses_no_accepted_job() {
    let mut redis = RedisServer::start_with(RedisServerOptions::durable());
    let key = WorkerKey::generate();
    let config = test_config(Some(redis.url()), 0, vec![key.address()]);
    let prefix = config.redis_prefix.clone();
    let c = Coordinator::start(config).await;
    let _worker = WorkerProcess::spawn(&redis.url(), &prefix, 2, &key);

    let mut accepted = Vec::new();
    let mut refused = 0;
    let mut slowest_refusal = Duration::ZERO;
    let mut n = 0;
    let submit = |n: usize| {
        let url = c.url.clone();
        async move {
            bounded(
                client()
                    .post(format!("{url}/verify"))
                    .header("prefer", "respond-async")
                    .json(&numbered_job(n)),
            )
            .await
        }
    };
    // Before the crash: everything is accepted.
    while n < 20 {
        let (status, body, _) = submit(n).await;
        assert_eq!(status, 202, "job {n}: {body}");
        accepted.push((n, body["jobId"].as_str().unwrap().to_string()));
        n += 1;
    }
    // ~20 jobs of ~50 ms each on two slots: most are queued or running at the crash.
    let (_, first) = c.get(&format!("/verify/{}", accepted[19].1)).await;
    assert_eq!(
        first["status"], "running",
        "the run was over before the crash: {first}"
    );
    redis.kill();
    tracing_note("redis killed");
    let outage = Instant::now();
    while outage.elapsed() < Duration::from_secs(2) {
        let (status, body, took) = submit(n).await;
        match status {
            // Accepted just before the outage was noticed: must complete like any other.
            202 => accepted.push((n, body["jobId"].as_str().unwrap().to_string())),
            503 => {
                refused += 1;
                slowest_refusal = slowest_refusal.max(took);
            }
            other => panic!("job {n}: unexpected {other}: {body}"),
        }
        n += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    redis.restart();
    tracing_note("redis restarted");
    // The service resumes by itself: keep submitting until 20 more are accepted.
    let resumed = Instant::now();
    let mut after = 0;
    while after < 20 {
        assert!(
            resumed.elapsed() < Duration::from_secs(30),
            "no job accepted within 30 s of Redis returning"
        );
        let (status, body, took) = submit(n).await;
        match status {
            202 => {
                accepted.push((n, body["jobId"].as_str().unwrap().to_string()));
                after += 1;
            }
            503 => {
                refused += 1;
                slowest_refusal = slowest_refusal.max(took);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => panic!("job {n}: unexpected {other}: {body}"),
        }
        n += 1;
    }
    eprintln!(
        "{} accepted, {refused} refused with 503 (slowest {slowest_refusal:?}); accepting again {:?} after the restart",
        accepted.len(),
        resumed.elapsed()
    );
    assert!(refused >= 5, "the outage was not seen: {refused} refusals");

    // Every accepted job completes, with the right output, once Redis is back.
    let deadline = Instant::now() + Duration::from_secs(120);
    for (n, id) in &accepted {
        loop {
            let (status, body, _) = bounded(client().get(format!("{}/verify/{id}", c.url))).await;
            if status == 200 {
                assert_eq!(body["result"], "VALID", "job {n}: {body}");
                assert_eq!(body["actualHash"], sha256_hex(format!("{n}\n").as_bytes()));
                break;
            }
            assert!(
                status == 202 || status == 503,
                "job {n}: unexpected {status}: {body}"
            );
            assert!(Instant::now() < deadline, "job {n} ({id}) never completed");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    c.shutdown().await;
}

fn tracing_note(what: &str) {
    eprintln!("[{:?}] {what}", std::time::SystemTime::now());
}

/// A worker started before its Redis retries with clear (here JSON) logs, then serves once
/// Redis answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_started_before_redis_retries_with_clear_logs_then_serves() {
    use std::io::BufRead;
    let mut redis = RedisServer::start_with(RedisServerOptions::durable());
    let url = redis.url();
    redis.kill();
    let key = WorkerKey::generate();
    let prefix = "tworker-early:";
    let mut child = std::process::Command::new(worker_bin())
        .args([
            "--redis",
            &url,
            "--redis-prefix",
            prefix,
            "--concurrency",
            "1",
        ])
        .args(["--module-cache-dir", &cache_dir().display().to_string()])
        .env("NOTARY_WORKER_KEY", key.to_hex())
        .env("NOTARY_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<Value>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            let value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("log line is not JSON ({e}): {line}"));
            if tx.send(value).is_err() {
                break;
            }
        }
    });
    let mut retries = 0;
    let deadline = Instant::now() + Duration::from_secs(20);
    while retries < 2 {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("no retry log from the worker");
        if line["fields"]["message"] == "Redis not reachable yet; retrying" {
            assert_eq!(line["level"], "WARN", "{line}");
            assert!(line["fields"]["error"].is_string(), "{line}");
            retries += 1;
        }
    }

    redis.restart();
    let mut config = test_config(Some(url), 0, vec![key.address()]);
    config.redis_prefix = prefix.to_string();
    let c = Coordinator::start(config).await;
    let (status, body) = c.verify(hello(HELLO_HASH)).await;
    assert_eq!(
        (status, body["result"].as_str()),
        (200, Some("VALID")),
        "{body}"
    );
    let _ = child.kill();
    let _ = child.wait();
    c.shutdown().await;
}

/// Issue 22 (smaller defects): once `/ready` says 200 after a Redis restart, the first read of
/// `GET /info` (the module registry's own connection) answers too, not 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn info_answers_as_soon_as_ready_after_a_redis_restart() {
    let mut redis = RedisServer::start_with(RedisServerOptions::durable());
    let c = Coordinator::start(test_config(Some(redis.url()), 1, vec![])).await;
    let (status, body) = c.get("/info").await;
    assert_eq!(status, 200, "{body}");
    redis.restart();
    wait_ready(&c).await;
    let (status, body) = c.get("/info").await;
    assert_eq!(status, 200, "{body}");
    c.shutdown().await;
}

/// On a Redis Cluster the stores' scripts need every key in one slot: a coordinator pointed at
/// a Cluster node with a prefix that has no hash tag stops at start and says why, rather than
/// serving 503s (a tagged prefix works: `cluster.rs`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_cluster_node_with_an_untagged_prefix_is_refused_at_start() {
    let redis = RedisServer::start_with(RedisServerOptions {
        cluster: true,
        ..RedisServerOptions::default()
    });
    let mut config = test_config(Some(redis.url()), 0, vec![]);
    config.redis_prefix = "notary:".to_string();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ran = tokio::time::timeout(
        Duration::from_secs(30),
        notary_coordinator::run(listener, config, std::future::pending()),
    )
    .await
    .expect("refused at once, not served");
    let err = ran.expect_err("a Cluster node is refused").to_string();
    assert!(err.contains("Cluster node"), "{err}");
    assert!(err.contains("hash tag"), "{err}");
    assert!(
        err.contains(&format!("127.0.0.1:{}", redis.port())),
        "{err}"
    );
}
