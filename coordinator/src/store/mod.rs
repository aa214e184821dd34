//! Job records: one trait, a Redis backend and an in-memory one.
//!
//! A record is written once when a job is accepted and once more when it reaches its final
//! state; that second write happens at most once per job (`finalize` is first-wins), which is
//! what makes results exactly-once even though queue delivery is at-least-once. A coordinator
//! waiting to answer a client is woken by [`JobStore::wait_final`], whichever coordinator
//! replica finalized the job.

mod memory;
mod redis;
mod waiters;

use std::time::Duration;

use async_trait::async_trait;
use uuid::Uuid;

pub use self::memory::MemoryStore;
pub use self::redis::RedisStore;
use crate::record::{JobOutcome, JobRecord};
use crate::Result;

/// What [`JobStore::finalize`] did.
#[derive(Debug)]
pub enum Finalized {
    /// This call set the outcome; here is the final record.
    Applied(JobRecord),
    /// An outcome was already set (a duplicate result); the record is unchanged.
    AlreadyFinal(JobRecord),
    /// No such job (never existed, or past its retention).
    Missing,
}

/// Storage of job records.
#[async_trait]
pub trait JobStore: Send + Sync + 'static {
    /// Stores a newly accepted job.
    async fn insert(&self, record: &JobRecord) -> Result<()>;
    /// Reads a job.
    async fn get(&self, id: Uuid) -> Result<Option<JobRecord>>;
    /// Sets the job's outcome if it has none yet (first wins) and wakes its waiters. `record` is
    /// the caller's copy of the job (the final record is built from it rather than read back).
    async fn finalize(&self, record: &JobRecord, outcome: &JobOutcome) -> Result<Finalized>;
    /// Waits up to `timeout` for the job to be final; returns the record as it is then
    /// (`None` if the job does not exist).
    async fn wait_final(&self, id: Uuid, timeout: Duration) -> Result<Option<JobRecord>>;
    /// Checks that the backend answers.
    async fn ping(&self) -> Result<()>;
}
