//! Redis-only behaviour: crashes, restarts, lost data, key prefixes, and the test server itself.

use std::sync::Arc;
use std::time::Duration;

use notary_queue::test_utils::{RedisServer, RedisServerOptions};
use notary_queue::{Error, JobQueue, RedisQueue, RedisQueueConfig, Result};
use tokio::time::Instant;

use crate::support::*;

/// How fast a call must fail while Redis is down.
const FAIL_FAST: Duration = Duration::from_secs(3);

/// Runs `call` and asserts it fails as "unavailable" within [`FAIL_FAST`].
async fn assert_fails_fast<T: std::fmt::Debug>(
    what: &str,
    call: impl std::future::Future<Output = Result<T>>,
) {
    let start = Instant::now();
    let result = call.await;
    let elapsed = start.elapsed();
    match result {
        Err(e) => assert!(e.is_unavailable(), "{what}: unexpected error kind: {e}"),
        Ok(v) => panic!("{what}: succeeded with Redis down: {v:?}"),
    }
    eprintln!("{what}: failed in {elapsed:?}");
    assert!(elapsed < FAIL_FAST, "{what}: took {elapsed:?} to fail");
}

/// Polls `ping` until Redis answers again (the connection manager reconnects by itself).
async fn wait_until_up(q: &Arc<dyn JobQueue>) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match q.ping().await {
            Ok(()) => return,
            Err(e) if Instant::now() < deadline => {
                assert!(e.is_unavailable(), "{e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("Redis did not come back: {e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_and_restart_with_aof_keeps_jobs_and_fails_fast_meanwhile() {
    let mut server = RedisServer::start_with(RedisServerOptions::durable());
    let q = redis_queue(&server).await;
    for n in 0..3 {
        q.enqueue(job(n)).await.unwrap();
    }
    let held = lease_now(&q, "w1").await;
    assert_eq!(held.job, job(0));

    server.kill();
    assert_fails_fast("ping", q.ping()).await;
    assert_fails_fast("enqueue", q.enqueue(job(9))).await;
    assert_fails_fast("lease", q.lease("w2", Duration::from_secs(1))).await;
    assert_fails_fast("heartbeat", q.heartbeat(&held)).await;
    assert_fails_fast("submit", q.submit(&held, "r".into())).await;
    assert_fails_fast("release", q.release(&held)).await;
    assert_fails_fast("reap", q.reap(LEASE_TTL, MAX_DELIVERIES)).await;
    assert_fails_fast("next_intake", q.next_intake("c1", Duration::from_secs(1))).await;
    assert_fails_fast("depth", q.depth()).await;
    // Still failing fast on a second round (no call waits on a reconnect loop).
    assert_fails_fast("ping again", q.ping()).await;
    assert_fails_fast("lease again", q.lease("w2", Duration::from_secs(1))).await;

    server.restart();
    wait_until_up(&q).await;

    // Everything acknowledged before the crash is back: two waiting jobs, one lease.
    assert_eq!(
        q.depth().await.unwrap(),
        notary_queue::QueueDepth {
            waiting: 2,
            leased: 1,
            intake: 0
        }
    );
    assert_eq!(lease_now(&q, "w2").await.job, job(1));
    assert_eq!(lease_now(&q, "w2").await.job, job(2));
    assert!(
        q.heartbeat(&held).await.unwrap(),
        "the lease survived the restart"
    );
    q.submit(&held, "r".into()).await.unwrap();
    let items = drain_intake(&q, "c1").await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].job_id(), "job-0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_are_recreated_after_restart_without_persistence() {
    let mut server = RedisServer::start();
    let q = redis_queue(&server).await;
    q.enqueue(job(1)).await.unwrap();
    let lost = lease_now(&q, "w1").await;

    server.kill();
    server.restart();
    wait_until_up(&q).await;

    // Every kind of call meets NOGROUP first and recovers by itself.
    assert!(
        q.lease("w1", SHORT).await.unwrap().is_none(),
        "the data is gone"
    );
    assert!(!q.heartbeat(&lost).await.unwrap());
    assert!(!q.release(&lost).await.unwrap());

    server.kill();
    server.restart();
    wait_until_up(&q).await;
    // This time the stream comes back through XADD (no group yet), then the lease recovers.
    q.enqueue(job(2)).await.unwrap();
    let lease = lease_now(&q, "w1").await;
    assert_eq!(lease.job, job(2));
    q.submit(&lease, "r".into()).await.unwrap();
    let items = drain_intake(&q, "c1").await;
    assert_eq!(items.len(), 1);

    server.kill();
    server.restart();
    wait_until_up(&q).await;
    assert_eq!(
        q.depth().await.unwrap(),
        notary_queue::QueueDepth::default()
    );
    assert_eq!(
        q.reap(LEASE_TTL, MAX_DELIVERIES).await.unwrap(),
        Default::default()
    );
    assert!(q.next_intake("c1", SHORT).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lazy_queue_starts_without_redis_and_reports_unavailable() {
    let mut server = RedisServer::start();
    server.kill();
    let q: Arc<dyn JobQueue> =
        Arc::new(RedisQueue::new_lazy(redis_config(&server)).expect("valid URL"));
    assert_fails_fast("ping", q.ping()).await;
    assert_fails_fast("lease", q.lease("w1", Duration::from_millis(500))).await;

    server.restart();
    wait_until_up(&q).await;
    q.enqueue(job(1)).await.unwrap();
    assert_eq!(lease_now(&q, "w1").await.job, job(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_fails_fast_when_redis_is_down() {
    let mut server = RedisServer::start();
    server.kill();
    let start = Instant::now();
    let result = RedisQueue::connect(redis_config(&server)).await;
    assert!(
        matches!(&result, Err(e) if e.is_unavailable()),
        "{result:?}"
    );
    assert!(start.elapsed() < FAIL_FAST, "took {:?}", start.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_prefixes_isolate_queues() {
    let server = RedisServer::start();
    let mut config = redis_config(&server);
    config.key_prefix = "{tenant-a}:".into();
    let a: Arc<dyn JobQueue> = Arc::new(RedisQueue::connect(config).await.unwrap());
    let b = redis_queue(&server).await;
    a.enqueue(job(1)).await.unwrap();
    assert!(b.lease("w1", SHORT).await.unwrap().is_none());
    assert_eq!(lease_now(&a, "w1").await.job, job(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_entries_are_reported_not_lost() {
    let server = RedisServer::start();
    let q = redis_queue(&server).await;
    let client = redis::Client::open(server.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let jobs = notary_queue::keys::jobs(notary_queue::keys::DEFAULT_PREFIX);
    let _: String = redis::cmd("XADD")
        .arg(&jobs)
        .arg("*")
        .arg("job_id")
        .arg("job-x")
        .arg("attempt")
        .arg("not a number")
        .query_async(&mut conn)
        .await
        .unwrap();

    assert!(matches!(
        q.lease("w1", SHORT).await,
        Err(Error::Malformed { .. })
    ));
    // The entry stays pending; the reaper dead-letters it at the limit so it surfaces.
    tokio::time::sleep(PAST_TTL).await;
    assert_eq!(q.reap(LEASE_TTL, 1).await.unwrap().dead_lettered, 1);
    let items = drain_intake(&q, "c1").await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].job_id(), "job-x");
}

#[test]
fn test_server_restarts_on_the_same_port() {
    let mut server = RedisServer::start_with(RedisServerOptions {
        appendonly: true,
        appendfsync_always: false,
        cluster: false,
    });
    let port = server.port();
    assert_eq!(server.url(), format!("redis://127.0.0.1:{port}/"));
    assert!(server.is_running());
    server.stop();
    assert!(!server.is_running());
    server.restart();
    assert!(server.is_running());
    assert_eq!(server.port(), port);
    assert!(server.dir().join("redis.log").exists());
    server.kill();
    assert!(!server.is_running());
}

/// A hung Redis (connection open, no answers) is the hard case: nothing fails on its own, so
/// only the queue's own timeouts keep callers from hanging.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hung_redis_times_out_instead_of_hanging() {
    let server = RedisServer::start();
    let mut config = redis_config(&server);
    config.command_timeout = Duration::from_millis(800);
    let q: Arc<dyn JobQueue> = Arc::new(RedisQueue::connect(config).await.unwrap());
    q.enqueue(job(1)).await.unwrap();
    // Warm a blocking connection so the lease below meets the hung server on an open socket.
    let lease = lease_now(&q, "w1").await;

    let pid = server.pid().expect("running").to_string();
    let signal = |sig: &str| {
        let status = std::process::Command::new("kill")
            .args([sig, &pid])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill {sig} {pid}");
    };
    signal("-STOP");
    // (If an assertion fails, dropping the server SIGKILLs the stopped process.)
    assert_fails_fast("ping", q.ping()).await;
    assert_fails_fast("heartbeat", q.heartbeat(&lease)).await;
    assert_fails_fast("lease", q.lease("w2", Duration::from_millis(300))).await;
    signal("-CONT");

    wait_until_up(&q).await;
    assert!(q.heartbeat(&lease).await.unwrap());
    q.submit(&lease, "r".into()).await.unwrap();
    assert_eq!(drain_intake(&q, "c1").await.len(), 1);
}

/// A queue on a real Redis Cluster (3 masters, 3 replicas): an untagged prefix is reported, and
/// with a tagged one the queue carries on after the master of its slot is SIGKILLed (the
/// client is seeded with that very node): jobs that reached the replica are still there, new
/// jobs flow once the replica is promoted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_queue_carries_on_after_its_master_fails_over() {
    let mut cluster =
        tokio::task::spawn_blocking(|| notary_queue::test_utils::RedisCluster::start(3, 1))
            .await
            .unwrap();
    let mut untagged = RedisQueueConfig::new(cluster.url(0));
    untagged.key_prefix = "notary:".to_string();
    let problem = RedisQueue::new_lazy(untagged)
        .unwrap()
        .cluster_problem()
        .await
        .unwrap()
        .expect("an untagged prefix cannot work on a cluster");
    assert!(problem.contains("hash tag"), "{problem}");

    let prefix = "{fleet}:";
    let slot_key = format!("{prefix}queue:jobs");
    let seed = cluster.master_of(&slot_key);
    let queue = crate::support::redis_queue_at(&cluster.url(seed), prefix).await;
    for n in 0..4 {
        queue.enqueue(job(n)).await.unwrap();
    }
    let first = lease_now(&queue, "w1").await;
    queue.submit(&first, "done-0".into()).await.unwrap();

    let cluster = tokio::task::spawn_blocking(move || {
        cluster.wait_replicated(&slot_key);
        let (killed, promoted) = cluster.fail_over(&slot_key);
        assert_ne!(killed, promoted);
        cluster
    })
    .await
    .unwrap();

    // The client learns the new master by itself; give it a few seconds to.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let lease = loop {
        match queue.lease("w2", Duration::from_millis(200)).await {
            Ok(Some(lease)) => break lease,
            other => {
                assert!(
                    std::time::Instant::now() < deadline,
                    "no lease after the failover: {other:?}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    queue.submit(&lease, "done-1".into()).await.unwrap();
    for _ in 0..2 {
        let lease = lease_now(&queue, "w2").await;
        queue.submit(&lease, "done".into()).await.unwrap();
    }
    queue.enqueue(job(9)).await.unwrap();
    let last = lease_now(&queue, "w3").await;
    assert_eq!(last.job.job_id, "job-9");
    queue.submit(&last, "done-9".into()).await.unwrap();
    let submitted = drain_intake(&queue, "c1").await;
    assert_eq!(submitted.len(), 5, "{submitted:?}");
    drop(cluster);
}

/// One `INFO` field of `server` as a number (0 when absent).
async fn info_number(
    conn: &mut redis::aio::MultiplexedConnection,
    section: &str,
    field: &str,
) -> u64 {
    let info: String = redis::cmd("INFO")
        .arg(section)
        .query_async(conn)
        .await
        .unwrap();
    info.lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| {
            v.trim()
                .split(',')
                .next()?
                .trim_start_matches("calls=")
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

/// Waiting workers do not wake as a herd: one job wakes exactly one waiting lease, the others
/// stay blocked in Redis, and no lease script runs again (before, every waiter woke and ran it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_job_wakes_one_waiting_lease_not_the_herd() {
    let server = RedisServer::start();
    let q = redis_queue(&server).await;
    let client = redis::Client::open(server.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let identity = "0x00000000000000000000000000000000000000aa";
    let waiting: Vec<_> = (0..6)
        .map(|i| {
            let q = q.clone();
            tokio::spawn(async move {
                let worker = format!("w{i}");
                let wait = Duration::from_secs(5);
                if i % 2 == 0 {
                    q.lease_as(&worker, identity, wait).await
                } else {
                    q.lease(&worker, wait).await
                }
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(3);
    while info_number(&mut conn, "clients", "blocked_clients").await < 6 {
        assert!(Instant::now() < deadline, "the leases did not all block");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query_async(&mut conn)
        .await
        .unwrap();
    q.enqueue(job(1)).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(3);
    while waiting.iter().filter(|w| w.is_finished()).count() == 0 {
        assert!(Instant::now() < deadline, "no lease woke for the job");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(waiting.iter().filter(|w| w.is_finished()).count(), 1);
    assert_eq!(
        info_number(&mut conn, "clients", "blocked_clients").await,
        5
    );
    assert_eq!(
        info_number(&mut conn, "commandstats", "cmdstat_evalsha").await,
        0,
        "a lease script ran again after the wake-up"
    );
    for w in waiting {
        if w.is_finished() {
            let lease = w
                .await
                .unwrap()
                .unwrap()
                .expect("the woken lease has the job");
            assert_eq!(lease.job.job_id, "job-1");
        } else {
            w.abort();
        }
    }
}

/// Intake acknowledgements asked for together go out together: twenty results acknowledged
/// at once cost two `XACK`s and `XDEL`s (the first alone, the rest together while it is out),
/// not twenty of each, and every one is gone for good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intake_acknowledgements_asked_together_go_out_together() {
    const N: usize = 20;
    const PREFIX: &str = "acks-together:";
    let server = RedisServer::start();
    let q = redis_queue_at(&server.url(), PREFIX).await;
    for n in 0..N {
        q.enqueue(job(n)).await.unwrap();
        let lease = lease_now(&q, "w").await;
        q.submit(&lease, format!("r{n}")).await.unwrap();
    }
    let mut deliveries = Vec::new();
    while deliveries.len() < N {
        let next = q.next_intake("c1", WAIT).await.unwrap();
        deliveries.push(next.expect("a result"));
    }
    let intake = notary_queue::keys::intake(PREFIX);
    let monitor = Monitor::start(server.port()).await;
    let acks = futures::future::join_all(deliveries.iter().map(|d| q.ack_intake(d))).await;
    assert!(acks.iter().all(|a| a.is_ok()), "{acks:?}");
    // Counted on this test's own keys, not from `INFO commandstats`, which counts the whole
    // server: a loaded CI run once saw 6 rounds there, which a client of another test reaching
    // this server (its own Redis's port, freed by a kill, reused for this one) would explain.
    let seen = monitor.finish(server.port()).await;
    for command in ["XACK", "XDEL"] {
        let calls = seen
            .iter()
            .filter(|line| line.contains(&format!("\"{command}\" \"{intake}\"")))
            .count();
        assert!(
            (1..=2).contains(&calls),
            "{command}: {calls} calls for {N} acks"
        );
    }
    let client = redis::Client::open(server.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let left: usize = redis::cmd("XLEN")
        .arg(&intake)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(left, 0);
    tokio::time::sleep(INTAKE_TTL + SHORT).await;
    assert!(q.next_intake("c2", SHORT).await.unwrap().is_none());
}

/// The commands a Redis server runs, as `MONITOR` reports them (one line each, arguments
/// quoted), from [`Monitor::start`] to [`Monitor::finish`].
struct Monitor {
    lines: tokio::io::Lines<tokio::io::BufReader<tokio::net::TcpStream>>,
}

impl Monitor {
    async fn start(port: u16) -> Self {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        stream.write_all(b"MONITOR\r\n").await.unwrap();
        let mut lines = tokio::io::BufReader::new(stream).lines();
        assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("+OK"));
        Self { lines }
    }

    /// Every command seen since the start, up to a marker sent now on another connection.
    async fn finish(mut self, port: u16) -> Vec<String> {
        let marker = "notary-test-monitor-end";
        let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let _: String = redis::cmd("ECHO")
            .arg(marker)
            .query_async(&mut conn)
            .await
            .unwrap();
        let mut seen = Vec::new();
        let read_all = async {
            while let Some(line) = self.lines.next_line().await.unwrap() {
                if line.contains(marker) {
                    return;
                }
                seen.push(line);
            }
            panic!("the monitor connection closed");
        };
        tokio::time::timeout(Duration::from_secs(10), read_all)
            .await
            .expect("the marker reached the monitor");
        seen
    }
}
