//! Shared settings and helpers of the integration tests.

use std::sync::Arc;
use std::time::Duration;

use notary_queue::test_utils::RedisServer;
use notary_queue::{
    IntakeItem, JobEnvelope, JobQueue, Lease, MemoryQueue, RedisQueue, RedisQueueConfig,
    ShardedQueue,
};

/// Lease TTL the tests reap with.
pub const LEASE_TTL: Duration = Duration::from_millis(300);
/// Intake TTL both backends are built with.
pub const INTAKE_TTL: Duration = Duration::from_millis(300);
/// Comfortably past a TTL.
pub const PAST_TTL: Duration = Duration::from_millis(450);
/// Wait for something that should be there.
pub const WAIT: Duration = Duration::from_secs(2);
/// Wait for something that should not be there.
pub const SHORT: Duration = Duration::from_millis(50);
/// Delivery limit used where the test does not exercise it.
pub const MAX_DELIVERIES: u32 = 5;

pub fn memory_queue() -> Arc<dyn JobQueue> {
    Arc::new(MemoryQueue::new(INTAKE_TTL))
}

pub fn redis_config(server: &RedisServer) -> RedisQueueConfig {
    let mut config = RedisQueueConfig::new(server.url());
    config.intake_ttl = INTAKE_TTL;
    // The tests' alive windows are a few hundred ms.
    config.alive_every = SHORT;
    config
}

pub async fn redis_queue(server: &RedisServer) -> Arc<dyn JobQueue> {
    Arc::new(
        RedisQueue::connect(redis_config(server))
            .await
            .expect("connect to the test redis-server"),
    )
}

/// A queue on the Redis (or Redis Cluster node) at `url`, with keys under `prefix`.
pub async fn redis_queue_at(url: &str, prefix: &str) -> Arc<dyn JobQueue> {
    let mut config = RedisQueueConfig::new(url.to_string());
    config.intake_ttl = INTAKE_TTL;
    // The tests' alive windows are a few hundred ms.
    config.alive_every = SHORT;
    config.key_prefix = prefix.to_string();
    let queue = RedisQueue::connect(config)
        .await
        .expect("connect to the test Redis");
    assert_eq!(
        queue.cluster_problem().await.expect("ask"),
        None,
        "{prefix}"
    );
    Arc::new(queue)
}

/// A queue of `shards` shards of `prefix` on the Redis (or Redis Cluster node) at `url`.
pub async fn sharded_queue(url: &str, prefix: &str, shards: usize) -> Arc<dyn JobQueue> {
    let mut config = RedisQueueConfig::new(url.to_string());
    config.intake_ttl = INTAKE_TTL;
    config.alive_every = SHORT;
    config.key_prefix = prefix.to_string();
    let queue = ShardedQueue::connect(config, shards)
        .await
        .expect("connect to the test Redis");
    assert_eq!(queue.shard_count(), shards);
    Arc::new(queue)
}

pub fn job(n: usize) -> JobEnvelope {
    JobEnvelope::new(format!("job-{n}"), format!("{{\"n\":{n}}}"))
}

/// Leases a job that must be there.
pub async fn lease_now(queue: &Arc<dyn JobQueue>, worker: &str) -> Lease {
    queue
        .lease(worker, WAIT)
        .await
        .expect("lease")
        .expect("a job should be waiting")
}

/// Asserts nothing is leasable right now.
pub async fn assert_no_job(queue: &Arc<dyn JobQueue>) {
    let lease = queue.lease("probe", SHORT).await.expect("lease");
    assert!(lease.is_none(), "expected no job, got {lease:?}");
}

/// Takes, acknowledges and returns every intake item currently available.
pub async fn drain_intake(queue: &Arc<dyn JobQueue>, consumer: &str) -> Vec<IntakeItem> {
    let mut items = Vec::new();
    while let Some(delivery) = queue
        .next_intake(consumer, SHORT)
        .await
        .expect("next_intake")
    {
        queue.ack_intake(&delivery).await.expect("ack_intake");
        items.push(delivery.item);
    }
    items
}
