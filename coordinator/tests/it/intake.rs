//! Result intake rules of the job service, on the in-memory backends.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use notary_coordinator::db::{Db, Durability};
use notary_coordinator::jobs::{FirstAccepted, JobService};
use notary_coordinator::record::JobRecord;
use notary_coordinator::store::{JobStore, SqliteStore};
use notary_protocol::{
    sha256, Attestation, Digest32, RuntimeInfo, Verdict, WorkerKey, WorkerReport,
};
use notary_queue::{IntakeItem, JobEnvelope, Leases as _, MemoryQueue};

use crate::support::*;

async fn setup(allowed: &WorkerKey) -> (Arc<SqliteStore>, Arc<MemoryQueue>, JobService) {
    let db = Arc::new(Db::open(None, Durability::Process).unwrap());
    let store = SqliteStore::open(db, Duration::from_secs(60))
        .await
        .unwrap();
    let queue = Arc::new(MemoryQueue::default());
    let intake = JobService::new(
        store.clone(),
        queue.clone(),
        Arc::new(FirstAccepted),
        HashSet::from([allowed.address()]),
        3,
        Duration::from_secs(15),
        notary_coordinator::workers::SqliteWorkerBook::open(
            Arc::new(
                notary_coordinator::db::Db::open(None, notary_coordinator::db::Durability::Process)
                    .unwrap(),
            ),
            Default::default(),
        )
        .await
        .unwrap(),
    );
    (store, queue, intake)
}

async fn job(store: &SqliteStore) -> JobRecord {
    let record = hello_record().await;
    store.insert(&record).await.unwrap();
    record
}

fn report(key: &WorkerKey, record: &JobRecord, tweak: impl FnOnce(&mut Attestation)) -> IntakeItem {
    let runtime = RuntimeInfo {
        wasmtime: "48.0.8".into(),
        config_hash: sha256(b"c"),
        js_runtime_hash: sha256(b"j"),
    };
    let mut fields = Attestation {
        job_id: record.id(),
        code_hash: record.spec.code_hash,
        input_hash: record.spec.input_hash,
        output_hash: Digest32::from_hex(HELLO_HASH).unwrap(),
        expected_hash: record.spec.expected_hash,
        fuel_used: 10,
        result: Verdict::Valid,
        runtime_id: runtime.id(),
    };
    tweak(&mut fields);
    let report = WorkerReport {
        job_id: record.id(),
        attempt: 1,
        attestation: key.sign(fields, &record.spec.domain).unwrap(),
        runtime,
        error_message: None,
        exit_code: Some(0),
        output_preview: "hello world\n".into(),
        output_truncated: false,
        execution_ms: 0.1,
        module_hash: sha256(b"j"),
    };
    IntakeItem::Submitted {
        job_id: record.id().to_string(),
        worker: "w".into(),
        attempt: 1,
        payload: serde_json::to_string(&report).unwrap(),
    }
}

#[tokio::test]
async fn a_valid_report_finalizes_once() {
    let key = WorkerKey::generate();
    let (store, _queue, intake) = setup(&key).await;
    let record = job(&store).await;
    intake.handle(&report(&key, &record, |_| {})).await.unwrap();
    let first = store.get(record.id()).await.unwrap().unwrap();
    assert_eq!(first.outcome.as_ref().unwrap().result, Some(Verdict::Valid));
    // A second, different report (another run) does not change the recorded result.
    intake
        .handle(&report(&key, &record, |f| f.fuel_used = 11))
        .await
        .unwrap();
    assert_eq!(store.get(record.id()).await.unwrap().unwrap(), first);
}

#[tokio::test]
async fn untrustworthy_reports_are_requeued_not_recorded() {
    let key = WorkerKey::generate();
    let rogue = WorkerKey::generate();
    let (store, queue, intake) = setup(&key).await;
    let record = job(&store).await;
    // (name, report, the delivery it comes back as): a refusal for the worker's identity or
    // setup is no delivery (issue 22, defect 2); a report misstating the job counts one.
    let bad: Vec<(&str, IntakeItem, u32)> = vec![
        ("unknown worker", report(&rogue, &record, |_| {}), 1),
        (
            "other code",
            report(&key, &record, |f| f.code_hash = sha256(b"other")),
            2,
        ),
        (
            "other input",
            report(&key, &record, |f| f.input_hash = sha256(b"other")),
            2,
        ),
        (
            "other expectation",
            report(&key, &record, |f| f.expected_hash = sha256(b"other")),
            2,
        ),
        (
            "lying verdict",
            report(&key, &record, |f| f.output_hash = sha256(b"other")),
            2,
        ),
        (
            "lying invalid",
            report(&key, &record, |f| f.result = Verdict::Invalid),
            2,
        ),
        (
            "fuel over budget",
            report(&key, &record, |f| f.fuel_used = 1001),
            2,
        ),
        (
            "other runtime",
            report(&key, &record, |f| f.runtime_id = sha256(b"x")),
            1,
        ),
    ];
    for (name, item, attempt) in bad {
        intake.handle(&item).await.unwrap();
        let now = store.get(record.id()).await.unwrap().unwrap();
        assert!(now.outcome.is_none(), "{name} was recorded");
        let lease = queue
            .lease("w", Duration::ZERO)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{name}: job not requeued"));
        assert_eq!(lease.job.job_id, record.id().to_string());
        assert_eq!(lease.job.attempt, attempt, "{name}");
        queue.submit(&lease, String::new()).await.unwrap();
    }
}

#[tokio::test]
async fn dead_letters_fail_the_job_refundably() {
    let key = WorkerKey::generate();
    let (store, _queue, intake) = setup(&key).await;
    let record = job(&store).await;
    let item = IntakeItem::DeadLettered {
        job: JobEnvelope {
            job_id: record.id().to_string(),
            payload: String::new(),
            attempt: 3,
            lane: 0,
            target: None,
        },
        reason: "no result after 3 deliveries (max 3)".into(),
    };
    intake.handle(&item).await.unwrap();
    let r = store.get(record.id()).await.unwrap().unwrap();
    let o = r.outcome.unwrap();
    assert_eq!(o.result, None);
    assert!(o.refund_eligible);
    assert_eq!(o.error_code.as_deref(), Some("VM Spawn Failed"));
}

/// `--accept-runtime`: a genuine report of a runtime the fleet does not accept is refused like
/// one of a worker not on the allow list (no delivery used); one of an accepted runtime counts.
#[tokio::test]
async fn only_accepted_runtimes_decide() {
    let key = WorkerKey::generate();
    let (store, queue, intake) = setup(&key).await;
    let good = report(&key, &hello_record().await, |_| {});
    let IntakeItem::Submitted { payload, .. } = &good else {
        unreachable!()
    };
    let accepted: WorkerReport = serde_json::from_str(payload).unwrap();
    let intake = intake.with_accepted_runtimes(HashSet::from([sha256(b"another runtime")]));
    let record = job(&store).await;
    intake.handle(&report(&key, &record, |_| {})).await.unwrap();
    assert!(store
        .get(record.id())
        .await
        .unwrap()
        .unwrap()
        .outcome
        .is_none());
    let lease = queue.lease("w", Duration::ZERO).await.unwrap().unwrap();
    assert_eq!(lease.job.attempt, 1, "no delivery used");
    queue.submit(&lease, String::new()).await.unwrap();

    let intake = intake.with_accepted_runtimes(HashSet::from([accepted.runtime.id()]));
    intake.handle(&report(&key, &record, |_| {})).await.unwrap();
    let done = store.get(record.id()).await.unwrap().unwrap();
    assert_eq!(done.outcome.unwrap().result, Some(Verdict::Valid));
}
