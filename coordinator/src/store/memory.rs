//! In-memory job records for the single-process embedded mode.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use parking_lot::Mutex;
use tokio::time::Instant;
use uuid::Uuid;

use super::waiters::{wait_until_final, Waiters};
use super::{Finalized, JobStore};
use crate::record::{JobOutcome, JobRecord};
use crate::Result;

/// Records in a map, each dropped `retention` after its last change.
pub struct MemoryStore {
    records: Mutex<HashMap<Uuid, (JobRecord, Instant)>>,
    waiters: Waiters,
    retention: Duration,
}

impl MemoryStore {
    /// A store keeping records for `retention`.
    pub fn new(retention: Duration) -> Self {
        MemoryStore {
            records: Mutex::new(HashMap::new()),
            waiters: Waiters::default(),
            retention,
        }
    }

    fn sweep(map: &mut HashMap<Uuid, (JobRecord, Instant)>) {
        let now = Instant::now();
        map.retain(|_, (_, expires)| *expires > now);
    }
}

#[async_trait]
impl JobStore for MemoryStore {
    async fn insert(&self, record: &JobRecord) -> Result<()> {
        let mut map = self.records.lock();
        // Amortised sweep: keeps memory bounded by the retention without a timer task.
        if map.len().is_multiple_of(1024) {
            Self::sweep(&mut map);
        }
        map.insert(
            record.id(),
            (record.clone(), Instant::now() + self.retention),
        );
        Ok(())
    }

    async fn get(&self, id: Uuid) -> Result<Option<JobRecord>> {
        let map = self.records.lock();
        Ok(map
            .get(&id)
            .filter(|(_, exp)| *exp > Instant::now())
            .map(|(r, _)| r.clone()))
    }

    async fn finalize(&self, record: &JobRecord, outcome: &JobOutcome) -> Result<Finalized> {
        let id = record.id();
        let result = {
            let mut map = self.records.lock();
            match map.get_mut(&id) {
                None => Finalized::Missing,
                Some((record, _)) if record.outcome.is_some() => {
                    Finalized::AlreadyFinal(record.clone())
                }
                Some((record, expires)) => {
                    record.outcome = Some(outcome.clone());
                    *expires = Instant::now() + self.retention;
                    Finalized::Applied(record.clone())
                }
            }
        };
        if matches!(result, Finalized::Applied(_)) {
            self.waiters.wake(id);
        }
        Ok(result)
    }

    async fn wait_final(&self, id: Uuid, timeout: Duration) -> Result<Option<JobRecord>> {
        wait_until_final(&self.waiters, id, timeout, || self.get(id)).await
    }

    async fn ping(&self) -> Result<()> {
        Ok(())
    }
}
