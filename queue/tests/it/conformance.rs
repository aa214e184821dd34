//! The conformance suite: every case runs against `MemoryQueue` (on a paused clock) and against
//! `RedisQueue` (on a fresh `redis-server`). Both backends must behave identically.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use notary_queue::keys::REAPER_CONSUMER;
use notary_queue::{Error, IntakeItem, JobEnvelope, JobQueue, QueueDepth, ReapReport};
use tokio::time::Instant;

use crate::support::*;

/// Generates `memory::<case>` and `redis::<case>` tests for each case function.
macro_rules! conformance_suite {
    ($($case:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(start_paused = true)]
                async fn $case() {
                    let queue = crate::support::memory_queue();
                    tokio::time::timeout(super::CASE_TIMEOUT, super::$case(queue))
                        .await
                        .expect("case timed out");
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let server = notary_queue::test_utils::RedisServer::start();
                    let queue = crate::support::redis_queue(&server).await;
                    tokio::time::timeout(super::CASE_TIMEOUT, super::$case(queue))
                        .await
                        .expect("case timed out");
                }
            )*
        }
    };
}

const CASE_TIMEOUT: Duration = Duration::from_secs(30);

conformance_suite!(
    submit_reaches_intake,
    payloads_are_opaque,
    lease_on_empty_queue_returns_none_after_wait,
    lease_wakes_up_on_enqueue,
    leases_in_fifo_order,
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
    depth_counts_waiting_leased_and_intake,
    reserved_and_empty_names_are_refused,
    lower_lanes_are_leased_first_and_each_lane_in_order,
    a_lane_survives_redelivery_release_and_submit,
    a_blocked_lease_wakes_for_any_lane,
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
    for (n, payload) in payloads.iter().enumerate() {
        let lease = lease_now(&q, "w1").await;
        assert_eq!(lease.job.job_id, format!("job-{n}"));
        assert_eq!(&lease.job.payload, payload);
        q.submit(&lease, payload.clone()).await.unwrap();
    }
    let results = drain_intake(&q, "c1").await;
    let got: Vec<&str> = results
        .iter()
        .map(|item| match item {
            IntakeItem::Submitted { payload, .. } => payload.as_str(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    let want: Vec<&str> = payloads.iter().map(String::as_str).collect();
    assert_eq!(got, want);
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
