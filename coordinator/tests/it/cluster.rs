//! A fleet on a real Redis Cluster (3 masters, 3 replicas on loopback ports): a coordinator and
//! a `notary-worker` process, both given the node that is master of their hash-tagged prefix's
//! slot, verify jobs; that master is SIGKILLed, its replica is promoted, and the same processes
//! carry on (the clients learn the new master by themselves).

use std::time::{Duration, Instant};

use notary_protocol::WorkerKey;
use notary_queue::test_utils::RedisCluster;
use serde_json::{json, Value};

use crate::support::*;

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
    let c = Coordinator::start(config).await;
    let _worker = WorkerProcess::spawn(&seed, &prefix, 1, &key);

    let mut before = Vec::new();
    for n in 0..10 {
        before.push((n, submit_async(&c, numbered_job(n)).await));
    }
    for (n, id) in &before {
        let body = c.wait_final(id, Duration::from_secs(60)).await;
        assert_eq!(body["result"], "VALID", "job {n}: {body}");
    }

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
        "MEASURE cluster failover: node {killed} killed, node {promoted} promoted {promotion:?} \
         later; 20 jobs verified {:?} after the promotion",
        failed_over.elapsed()
    );
    let (status, body) = c.get("/ready").await;
    assert_eq!(status, 200, "{body}");
    c.shutdown().await;
    drop(cluster);
}
