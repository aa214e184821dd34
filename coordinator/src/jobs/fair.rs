//! Fair slots between clients: which queue lane a new job goes to.
//!
//! Workers take the oldest job of the lowest non-empty lane ([`notary_queue::LANES`] lanes). A
//! job goes to the lane equal to the number of its client's jobs still unfinished when it
//! arrives (capped at the last lane): a client's first unfinished job is in lane 0, its second
//! in lane 1, and so on. So when one client has filled the queue, another client's job is
//! leased as soon as a slot frees, before the first client's backlog: slots are handed out
//! round-robin between clients for their first `LANES - 1` jobs, first come first served after
//! that. Nothing is refused or delayed; only the order changes.
//!
//! A client is the paying address on the paid flow, else the client IP as the protections see
//! it (`protect::client_ip`). Each replica counts the jobs it accepted: a job is forgotten when
//! this replica finalizes it, when a lane is chosen for its client and the store says it is
//! final (another replica finalized it), or after [`FORGET_AFTER`] as a safety net.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use notary_queue::LANES;
use parking_lot::Mutex;
use uuid::Uuid;

use crate::store::JobStore;

/// Longest a job counts for its client without being seen final (beyond any job's run time).
pub const FORGET_AFTER: Duration = Duration::from_secs(600);

/// Most jobs remembered per client (the oldest are forgotten first); lanes only need to know
/// whether there are `LANES - 1`.
const MAX_TRACKED_PER_CLIENT: usize = 64;

/// A sweep of expired entries runs every this many new jobs.
const SWEEP_EVERY: u64 = 1024;

#[derive(Default)]
struct State {
    /// Unfinished jobs per client, oldest first.
    by_client: HashMap<String, Vec<(Uuid, Instant)>>,
    /// The client of each tracked job.
    by_job: HashMap<Uuid, String>,
    accepted: u64,
}

impl State {
    fn forget(&mut self, job: Uuid) {
        let Some(client) = self.by_job.remove(&job) else {
            return;
        };
        if let Some(jobs) = self.by_client.get_mut(&client) {
            jobs.retain(|(id, _)| *id != job);
            if jobs.is_empty() {
                self.by_client.remove(&client);
            }
        }
    }

    fn sweep(&mut self, now: Instant) {
        let expired: Vec<Uuid> = self
            .by_client
            .values()
            .flatten()
            .filter(|(_, since)| now.duration_since(*since) >= FORGET_AFTER)
            .map(|(id, _)| *id)
            .collect();
        for job in expired {
            self.forget(job);
        }
    }
}

/// The unfinished jobs of each client, as this replica knows them.
#[derive(Default)]
pub struct FairLanes {
    state: Mutex<State>,
}

impl FairLanes {
    /// Chooses the lane of `job` for `client` and counts the job as unfinished.
    pub async fn assign(&self, client: &str, job: Uuid, store: &dyn JobStore) -> u8 {
        let tracked: Vec<Uuid> = self
            .state
            .lock()
            .by_client
            .get(client)
            .map(|jobs| jobs.iter().map(|(id, _)| *id).collect())
            .unwrap_or_default();
        // Check the store (oldest first) only until the last lane is reached: a client with a
        // long backlog costs at most LANES - 1 reads.
        let mut unfinished = 0u8;
        let mut finished = Vec::new();
        for id in tracked {
            if unfinished >= LANES - 1 {
                break;
            }
            match store.get(id).await {
                Ok(Some(record)) if record.outcome.is_some() => finished.push(id),
                Ok(None) => finished.push(id),
                // Unfinished, or cannot tell: count it.
                _ => unfinished += 1,
            }
        }
        let now = Instant::now();
        let mut state = self.state.lock();
        for id in finished {
            state.forget(id);
        }
        state.accepted += 1;
        if state.accepted.is_multiple_of(SWEEP_EVERY) {
            state.sweep(now);
        }
        let jobs = state.by_client.entry(client.to_owned()).or_default();
        jobs.push((job, now));
        let dropped = jobs.len().saturating_sub(MAX_TRACKED_PER_CLIENT);
        let dropped: Vec<Uuid> = jobs.drain(..dropped).map(|(id, _)| id).collect();
        for id in dropped {
            state.by_job.remove(&id);
        }
        state.by_job.insert(job, client.to_owned());
        unfinished.min(LANES - 1)
    }

    /// `job` is final: it no longer counts for its client.
    pub fn finished(&self, job: Uuid) {
        self.state.lock().forget(job);
    }

    /// How many clients have unfinished jobs tracked here.
    pub fn clients(&self) -> usize {
        self.state.lock().by_client.len()
    }
}
