//! The records of jobs this replica accepted and has not seen final: the intake checks a
//! worker's report against the job without reading the record back from the store (one
//! SQLite round trip or one `HMGET` per job).
//!
//! Sound because the accepted part of a record never changes after the insert (a job's outcome
//! and jury state are written apart, and the final write is compare-and-set): a copy can only
//! be stale in saying "not final yet", and a report for a job another replica finalized then
//! ends as the store's "already final". Jobs with a jury are not kept (their state changes
//! seat by seat), nor large ones; at most [`MAX_KEPT`] records, the oldest dropped first (a job
//! another replica finalized is forgotten that way).

use std::collections::{HashMap, VecDeque};

use parking_lot::Mutex;
use uuid::Uuid;

use crate::record::JobRecord;

/// Most records kept.
pub const MAX_KEPT: usize = 1024;

/// Largest job (its serialized spec, bytes) kept.
pub const MAX_KEPT_BYTES: usize = 64 * 1024;

/// The kept records (see the module docs).
#[derive(Default)]
pub struct Accepted(Mutex<Inner>);

#[derive(Default)]
struct Inner {
    records: HashMap<Uuid, JobRecord>,
    order: VecDeque<Uuid>,
}

impl Accepted {
    /// Keeps `record` (its spec serialized to `size` bytes) until it is final, unless it has a
    /// jury or is large.
    pub fn keep(&self, record: &JobRecord, size: usize) {
        if record.jury.is_some() || size > MAX_KEPT_BYTES {
            return;
        }
        let mut inner = self.0.lock();
        while inner.order.len() >= MAX_KEPT {
            if let Some(old) = inner.order.pop_front() {
                inner.records.remove(&old);
            }
        }
        let id = record.id();
        if inner.records.insert(id, record.clone()).is_none() {
            inner.order.push_back(id);
        }
    }

    /// The accepted record of `id`, if kept.
    pub fn get(&self, id: Uuid) -> Option<JobRecord> {
        self.0.lock().records.get(&id).cloned()
    }

    /// `id` is final (or gone): forget it.
    pub fn forget(&self, id: Uuid) {
        let mut inner = self.0.lock();
        if inner.records.remove(&id).is_some() {
            inner.order.retain(|kept| *kept != id);
        }
    }

    /// How many records are kept.
    pub fn len(&self) -> usize {
        self.0.lock().records.len()
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(code: &str) -> JobRecord {
        use notary_protocol::{sha256, AttestationDomain, JobSpec, ProgramSpec, TaskType};
        JobRecord {
            spec: JobSpec {
                job_id: Uuid::new_v4(),
                task_type: TaskType::CodeExecution,
                program: ProgramSpec::Javascript {
                    source: code.into(),
                },
                code_hash: sha256(code.as_bytes()),
                input: None,
                input_hash: sha256(b""),
                expected_hash: sha256(b"1\n"),
                fuel: 1000,
                timeout_ms: 5000,
                domain: AttestationDomain::default(),
                enqueued_at_ms: 0,
                stream: false,
            },
            language: notary_protocol::Language::Javascript,
            created_at_ms: 0,
            outcome: None,
            module: None,
            webhook_id: None,
            jury: None,
            jury_state: None,
            validation_request: None,
            chain: None,
        }
    }

    #[test]
    fn keeps_until_forgotten_and_drops_the_oldest_past_the_bound() {
        let accepted = Accepted::default();
        let first = record("console.log(1)");
        accepted.keep(&first, 100);
        assert_eq!(accepted.get(first.id()), Some(first.clone()));
        accepted.forget(first.id());
        assert_eq!(accepted.get(first.id()), None);
        let records: Vec<JobRecord> = (0..MAX_KEPT + 2)
            .map(|n| record(&format!("console.log({n})")))
            .collect();
        for r in &records {
            accepted.keep(r, 100);
        }
        assert_eq!(accepted.len(), MAX_KEPT);
        assert_eq!(accepted.get(records[0].id()), None);
        assert_eq!(accepted.get(records[1].id()), None);
        assert!(accepted.get(records[MAX_KEPT + 1].id()).is_some());
        // Large jobs are not kept.
        let large = record("console.log(2)");
        accepted.keep(&large, MAX_KEPT_BYTES + 1);
        assert_eq!(accepted.get(large.id()), None);
    }
}
