//! The fleet: coordinators and `notary-worker` processes sharing a real Redis.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use notary_protocol::WorkerKey;
use notary_queue::test_utils::RedisServer;
use serde_json::{json, Value};

use crate::support::*;

/// A job that takes a few milliseconds and prints `n`.
fn numbered_job(n: usize) -> Value {
    json!({
        "taskType": "code-execution",
        "code": format!("let s = 0; for (let i = 0; i < 20000; i++) s += i; console.log({n})"),
        "expectedHash": sha256_hex(format!("{n}\n").as_bytes()),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_complete_200_jobs_despite_a_sigkill() {
    let redis = RedisServer::start();
    let keys: Vec<WorkerKey> = (0..3).map(|_| WorkerKey::generate()).collect();
    let config = test_config(
        Some(redis.url()),
        0,
        keys.iter().map(|k| k.address()).collect(),
    );
    let prefix = config.redis_prefix.clone();
    let c = Coordinator::start(config).await;
    let mut workers: Vec<WorkerProcess> = keys
        .iter()
        .map(|k| WorkerProcess::spawn(&redis.url(), &prefix, 1, k))
        .collect();

    let mut ids = Vec::new();
    for n in 0..200 {
        ids.push((n, submit_async(&c, numbered_job(n)).await));
    }
    // Kill one worker once a good part of the work is done: it is almost surely mid-job.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (_, body) = c.get(&format!("/verify/{}", ids[70].1)).await;
        if body["status"] == "completed" {
            break;
        }
        assert!(Instant::now() < deadline, "no progress");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    workers[0].signal("-KILL");
    let _ = workers[0].child.wait();

    let allowed: HashSet<String> = keys.iter().map(|k| k.address().to_checksum(None)).collect();
    let mut redelivered = 0;
    let mut by_worker = std::collections::HashMap::<String, usize>::new();
    for (n, id) in &ids {
        let body = c.wait_final(id, Duration::from_secs(180)).await;
        assert_eq!(body["result"], "VALID", "job {n}: {body}");
        assert_eq!(body["actualHash"], sha256_hex(format!("{n}\n").as_bytes()));
        let worker = body["attestation"]["worker"].as_str().unwrap().to_string();
        assert!(allowed.contains(&worker));
        *by_worker.entry(worker).or_default() += 1;
        if body["attempts"].as_u64().unwrap() > 1 {
            redelivered += 1;
        }
    }
    eprintln!(
        "200 jobs complete; per worker {by_worker:?}; redelivered after the kill: {redelivered}"
    );
    assert!(by_worker.len() >= 2);
    // Nothing is left in the queue: every job was submitted and acknowledged once.
    let (status, _) = c.get("/health").await;
    assert_eq!(status, 200);
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_workers_lease_expires_and_another_worker_finishes_the_job() {
    let redis = RedisServer::start();
    let (a, b) = (WorkerKey::generate(), WorkerKey::generate());
    let config = test_config(Some(redis.url()), 0, vec![a.address(), b.address()]);
    let prefix = config.redis_prefix.clone();
    let c = Coordinator::start(config).await;
    let id = submit_async(&c, busy_guest(3_000, 30)).await;
    let mut first = WorkerProcess::spawn(&redis.url(), &prefix, 1, &a);
    wait_leased(&queue_client(&redis.url(), &prefix).await, 1).await;
    first.signal("-KILL");
    let _ = first.child.wait();
    let _second = WorkerProcess::spawn(&redis.url(), &prefix, 1, &b);
    let body = c.wait_final(&id, Duration::from_secs(120)).await;
    assert_eq!(body["result"], "VALID", "{body}");
    assert_eq!(body["attempts"], 2, "{body}");
    assert_eq!(body["attestation"]["worker"], b.address().to_checksum(None));
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_a_worker_finish_its_running_job() {
    let redis = RedisServer::start();
    let key = WorkerKey::generate();
    let config = test_config(Some(redis.url()), 0, vec![key.address()]);
    let prefix = config.redis_prefix.clone();
    let c = Coordinator::start(config).await;
    let id = submit_async(&c, busy_guest(2_000, 30)).await;
    let mut worker = WorkerProcess::spawn(&redis.url(), &prefix, 1, &key);
    wait_leased(&queue_client(&redis.url(), &prefix).await, 1).await;
    worker.signal("-TERM");
    let body = c.wait_final(&id, Duration::from_secs(60)).await;
    assert_eq!(body["result"], "VALID", "{body}");
    assert_eq!(
        body["attempts"], 1,
        "the draining worker should have finished it: {body}"
    );
    let status = worker.child.wait().unwrap();
    assert!(status.success(), "worker exit status {status}");
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_coordinators_share_jobs_and_answers() {
    let redis = RedisServer::start();
    let key = WorkerKey::generate();
    let key_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(key_file.path(), key.to_hex()).unwrap();
    let mut config_a = test_config(Some(redis.url()), 1, vec![]);
    config_a.worker_key_file = Some(key_file.path().to_path_buf());
    let mut config_b = test_config(Some(redis.url()), 0, vec![key.address()]);
    config_b.redis_prefix = config_a.redis_prefix.clone();
    let a = Coordinator::start(config_a).await;
    let b = Coordinator::start(config_b).await;
    for _ in 0..10 {
        let (status, body) = b.verify(hello(HELLO_HASH)).await;
        assert_eq!(
            (status, body["result"].as_str()),
            (200, Some("VALID")),
            "{body}"
        );
        let (status, seen) = a
            .get(&format!("/verify/{}", body["jobId"].as_str().unwrap()))
            .await;
        assert_eq!(status, 200);
        assert_eq!(seen["attestation"], body["attestation"]);
    }
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_from_unknown_workers_never_decide_a_job() {
    let redis = RedisServer::start();
    let (good, rogue) = (WorkerKey::generate(), WorkerKey::generate());
    let mut config = test_config(Some(redis.url()), 0, vec![good.address()]);
    config.max_deliveries = 2;
    let prefix = config.redis_prefix.clone();
    let c = Coordinator::start(config).await;
    // The rogue believes it is allowed (as under a coordinator with another allow list), so
    // it leases and submits; the coordinator refuses every one of its reports.
    let q = queue_client(&redis.url(), &prefix).await;
    q.publish_allowed_workers(&[rogue.address().to_string(), good.address().to_string()])
        .await
        .unwrap();
    let refused = |text: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with("notary_reports_refused_total{fault=\"worker\"}"))
            .and_then(|l| l.split_whitespace().last())
            .map_or(0.0, |v| v.parse().unwrap())
    };
    let metrics = || async {
        client()
            .get(format!("{}/metrics", c.url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let before = refused(&metrics().await);
    let mut rogue_worker = WorkerProcess::spawn(&redis.url(), &prefix, 1, &rogue);
    let id = submit_async(&c, hello(HELLO_HASH)).await;
    // More refused reports than the delivery limit, and the job is still open: refusals of
    // the worker cost the job no delivery.
    let deadline = Instant::now() + Duration::from_secs(60);
    while refused(&metrics().await) < before + 3.0 {
        assert!(Instant::now() < deadline, "the rogue's reports never came");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // SIGTERM: it finishes (and submits) what it holds, so no lease is left to be reaped.
    rogue_worker.signal("-TERM");
    let _ = rogue_worker.child.wait();
    let (status, body) = c.get(&format!("/verify/{id}")).await;
    assert_eq!(status, 202, "{body}");
    // An allowed worker decides it, as its first delivery.
    let _good = WorkerProcess::spawn(&redis.url(), &prefix, 1, &good);
    let body = c.wait_final(&id, Duration::from_secs(60)).await;
    assert_eq!(body["result"], "VALID", "{body}");
    assert_eq!(body["attempts"], 1, "{body}");
    assert_eq!(
        body["attestation"]["worker"],
        good.address().to_checksum(None)
    );
    c.shutdown().await;
}

/// Uses the Redis the test command provides (NOTARY_TEST_REDIS_URL), under a fresh key
/// prefix, or a private server when run alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_mode_on_the_shared_test_redis() {
    let own;
    let url = match std::env::var("NOTARY_TEST_REDIS_URL") {
        Ok(url) => url,
        Err(_) => {
            own = RedisServer::start();
            own.url()
        }
    };
    let c = Coordinator::start(test_config(Some(url), 1, vec![])).await;
    let (status, body) = c.verify(hello(HELLO_HASH)).await;
    assert_eq!(
        (status, body["result"].as_str()),
        (200, Some("VALID")),
        "{body}"
    );
    c.shutdown().await;
}

/// A fleet with its queue over 2 shards on a plain Redis: a worker started with the same count
/// verifies jobs of both shards; one started without `--redis-shards` refuses to run (it would
/// lease from key spaces nobody fills) and says which count to use.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sharded_fleet_runs_and_a_worker_with_another_shard_count_refuses() {
    let redis = RedisServer::start();
    let key = WorkerKey::generate();
    let mut config = test_config(Some(redis.url()), 0, vec![key.address()]);
    config.redis_shards = 2;
    let prefix = config.redis_prefix.clone();
    let c = Coordinator::start(config).await;
    let _worker =
        WorkerProcess::spawn_with(&redis.url(), &prefix, 2, &key, &["--redis-shards", "2"]);
    let ids: Vec<(usize, String)> = futures_ids(&c, 0..8).await;
    let mut shards = HashSet::new();
    for (n, id) in &ids {
        let body = c.wait_final(id, Duration::from_secs(60)).await;
        assert_eq!(body["result"], "VALID", "job {n}: {body}");
        shards.insert(notary_queue::shard_of(id, 2));
    }
    assert_eq!(shards.len(), 2, "8 jobs all in one shard: {ids:?}");

    let mut refused = std::process::Command::new(worker_bin())
        .args(["--redis", &redis.url(), "--redis-prefix", &prefix])
        .env("NOTARY_WORKER_KEY", key.to_hex())
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = refused.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the mismatched worker kept running"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut refused.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!status.success());
    assert!(stderr.contains("--redis-shards 2"), "{stderr}");
    c.shutdown().await;
}

/// Submits `numbers`' jobs (async) and returns their ids.
async fn futures_ids(c: &Coordinator, numbers: std::ops::Range<usize>) -> Vec<(usize, String)> {
    let mut ids = Vec::new();
    for n in numbers {
        ids.push((n, submit_async(c, numbered_job(n)).await));
    }
    ids
}
