//! The conformance suite: every case runs against `MemoryQueue` (on a paused clock), against
//! `RedisQueue` (on a fresh `redis-server`; and all on one Redis Cluster) and, but for the cases
//! about queue order across jobs, against a `ShardedQueue` of 3 shards. All must behave
//! identically.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use notary_queue::keys::REAPER_CONSUMER;
use notary_queue::{Error, IntakeItem, JobEnvelope, JobQueue, OutputPiece, QueueDepth, ReapReport};
use tokio::time::Instant;

use crate::support::*;

/// Generates `memory::<case>`, `redis::<case>` and `sharded::<case>` tests for each case
/// function, and one `cluster` test running every case on a Redis Cluster. The `in_order`
/// cases assert queue order across jobs, which a sharded queue keeps within a shard only
/// (`tests/it/sharded.rs` checks that), so they do not run on it.
macro_rules! conformance_suite {
    (in_order: [$($ordered:ident),* $(,)?], any_order: [$($case:ident),* $(,)?] $(,)?) => {
        mod memory {
            $(crate::conformance::case!($ordered, [start_paused = true], crate::support::memory_queue());)*
            $(crate::conformance::case!($case, [start_paused = true], crate::support::memory_queue());)*
        }
        mod redis {
            $(crate::conformance::case!($ordered, [flavor = "multi_thread", worker_threads = 2], server => crate::support::redis_queue(&server).await);)*
            $(crate::conformance::case!($case, [flavor = "multi_thread", worker_threads = 2], server => crate::support::redis_queue(&server).await);)*
        }
        mod sharded {
            $(crate::conformance::case!($case, [flavor = "multi_thread", worker_threads = 2], server =>
                crate::support::sharded_queue(&server.url(), "notary:", 3).await);)*
        }
        mod cluster {
            /// Every case on one real Redis Cluster (3 masters, 3 replicas), one after the
            /// other, each under a hash-tagged prefix of its own: the cases' slots spread over
            /// the masters, and a script that touched keys of two slots would fail here.
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn every_case_on_a_redis_cluster() {
                let cluster = tokio::task::spawn_blocking(|| {
                    notary_queue::test_utils::RedisCluster::start(3, 1)
                })
                .await
                .unwrap();
                $(crate::conformance::on_cluster!(cluster, $ordered);)*
                $(crate::conformance::on_cluster!(cluster, $case);)*
                drop(cluster);
            }
        }
    };
}

/// One test of one case: on a fresh queue from `$make` (with `server =>`: a fresh
/// `redis-server` named `server` first).
macro_rules! case {
    ($case:ident, [$($attr:tt)*], $server:ident => $make:expr) => {
        #[tokio::test($($attr)*)]
        async fn $case() {
            let $server = notary_queue::test_utils::RedisServer::start();
            let queue = $make;
            tokio::time::timeout(super::CASE_TIMEOUT, super::$case(queue))
                .await
                .expect("case timed out");
        }
    };
    ($case:ident, [$($attr:tt)*], $make:expr) => {
        #[tokio::test($($attr)*)]
        async fn $case() {
            let queue = $make;
            tokio::time::timeout(super::CASE_TIMEOUT, super::$case(queue))
                .await
                .expect("case timed out");
        }
    };
}
pub(crate) use case;

/// One case on the cluster, under a prefix of its own.
macro_rules! on_cluster {
    ($cluster:ident, $case:ident) => {
        let prefix = concat!("{", stringify!($case), "}:");
        let queue = crate::support::redis_queue_at(&$cluster.url(0), prefix).await;
        tokio::time::timeout(super::CASE_TIMEOUT, super::$case(queue))
            .await
            .expect(concat!(stringify!($case), " timed out on the cluster"));
    };
}
pub(crate) use on_cluster;

const CASE_TIMEOUT: Duration = Duration::from_secs(30);

conformance_suite!(
    in_order: [
        leases_in_fifo_order,
        lower_lanes_are_leased_first_and_each_lane_in_order,
        lease_as_takes_targeted_tasks_first_in_order,
    ],
    any_order: [
        output_logs_keep_order_per_job_and_wake_readers,
        output_logs_drop_their_oldest_pieces_past_the_bound,
        submit_reaches_intake,
        payloads_are_opaque,
        lease_on_empty_queue_returns_none_after_wait,
        lease_wakes_up_on_enqueue,
        concurrent_workers_lease_each_job_once,
        concurrent_blocking_leases_do_not_stall_other_calls,
        stale_lease_is_redelivered_with_next_attempt,
        heartbeat_keeps_lease_alive,
        heartbeat_after_reap_or_submit_is_false,
        max_deliveries_dead_letters_once,
        concurrent_reapers_handle_each_stale_lease_once,
        duplicate_submits_both_reach_intake_once_each,
        release_requeues_with_same_attempt,
        unacked_intake_is_redelivered_after_ttl,
        intake_items_of_a_dead_consumer_all_reach_another,
        depth_counts_waiting_leased_and_intake,
        reserved_and_empty_names_are_refused,
        a_lane_survives_redelivery_release_and_submit,
        a_blocked_lease_wakes_for_any_lane,
        targeted_task_is_leased_only_by_its_identity,
        lease_as_wakes_for_targeted_and_shared_jobs,
        lease_seats_takes_targeted_tasks_only,
        targeted_lease_heartbeat_submit_and_release,
        stale_targeted_lease_is_redelivered_to_the_same_target,
        targeted_max_deliveries_dead_letters_with_target,
        waiting_task_of_absent_target_is_dead_lettered,
        heartbeats_keep_an_identity_alive,
        alive_lists_recent_identities_sorted,
        depth_counts_targeted_tasks,
        concurrent_reapers_dead_letter_each_absent_task_once,
        concurrent_lease_as_lease_each_targeted_task_once,
        empty_identity_is_refused,
    ],
);

async fn submit_reaches_intake(q: Arc<dyn JobQueue>) {
    q.enqueue(JobEnvelope::new("job-1", "payload-1"))
        .await
        .unwrap();
    let lease = lease_now(&q, "w1").await;
    assert_eq!(lease.job, JobEnvelope::new("job-1", "payload-1"));
    assert_eq!(lease.job.attempt, 1);
    assert_eq!(lease.worker, "w1");

    q.submit(&lease, "result-1".into()).await.unwrap();
    let delivery = q
        .next_intake("c1", WAIT)
        .await
        .unwrap()
        .expect("intake item");
    assert_eq!(
        delivery.item,
        IntakeItem::Submitted {
            job_id: "job-1".into(),
            worker: "w1".into(),
            attempt: 1,
            payload: "result-1".into(),
        }
    );
    assert_eq!(delivery.item.job_id(), "job-1");
    q.ack_intake(&delivery).await.unwrap();

    assert!(q.next_intake("c1", SHORT).await.unwrap().is_none());
    assert_no_job(&q).await;
    assert_eq!(q.depth().await.unwrap(), QueueDepth::default());
    q.ping().await.unwrap();
}

async fn payloads_are_opaque(q: Arc<dyn JobQueue>) {
    let payloads = [
        String::new(),
        "{\"code\":\"console.log('ü ✓ \\n')\",\"nested\":{\"a\":[1,2]}}".to_owned(),
        "x".repeat(200_000),
    ];
    for (n, payload) in payloads.iter().enumerate() {
        q.enqueue(JobEnvelope::new(format!("job-{n}"), payload.clone()))
            .await
            .unwrap();
    }
    for _ in &payloads {
        let lease = lease_now(&q, "w1").await;
        let n: usize = lease.job.job_id["job-".len()..].parse().unwrap();
        assert_eq!(lease.job.payload, payloads[n]);
        q.submit(&lease, payloads[n].clone()).await.unwrap();
    }
    let results = drain_intake(&q, "c1").await;
    let got: BTreeMap<&str, &str> = results
        .iter()
        .map(|item| match item {
            IntakeItem::Submitted {
                job_id, payload, ..
            } => (job_id.as_str(), payload.as_str()),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(got.len(), payloads.len());
    for (n, payload) in payloads.iter().enumerate() {
        assert_eq!(got[format!("job-{n}").as_str()], payload.as_str());
    }
}

async fn lease_on_empty_queue_returns_none_after_wait(q: Arc<dyn JobQueue>) {
    let wait = Duration::from_millis(300);
    let start = Instant::now();
    assert!(q.lease("w1", wait).await.unwrap().is_none());
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(280),
        "returned after {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_millis(1500),
        "returned after {elapsed:?}"
    );

    let start = Instant::now();
    assert!(q.lease("w1", Duration::ZERO).await.unwrap().is_none());
    assert!(
        start.elapsed() < Duration::from_millis(200),
        "a zero wait must not block"
    );

    let start = Instant::now();
    assert!(q.next_intake("c1", wait).await.unwrap().is_none());
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(280),
        "returned after {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_millis(1500),
        "returned after {elapsed:?}"
    );
}

/// A blocked lease returns as soon as a job arrives, even past the redis crate's default 500 ms
/// response timeout.
async fn lease_wakes_up_on_enqueue(q: Arc<dyn JobQueue>) {
    let start = Instant::now();
    let waiter = {
        let q = q.clone();
        tokio::spawn(async move { q.lease("w1", Duration::from_secs(5)).await })
    };
    tokio::time::sleep(Duration::from_millis(700)).await;
    q.enqueue(job(1)).await.unwrap();
    let lease = waiter.await.unwrap().unwrap().expect("woken with a job");
    let elapsed = start.elapsed();
    assert_eq!(lease.job, job(1));
    assert!(
        elapsed >= Duration::from_millis(700),
        "leased after {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_millis(2500),
        "leased after {elapsed:?}"
    );

    // Same for the intake.
    let start = Instant::now();
    let waiter = {
        let q = q.clone();
        tokio::spawn(async move { q.next_intake("c1", Duration::from_secs(5)).await })
    };
    tokio::time::sleep(Duration::from_millis(700)).await;
    q.submit(&lease, "r".into()).await.unwrap();
    let delivery = waiter.await.unwrap().unwrap().expect("woken with an item");
    assert_eq!(delivery.item.job_id(), "job-1");
    assert!(start.elapsed() < Duration::from_millis(2500));
}

async fn leases_in_fifo_order(q: Arc<dyn JobQueue>) {
    for n in 0..10 {
        q.enqueue(job(n)).await.unwrap();
    }
    for n in 0..10 {
        assert_eq!(lease_now(&q, "w1").await.job, job(n));
    }
    assert_no_job(&q).await;
}

async fn concurrent_workers_lease_each_job_once(q: Arc<dyn JobQueue>) {
    const JOBS: usize = 60;
    for n in 0..JOBS {
        q.enqueue(job(n)).await.unwrap();
    }
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let q = q.clone();
            tokio::spawn(async move {
                let worker = format!("w{w}");
                let mut leased = Vec::new();
                while let Some(lease) = q.lease(&worker, Duration::from_millis(200)).await.unwrap()
                {
                    leased.push(lease.job.job_id.clone());
                    tokio::task::yield_now().await;
                    q.submit(&lease, format!("by {worker}")).await.unwrap();
                }
                leased
            })
        })
        .collect();
    let mut all = Vec::new();
    for worker in workers {
        all.extend(worker.await.unwrap());
    }
    all.sort();
    let mut want: Vec<String> = (0..JOBS).map(|n| format!("job-{n}")).collect();
    want.sort();
    assert_eq!(all, want, "every job leased exactly once");

    let mut results: Vec<String> = drain_intake(&q, "c1")
        .await
        .iter()
        .map(|item| item.job_id().to_owned())
        .collect();
    results.sort();
    assert_eq!(results, want, "one result per job");
    assert_eq!(q.depth().await.unwrap(), QueueDepth::default());
}

/// Blocking leases each hold their own connection: several wait at once, and ordinary calls
/// stay fast meanwhile.
async fn concurrent_blocking_leases_do_not_stall_other_calls(q: Arc<dyn JobQueue>) {
    let waiters: Vec<_> = (0..6)
        .map(|w| {
            let q = q.clone();
            tokio::spawn(async move { q.lease(&format!("w{w}"), Duration::from_secs(3)).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let start = Instant::now();
    q.ping().await.unwrap();
    q.depth().await.unwrap();
    assert!(
        start.elapsed() < Duration::from_millis(250),
        "ping/depth took {:?} while leases were blocked",
        start.elapsed()
    );
    for n in 0..6 {
        q.enqueue(job(n)).await.unwrap();
    }
    let mut got = BTreeSet::new();
    for waiter in waiters {
        let lease = waiter
            .await
            .unwrap()
            .unwrap()
            .expect("each waiter gets a job");
        assert!(got.insert(lease.job.job_id));
    }
    assert_eq!(got.len(), 6);
    assert!(start.elapsed() < Duration::from_millis(2000));
}

async fn stale_lease_is_redelivered_with_next_attempt(q: Arc<dyn JobQueue>) {
    q.enqueue(job(1)).await.unwrap();
    let first = lease_now(&q, "w1").await;
    assert_eq!(first.job.attempt, 1);

    // Not stale yet.
    assert_eq!(
        q.reap(LEASE_TTL, MAX_DELIVERIES).await.unwrap(),
        ReapReport::default()
    );
    assert_no_job(&q).await;

    tokio::time::sleep(PAST_TTL).await;
    let report = q.reap(LEASE_TTL, MAX_DELIVERIES).await.unwrap();
    assert_eq!(
        report,
        ReapReport {
            redelivered: 1,
            dead_lettered: 0
        }
    );

    let second = lease_now(&q, "w2").await;
    assert_eq!(second.job.job_id, first.job.job_id);
    assert_eq!(second.job.payload, first.job.payload);
    assert_eq!(second.job.attempt, 2);
    assert_ne!(second.token, first.token, "a redelivery is a new delivery");
    assert_no_job(&q).await;
    assert!(drain_intake(&q, "c1").await.is_empty());
}

async fn heartbeat_keeps_lease_alive(q: Arc<dyn JobQueue>) {
    q.enqueue(job(1)).await.unwrap();
    q.enqueue(job(2)).await.unwrap();
    let alive = lease_now(&q, "w1").await;
    let silent = lease_now(&q, "w2").await;

    let mut total = ReapReport::default();
    let interval = LEASE_TTL / 3;
    // About three TTLs.
    for _ in 0..9 {
        tokio::time::sleep(interval).await;
        assert!(
            q.heartbeat(&alive).await.unwrap(),
            "heartbeat must keep the lease"
        );
        let report = q.reap(LEASE_TTL, MAX_DELIVERIES).await.unwrap();
        total.redelivered += report.redelivered;
        total.dead_lettered += report.dead_lettered;
    }
    assert_eq!(
        total,
        ReapReport {
            redelivered: 1,
            dead_lettered: 0
        },
        "only the silent lease"
    );
    assert!(q.heartbeat(&alive).await.unwrap());
    assert!(!q.heartbeat(&silent).await.unwrap());

    let again = lease_now(&q, "w3").await;
    assert_eq!(again.job.job_id, silent.job.job_id);
    assert_eq!(again.job.attempt, 2);

    // The heartbeating lease is still submittable and was never redelivered.
    q.submit(&alive, "done".into()).await.unwrap();
    let items = drain_intake(&q, "c1").await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].job_id(), "job-1");
}

async fn heartbeat_after_reap_or_submit_is_false(q: Arc<dyn JobQueue>) {
    q.enqueue(job(1)).await.unwrap();
    let lease = lease_now(&q, "w1").await;
    assert!(q.heartbeat(&lease).await.unwrap());
    tokio::time::sleep(PAST_TTL).await;
    assert_eq!(
        q.reap(LEASE_TTL, MAX_DELIVERIES).await.unwrap().redelivered,
        1
    );
    assert!(!q.heartbeat(&lease).await.unwrap(), "the lease was reaped");

    // The redelivered copy belongs to its new holder only.
    let second = lease_now(&q, "w2").await;
    assert!(
        !q.heartbeat(&lease).await.unwrap(),
        "old token never matches a new delivery"
    );
    let mut impostor = second.clone();
    impostor.worker = "w1".into();
    assert!(
        !q.heartbeat(&impostor).await.unwrap(),
        "another worker cannot heartbeat it"
    );
    assert!(q.heartbeat(&second).await.unwrap());

    q.submit(&second, "r".into()).await.unwrap();
    assert!(
        !q.heartbeat(&second).await.unwrap(),
        "a submitted lease is gone"
    );
}

async fn max_deliveries_dead_letters_once(q: Arc<dyn JobQueue>) {
    const MAX: u32 = 2;
    q.enqueue(job(7)).await.unwrap();

    let first = lease_now(&q, "w1").await;
    assert_eq!(first.job.attempt, 1);
    tokio::time::sleep(PAST_TTL).await;
    assert_eq!(
        q.reap(LEASE_TTL, MAX).await.unwrap(),
        ReapReport {
            redelivered: 1,
            dead_lettered: 0
        }
    );

    let second = lease_now(&q, "w2").await;
    assert_eq!(second.job.attempt, 2);
    tokio::time::sleep(PAST_TTL).await;
    assert_eq!(
        q.reap(LEASE_TTL, MAX).await.unwrap(),
        ReapReport {
            redelivered: 0,
            dead_lettered: 1
        }
    );

    assert_no_job(&q).await;
    let items = drain_intake(&q, "c1").await;
    assert_eq!(
        items,
        vec![IntakeItem::DeadLettered {
            job: JobEnvelope {
                job_id: "job-7".into(),
                payload: job(7).payload,
                attempt: 2,
                lane: 0,
                target: None,
            },
            reason: "no result after 2 deliveries (max 2)".into(),
        }]
    );

    tokio::time::sleep(PAST_TTL).await;
    assert_eq!(q.reap(LEASE_TTL, MAX).await.unwrap(), ReapReport::default());
    assert!(q.next_intake("c2", SHORT).await.unwrap().is_none());
    assert_no_job(&q).await;
    assert_eq!(q.depth().await.unwrap(), QueueDepth::default());
}

async fn concurrent_reapers_handle_each_stale_lease_once(q: Arc<dyn JobQueue>) {
    const JOBS: usize = 30;
    for n in 0..JOBS {
        q.enqueue(job(n)).await.unwrap();
    }
    for _ in 0..JOBS {
        lease_now(&q, "w1").await;
    }
    tokio::time::sleep(PAST_TTL).await;

    let reapers: Vec<_> = (0..4)
        .map(|_| {
            let q = q.clone();
            tokio::spawn(async move { q.reap(LEASE_TTL, MAX_DELIVERIES).await })
        })
        .collect();
    let mut total = 0;
    for reaper in reapers {
        let report = reaper.await.unwrap().unwrap();
        assert_eq!(report.dead_lettered, 0);
        total += report.redelivered;
    }
    assert_eq!(
        total, JOBS as u64,
        "each stale lease redelivered exactly once"
    );

    let mut seen = BTreeMap::new();
    while let Some(lease) = q.lease("w2", SHORT).await.unwrap() {
        assert_eq!(lease.job.attempt, 2);
        *seen.entry(lease.job.job_id).or_insert(0) += 1;
    }
    assert_eq!(seen.len(), JOBS);
    assert!(seen.values().all(|&count| count == 1), "{seen:?}");
}

async fn duplicate_submits_both_reach_intake_once_each(q: Arc<dyn JobQueue>) {
    q.enqueue(job(1)).await.unwrap();
    let slow = lease_now(&q, "w1").await;
    tokio::time::sleep(PAST_TTL).await;
    assert_eq!(
        q.reap(LEASE_TTL, MAX_DELIVERIES).await.unwrap().redelivered,
        1
    );
    let fast = lease_now(&q, "w2").await;

    q.submit(&slow, "slow result".into()).await.unwrap();
    q.submit(&fast, "fast result".into()).await.unwrap();

    let items = drain_intake(&q, "c1").await;
    assert_eq!(
        items,
        vec![
            IntakeItem::Submitted {
                job_id: "job-1".into(),
                worker: "w1".into(),
                attempt: 1,
                payload: "slow result".into(),
            },
            IntakeItem::Submitted {
                job_id: "job-1".into(),
                worker: "w2".into(),
                attempt: 2,
                payload: "fast result".into(),
            },
        ]
    );
    assert_no_job(&q).await;
    tokio::time::sleep(PAST_TTL).await;
    assert_eq!(
        q.reap(LEASE_TTL, MAX_DELIVERIES).await.unwrap(),
        ReapReport::default()
    );
    assert!(q.next_intake("c2", SHORT).await.unwrap().is_none());
    assert_eq!(q.depth().await.unwrap(), QueueDepth::default());
}

async fn release_requeues_with_same_attempt(q: Arc<dyn JobQueue>) {
    q.enqueue(job(1)).await.unwrap();
    let lease = lease_now(&q, "w1").await;
    assert!(q.release(&lease).await.unwrap());
    assert!(
        !q.release(&lease).await.unwrap(),
        "a released lease is gone"
    );
    assert!(!q.heartbeat(&lease).await.unwrap());

    let start = Instant::now();
    let again = q
        .lease("w2", Duration::ZERO)
        .await
        .unwrap()
        .expect("leasable at once");
    assert!(start.elapsed() < Duration::from_millis(200));
    assert_eq!(again.job, lease.job, "same job, same attempt");

    // A release after redelivery keeps the redelivered attempt; a reaped lease cannot release.
    tokio::time::sleep(PAST_TTL).await;
    assert_eq!(
        q.reap(LEASE_TTL, MAX_DELIVERIES).await.unwrap().redelivered,
        1
    );
    assert!(
        !q.release(&again).await.unwrap(),
        "lost lease: nothing to release"
    );
    let third = lease_now(&q, "w3").await;
    assert_eq!(third.job.attempt, 2);
    let mut impostor = third.clone();
    impostor.worker = "w1".into();
    assert!(
        !q.release(&impostor).await.unwrap(),
        "only the holder can release"
    );
    assert!(q.release(&third).await.unwrap());
    assert_eq!(lease_now(&q, "w4").await.job.attempt, 2);
    assert!(drain_intake(&q, "c1").await.is_empty());
}

async fn unacked_intake_is_redelivered_after_ttl(q: Arc<dyn JobQueue>) {
    q.enqueue(job(1)).await.unwrap();
    let lease = lease_now(&q, "w1").await;
    q.submit(&lease, "r".into()).await.unwrap();

    let taken = q.next_intake("c1", WAIT).await.unwrap().expect("item");
    // c1 "crashes" without acknowledging: nobody else sees the item before the TTL.
    assert!(q.next_intake("c2", SHORT).await.unwrap().is_none());

    tokio::time::sleep(PAST_TTL).await;
    let retaken = q
        .next_intake("c2", WAIT)
        .await
        .unwrap()
        .expect("redelivered item");
    assert_eq!(retaken.item, taken.item);
    q.ack_intake(&retaken).await.unwrap();

    tokio::time::sleep(PAST_TTL).await;
    assert!(q.next_intake("c1", SHORT).await.unwrap().is_none());
    assert!(q.next_intake("c2", SHORT).await.unwrap().is_none());
    // A late ack by the crashed coordinator is harmless.
    q.ack_intake(&taken).await.unwrap();
    assert_eq!(q.depth().await.unwrap(), QueueDepth::default());
}

/// A coordinator that took one of several results and died: every one of them (those it may
/// have read ahead in a batch too) reaches another coordinator, each once.
async fn intake_items_of_a_dead_consumer_all_reach_another(q: Arc<dyn JobQueue>) {
    for n in 0..3 {
        q.enqueue(job(n)).await.unwrap();
        let lease = lease_now(&q, "w1").await;
        q.submit(&lease, format!("r{n}")).await.unwrap();
    }
    q.next_intake("c1", WAIT).await.unwrap().expect("item");
    tokio::time::sleep(PAST_TTL).await;
    let mut ids = Vec::new();
    while let Some(delivery) = q.next_intake("c2", SHORT).await.unwrap() {
        ids.push(delivery.item.job_id().to_owned());
        q.ack_intake(&delivery).await.unwrap();
    }
    ids.sort();
    assert_eq!(ids, ["job-0", "job-1", "job-2"]);
    assert_eq!(q.depth().await.unwrap(), QueueDepth::default());
}

async fn depth_counts_waiting_leased_and_intake(q: Arc<dyn JobQueue>) {
    assert_eq!(q.depth().await.unwrap(), QueueDepth::default());
    for n in 0..3 {
        q.enqueue(job(n)).await.unwrap();
    }
    assert_eq!(
        q.depth().await.unwrap(),
        QueueDepth {
            waiting: 3,
            leased: 0,
            intake: 0
        }
    );
    let lease = lease_now(&q, "w1").await;
    assert_eq!(
        q.depth().await.unwrap(),
        QueueDepth {
            waiting: 2,
            leased: 1,
            intake: 0
        }
    );
    q.submit(&lease, "r".into()).await.unwrap();
    assert_eq!(
        q.depth().await.unwrap(),
        QueueDepth {
            waiting: 2,
            leased: 0,
            intake: 1
        }
    );
    let delivery = q.next_intake("c1", WAIT).await.unwrap().expect("item");
    assert_eq!(
        q.depth().await.unwrap(),
        QueueDepth {
            waiting: 2,
            leased: 0,
            intake: 1
        }
    );
    q.ack_intake(&delivery).await.unwrap();
    assert_eq!(
        q.depth().await.unwrap(),
        QueueDepth {
            waiting: 2,
            leased: 0,
            intake: 0
        }
    );
    let lease = lease_now(&q, "w1").await;
    assert!(q.release(&lease).await.unwrap());
    assert_eq!(
        q.depth().await.unwrap(),
        QueueDepth {
            waiting: 2,
            leased: 0,
            intake: 0
        }
    );
}

async fn reserved_and_empty_names_are_refused(q: Arc<dyn JobQueue>) {
    q.enqueue(job(1)).await.unwrap();
    for name in ["", REAPER_CONSUMER] {
        assert!(matches!(
            q.lease(name, SHORT).await,
            Err(Error::InvalidArgument(_))
        ));
        assert!(matches!(
            q.next_intake(name, SHORT).await,
            Err(Error::InvalidArgument(_))
        ));
    }
    // The job is untouched.
    assert_eq!(lease_now(&q, "w1").await.job, job(1));
}

/// Fairness lanes: the oldest job of the lowest non-empty lane goes first; within a lane, queue
/// order; a lane past the last counts as the last.
async fn lower_lanes_are_leased_first_and_each_lane_in_order(q: Arc<dyn JobQueue>) {
    use notary_queue::LANES;
    // Client A's jobs went to lanes 0, 1, 2, 3, 3; client B's first two arrive later.
    let a: Vec<JobEnvelope> = (0..5u8).map(|n| job(n as usize).in_lane(n)).collect();
    assert_eq!(a[4].lane, LANES - 1, "capped at the last lane");
    for j in &a {
        q.enqueue(j.clone()).await.unwrap();
    }
    let mut beyond = job(99);
    beyond.lane = 200; // set directly: still the last lane
    q.enqueue(beyond).await.unwrap();
    q.enqueue(job(10)).await.unwrap();
    q.enqueue(job(11).in_lane(1)).await.unwrap();
    let mut order = Vec::new();
    while let Some(lease) = q.lease("w1", Duration::ZERO).await.unwrap() {
        order.push((lease.job.job_id.clone(), lease.job.lane));
    }
    let expected: Vec<(String, u8)> = [
        (0, 0),
        (10, 0),
        (1, 1),
        (11, 1),
        (2, 2),
        (3, 3),
        (4, 3),
        (99, 3),
    ]
    .into_iter()
    .map(|(n, lane)| (format!("job-{n}"), lane))
    .collect();
    assert_eq!(order, expected);
    assert_eq!(q.depth().await.unwrap().leased, 8);
}

/// A job keeps its lane through a release, a redelivery and its submit.
async fn a_lane_survives_redelivery_release_and_submit(q: Arc<dyn JobQueue>) {
    q.enqueue(job(1).in_lane(2)).await.unwrap();
    let first = lease_now(&q, "w1").await;
    assert_eq!(first.job.lane, 2);
    assert!(q.heartbeat(&first).await.unwrap());
    assert!(q.release(&first).await.unwrap());
    let second = lease_now(&q, "w2").await;
    assert_eq!((second.job.lane, second.job.attempt), (2, 1));
    // A newer lane-0 job overtakes the redelivered lane-2 one.
    tokio::time::sleep(PAST_TTL).await;
    assert_eq!(
        q.reap(LEASE_TTL, MAX_DELIVERIES).await.unwrap().redelivered,
        1
    );
    assert!(!q.heartbeat(&second).await.unwrap());
    q.enqueue(job(2)).await.unwrap();
    assert_eq!(lease_now(&q, "w3").await.job.job_id, "job-2");
    let third = lease_now(&q, "w3").await;
    assert_eq!((third.job.lane, third.job.attempt), (2, 2));
    q.submit(&third, "r".into()).await.unwrap();
    let items = drain_intake(&q, "c1").await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].job_id(), "job-1");
    let depth = q.depth().await.unwrap();
    assert_eq!((depth.waiting, depth.leased), (0, 1), "{depth:?}");
}

/// A worker blocked on an empty queue wakes for a job in any lane.
async fn a_blocked_lease_wakes_for_any_lane(q: Arc<dyn JobQueue>) {
    for lane in [3u8, 0, 1] {
        let start = Instant::now();
        let waiter = {
            let q = q.clone();
            tokio::spawn(async move { q.lease("w1", Duration::from_secs(5)).await })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        q.enqueue(job(lane as usize).in_lane(lane)).await.unwrap();
        let lease = waiter.await.unwrap().unwrap().expect("woken with a job");
        assert_eq!(lease.job.lane, lane);
        assert!(start.elapsed() < Duration::from_millis(2500));
    }
}

// ---- Targeted tasks (juror seats, issue 11) ----

/// Juror identities of the targeted cases (lowercase 0x hex, like worker addresses).
const JUROR_A: &str = "0x00000000000000000000000000000000000000aa";
const JUROR_B: &str = "0x00000000000000000000000000000000000000bb";

fn seat(n: usize, target: &str) -> JobEnvelope {
    JobEnvelope::for_worker(format!("seat-{n}"), format!("{{\"seat\":{n}}}"), target)
}

/// Leases through `lease_as` a job that must be there.
async fn lease_as_now(q: &Arc<dyn JobQueue>, worker: &str, identity: &str) -> notary_queue::Lease {
    q.lease_as(worker, identity, WAIT)
        .await
        .expect("lease_as")
        .expect("a job should be waiting")
}

/// Asserts `identity` has nothing leasable (targeted or shared) right now.
async fn assert_nothing_for(q: &Arc<dyn JobQueue>, identity: &str) {
    let lease = q
        .lease_as("probe", identity, SHORT)
        .await
        .expect("lease_as");
    assert!(
        lease.is_none(),
        "expected nothing for {identity}, got {lease:?}"
    );
}

async fn targeted_task_is_leased_only_by_its_identity(q: Arc<dyn JobQueue>) {
    let task = seat(1, JUROR_A);
    assert_eq!(task.target.as_deref(), Some(JUROR_A));
    assert_eq!(task.attempt, 1);
    q.enqueue(task.clone()).await.unwrap();

    // Neither a plain lease (old workers) nor another identity sees it.
    assert_no_job(&q).await;
    assert_nothing_for(&q, JUROR_B).await;

    let lease = lease_as_now(&q, "w1", JUROR_A).await;
    assert_eq!(lease.job, task);
    assert_eq!(lease.worker, "w1");
    assert_eq!(lease.identity.as_deref(), Some(JUROR_A));
    assert_nothing_for(&q, JUROR_A).await;

    // Shared jobs go to anyone, through either call.
    q.enqueue(job(1)).await.unwrap();
    let shared = lease_as_now(&q, "w2", JUROR_B).await;
    assert_eq!(shared.job, job(1));
    assert_eq!(shared.identity.as_deref(), Some(JUROR_B));
    q.enqueue(job(2)).await.unwrap();
    let plain = lease_now(&q, "w3").await;
    assert_eq!(plain.job, job(2));
    assert_eq!(plain.identity, None);

    q.submit(&lease, "verdict".into()).await.unwrap();
    assert_eq!(
        drain_intake(&q, "c1").await,
        vec![IntakeItem::Submitted {
            job_id: "seat-1".into(),
            worker: "w1".into(),
            attempt: 1,
            payload: "verdict".into(),
        }]
    );
}

async fn lease_as_takes_targeted_tasks_first_in_order(q: Arc<dyn JobQueue>) {
    q.enqueue(job(1)).await.unwrap();
    q.enqueue(seat(1, JUROR_A)).await.unwrap();
    q.enqueue(seat(2, JUROR_B)).await.unwrap();
    q.enqueue(job(2)).await.unwrap();
    q.enqueue(seat(3, JUROR_A)).await.unwrap();

    assert_eq!(lease_as_now(&q, "w1", JUROR_A).await.job, seat(1, JUROR_A));
    assert_eq!(lease_as_now(&q, "w1", JUROR_A).await.job, seat(3, JUROR_A));
    assert_eq!(lease_as_now(&q, "w1", JUROR_A).await.job, job(1));
    assert_eq!(lease_as_now(&q, "w2", JUROR_B).await.job, seat(2, JUROR_B));
    assert_eq!(lease_as_now(&q, "w2", JUROR_B).await.job, job(2));
    assert_nothing_for(&q, JUROR_A).await;
    assert_nothing_for(&q, JUROR_B).await;
    assert_no_job(&q).await;
}

/// A blocked `lease_as` wakes for its own targeted task and for a shared job, not for another
/// identity's task; a blocked plain `lease` does not wake for targeted tasks.
async fn lease_as_wakes_for_targeted_and_shared_jobs(q: Arc<dyn JobQueue>) {
    let spawn_lease_as = |identity: &'static str| {
        let q = q.clone();
        tokio::spawn(async move { q.lease_as("w1", identity, Duration::from_secs(5)).await })
    };

    let start = Instant::now();
    let waiter = spawn_lease_as(JUROR_A);
    tokio::time::sleep(Duration::from_millis(300)).await;
    q.enqueue(seat(1, JUROR_B)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(!waiter.is_finished(), "woken by another identity's task");
    q.enqueue(seat(2, JUROR_A)).await.unwrap();
    let lease = waiter.await.unwrap().unwrap().expect("woken with its task");
    assert_eq!(lease.job, seat(2, JUROR_A));
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(700),
        "leased after {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_millis(2500),
        "leased after {elapsed:?}"
    );

    let start = Instant::now();
    let waiter = spawn_lease_as(JUROR_A);
    tokio::time::sleep(Duration::from_millis(700)).await;
    q.enqueue(job(1)).await.unwrap();
    let lease = waiter
        .await
        .unwrap()
        .unwrap()
        .expect("woken with a shared job");
    assert_eq!(lease.job, job(1));
    assert!(start.elapsed() < Duration::from_millis(2500));

    // A plain lease keeps waiting through a targeted enqueue.
    let plain = {
        let q = q.clone();
        tokio::spawn(async move { q.lease("w2", Duration::from_millis(800)).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    q.enqueue(seat(3, JUROR_A)).await.unwrap();
    assert!(plain.await.unwrap().unwrap().is_none());
    assert_eq!(lease_as_now(&q, "w1", JUROR_A).await.job, seat(3, JUROR_A));
    assert_eq!(lease_as_now(&q, "w1", JUROR_B).await.job, seat(1, JUROR_B));
}

/// `lease_seats` takes its identity's targeted tasks and never a shared job; it waits for its
/// own task, and marks the identity alive.
async fn lease_seats_takes_targeted_tasks_only(q: Arc<dyn JobQueue>) {
    q.enqueue(job(1)).await.unwrap();
    q.enqueue(seat(1, JUROR_A)).await.unwrap();
    q.enqueue(seat(2, JUROR_B)).await.unwrap();
    let lease = q
        .lease_seats("w1", JUROR_A, Duration::ZERO)
        .await
        .unwrap()
        .expect("its seat");
    assert_eq!(lease.job, seat(1, JUROR_A));
    assert!(q
        .alive(Duration::from_secs(60))
        .await
        .unwrap()
        .contains(&JUROR_A.to_string()));
    let none = q
        .lease_seats("w1", JUROR_A, Duration::from_millis(300))
        .await
        .unwrap();
    assert!(
        none.is_none(),
        "a shared job was waiting, yet not for it: {none:?}"
    );
    let waiter = {
        let q = q.clone();
        tokio::spawn(async move { q.lease_seats("w1", JUROR_A, Duration::from_secs(5)).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    q.enqueue(seat(3, JUROR_A)).await.unwrap();
    let lease = waiter.await.unwrap().unwrap().expect("woken with its seat");
    assert_eq!(lease.job, seat(3, JUROR_A));
    // The shared job and the other identity's seat are still there for their takers.
    assert_eq!(lease_as_now(&q, "w2", JUROR_B).await.job, seat(2, JUROR_B));
    assert_eq!(lease_as_now(&q, "w2", JUROR_B).await.job, job(1));
}

async fn targeted_lease_heartbeat_submit_and_release(q: Arc<dyn JobQueue>) {
    q.enqueue(seat(1, JUROR_A)).await.unwrap();
    let lease = lease_as_now(&q, "w1", JUROR_A).await;
    assert!(q.heartbeat(&lease).await.unwrap());
    let mut impostor = lease.clone();
    impostor.worker = "w2".into();
    assert!(!q.heartbeat(&impostor).await.unwrap());
    assert!(!q.release(&impostor).await.unwrap());

    // A release puts it back in its target's queue, same attempt.
    assert!(q.release(&lease).await.unwrap());
    assert!(
        !q.release(&lease).await.unwrap(),
        "a released lease is gone"
    );
    assert!(!q.heartbeat(&lease).await.unwrap());
    assert_no_job(&q).await;
    assert_nothing_for(&q, JUROR_B).await;
    // Another slot of the same identity may take it.
    let again = q
        .lease_as("w3", JUROR_A, Duration::ZERO)
        .await
        .unwrap()
        .expect("leasable at once");
    assert_eq!(again.job, lease.job);
    assert_ne!(again.token, lease.token);

    q.submit(&again, "r".into()).await.unwrap();
    assert!(
        !q.heartbeat(&again).await.unwrap(),
        "a submitted lease is gone"
    );
    assert_eq!(
        drain_intake(&q, "c1").await,
        vec![IntakeItem::Submitted {
            job_id: "seat-1".into(),
            worker: "w3".into(),
            attempt: 1,
            payload: "r".into(),
        }]
    );
    assert_eq!(q.depth().await.unwrap(), QueueDepth::default());
}

async fn stale_targeted_lease_is_redelivered_to_the_same_target(q: Arc<dyn JobQueue>) {
    q.enqueue(seat(1, JUROR_A)).await.unwrap();
    let first = lease_as_now(&q, "w1", JUROR_A).await;
    // The identity stays alive (another slot keeps asking), this lease goes silent.
    tokio::time::sleep(PAST_TTL).await;
    assert_nothing_for(&q, JUROR_A).await;
    assert_eq!(
        q.reap(LEASE_TTL, MAX_DELIVERIES).await.unwrap(),
        ReapReport {
            redelivered: 1,
            dead_lettered: 0
        }
    );
    assert!(!q.heartbeat(&first).await.unwrap());
    assert_no_job(&q).await;
    assert_nothing_for(&q, JUROR_B).await;
    let second = lease_as_now(&q, "w2", JUROR_A).await;
    assert_eq!(second.job.job_id, "seat-1");
    assert_eq!(second.job.target.as_deref(), Some(JUROR_A));
    assert_eq!(second.job.attempt, 2);
    assert_ne!(second.token, first.token);

    // The late first submit and the redelivered one both count, as for shared jobs.
    q.submit(&first, "late".into()).await.unwrap();
    q.submit(&second, "on time".into()).await.unwrap();
    let items = drain_intake(&q, "c1").await;
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|item| item.job_id() == "seat-1"));
    assert_eq!(q.depth().await.unwrap(), QueueDepth::default());
}

async fn targeted_max_deliveries_dead_letters_with_target(q: Arc<dyn JobQueue>) {
    const MAX: u32 = 2;
    q.enqueue(seat(7, JUROR_A)).await.unwrap();
    for attempt in 1..=MAX {
        let lease = lease_as_now(&q, "w1", JUROR_A).await;
        assert_eq!(lease.job.attempt, attempt);
        tokio::time::sleep(PAST_TTL).await;
        assert_nothing_for(&q, JUROR_A).await;
        let report = q.reap(LEASE_TTL, MAX).await.unwrap();
        if attempt < MAX {
            assert_eq!(
                report,
                ReapReport {
                    redelivered: 1,
                    dead_lettered: 0
                }
            );
        } else {
            assert_eq!(
                report,
                ReapReport {
                    redelivered: 0,
                    dead_lettered: 1
                }
            );
        }
    }
    assert_nothing_for(&q, JUROR_A).await;
    assert_eq!(
        drain_intake(&q, "c1").await,
        vec![IntakeItem::DeadLettered {
            job: JobEnvelope {
                attempt: 2,
                ..seat(7, JUROR_A)
            },
            reason: "no result after 2 deliveries (max 2)".into(),
        }]
    );
    assert_eq!(q.depth().await.unwrap(), QueueDepth::default());
}

async fn waiting_task_of_absent_target_is_dead_lettered(q: Arc<dyn JobQueue>) {
    // JUROR_A never shows up.
    q.enqueue(seat(1, JUROR_A)).await.unwrap();
    assert_eq!(
        q.reap(LEASE_TTL, MAX_DELIVERIES).await.unwrap(),
        ReapReport::default(),
        "a fresh task is not given up"
    );
    tokio::time::sleep(PAST_TTL).await;
    // JUROR_B asks for work (alive) and gets a task just now.
    assert_nothing_for(&q, JUROR_B).await;
    q.enqueue(seat(2, JUROR_B)).await.unwrap();
    q.enqueue(job(1)).await.unwrap();
    assert_eq!(
        q.reap(LEASE_TTL, MAX_DELIVERIES).await.unwrap(),
        ReapReport {
            redelivered: 0,
            dead_lettered: 1
        }
    );
    assert_eq!(
        drain_intake(&q, "c1").await,
        vec![IntakeItem::DeadLettered {
            job: seat(1, JUROR_A),
            reason: format!(
                "target {JUROR_A} is not alive (no lease_as or heartbeat within 300 ms) and the task waited longer than that"
            ),
        }]
    );
    // The shared job is untouched.
    let shared = lease_now(&q, "w1").await;
    assert_eq!(shared.job, job(1));
    q.submit(&shared, "r".into()).await.unwrap();
    drain_intake(&q, "c1").await;

    // JUROR_B goes silent for a TTL while its task waits a TTL: given up too.
    tokio::time::sleep(PAST_TTL).await;
    assert_eq!(
        q.reap(LEASE_TTL, MAX_DELIVERIES)
            .await
            .unwrap()
            .dead_lettered,
        1
    );
    let items = drain_intake(&q, "c1").await;
    assert_eq!(items.len(), 1);
    match &items[0] {
        IntakeItem::DeadLettered { job, reason } => {
            assert_eq!(job, &seat(2, JUROR_B));
            assert!(reason.contains("is not alive"), "{reason}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_nothing_for(&q, JUROR_B).await;

    // An identity seen within the TTL keeps its waiting tasks, however long they waited.
    q.enqueue(seat(3, JUROR_A)).await.unwrap();
    q.enqueue(seat(4, JUROR_A)).await.unwrap();
    tokio::time::sleep(PAST_TTL).await;
    assert_eq!(lease_as_now(&q, "w2", JUROR_A).await.job, seat(3, JUROR_A));
    assert_eq!(
        q.reap(LEASE_TTL, MAX_DELIVERIES).await.unwrap(),
        ReapReport::default()
    );
    assert_eq!(lease_as_now(&q, "w2", JUROR_A).await.job, seat(4, JUROR_A));
}

/// A busy identity (its slots all running long jobs, heartbeating) stays alive, so its waiting
/// task is kept; once it stops heartbeating it is not alive any more.
async fn heartbeats_keep_an_identity_alive(q: Arc<dyn JobQueue>) {
    q.enqueue(job(1)).await.unwrap();
    let busy = lease_as_now(&q, "w1", JUROR_A).await;
    q.enqueue(seat(1, JUROR_A)).await.unwrap();
    for _ in 0..6 {
        tokio::time::sleep(LEASE_TTL / 3).await;
        assert!(q.heartbeat(&busy).await.unwrap());
        assert_eq!(
            q.reap(LEASE_TTL, MAX_DELIVERIES).await.unwrap(),
            ReapReport::default()
        );
    }
    assert_eq!(q.alive(LEASE_TTL).await.unwrap(), vec![JUROR_A.to_owned()]);
    q.submit(&busy, "r".into()).await.unwrap();
    // A plain lease's heartbeat marks nobody.
    q.enqueue(job(2)).await.unwrap();
    let plain = lease_now(&q, "w2").await;
    tokio::time::sleep(PAST_TTL).await;
    assert!(q.heartbeat(&plain).await.unwrap());
    assert!(q.alive(LEASE_TTL).await.unwrap().is_empty());
    assert_eq!(
        q.reap(LEASE_TTL, MAX_DELIVERIES).await.unwrap(),
        ReapReport {
            redelivered: 0,
            dead_lettered: 1
        }
    );
}

async fn alive_lists_recent_identities_sorted(q: Arc<dyn JobQueue>) {
    assert!(q.alive(WAIT).await.unwrap().is_empty());
    for identity in [JUROR_B, JUROR_A, JUROR_B] {
        assert!(q
            .lease_as("w1", identity, Duration::ZERO)
            .await
            .unwrap()
            .is_none());
    }
    // A plain lease is not a sign of life of any identity.
    assert!(q.lease("w2", Duration::ZERO).await.unwrap().is_none());
    assert_eq!(
        q.alive(LEASE_TTL).await.unwrap(),
        vec![JUROR_A.to_owned(), JUROR_B.to_owned()]
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(q
        .lease_as("w1", JUROR_B, Duration::ZERO)
        .await
        .unwrap()
        .is_none());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        q.alive(Duration::from_millis(300)).await.unwrap(),
        vec![JUROR_B.to_owned()]
    );
    assert_eq!(q.alive(WAIT).await.unwrap().len(), 2);
    // A reap does not forget them this soon.
    q.reap(LEASE_TTL, MAX_DELIVERIES).await.unwrap();
    assert_eq!(q.alive(WAIT).await.unwrap().len(), 2);
}

async fn depth_counts_targeted_tasks(q: Arc<dyn JobQueue>) {
    q.enqueue(seat(1, JUROR_A)).await.unwrap();
    q.enqueue(seat(2, JUROR_B)).await.unwrap();
    q.enqueue(job(1)).await.unwrap();
    let depth = |waiting, leased, intake| QueueDepth {
        waiting,
        leased,
        intake,
    };
    assert_eq!(q.depth().await.unwrap(), depth(3, 0, 0));
    // (Which of the two comes first is `lease_as_takes_targeted_tasks_first_in_order`'s
    // business: across a sharded queue's shards, it is the rotation's.)
    let first = lease_as_now(&q, "w1", JUROR_A).await;
    assert_eq!(q.depth().await.unwrap(), depth(2, 1, 0));
    let second = lease_as_now(&q, "w1", JUROR_A).await;
    assert_eq!(q.depth().await.unwrap(), depth(1, 2, 0));
    let (a, shared) = if first.job.target.is_some() {
        (first, second)
    } else {
        (second, first)
    };
    assert_eq!(a.job, seat(1, JUROR_A));
    assert_eq!(shared.job, job(1));
    q.submit(&a, "r".into()).await.unwrap();
    assert!(q.release(&shared).await.unwrap());
    assert_eq!(q.depth().await.unwrap(), depth(2, 0, 1));
    drain_intake(&q, "c1").await;
    let b = q
        .lease_seats("w2", JUROR_B, WAIT)
        .await
        .unwrap()
        .expect("B's seat");
    assert_eq!(b.job, seat(2, JUROR_B));
    assert_eq!(q.depth().await.unwrap(), depth(1, 1, 0));
}

async fn concurrent_reapers_dead_letter_each_absent_task_once(q: Arc<dyn JobQueue>) {
    const TASKS: usize = 20;
    for n in 0..TASKS {
        q.enqueue(seat(
            n,
            if n.is_multiple_of(2) {
                JUROR_A
            } else {
                JUROR_B
            },
        ))
        .await
        .unwrap();
    }
    // Half of JUROR_B's seats are leased and go stale (JUROR_B then vanishes).
    let mut stale = 0;
    for _ in 0..TASKS / 4 {
        lease_as_now(&q, "w1", JUROR_B).await;
        stale += 1;
    }
    tokio::time::sleep(PAST_TTL).await;
    let reapers: Vec<_> = (0..4)
        .map(|_| {
            let q = q.clone();
            tokio::spawn(async move { q.reap(LEASE_TTL, 1).await })
        })
        .collect();
    let mut total = ReapReport::default();
    for reaper in reapers {
        let report = reaper.await.unwrap().unwrap();
        total.redelivered += report.redelivered;
        total.dead_lettered += report.dead_lettered;
    }
    assert_eq!(
        total,
        ReapReport {
            redelivered: 0,
            dead_lettered: TASKS as u64
        },
        "{stale} stale leases at the limit and every waiting seat, each once"
    );
    let mut seen: Vec<String> = drain_intake(&q, "c1")
        .await
        .into_iter()
        .map(|item| match item {
            IntakeItem::DeadLettered { job, .. } => {
                let target = job.target.expect("the target is kept");
                let n: usize = job.job_id["seat-".len()..].parse().unwrap();
                assert_eq!(
                    target,
                    if n.is_multiple_of(2) {
                        JUROR_A
                    } else {
                        JUROR_B
                    }
                );
                job.job_id
            }
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), TASKS);
    assert_eq!(q.depth().await.unwrap(), QueueDepth::default());
}

async fn concurrent_lease_as_lease_each_targeted_task_once(q: Arc<dyn JobQueue>) {
    const TASKS: usize = 24;
    for n in 0..TASKS {
        q.enqueue(seat(n, JUROR_A)).await.unwrap();
        q.enqueue(job(n)).await.unwrap();
    }
    // Four slots of JUROR_A, two of JUROR_B, two plain ones.
    let slots: Vec<_> = (0..8)
        .map(|s| {
            let q = q.clone();
            tokio::spawn(async move {
                let worker = format!("w{s}");
                let mut leased = Vec::new();
                loop {
                    let wait = Duration::from_millis(200);
                    let lease = match s {
                        0..=3 => q.lease_as(&worker, JUROR_A, wait).await,
                        4..=5 => q.lease_as(&worker, JUROR_B, wait).await,
                        _ => q.lease(&worker, wait).await,
                    };
                    let Some(lease) = lease.unwrap() else { break };
                    if lease.job.target.is_some() {
                        assert!(s <= 3, "slot {s} got {:?}", lease.job);
                    }
                    leased.push(lease.job.job_id.clone());
                    tokio::task::yield_now().await;
                    q.submit(&lease, worker.clone()).await.unwrap();
                }
                leased
            })
        })
        .collect();
    let mut all = Vec::new();
    for slot in slots {
        all.extend(slot.await.unwrap());
    }
    all.sort();
    let mut want: Vec<String> = (0..TASKS)
        .flat_map(|n| [format!("seat-{n}"), format!("job-{n}")])
        .collect();
    want.sort();
    assert_eq!(all, want, "every task and job leased exactly once");
    assert_eq!(drain_intake(&q, "c1").await.len(), 2 * TASKS);
    assert_eq!(q.depth().await.unwrap(), QueueDepth::default());
}

async fn empty_identity_is_refused(q: Arc<dyn JobQueue>) {
    q.enqueue(seat(1, JUROR_A)).await.unwrap();
    assert!(matches!(
        q.lease_as("w1", "", SHORT).await,
        Err(Error::InvalidArgument(_))
    ));
    for name in ["", REAPER_CONSUMER] {
        assert!(matches!(
            q.lease_as(name, JUROR_A, SHORT).await,
            Err(Error::InvalidArgument(_))
        ));
    }
    assert!(matches!(
        q.enqueue(JobEnvelope::for_worker("x", "p", "")).await,
        Err(Error::InvalidArgument(_))
    ));
    // The task is untouched.
    assert_eq!(lease_as_now(&q, "w1", JUROR_A).await.job, seat(1, JUROR_A));
}

/// Live output: pieces read back in order (binary ones too), per job, from a cursor; a waiting
/// reader wakes for the next piece; a log nobody wrote reads as empty.
async fn output_logs_keep_order_per_job_and_wake_readers(q: Arc<dyn JobQueue>) {
    let data = |attempt: u32, offset: u64, bytes: &[u8]| OutputPiece::Data {
        attempt,
        offset,
        bytes: bytes.to_vec(),
    };
    let (none, _) = q.read_output("job-a", "", Duration::ZERO).await.unwrap();
    assert!(none.is_empty());
    q.append_output("job-a", &data(1, 0, b"first\n"))
        .await
        .unwrap();
    q.append_output("job-a", &data(1, 6, &[0, 255, 10]))
        .await
        .unwrap();
    q.append_output("job-b", &data(2, 0, b"other"))
        .await
        .unwrap();
    let (got, cursor) = q
        .read_output("job-a", "", Duration::from_millis(100))
        .await
        .unwrap();
    assert_eq!(got, vec![data(1, 0, b"first\n"), data(1, 6, &[0, 255, 10])]);

    // Nothing new: a wait ends empty, at the same place.
    let (none, same) = q
        .read_output("job-a", &cursor, Duration::from_millis(200))
        .await
        .unwrap();
    assert!(none.is_empty());
    assert_eq!(same, cursor);

    // A waiting reader wakes for the next piece.
    let reader = {
        let (q, cursor) = (q.clone(), cursor.clone());
        tokio::spawn(async move {
            q.read_output("job-a", &cursor, Duration::from_secs(10))
                .await
                .unwrap()
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    q.append_output("job-a", &OutputPiece::End { attempt: 1 })
        .await
        .unwrap();
    let (woke, _) = reader.await.unwrap();
    assert_eq!(woke, vec![OutputPiece::End { attempt: 1 }]);

    let (other, _) = q.read_output("job-b", "", Duration::ZERO).await.unwrap();
    assert_eq!(other, vec![data(2, 0, b"other")]);
}

/// A log keeps about [`notary_queue::OUTPUT_LOG_PIECES`] pieces: a writer that sends more
/// loses its oldest ones (Redis trims approximately), never the newest.
async fn output_logs_drop_their_oldest_pieces_past_the_bound(q: Arc<dyn JobQueue>) {
    let sent = notary_queue::OUTPUT_LOG_PIECES + 300;
    for i in 0..sent {
        let piece = OutputPiece::Data {
            attempt: 1,
            offset: i as u64,
            bytes: vec![b'x'],
        };
        q.append_output("flood", &piece).await.unwrap();
    }
    let (mut got, mut cursor) = (Vec::new(), String::new());
    loop {
        let (pieces, next) = q
            .read_output("flood", &cursor, Duration::ZERO)
            .await
            .unwrap();
        if pieces.is_empty() {
            break;
        }
        got.extend(pieces);
        cursor = next;
    }
    assert!(got.len() < sent, "{} of {sent} kept", got.len());
    assert!(got.len() >= notary_queue::OUTPUT_LOG_PIECES);
    let offsets: Vec<u64> = got
        .iter()
        .map(|p| match p {
            OutputPiece::Data { offset, .. } => *offset,
            OutputPiece::End { .. } => unreachable!(),
        })
        .collect();
    assert_eq!(
        *offsets.last().unwrap(),
        sent as u64 - 1,
        "the newest is kept"
    );
    assert!(
        offsets.windows(2).all(|w| w[1] == w[0] + 1),
        "in order, no holes"
    );
}
