//! Concurrent verifications per agent (source document 002: "Max 10 concurrent verifications
//! per agent"). Until payments identify agents by their payer address, an agent is a client
//! IP (as [`super::client_ip`] determines it).
//!
//! A verification holds a slot from its `POST` until its job is final: a request answered
//! synchronously frees it at once; a `202` keeps it, tied to the job id, until the job record
//! is final (checked lazily against the job store, only when the agent is at its limit) or,
//! as a safety net, [`SLOT_TTL`] has passed. A request dropped half-way frees its slot.
//!
//! Slots are kept per coordinator replica: behind a load balancer that spreads one agent over
//! N replicas the bound is N times the limit (sticky routing by client IP keeps it exact).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use uuid::Uuid;

use crate::store::JobStore;

/// Longest a slot is held without its job being seen final (beyond any job's run time).
pub const SLOT_TTL: Duration = Duration::from_secs(600);

#[derive(Debug)]
struct Slot {
    token: u64,
    job: Option<Uuid>,
    expires: Instant,
}

/// The slots of every agent seen by this replica.
pub struct AgentSlots {
    limit: u32,
    next_token: AtomicU64,
    slots: Mutex<HashMap<IpAddr, Vec<Slot>>>,
}

/// A slot held by a request in flight; freed when dropped unless [`SlotGuard::keep`] tied it
/// to an accepted job.
pub struct SlotGuard {
    owner: Arc<AgentSlots>,
    agent: IpAddr,
    token: u64,
    kept: bool,
}

impl SlotGuard {
    /// The request was accepted as `job` and goes on running: hold the slot until it is final.
    pub fn keep(mut self, job: Uuid) {
        self.kept = true;
        if let Some(slots) = self.owner.slots.lock().get_mut(&self.agent) {
            if let Some(slot) = slots.iter_mut().find(|s| s.token == self.token) {
                slot.job = Some(job);
                slot.expires = Instant::now() + SLOT_TTL;
            }
        }
    }
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        if self.kept {
            return;
        }
        let mut all = self.owner.slots.lock();
        if let Some(slots) = all.get_mut(&self.agent) {
            slots.retain(|s| s.token != self.token);
            if slots.is_empty() {
                all.remove(&self.agent);
            }
        }
    }
}

impl AgentSlots {
    /// At most `limit` concurrent verifications per agent (0: no limit).
    pub fn new(limit: u32) -> Self {
        AgentSlots {
            limit,
            next_token: AtomicU64::new(1),
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// The limit (0: off).
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Takes a slot for `agent`, or `None` when it already has `limit` verifications running.
    pub async fn acquire(
        self: &Arc<Self>,
        agent: IpAddr,
        store: &dyn JobStore,
    ) -> Option<SlotGuard> {
        if self.full(agent) {
            // Only at the limit: forget slots whose jobs are final (or gone).
            let jobs: Vec<Uuid> = self
                .slots
                .lock()
                .get(&agent)
                .map(|slots| slots.iter().filter_map(|s| s.job).collect())
                .unwrap_or_default();
            let mut done = Vec::new();
            for job in jobs {
                match store.get(job).await {
                    Ok(Some(record)) if record.outcome.is_none() => {}
                    Ok(_) => done.push(job),
                    // Cannot tell: keep counting it (the backends' own 503 follows anyway).
                    Err(_) => {}
                }
            }
            if let Some(slots) = self.slots.lock().get_mut(&agent) {
                slots.retain(|s| !s.job.is_some_and(|j| done.contains(&j)));
            }
        }
        let mut all = self.slots.lock();
        let slots = all.entry(agent).or_default();
        let now = Instant::now();
        slots.retain(|s| s.expires > now);
        if slots.len() >= self.limit as usize {
            return None;
        }
        let token = self.next_token.fetch_add(1, Ordering::Relaxed);
        slots.push(Slot {
            token,
            job: None,
            expires: now + SLOT_TTL,
        });
        Some(SlotGuard {
            owner: self.clone(),
            agent,
            token,
            kept: false,
        })
    }

    fn full(&self, agent: IpAddr) -> bool {
        let now = Instant::now();
        self.slots.lock().get(&agent).is_some_and(|slots| {
            slots.iter().filter(|s| s.expires > now).count() >= self.limit as usize
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{Db, Durability};
    use crate::store::SqliteStore;

    #[tokio::test]
    async fn slots_are_counted_per_agent_and_freed() {
        let db = Arc::new(Db::open(None, Durability::Process).unwrap());
        let store = SqliteStore::open(db, Duration::from_secs(60))
            .await
            .unwrap();
        let store = store.as_ref();
        let slots = Arc::new(AgentSlots::new(2));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let first = slots.acquire(a, store).await.unwrap();
        let second = slots.acquire(a, store).await.unwrap();
        assert!(slots.acquire(a, store).await.is_none());
        assert!(slots.acquire(b, store).await.is_some());
        drop(first); // a request answered (or dropped) frees its slot
        let third = slots.acquire(a, store).await.unwrap();
        // A job kept for a missing (unknown or expired) record is freed at the limit.
        second.keep(Uuid::new_v4());
        third.keep(Uuid::new_v4());
        assert!(slots.acquire(a, store).await.is_some());
    }
}
