//! Worker faults with real `notary-worker` processes: a slow worker keeps its lease by
//! heartbeats, a stopped one (SIGSTOP: no heartbeats) loses it, and a poison job that kills
//! its worker on every delivery is dead-lettered at the delivery limit and never loops.
//! (SIGKILL mid-job and SIGTERM draining are in `fleet.rs`.)

use std::time::{Duration, Instant};

use notary_protocol::WorkerKey;
use notary_queue::test_utils::RedisServer;
use notary_queue::JobQueue;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_workers_heartbeat_keeps_its_lease() {
    let redis = RedisServer::start();
    let (slow, idle) = (WorkerKey::generate(), WorkerKey::generate());
    // Lease TTL 1.5 s (test_config), heartbeats every 400 ms; the job takes 4 s.
    let config = test_config(Some(redis.url()), 0, vec![slow.address(), idle.address()]);
    let prefix = config.redis_prefix.clone();
    let c = Coordinator::start(config).await;
    let q = queue_client(&redis.url(), &prefix).await;
    let id = submit_async(&c, busy_guest(4_000, 60)).await;
    let _slow = WorkerProcess::spawn(&redis.url(), &prefix, 1, &slow);
    wait_leased(&q, 1).await;
    // An idle worker waits for anything the reaper would hand out.
    let _idle = WorkerProcess::spawn(&redis.url(), &prefix, 1, &idle);
    let body = c.wait_final(&id, Duration::from_secs(60)).await;
    assert_eq!(body["result"], "VALID", "{body}");
    assert_eq!(
        body["attempts"], 1,
        "the lease was reclaimed from a live worker: {body}"
    );
    assert_eq!(
        body["attestation"]["worker"],
        slow.address().to_checksum(None)
    );
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_heartbeat_loses_the_lease_to_another_worker() {
    let redis = RedisServer::start();
    let (stuck, rescuer) = (WorkerKey::generate(), WorkerKey::generate());
    let config = test_config(
        Some(redis.url()),
        0,
        vec![stuck.address(), rescuer.address()],
    );
    let prefix = config.redis_prefix.clone();
    let c = Coordinator::start(config).await;
    let q = queue_client(&redis.url(), &prefix).await;
    let id = submit_async(&c, busy_guest(2_000, 60)).await;
    let stuck_worker = WorkerProcess::spawn(&redis.url(), &prefix, 1, &stuck);
    wait_leased(&q, 1).await;
    stuck_worker.signal("-STOP"); // alive, but neither running nor heartbeating
    let _rescuer = WorkerProcess::spawn(&redis.url(), &prefix, 1, &rescuer);
    let body = c.wait_final(&id, Duration::from_secs(60)).await;
    assert_eq!(body["result"], "VALID", "{body}");
    assert_eq!(body["attempts"], 2, "{body}");
    assert_eq!(
        body["attestation"]["worker"],
        rescuer.address().to_checksum(None)
    );
    // The stopped worker wakes up and finishes its stale copy: the first result stands.
    stuck_worker.signal("-CONT");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (_, again) = c.get(&format!("/verify/{id}")).await;
    assert_eq!(again["attestation"], body["attestation"]);
    let depth = q.depth().await.unwrap();
    assert_eq!((depth.waiting, depth.leased), (0, 0), "{depth:?}");
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_job_is_dead_lettered_at_the_delivery_limit_and_never_loops() {
    let redis = RedisServer::start();
    let key = WorkerKey::generate();
    let mut config = test_config(Some(redis.url()), 0, vec![key.address()]);
    config.max_deliveries = 2;
    let prefix = config.redis_prefix.clone();
    let c = Coordinator::start(config).await;
    let q = queue_client(&redis.url(), &prefix).await;
    let id = submit_async(&c, busy_guest(5_000, 60)).await;

    // Every delivery kills the worker that took it (as a job that crashes its host would).
    let mut deliveries = 0;
    let deadline = Instant::now() + Duration::from_secs(90);
    let body = loop {
        let (status, body) = c.get(&format!("/verify/{id}")).await;
        if status == 200 {
            break body;
        }
        assert!(Instant::now() < deadline, "the poison job never ended");
        if q.depth().await.unwrap().waiting > 0 {
            let mut worker = WorkerProcess::spawn(&redis.url(), &prefix, 1, &key);
            wait_leased(&q, 1).await;
            deliveries += 1;
            worker.signal("-KILL");
            let _ = worker.child.wait();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(deliveries, 2, "delivered more often than the limit");
    assert_eq!(body["status"], "error", "{body}");
    assert_eq!(body["refundEligible"], true);
    assert_eq!(body["errorCode"], "VM Spawn Failed", "{body}");
    // Never looping: nothing is queued or leased any more, even with a live worker around.
    let _worker = WorkerProcess::spawn(&redis.url(), &prefix, 1, &key);
    for _ in 0..20 {
        let depth = q.depth().await.unwrap();
        assert_eq!((depth.waiting, depth.leased), (0, 0), "{depth:?}");
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let (_, again) = c.get(&format!("/verify/{id}")).await;
    assert_eq!(again["status"], "error");
    c.shutdown().await;
}

/// Issue 22, defect 7: a worker waiting for an unreachable Redis logs the URL without its
/// password.
#[test]
fn a_worker_waiting_for_redis_never_logs_its_password() {
    // A loopback port nobody listens on.
    let port = notary_queue::test_utils::free_port();
    let url = format!("redis://default:hunter2-secret@127.0.0.1:{port}/0");
    let (mut child, rx) = spawn_logged_worker(&["--redis", &url], &WorkerKey::generate(), "info");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = String::new();
    let mut retries = 0;
    while retries < 2 {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no retry logged within 60 s:\n{seen}"));
        if line.contains("Redis not reachable yet") {
            retries += 1;
        }
        seen.push_str(&line);
        seen.push('\n');
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(!seen.contains("hunter2"), "{seen}");
    assert!(
        seen.contains(&format!("redis://default:***@127.0.0.1:{port}/0")),
        "{seen}"
    );
}

/// Issue 22, defect 2: a worker whose key the coordinators do not accept learns it at start
/// from the allow list they publish and leases nothing; the jobs wait for an allowed worker
/// and run as their first delivery.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_that_is_not_allowed_leases_nothing_and_burns_no_job() {
    let redis = RedisServer::start();
    let (allowed, stranger) = (WorkerKey::generate(), WorkerKey::generate());
    let config = test_config(Some(redis.url()), 0, vec![allowed.address()]);
    let prefix = config.redis_prefix.clone();
    let c = Coordinator::start(config).await;
    let q = queue_client(&redis.url(), &prefix).await;
    assert_eq!(
        q.allows_worker(&stranger.address().to_string())
            .await
            .unwrap(),
        Some(false)
    );
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(submit_async(&c, hello(HELLO_HASH)).await);
    }
    let (mut stranger_process, lines) = spawn_logged_worker(
        &["--redis", &redis.url(), "--redis-prefix", &prefix],
        &stranger,
        "warn",
    );
    let refused = tokio::task::spawn_blocking(move || {
        lines
            .iter()
            .any(|line| line.contains("not on the coordinators' allow list"))
    });
    // It says so (loudly) once its sandbox is up...
    assert!(tokio::time::timeout(Duration::from_secs(60), refused)
        .await
        .expect("no refusal logged within 60 s")
        .unwrap());
    // ...and never leases.
    for _ in 0..10 {
        let depth = q.depth().await.unwrap();
        assert_eq!((depth.waiting, depth.leased), (3, 0), "{depth:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _allowed = WorkerProcess::spawn(&redis.url(), &prefix, 1, &allowed);
    for id in &ids {
        let body = c.wait_final(id, Duration::from_secs(60)).await;
        assert_eq!(body["result"], "VALID", "{body}");
        assert_eq!(body["attempts"], 1, "{body}");
        assert_eq!(
            body["attestation"]["worker"],
            allowed.address().to_checksum(None)
        );
    }
    let _ = stranger_process.kill();
    let _ = stranger_process.wait();
    c.shutdown().await;
}

/// Issue 22 (smaller defects): with several jobs interleaved on one worker, each log line
/// carries the job it is about (the span used to stay entered across awaits, so lines of one
/// job showed another's `job_id`, or two nested job spans).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_log_lines_name_their_own_job() {
    // Results are logged at debug only (sealed for juries); this test reads them.
    let (_redis, c, _key, mut worker, rx) =
        fleet_of_one_logged_worker(&["--concurrency", "4"], "info,notary_worker=debug,json").await;
    // Eight JavaScript loops of different lengths (so different fuel), long enough to yield
    // to each other on the worker's one runtime thread.
    let mut ids = Vec::new();
    for n in 0..8u64 {
        let code = format!(
            "let s = 0; for (let i = 0; i < {}; i++) s += i; console.log(s)",
            200_000 + n * 37_000
        );
        let mut body = js(&code);
        body["expectedHash"] = serde_json::json!("0".repeat(64));
        ids.push(submit_async(&c, body).await);
    }
    let mut fuel_of = std::collections::HashMap::new();
    for id in &ids {
        let body = c.wait_final(id, Duration::from_secs(60)).await;
        fuel_of.insert(id.clone(), body["fuelUsed"].as_u64().unwrap());
    }
    let _ = worker.kill();
    let _ = worker.wait();
    let mut checked = 0;
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(2)) {
        let Ok(entry) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if entry["fields"]["message"] != "job ran: result" {
            continue;
        }
        let spans = entry["spans"].as_array().cloned().unwrap_or_default();
        assert_eq!(spans.len(), 1, "nested job spans: {line}");
        let job_id = entry["span"]["job_id"].as_str().unwrap().to_string();
        assert_eq!(
            fuel_of.get(&job_id).copied(),
            entry["fields"]["fuel"].as_u64(),
            "a line about another job: {line}"
        );
        checked += 1;
    }
    assert_eq!(checked, ids.len(), "one 'job ran: result' line per job");
    c.shutdown().await;
}

/// Issue 11's test aid: `notary-worker --fault wrong-output` plays a dishonest worker that
/// signs valid attestations over a wrong output (and says so loudly at start). A tier-1 job,
/// decided by one worker alone, run by such a liar is INVALID: the cost of tier 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lying_worker_decides_a_tier_1_job_alone() {
    let (_redis, c, liar, mut worker, rx) =
        fleet_of_one_logged_worker(&["--concurrency", "1", "--fault", "wrong-output"], "warn")
            .await;
    let (status, body) = c.verify(hello(HELLO_HASH)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"], "INVALID", "{body}");
    assert_eq!(body["output"], "hello world\n\n");
    assert_eq!(
        body["attestation"]["worker"],
        liar.address().to_checksum(None),
        "accepted: a genuine signature over a lie"
    );
    let _ = worker.kill();
    let _ = worker.wait();
    let warned = std::iter::from_fn(|| rx.recv_timeout(Duration::from_secs(2)).ok())
        .any(|line| line.contains("TEST AID --fault IS ON"));
    assert!(warned, "the liar must say so at start");
    c.shutdown().await;
}

/// A Redis, a coordinator on it and one `notary-worker` (with the returned key, allowed)
/// started with `args` after the queue flags, whose log lines at `log` arrive on the receiver.
async fn fleet_of_one_logged_worker(
    args: &[&str],
    log: &str,
) -> (
    RedisServer,
    Coordinator,
    WorkerKey,
    std::process::Child,
    std::sync::mpsc::Receiver<String>,
) {
    let redis = RedisServer::start();
    let key = WorkerKey::generate();
    let config = test_config(Some(redis.url()), 0, vec![key.address()]);
    let prefix = config.redis_prefix.clone();
    let c = Coordinator::start(config).await;
    let url = redis.url();
    let mut all = vec!["--redis", url.as_str(), "--redis-prefix", prefix.as_str()];
    all.extend_from_slice(args);
    let (child, rx) = spawn_logged_worker(&all, &key, log);
    (redis, c, key, child, rx)
}
