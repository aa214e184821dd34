//! Job records and the event log of final jobs: one trait each, a Redis backend (fleet mode)
//! and a SQLite one (the embedded mode, in a file under `--data-dir` or in memory with
//! `--data-dir none`).
//!
//! A record is written once when a job is accepted and once more when it reaches its final
//! state. The second write is a compare-and-set: [`JobStore::finalize`] sets an outcome only if
//! none is set, and appends the job's final [`JobEvent`] in the same atomic step, so at-least-once
//! queue delivery and several coordinators still give one outcome and one event per job.
//! *When* a job is final is not the store's decision: the job service asks its completion
//! policy (the job service, one layer up). A coordinator waiting to answer a client is woken by
//! [`JobStore::wait_final`], whichever coordinator replica finalized the job.

pub mod events;
mod journal;
mod redis;
mod sqlite;
mod waiters;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use uuid::Uuid;

pub use self::events::{EventKind, EventLog, JobEvent};
pub use self::redis::RedisStore;
pub use self::sqlite::SqliteStore;
pub use self::waiters::{FinalWatch, Waiters};
use crate::error::Result;
use crate::jury::JuryState;
use crate::record::{JobOutcome, JobRecord};

/// A write issued to a store: resolves once it is committed (or failed).
pub type Issued = futures::future::BoxFuture<'static, Result<()>>;

/// What [`JobStore::finalize`] did.
#[derive(Debug)]
pub enum Finalized {
    /// This call set the outcome (and appended the final event); here is the final record.
    Applied(JobRecord),
    /// An outcome was already set (a duplicate result); the record is unchanged.
    AlreadyFinal(JobRecord),
    /// No such job (never existed, or past its retention).
    Missing,
}

/// A job accepted but not final when an embedded coordinator stopped, to be run again.
#[derive(Clone, Debug, PartialEq)]
pub struct Unfinished {
    /// The job.
    pub record: JobRecord,
    /// The delivery it is to be run as (increased by one if its last delivery was leased).
    pub attempt: u32,
}

/// A record as both backends store it: the accepted job (JSON), its jury's state (JSON, if it
/// has a jury) and, once final, its outcome.
pub(crate) fn decode(record: &str, outcome: Option<&str>, jury: Option<&str>) -> Result<JobRecord> {
    let mut record: JobRecord = serde_json::from_str(record)?;
    if let Some(outcome) = outcome {
        record.outcome = Some(serde_json::from_str(outcome)?);
    }
    if let Some(jury) = jury {
        record.jury_state = Some(serde_json::from_str(jury)?);
    }
    Ok(record)
}

/// The final record of `record` with `outcome`, and its final event: the accepted fields never
/// change, so the final record is the caller's copy plus the outcome (no read-back).
pub(crate) fn with_outcome(record: &JobRecord, outcome: &JobOutcome) -> (JobRecord, JobEvent) {
    let mut last = record.clone();
    last.outcome = Some(outcome.clone());
    let event = JobEvent::final_of(&last);
    (last, event)
}

/// Storage of job records.
#[async_trait]
pub trait JobStore: EventLog {
    /// Stores a newly accepted job (attempt 1).
    async fn insert(&self, record: &JobRecord) -> Result<()>;
    /// Stores a newly accepted job like [`JobStore::insert`], but returns once the write is
    /// issued: whatever this store is asked afterwards (the job's final write included) is
    /// applied after it, and the returned future says whether it was stored. A backend that
    /// cannot order later calls behind an unfinished write finishes it first (the default).
    async fn insert_issued(&self, record: &JobRecord) -> Result<Issued> {
        self.insert(record).await?;
        Ok(Box::pin(std::future::ready(Ok(()))))
    }
    /// Reads a job.
    async fn get(&self, id: Uuid) -> Result<Option<JobRecord>>;
    /// Sets the job's outcome if it has none yet, appends its final event and wakes its
    /// waiters, all or nothing. `record` is the caller's copy of the job (the final record is
    /// built from it rather than read back).
    async fn finalize(&self, record: &JobRecord, outcome: &JobOutcome) -> Result<Finalized>;
    /// Stores a jury's new `state` if the stored one's version is `state.version - 1` (0: none
    /// stored yet) and the job is not final: compare-and-set, so coordinators handling one
    /// jury's reports at once never lose a change. `false`: not stored (another change came
    /// first, or the job is final or gone); read the record again. A stored escalated state
    /// wakes the job's waiters (on every replica), as a final write does.
    async fn save_jury(&self, id: Uuid, state: &JuryState) -> Result<bool>;
    /// This store's local wake-ups for requests waiting on a job's final state: woken by its
    /// final writes (and escalations), and by whatever tells it of another replica's.
    fn waiters(&self) -> &Arc<Waiters>;
    /// Waits up to `timeout` for the job to be final (or escalated); returns the record as it is then
    /// (`None` if the job does not exist).
    async fn wait_final(&self, id: Uuid, timeout: Duration) -> Result<Option<JobRecord>> {
        waiters::wait_until_final(self.waiters(), id, timeout, || self.get(id)).await
    }
    /// Registers a wait for job `id`'s final state now, before the job can become final (the
    /// caller queues it next): [`JobStore::wait_watched`] then waits without reading the record
    /// first.
    fn watch_final(&self, id: Uuid) -> FinalWatch {
        FinalWatch::new(self.waiters(), id)
    }
    /// Waits up to `timeout` on `watch` (like [`JobStore::wait_final`], from the registration).
    async fn wait_watched(
        &self,
        watch: FinalWatch,
        timeout: Duration,
    ) -> Result<Option<JobRecord>> {
        let id = watch.id();
        watch.wait(timeout, || self.get(id)).await
    }
    /// Notes that a worker leased the job as delivery `attempt` (it may be running). Only a
    /// delivery that was actually taken counts against the delivery limit after a restart: a
    /// job that was only queued keeps its count. A backend whose queue counts deliveries itself
    /// (Redis) does nothing.
    async fn record_delivery(&self, id: Uuid, attempt: u32) -> Result<()>;
    /// Every job accepted and not final, oldest first: what a restarted embedded coordinator
    /// queues again. A job whose last delivery was leased (it may have been running when the
    /// process stopped) comes back with its delivery count increased by one; a job that was
    /// only queued keeps its count. A backend whose queue keeps queued and leased jobs itself
    /// (Redis) has nothing to give back and returns none.
    async fn take_unfinished(&self) -> Result<Vec<Unfinished>>;
    /// Jobs accepted before `before` (`(created ms, id)`, exclusive; `None`: from the newest),
    /// newest first (ties by id, descending), at most `limit`. Records past their retention are
    /// left out.
    async fn recent(&self, before: Option<(u64, Uuid)>, limit: usize) -> Result<Vec<JobRecord>>;
    /// Checks that the backend answers.
    async fn ping(&self) -> Result<()>;
}
