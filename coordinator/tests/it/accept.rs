//! Accepting a job (`JobService::submit`): a caller that stops waiting cannot stop it half-way.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use notary_coordinator::db::{Db, Durability};
use notary_coordinator::error::Result;
use notary_coordinator::jobs::{FirstAccepted, JobService};
use notary_coordinator::jury::JuryState;
use notary_coordinator::record::{JobOutcome, JobRecord};
use notary_coordinator::store::{
    EventLog, Finalized, JobEvent, JobStore, SqliteStore, Unfinished, Waiters,
};
use notary_queue::{Leases as _, MemoryQueue};
use uuid::Uuid;

use crate::support::*;

/// The embedded store, with every insert taking `delay` first (a slow disk or a far Redis).
struct SlowInsert {
    inner: Arc<SqliteStore>,
    delay: Duration,
}

#[async_trait]
impl EventLog for SlowInsert {
    async fn read(
        &self,
        consumer: &str,
        max: usize,
        wait: Duration,
        redeliver_after: Duration,
    ) -> Result<Vec<JobEvent>> {
        self.inner.read(consumer, max, wait, redeliver_after).await
    }
    async fn ack(&self, consumer: &str, event: &JobEvent) -> Result<()> {
        self.inner.ack(consumer, event).await
    }
}

#[async_trait]
impl JobStore for SlowInsert {
    async fn insert(&self, record: &JobRecord) -> Result<()> {
        tokio::time::sleep(self.delay).await;
        self.inner.insert(record).await
    }
    async fn get(&self, id: Uuid) -> Result<Option<JobRecord>> {
        self.inner.get(id).await
    }
    async fn finalize(&self, record: &JobRecord, outcome: &JobOutcome) -> Result<Finalized> {
        self.inner.finalize(record, outcome).await
    }
    async fn save_jury(&self, id: Uuid, state: &JuryState) -> Result<bool> {
        self.inner.save_jury(id, state).await
    }
    fn waiters(&self) -> &Arc<Waiters> {
        self.inner.waiters()
    }
    async fn record_delivery(&self, id: Uuid, attempt: u32) -> Result<()> {
        self.inner.record_delivery(id, attempt).await
    }
    async fn take_unfinished(&self) -> Result<Vec<Unfinished>> {
        self.inner.take_unfinished().await
    }
    async fn recent(&self, before: Option<(u64, Uuid)>, limit: usize) -> Result<Vec<JobRecord>> {
        self.inner.recent(before, limit).await
    }
    async fn ping(&self) -> Result<()> {
        self.inner.ping().await
    }
}

/// A client that hangs up while its job's record is being written drops the request's
/// future; the job is stored and queued all the same (a record stored and never queued would
/// be a paid job that never runs, and one queued without its record a result with nowhere
/// to go).
#[tokio::test]
async fn a_submit_whose_caller_stops_waiting_still_stores_and_queues_the_job() {
    let db = Arc::new(Db::open(None, Durability::Process).unwrap());
    let sqlite = SqliteStore::open(db.clone(), Duration::from_secs(60))
        .await
        .unwrap();
    let store = Arc::new(SlowInsert {
        inner: sqlite.clone(),
        delay: Duration::from_millis(300),
    });
    let queue = Arc::new(MemoryQueue::default());
    let jobs = Arc::new(JobService::new(
        store,
        queue.clone(),
        Arc::new(FirstAccepted),
        HashSet::new(),
        3,
        Duration::from_secs(15),
        notary_coordinator::workers::SqliteWorkerBook::open(db, Default::default())
            .await
            .unwrap(),
    ));
    for paid in [true, false] {
        let record = hello_record().await;
        let submit = async {
            if paid {
                jobs.submit(&record, Some("client")).await
            } else {
                jobs.submit_unpaid(&record, Some("client")).await
            }
        };
        // The caller gives up (its future is dropped) in the middle of the insert.
        let gave_up = tokio::time::timeout(Duration::from_millis(50), submit).await;
        assert!(gave_up.is_err(), "paid {paid}: the insert was not slow");
        let lease = queue
            .lease("w", Duration::from_secs(5))
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("paid {paid}: the job was never queued"));
        assert_eq!(lease.job.job_id, record.id().to_string(), "paid {paid}");
        let stored = sqlite.get(record.id()).await.unwrap();
        assert_eq!(stored.as_ref(), Some(&record), "paid {paid}: the record");
    }
}
