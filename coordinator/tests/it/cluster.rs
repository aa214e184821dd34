//! A fleet on a real Redis Cluster (3 masters, 3 replicas on loopback ports): a coordinator and
//! a `notary-worker` process with the job queue spread over 3 shards (`--redis-shards 3`),
//! both given the node that is master of their hash-tagged prefix's slot, verify jobs (each
//! shard's stream delivers its share); that master is SIGKILLed, its replica is promoted, and
//! the same processes carry on (the clients learn the new master by themselves).

use std::time::{Duration, Instant};

use notary_protocol::WorkerKey;
use notary_queue::test_utils::RedisCluster;
use serde_json::{json, Value};

use crate::support::*;

/// Shards of the fleet's job queue.
const SHARDS: usize = 3;

/// How many entries were ever added to `stream` (one lane of a shard) (`XINFO STREAM`'s `entries-added`: deleting
/// acknowledged entries does not lower it), asked of the node at `url` (its slot's master).
fn entries_added(url: &str, stream: &str) -> u64 {
    let mut conn = redis::Client::open(url).unwrap().get_connection().unwrap();
    let info: std::collections::HashMap<String, redis::Value> = redis::cmd("XINFO")
        .arg("STREAM")
        .arg(stream)
        .query(&mut conn)
        .unwrap();
    match info.get("entries-added") {
        Some(redis::Value::Int(n)) => *n as u64,
        other => panic!("entries-added of {stream}: {other:?}"),
    }
}

fn numbered_job(n: usize) -> Value {
    json!({
        "taskType": "code-execution",
        "code": format!("console.log({n})"),
        "expectedHash": sha256_hex(format!("{n}\n").as_bytes()),
    })
}

/// Submits (async), retrying a 503 for a while: the moments after a failover, before the
/// client has learned the new master, answer "Redis unavailable" rather than losing the job.
async fn submit_retrying(c: &Coordinator, body: Value) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, resp) = c
            .post("/verify", body.clone(), &[("prefer", "respond-async")])
            .await;
        match status {
            202 => return resp["jobId"].as_str().unwrap().to_string(),
            503 if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            _ => panic!("{status}: {resp}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_on_a_redis_cluster_carries_on_after_its_master_fails_over() {
    let cluster = tokio::task::spawn_blocking(|| RedisCluster::start(3, 1))
        .await
        .unwrap();
    let prefix = format!("{{t{}}}:", rand_suffix());
    let slot_key = format!("{prefix}queue:jobs");
    // Seeded with the node that will die: the hardest case for a client.
    let seed = cluster.url(cluster.master_of(&slot_key));
    let key = WorkerKey::generate();
    let mut config = test_config(Some(seed.clone()), 0, vec![key.address()]);
    config.redis_prefix = prefix.clone();
    config.redis_shards = SHARDS;
    let c = Coordinator::start(config).await;
    let shards = SHARDS.to_string();
    let _worker = WorkerProcess::spawn_with(&seed, &prefix, 2, &key, &["--redis-shards", &shards]);

    let mut before = Vec::new();
    for n in 0..10 {
        before.push((n, submit_async(&c, numbered_job(n)).await));
    }
    for (n, id) in &before {
        let body = c.wait_final(id, Duration::from_secs(60)).await;
        assert_eq!(body["result"], "VALID", "job {n}: {body}");
    }
    // Each job went through its shard's streams (the lane its client's share put it in), on whichever master holds that shard's slot.
    let spread = tokio::task::spawn_blocking({
        let urls: Vec<String> = (0..SHARDS)
            .map(|shard| {
                let stream = notary_queue::keys::jobs(&notary_queue::shard_prefix(&prefix, shard));
                cluster.url(cluster.master_of(&stream))
            })
            .collect();
        let prefix = prefix.clone();
        move || {
            (0..SHARDS)
                .map(|shard| {
                    let prefix = notary_queue::shard_prefix(&prefix, shard);
                    let lanes = (0..notary_queue::LANES).map(|lane| {
                        entries_added(&urls[shard], &notary_queue::keys::jobs_lane(&prefix, lane))
                    });
                    (urls[shard].clone(), lanes.sum::<u64>())
                })
                .collect::<Vec<_>>()
        }
    })
    .await
    .unwrap();
    let mut expected = vec![0u64; SHARDS];
    for (_, id) in &before {
        expected[notary_queue::shard_of(id, SHARDS)] += 1;
    }
    let read: Vec<u64> = spread.iter().map(|(_, read)| *read).collect();
    assert_eq!(read, expected, "jobs added per shard stream");
    assert!(read.iter().filter(|r| **r > 0).count() >= 2, "{read:?}");
    let masters: std::collections::BTreeSet<&String> = spread.iter().map(|(url, _)| url).collect();

    let (cluster, killed, promoted, promotion) = tokio::task::spawn_blocking(move || {
        let mut cluster = cluster;
        cluster.wait_replicated(&slot_key);
        let kill = Instant::now();
        let (killed, promoted) = cluster.fail_over(&slot_key);
        (cluster, killed, promoted, kill.elapsed())
    })
    .await
    .unwrap();
    assert_ne!(killed, promoted);
    let failed_over = Instant::now();

    // What was replicated before the failover is still there.
    for (n, id) in &before {
        let body = c.wait_final(id, Duration::from_secs(30)).await;
        assert_eq!(
            body["result"], "VALID",
            "job {n} after the failover: {body}"
        );
    }
    // And the same coordinator and worker go on verifying.
    let mut after = Vec::new();
    for n in 10..30 {
        after.push((n, submit_retrying(&c, numbered_job(n)).await));
    }
    for (n, id) in &after {
        let body = c.wait_final(id, Duration::from_secs(60)).await;
        assert_eq!(body["result"], "VALID", "job {n}: {body}");
        assert_eq!(body["actualHash"], sha256_hex(format!("{n}\n").as_bytes()));
    }
    eprintln!(
        "MEASURE cluster failover: {SHARDS} shards on {} master(s), jobs per shard {read:?}; \
         node {killed} killed, node {promoted} promoted {promotion:?} later; 20 jobs verified \
         {:?} after the promotion",
        masters.len(),
        failed_over.elapsed()
    );
    let (status, body) = c.get("/ready").await;
    assert_eq!(status, 200, "{body}");
    c.shutdown().await;
    drop(cluster);
}
