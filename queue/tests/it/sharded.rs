//! What a `ShardedQueue` adds to the conformance suite: where jobs go, order within a shard,
//! fair leasing across shards, waking for a job in any shard, and the fleet's shard count.

use std::collections::BTreeMap;
use std::time::Duration;

use notary_queue::test_utils::RedisServer;
use notary_queue::{shard_of, Error, IntakeDelivery, IntakeItem, ShardedQueue};
use tokio::time::Instant;

use crate::support::*;

const SHARDS: usize = 3;

/// Stream length of `key`.
async fn xlen(server: &RedisServer, key: &str) -> usize {
    let client = redis::Client::open(server.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("XLEN")
        .arg(key)
        .query_async(&mut conn)
        .await
        .unwrap()
}

/// A job id of shard `shard` (the first `probe-<n>` that hashes there).
fn id_in(shard: usize) -> String {
    (0..)
        .map(|n| format!("probe-{n}"))
        .find(|id| shard_of(id, SHARDS) == shard)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_spread_over_the_shards_and_keep_their_order_within_one() {
    let server = RedisServer::start();
    let q = sharded_queue(&server.url(), "{fleet}:", SHARDS).await;
    const JOBS: usize = 60;
    for n in 0..JOBS {
        q.enqueue(job(n)).await.unwrap();
    }
    let mut per_shard = BTreeMap::new();
    for shard in 0..SHARDS {
        let key = format!("{{fleet:{shard}}}:queue:jobs");
        let len = xlen(&server, &key).await;
        let expected = (0..JOBS).filter(|n| shard_of(&format!("job-{n}"), SHARDS) == shard);
        assert_eq!(len, expected.count(), "{key}");
        assert!(len >= JOBS / SHARDS / 2, "{key} holds only {len} of {JOBS}");
        per_shard.insert(shard, Vec::new());
    }
    // Nothing under the unsharded names.
    assert_eq!(xlen(&server, "{fleet}:queue:jobs").await, 0);
    for _ in 0..JOBS {
        let lease = lease_now(&q, "w1").await;
        let n: usize = lease.job.job_id["job-".len()..].parse().unwrap();
        per_shard
            .get_mut(&shard_of(&lease.job.job_id, SHARDS))
            .unwrap()
            .push(n);
        q.submit(&lease, "r".into()).await.unwrap();
    }
    for (shard, order) in &per_shard {
        assert!(
            order.windows(2).all(|w| w[0] < w[1]),
            "shard {shard}: {order:?}"
        );
    }
    assert_eq!(drain_intake(&q, "c1").await.len(), JOBS);
    assert_no_job(&q).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_shards_are_leased_round_robin() {
    busy_shards_round_robin(None).await;
}

/// A juror's home shard is one of the rotation, not first: while every shard is busy it would
/// starve the others' jobs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_shards_are_leased_round_robin_by_a_juror_too() {
    busy_shards_round_robin(Some("0x00000000000000000000000000000000000000aa")).await;
}

async fn busy_shards_round_robin(identity: Option<&str>) {
    let server = RedisServer::start();
    let q = sharded_queue(&server.url(), "notary:", SHARDS).await;
    // Shard 0 gets far more jobs than the others: it must not be served first until empty.
    for shard in 0..SHARDS {
        let jobs = if shard == 0 { 12 } else { 4 };
        for n in 0..jobs {
            let id = (0..)
                .map(|k| format!("s{shard}-{n}-{k}"))
                .find(|id| shard_of(id, SHARDS) == shard)
                .unwrap();
            q.enqueue(notary_queue::JobEnvelope::new(id, "{}"))
                .await
                .unwrap();
        }
    }
    let mut first = Vec::new();
    for _ in 0..3 * SHARDS {
        let lease = match identity {
            Some(identity) => q.lease_as("w1", identity, WAIT).await.unwrap(),
            None => q.lease("w1", WAIT).await.unwrap(),
        };
        first.push(shard_of(&lease.expect("a job").job.job_id, SHARDS));
    }
    for shard in 0..SHARDS {
        let taken = first.iter().filter(|s| **s == shard).count();
        assert_eq!(
            taken,
            3,
            "the first {} leases came from {first:?}",
            3 * SHARDS
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_lease_takes_a_job_of_any_shard_within_a_round() {
    let server = RedisServer::start();
    let q = sharded_queue(&server.url(), "notary:", SHARDS).await;
    for shard in 0..SHARDS {
        let waiter = {
            let q = q.clone();
            tokio::spawn(async move {
                let start = Instant::now();
                let lease = q.lease("w1", Duration::from_secs(20)).await;
                (lease, start)
            })
        };
        tokio::time::sleep(Duration::from_millis(150)).await;
        let enqueued = Instant::now();
        q.enqueue(notary_queue::JobEnvelope::new(id_in(shard), "{}"))
            .await
            .unwrap();
        let (lease, _) = waiter.await.unwrap();
        let lease = lease.unwrap().expect("the job");
        assert_eq!(shard_of(&lease.job.job_id, SHARDS), shard);
        // One round (100 ms) at most beyond the enqueue; far below the 20 s wait even on a
        // loaded machine.
        let took = enqueued.elapsed();
        assert!(took < Duration::from_secs(5), "shard {shard}: {took:?}");
        q.submit(&lease, "r".into()).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intake_tokens_name_their_shard_and_foreign_ones_are_refused() {
    let server = RedisServer::start();
    let q = sharded_queue(&server.url(), "notary:", SHARDS).await;
    for shard in 0..SHARDS {
        q.enqueue(notary_queue::JobEnvelope::new(id_in(shard), "{}"))
            .await
            .unwrap();
        let lease = lease_now(&q, "w1").await;
        q.submit(&lease, "r".into()).await.unwrap();
    }
    let mut shards = Vec::new();
    for _ in 0..SHARDS {
        let delivery = q.next_intake("c1", WAIT).await.unwrap().expect("an item");
        let (shard, _) = delivery.token.split_once('/').expect("shard/token");
        assert_eq!(
            shard.parse::<usize>().unwrap(),
            shard_of(delivery.item.job_id(), SHARDS)
        );
        shards.push(shard.to_owned());
        q.ack_intake(&delivery).await.unwrap();
    }
    shards.sort();
    assert_eq!(shards, ["0", "1", "2"]);
    assert_eq!(q.depth().await.unwrap().intake, 0);
    let foreign = IntakeDelivery {
        item: IntakeItem::Submitted {
            job_id: "x".into(),
            worker: "w".into(),
            attempt: 1,
            payload: String::new(),
        },
        token: "1700000000000-0".into(),
    };
    assert!(matches!(
        q.ack_intake(&foreign).await,
        Err(Error::InvalidArgument(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_with_another_shard_count_sees_the_mismatch() {
    let server = RedisServer::start();
    let config = |url: String| {
        let mut config = notary_queue::RedisQueueConfig::new(url);
        config.key_prefix = "{fleet}:".into();
        config
    };
    let three = ShardedQueue::connect(config(server.url()), 3)
        .await
        .unwrap();
    let one = ShardedQueue::connect(config(server.url()), 1)
        .await
        .unwrap();
    // Nothing published yet: an older fleet, no complaint.
    assert_eq!(one.shards_mismatch().await.unwrap(), None);
    three.publish_shards().await.unwrap();
    assert_eq!(three.shards_mismatch().await.unwrap(), None);
    assert_eq!(one.shards_mismatch().await.unwrap(), Some(3));
    one.publish_shards().await.unwrap();
    assert_eq!(three.shards_mismatch().await.unwrap(), Some(1));
    assert_eq!(one.shards_mismatch().await.unwrap(), None);
}
