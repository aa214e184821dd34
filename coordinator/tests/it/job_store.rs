//! One conformance suite for the job store and its event log, run on every backend: SQLite in
//! memory (`--data-dir none`), SQLite in a file (the embedded default) and Redis (fleet mode).

use std::sync::Arc;
use std::time::Duration;

use notary_coordinator::db::{Db, Durability};
use notary_coordinator::record::{now_ms, JobOutcome, JobRecord, JobStatus};
use notary_coordinator::store::{EventLog, Finalized, JobStore, RedisStore, SqliteStore};
use notary_protocol::{
    sha256, AttestationDomain, Digest32, JobSpec, Language, ProgramSpec, TaskType, Verdict,
};
use notary_queue::test_utils::RedisServer;
use uuid::Uuid;

/// A backend under test and what keeps it alive.
struct Backend {
    name: &'static str,
    store: Arc<dyn JobStore>,
    _redis: Option<RedisServer>,
    dir: Option<tempfile::TempDir>,
}

const RETENTION: Duration = Duration::from_secs(3600);

async fn sqlite_at(path: Option<&std::path::Path>, retention: Duration) -> Arc<dyn JobStore> {
    let db = Arc::new(Db::open(path, Durability::Process).unwrap());
    SqliteStore::open(db, retention).await.unwrap()
}

async fn backends() -> Vec<Backend> {
    let dir = tempfile::tempdir().unwrap();
    let file = sqlite_at(Some(&dir.path().join("notary.sqlite3")), RETENTION).await;
    let redis = RedisServer::start();
    let prefix = format!("js{}:", Uuid::new_v4().simple());
    let store = RedisStore::new_lazy(&redis.url(), &prefix, RETENTION, "reader-1").unwrap();
    vec![
        Backend {
            name: "sqlite-memory",
            store: sqlite_at(None, RETENTION).await,
            _redis: None,
            dir: None,
        },
        Backend {
            name: "sqlite-file",
            store: file,
            _redis: None,
            dir: Some(dir),
        },
        Backend {
            name: "redis",
            store,
            _redis: Some(redis),
            dir: None,
        },
    ]
}

fn record() -> JobRecord {
    let now = now_ms();
    JobRecord {
        spec: JobSpec {
            job_id: Uuid::new_v4(),
            task_type: TaskType::CodeExecution,
            program: ProgramSpec::Javascript {
                source: "console.log(1)".into(),
            },
            code_hash: sha256(b"console.log(1)"),
            input: None,
            input_hash: sha256(b""),
            expected_hash: sha256(b"1\n"),
            fuel: 1000,
            timeout_ms: 5000,
            domain: AttestationDomain::default(),
            enqueued_at_ms: now,
            stream: false,
        },
        language: Language::Javascript,
        created_at_ms: now,
        outcome: None,
        module: None,
        webhook_id: None,
        jury: None,
        jury_state: None,
        validation_request: None,
        chain: None,
    }
}

fn valid(record: &JobRecord, fuel: u64) -> JobOutcome {
    JobOutcome {
        result: Some(Verdict::Valid),
        actual_hash: Some(record.spec.expected_hash),
        fuel_used: fuel,
        execution_ms: 0.5,
        total_ms: 1.0,
        error_message: None,
        error_code: None,
        refund_eligible: false,
        attestation: None,
        attestations: Vec::new(),
        runtime: None,
        module_hash: Some(Digest32([7; 32])),
        output_preview: Some("1\n".into()),
        output_truncated: false,
        exit_code: Some(0),
        attempt: 1,
        completed_at_ms: now_ms(),
    }
}

/// Every event `consumer` can read now (short waits), acknowledging none.
async fn drain(log: &dyn EventLog, consumer: &str) -> Vec<notary_coordinator::store::JobEvent> {
    let mut all = Vec::new();
    loop {
        let got = log
            .read(
                consumer,
                100,
                Duration::from_millis(50),
                Duration::from_secs(60),
            )
            .await
            .unwrap();
        if got.is_empty() {
            return all;
        }
        all.extend(got);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_round_trip_and_finalize_once_with_one_event() {
    for b in backends().await {
        let s = b.store.as_ref();
        let r = record();
        assert!(s.get(r.id()).await.unwrap().is_none(), "{}", b.name);
        s.insert(&r).await.unwrap();
        let read = s.get(r.id()).await.unwrap().unwrap();
        assert_eq!(read, r, "{}", b.name);
        assert_eq!(read.status(), JobStatus::Running);

        let first = valid(&r, 10);
        let Finalized::Applied(done) = s.finalize(&r, &first).await.unwrap() else {
            panic!("{}: first finalize not applied", b.name)
        };
        assert_eq!(done.outcome.as_ref(), Some(&first), "{}", b.name);
        // A second outcome (a duplicate result) changes nothing and emits nothing.
        let Finalized::AlreadyFinal(kept) = s.finalize(&r, &valid(&r, 11)).await.unwrap() else {
            panic!("{}: second finalize applied", b.name)
        };
        assert_eq!(kept.outcome.as_ref(), Some(&first), "{}", b.name);
        assert_eq!(s.get(r.id()).await.unwrap().unwrap(), done, "{}", b.name);
        assert!(matches!(
            s.finalize(&record(), &first).await.unwrap(),
            Finalized::Missing
        ));

        let events = drain(s, "audit").await;
        let mine: Vec<_> = events.iter().filter(|e| e.job_id == r.id()).collect();
        assert_eq!(
            mine.len(),
            1,
            "{}: one event per final job: {events:?}",
            b.name
        );
        assert_eq!(mine[0].status, JobStatus::Completed);
        assert_eq!(mine[0].result, Some(Verdict::Valid));
        assert!(s.take_unfinished().await.unwrap().is_empty(), "{}", b.name);
        s.ping().await.unwrap();
    }
}

/// A jury's state is compare-and-set by version: of two writers that read the same version
/// only the first is stored, a final job's jury no longer changes, and a restarted embedded
/// coordinator gets the unfinished job back with its jury.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jury_state_is_compare_and_set_by_version() {
    use notary_coordinator::jury::{JuryState, Round};
    use notary_protocol::Address;
    for b in backends().await {
        let s = b.store.as_ref();
        let r = record();
        let missing = JuryState {
            version: 1,
            ..JuryState::default()
        };
        assert!(
            !s.save_jury(r.id(), &missing).await.unwrap(),
            "{}: no such job",
            b.name
        );
        s.insert(&r).await.unwrap();
        let mut first = JuryState {
            rounds: vec![Round::new(3, vec![Address::from([1; 20])], Vec::new())],
            escalated: false,
            version: 1,
        };
        assert!(s.save_jury(r.id(), &first).await.unwrap(), "{}", b.name);
        let read = s.get(r.id()).await.unwrap().unwrap();
        assert_eq!(read.jury_state.as_ref(), Some(&first), "{}", b.name);
        // Another writer that also read version 0 loses.
        let stale = JuryState {
            escalated: true,
            version: 1,
            ..JuryState::default()
        };
        assert!(!s.save_jury(r.id(), &stale).await.unwrap(), "{}", b.name);
        assert!(
            !s.save_jury(
                r.id(),
                &JuryState {
                    version: 3,
                    ..first.clone()
                }
            )
            .await
            .unwrap(),
            "{}: a version skipped",
            b.name
        );
        // A waiter for the job is answered when its jury escalates (the client decides next).
        let waiter = {
            let store = b.store.clone();
            let id = r.id();
            tokio::spawn(async move {
                let started = std::time::Instant::now();
                let got = store.wait_final(id, Duration::from_secs(20)).await.unwrap();
                (got.unwrap().status(), started.elapsed())
            })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        first.escalated = true;
        first.version = 2;
        assert!(s.save_jury(r.id(), &first).await.unwrap(), "{}", b.name);
        let read = s.get(r.id()).await.unwrap().unwrap();
        assert_eq!(read.status(), JobStatus::Escalated, "{}", b.name);
        let (status, waited) = waiter.await.unwrap();
        assert_eq!(status, JobStatus::Escalated, "{}", b.name);
        assert!(
            waited < Duration::from_secs(10),
            "{}: woken, not timed out",
            b.name
        );
        if b.name != "redis" {
            let back = s.take_unfinished().await.unwrap();
            assert_eq!(back.len(), 1, "{}", b.name);
            assert_eq!(
                back[0].record.jury_state.as_ref(),
                Some(&first),
                "{}",
                b.name
            );
        }
        // Final: the jury is what it was when the job ended.
        let Finalized::Applied(done) = s.finalize(&read, &valid(&r, 10)).await.unwrap() else {
            panic!("{}", b.name)
        };
        assert_eq!(done.jury_state.as_ref(), Some(&first), "{}", b.name);
        first.version = 3;
        assert!(
            !s.save_jury(r.id(), &first).await.unwrap(),
            "{}: final",
            b.name
        );
        let read = s.get(r.id()).await.unwrap().unwrap();
        assert_eq!(
            read.jury_state.as_ref().map(|j| j.version),
            Some(2),
            "{}",
            b.name
        );
        assert_eq!(read.status(), JobStatus::Completed, "{}", b.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiter_wakes_on_finalize_and_times_out_without_it() {
    for b in backends().await {
        let r = record();
        b.store.insert(&r).await.unwrap();
        let started = std::time::Instant::now();
        let still = b
            .store
            .wait_final(r.id(), Duration::from_millis(200))
            .await
            .unwrap()
            .unwrap();
        assert!(still.outcome.is_none(), "{}", b.name);
        assert!(
            started.elapsed() >= Duration::from_millis(190),
            "{}",
            b.name
        );

        let (store, r2) = (b.store.clone(), r.clone());
        let finisher = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            store.finalize(&r2, &valid(&r2, 5)).await.unwrap();
        });
        let started = std::time::Instant::now();
        let done = b
            .store
            .wait_final(r.id(), Duration::from_secs(10))
            .await
            .unwrap()
            .unwrap();
        assert!(done.outcome.is_some(), "{}", b.name);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{}: woken, not timed out",
            b.name
        );
        finisher.await.unwrap();
        assert!(b
            .store
            .wait_final(Uuid::new_v4(), Duration::from_millis(10))
            .await
            .unwrap()
            .is_none());
    }
}

/// The events `consumer` has not acknowledged, handed out 200 ms ago or more (or never).
async fn read_due(s: &dyn JobStore, consumer: &str) -> Vec<notary_coordinator::store::JobEvent> {
    s.read(
        consumer,
        100,
        Duration::from_millis(50),
        Duration::from_millis(200),
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_consumer_sees_every_event_until_it_acknowledges_it() {
    for b in backends().await {
        let s = b.store.as_ref();
        let jobs: Vec<JobRecord> = (0..3).map(|_| record()).collect();
        for r in &jobs {
            s.insert(r).await.unwrap();
            s.finalize(r, &valid(r, 1)).await.unwrap();
        }
        let ids: Vec<Uuid> = jobs.iter().map(JobRecord::id).collect();
        let seen = |events: &[notary_coordinator::store::JobEvent]| {
            events
                .iter()
                .map(|e| e.job_id)
                .filter(|id| ids.contains(id))
                .collect::<Vec<_>>()
        };
        // Two consumers, each with its own position: both see all three, in order.
        let a = drain(s, "a").await;
        let c = drain(s, "c").await;
        assert_eq!(seen(&a), ids, "{}", b.name);
        assert_eq!(seen(&c), ids, "{}", b.name);
        // Handed out and not acknowledged: not handed out again before the redelivery time...
        assert!(seen(&drain(s, "a").await).is_empty(), "{}", b.name);
        // ...then again, to a reader of the same consumer.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let again = read_due(s, "a").await;
        assert_eq!(seen(&again), ids, "{}: redelivered", b.name);
        // Acknowledged out of order: none of them comes back.
        let mine: Vec<_> = again.iter().filter(|e| ids.contains(&e.job_id)).collect();
        for e in [mine[2], mine[0], mine[1]] {
            s.ack("a", e).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let after = read_due(s, "a").await;
        assert!(seen(&after).is_empty(), "{}: {after:?}", b.name);
        // Several acknowledged at once: none of them comes back either.
        let again = read_due(s, "c").await;
        assert_eq!(seen(&again), ids, "{}: redelivered to c", b.name);
        s.ack_many("c", &again).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let after = read_due(s, "c").await;
        assert!(seen(&after).is_empty(), "{}: {after:?}", b.name);
        // An empty log read waits about its wait, not forever.
        let started = std::time::Instant::now();
        let none = s
            .read("a", 10, Duration::from_millis(300), Duration::from_secs(60))
            .await
            .unwrap();
        assert!(seen(&none).is_empty());
        assert!(started.elapsed() < Duration::from_secs(3), "{}", b.name);
    }
}

/// Consumers reading at once each wait on their own: every read of an idle log ends after
/// about its wait (on Redis they once shared one blocking connection, so the sixth read waited
/// for the five before it, timed out, and what Redis then read for it was lost for the
/// redelivery time: a settlement stuck "pending"), and an event wakes every one of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumers_reading_at_once_each_wait_on_their_own() {
    const CONSUMERS: usize = 6;
    for b in backends().await {
        let s = b.store.clone();
        let names: Vec<String> = (0..CONSUMERS).map(|i| format!("k{i}")).collect();
        for name in &names {
            drain(s.as_ref(), name).await;
        }
        let read_all = |wait: Duration| {
            let tasks: Vec<_> = names
                .iter()
                .map(|name| {
                    let (s, name) = (s.clone(), name.clone());
                    tokio::spawn(async move {
                        let started = std::time::Instant::now();
                        let got = s.read(&name, 10, wait, Duration::from_secs(60)).await;
                        (got, started.elapsed())
                    })
                })
                .collect();
            futures::future::join_all(tasks)
        };
        for read in read_all(Duration::from_millis(1000)).await {
            let (got, took) = read.unwrap();
            let got = got.unwrap();
            assert!(got.is_empty(), "{}: {got:?}", b.name);
            assert!(took < Duration::from_millis(2500), "{}: {took:?}", b.name);
        }
        let r = record();
        s.insert(&r).await.unwrap();
        let waiting = read_all(Duration::from_secs(2));
        let finalize = async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            s.finalize(&r, &valid(&r, 1)).await.unwrap();
        };
        let (reads, ()) = tokio::join!(waiting, finalize);
        for read in reads {
            let (got, took) = read.unwrap();
            let got = got.unwrap();
            assert!(
                got.iter().any(|e| e.job_id == r.id()),
                "{}: {got:?} after {took:?}",
                b.name
            );
        }
    }
}

/// The next job id a test handler saw within `within`, if any.
async fn next(
    seen: &mut tokio::sync::mpsc::UnboundedReceiver<Uuid>,
    within: Duration,
) -> Option<Uuid> {
    tokio::time::timeout(within, seen.recv())
        .await
        .ok()
        .flatten()
}

/// The consumer runner on every backend: after a read that found events it lingers (more
/// events per read), and its wake ends the linger at once (the chain consumer's wake is a
/// chain step this replica finalized, so the next step does not wait).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lingering_consumer_is_woken_for_the_events_that_must_not_wait() {
    use notary_coordinator::jobs::consumers::{spawn, ConsumerOptions, EventHandler};
    use notary_coordinator::store::JobEvent;

    struct Seen(tokio::sync::mpsc::UnboundedSender<Uuid>);
    #[async_trait::async_trait]
    impl EventHandler for Seen {
        fn name(&self) -> &'static str {
            "lingering"
        }
        async fn handle(&self, event: &JobEvent) -> notary_coordinator::Result<()> {
            let _ = self.0.send(event.job_id);
            Ok(())
        }
    }

    for b in backends().await {
        let s = b.store.clone();
        let final_job = || async {
            let r = record();
            s.insert(&r).await.unwrap();
            s.finalize(&r, &valid(&r, 1)).await.unwrap();
            r.id()
        };
        let (tx, mut seen) = tokio::sync::mpsc::unbounded_channel();
        let wake = Arc::new(tokio::sync::Notify::new());
        let stop = tokio_util::sync::CancellationToken::new();
        let log: Arc<dyn EventLog> = s.clone();
        let task = spawn(
            log,
            Arc::new(Seen(tx)),
            ConsumerOptions {
                linger: Duration::from_secs(5),
                wake: Some(wake.clone()),
                ..ConsumerOptions::default()
            },
            stop.clone(),
        );
        let first = final_job().await;
        assert_eq!(next(&mut seen, Duration::from_secs(3)).await, Some(first));
        // Lingering now: a new event waits...
        let second = final_job().await;
        assert_eq!(
            next(&mut seen, Duration::from_millis(500)).await,
            None,
            "{}",
            b.name
        );
        // ...until the wake.
        wake.notify_one();
        assert_eq!(
            next(&mut seen, Duration::from_secs(2)).await,
            Some(second),
            "{}",
            b.name
        );
        stop.cancel();
        task.await.unwrap();
    }
}

/// A Redis read that failed may still have been served: the entries Redis handed to this
/// reader are not lost until the redelivery time, the consumer's next read takes them back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_redis_read_does_not_strand_what_redis_handed_out() {
    let redis = RedisServer::start();
    let prefix = format!("jr{}:", Uuid::new_v4().simple());
    let s = RedisStore::new_lazy(&redis.url(), &prefix, RETENTION, "reader-1").unwrap();
    assert!(drain(s.as_ref(), "c").await.is_empty());
    let r = record();
    s.insert(&r).await.unwrap();
    s.finalize(&r, &valid(&r, 1)).await.unwrap();
    // A read whose answer never arrived: Redis handed the event to this reader.
    let mut raw = redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let _: redis::Value = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg("c")
        .arg("reader-1")
        .arg("COUNT")
        .arg(10)
        .arg("STREAMS")
        .arg(notary_protocol::keys::events(&prefix))
        .arg(">")
        .query_async(&mut raw)
        .await
        .unwrap();
    // The store's own read fails (Redis frozen past the read's bound)...
    let pid = redis.pid().unwrap().to_string();
    let signal = |sig: &str| {
        assert!(std::process::Command::new("kill")
            .args([sig, &pid])
            .status()
            .unwrap()
            .success());
    };
    signal("-STOP");
    let failed = s
        .read("c", 10, Duration::from_millis(100), Duration::from_secs(60))
        .await;
    signal("-CONT");
    assert!(failed.is_err(), "{failed:?}");
    // ...and the next one takes the event back at once, not after the 60 s redelivery time.
    let started = std::time::Instant::now();
    let back = s
        .read("c", 10, Duration::from_millis(100), Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(
        back.iter().map(|e| e.job_id).collect::<Vec<_>>(),
        vec![r.id()]
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    // Taken back once: then only new events.
    assert!(s
        .read("c", 10, Duration::from_millis(100), Duration::from_secs(60))
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_expire_after_their_retention() {
    let redis = RedisServer::start();
    let prefix = format!("jx{}:", Uuid::new_v4().simple());
    let short = Duration::from_millis(300);
    let stores: Vec<(&str, Arc<dyn JobStore>)> = vec![
        ("sqlite-memory", sqlite_at(None, short).await),
        (
            "redis",
            RedisStore::new_lazy(&redis.url(), &prefix, short, "r").unwrap(),
        ),
    ];
    for (name, s) in stores {
        let r = record();
        s.insert(&r).await.unwrap();
        assert!(s.get(r.id()).await.unwrap().is_some(), "{name}");
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert!(s.get(r.id()).await.unwrap().is_none(), "{name}: expired");
        assert!(matches!(
            s.finalize(&r, &valid(&r, 1)).await.unwrap(),
            Finalized::Missing
        ));
    }
}

/// The embedded file keeps everything across a reopen: records, outcomes, the consumers'
/// positions; unfinished jobs come back, with one more delivery only if one was leased
/// (issue 22, defect 1: a job that only waited in the queue keeps its count).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqlite_file_survives_a_reopen() {
    let mut all = backends().await;
    let b = all.remove(1);
    assert_eq!(b.name, "sqlite-file");
    let path = b.dir.as_ref().unwrap().path().join("notary.sqlite3");
    let (done, pending_ack, open, queued) = (record(), record(), record(), record());
    for r in [&done, &pending_ack, &open, &queued] {
        b.store.insert(r).await.unwrap();
    }
    // `open` was leased (it may have been running at the stop); `queued` never was.
    b.store.record_delivery(open.id(), 1).await.unwrap();
    b.store.finalize(&done, &valid(&done, 3)).await.unwrap();
    b.store
        .finalize(&pending_ack, &valid(&pending_ack, 4))
        .await
        .unwrap();
    let events = drain(b.store.as_ref(), "settle").await;
    let first = events.iter().find(|e| e.job_id == done.id()).unwrap();
    b.store.ack("settle", first).await.unwrap();
    let Backend { store, dir, .. } = b;
    drop(store);
    // The database thread ends with its last handle; the exclusive lock goes with it.
    let s = SqliteStore::open(crate::support::reopen_db(&path), RETENTION)
        .await
        .unwrap();
    let kept = s.get(done.id()).await.unwrap().unwrap();
    assert_eq!(
        kept.outcome,
        Some(valid(&done, 3)).map(|mut o| {
            o.completed_at_ms = kept.outcome.as_ref().unwrap().completed_at_ms;
            o
        })
    );
    // The acknowledged event stays handled; the one in flight at the stop comes back.
    let again = drain(s.as_ref(), "settle").await;
    let ids: Vec<Uuid> = again.iter().map(|e| e.job_id).collect();
    assert_eq!(ids, vec![pending_ack.id()]);
    let unfinished = s.take_unfinished().await.unwrap();
    assert_eq!(unfinished.len(), 2);
    assert_eq!(unfinished[0].record, open);
    assert_eq!(unfinished[0].attempt, 2);
    assert_eq!(unfinished[1].record, queued);
    assert_eq!(unfinished[1].attempt, 1);
    // Restarting again without a lease in between counts nothing more...
    let attempts = |u: Vec<notary_coordinator::store::Unfinished>| -> Vec<u32> {
        u.iter().map(|u| u.attempt).collect()
    };
    assert_eq!(attempts(s.take_unfinished().await.unwrap()), [2, 1]);
    // ...a recorded lease of that delivery does.
    s.record_delivery(open.id(), 2).await.unwrap();
    assert_eq!(attempts(s.take_unfinished().await.unwrap()), [3, 1]);
    drop(dir);
}

/// Deliveries go to the delivery journal next to the file: a full journal file is folded into
/// the database in the background and deleted, and what the journal holds at a restart still
/// counts (with `--fsync` a delivery is a transaction of its own, no journal).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_delivery_journal_folds_full_files_in_and_counts_at_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notary.sqlite3");
    let journal = dir.path().join("notary.sqlite3.deliveries");
    let store = sqlite_at(Some(&path), RETENTION).await;
    let (busy, done) = (record(), record());
    for r in [&busy, &done] {
        store.insert(r).await.unwrap();
    }
    store.finalize(&done, &valid(&done, 1)).await.unwrap();
    // About 40 bytes a note: more than one 1 MiB file's worth.
    let notes = 30_000u32;
    for attempt in 1..=notes {
        let id = if attempt % 2 == 0 {
            busy.id()
        } else {
            done.id()
        };
        store.record_delivery(id, attempt).await.unwrap();
    }
    let files = || std::fs::read_dir(&journal).unwrap().count();
    notary_queue::test_utils::eventually(
        Duration::from_secs(30),
        || files() <= 1,
        || format!("{} journal files", files()),
    )
    .await;
    drop(store);
    let s = SqliteStore::open(crate::support::reopen_db(&path), RETENTION)
        .await
        .unwrap();
    let unfinished = s.take_unfinished().await.unwrap();
    assert_eq!(unfinished.len(), 1);
    assert_eq!(unfinished[0].record, busy);
    assert_eq!(unfinished[0].attempt, notes + 1);
    // Everything folded in and deleted; the final job kept its outcome.
    assert!(s.get(done.id()).await.unwrap().unwrap().outcome.is_some());
    let left: u64 = std::fs::read_dir(&journal)
        .unwrap()
        .map(|f| f.unwrap().metadata().unwrap().len())
        .sum();
    assert_eq!(left, 0);
    drop(s);

    let fsynced = tempfile::tempdir().unwrap();
    let db =
        Arc::new(Db::open(Some(&fsynced.path().join("n.sqlite3")), Durability::Fsync).unwrap());
    let s = SqliteStore::open(db, RETENTION).await.unwrap();
    s.insert(&busy).await.unwrap();
    s.record_delivery(busy.id(), 1).await.unwrap();
    assert_eq!(
        std::fs::read_dir(fsynced.path())
            .unwrap()
            .filter(|f| f
                .as_ref()
                .unwrap()
                .path()
                .to_string_lossy()
                .ends_with(".deliveries"))
            .count(),
        0
    );
    assert_eq!(s.take_unfinished().await.unwrap()[0].attempt, 2);
}

/// Two stores on one file: the second is refused at once (it could not see the first's
/// waiters or event positions).
#[tokio::test]
async fn a_second_coordinator_cannot_open_the_same_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notary.sqlite3");
    let _first = Db::open(Some(&path), Durability::Fsync).unwrap();
    let err = Db::open(Some(&path), Durability::Process).unwrap_err();
    assert!(err.to_string().contains("in use"), "{err}");
}

/// Fair lanes (issue 22, defect 4) on every store: a job's lane is the number of its client's
/// jobs still unfinished, whether this replica finalized them or the store says so (asked
/// about a job only once it was last known unfinished `recheck_after` ago).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fair_lanes_follow_each_clients_unfinished_jobs() {
    use notary_coordinator::jobs::fair::FairLanes;
    for b in backends().await {
        let s = b.store.as_ref();
        // Far longer than the few store calls between a job's lane and the early check below.
        let recheck_after = Duration::from_secs(2);
        let lanes = FairLanes::new(recheck_after);
        let a_jobs: Vec<JobRecord> = (0..5).map(|_| record()).collect();
        let mut got = Vec::new();
        for r in &a_jobs {
            s.insert(r).await.unwrap();
            got.push(lanes.assign("a", r.id(), s).await);
        }
        assert_eq!(got, vec![0, 1, 2, 3, 3], "{}", b.name);
        let other = record();
        s.insert(&other).await.unwrap();
        assert_eq!(lanes.assign("b", other.id(), s).await, 0, "{}", b.name);
        // Finalized by this replica: forgotten at once.
        for r in &a_jobs[..3] {
            lanes.finished(r.id());
        }
        let next = record();
        s.insert(&next).await.unwrap();
        assert_eq!(lanes.assign("a", next.id(), s).await, 2, "{}", b.name);
        // Finalized by another replica: the store tells when a lane is chosen after the
        // recheck time (until then they count, unread).
        for r in &a_jobs[3..] {
            s.finalize(r, &valid(r, 1)).await.unwrap();
        }
        let early = record();
        s.insert(&early).await.unwrap();
        assert_eq!(lanes.assign("a", early.id(), s).await, 3, "{}", b.name);
        lanes.finished(early.id());
        tokio::time::sleep(recheck_after).await;
        let last = record();
        s.insert(&last).await.unwrap();
        assert_eq!(lanes.assign("a", last.id(), s).await, 1, "{}", b.name);
        assert_eq!(lanes.clients(), 2, "{}", b.name);
        for id in [next.id(), last.id(), other.id()] {
            lanes.finished(id);
        }
        assert_eq!(lanes.clients(), 0, "{}", b.name);
    }
}

/// `recent` lists newest first (ties at one millisecond by id, descending), pages from a
/// cursor without repeating or skipping, and shows outcomes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recent_jobs_page_newest_first() {
    for b in backends().await {
        let name = b.name;
        assert!(b.store.recent(None, 10).await.unwrap().is_empty(), "{name}");
        let base = now_ms() - 10_000;
        let mut records = Vec::new();
        // Five jobs, two of them in the same millisecond.
        for (i, at) in [0u64, 1, 2, 2, 3].iter().enumerate() {
            let mut r = record();
            r.created_at_ms = base + at;
            b.store.insert(&r).await.unwrap();
            if i == 0 {
                b.store.finalize(&r, &valid(&r, 7)).await.unwrap();
            }
            records.push(r);
        }
        let mut expected: Vec<(u64, Uuid)> =
            records.iter().map(|r| (r.created_at_ms, r.id())).collect();
        expected.sort_by(|a, b| b.cmp(a));
        let key = |r: &JobRecord| (r.created_at_ms, r.id());

        let all: Vec<_> = b.store.recent(None, 10).await.unwrap();
        assert_eq!(all.iter().map(key).collect::<Vec<_>>(), expected, "{name}");
        let oldest = all.last().unwrap();
        assert_eq!(
            oldest.status(),
            JobStatus::Completed,
            "{name}: outcomes shown"
        );

        // Pages of two, each from the last one's cursor.
        let mut paged = Vec::new();
        let mut cursor = None;
        loop {
            let page = b.store.recent(cursor, 2).await.unwrap();
            assert!(page.len() <= 2, "{name}");
            if page.is_empty() {
                break;
            }
            cursor = Some(key(page.last().unwrap()));
            paged.extend(page.iter().map(key));
        }
        assert_eq!(paged, expected, "{name}: no repeat, no gap");
    }
}
