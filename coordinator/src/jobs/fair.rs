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
//! final (another replica finalized it), or after [`FORGET_AFTER`] as a safety net. The store is
//! asked about a job at most once per [`RECHECK_AFTER`] (a job accepted or checked more recently
//! counts as unfinished without a read): a busy client's submissions cost no store reads, and a
//! job another replica finalized stops counting within that time.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use notary_queue::LANES;
use parking_lot::Mutex;
use uuid::Uuid;

use crate::store::JobStore;

/// Longest a job counts for its client without being seen final (beyond any job's run time).
pub const FORGET_AFTER: Duration = Duration::from_secs(600);

/// How long a job counts as unfinished before the store is asked again (see the module doc).
pub const RECHECK_AFTER: Duration = Duration::from_secs(1);

/// Most jobs remembered per client (the oldest are forgotten first); lanes only need to know
/// whether there are `LANES - 1`.
const MAX_TRACKED_PER_CLIENT: usize = 64;

/// A sweep of expired entries runs every this many new jobs.
const SWEEP_EVERY: u64 = 1024;

/// A job counted for its client.
struct Tracked {
    id: Uuid,
    /// When it was accepted.
    since: Instant,
    /// When it was last known unfinished (accepted, or the store said so).
    checked: Instant,
}

#[derive(Default)]
struct State {
    /// Unfinished jobs per client, oldest first.
    by_client: HashMap<String, Vec<Tracked>>,
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
            jobs.retain(|t| t.id != job);
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
            .filter(|t| now.duration_since(t.since) >= FORGET_AFTER)
            .map(|t| t.id)
            .collect();
        for job in expired {
            self.forget(job);
        }
    }
}

/// The unfinished jobs of each client, as this replica knows them.
pub struct FairLanes {
    state: Mutex<State>,
    recheck_after: Duration,
}

impl Default for FairLanes {
    fn default() -> Self {
        Self::new(RECHECK_AFTER)
    }
}

impl FairLanes {
    /// Lanes that ask the store about a job at most once per `recheck_after`.
    pub fn new(recheck_after: Duration) -> Self {
        Self {
            state: Mutex::default(),
            recheck_after,
        }
    }

    /// Chooses the lane of `job` for `client` and counts the job as unfinished.
    pub async fn assign(&self, client: &str, job: Uuid, store: &dyn JobStore) -> u8 {
        let now = Instant::now();
        let tracked: Vec<(Uuid, Instant)> = self
            .state
            .lock()
            .by_client
            .get(client)
            .map(|jobs| jobs.iter().map(|t| (t.id, t.checked)).collect())
            .unwrap_or_default();
        // Count (oldest first) only until the last lane is reached, asking the store only
        // about jobs not known unfinished within `recheck_after`: a client with a long backlog
        // costs at most LANES - 1 reads, a busy client's fresh jobs none.
        let mut unfinished = 0u8;
        let mut finished = Vec::new();
        let mut still = Vec::new();
        for (id, checked) in tracked {
            if unfinished >= LANES - 1 {
                break;
            }
            if now.duration_since(checked) < self.recheck_after {
                unfinished += 1;
                continue;
            }
            match store.get(id).await {
                Ok(Some(record)) if record.outcome.is_some() => finished.push(id),
                Ok(None) => finished.push(id),
                Ok(Some(_)) => {
                    still.push(id);
                    unfinished += 1;
                }
                // Cannot tell: count it.
                Err(_) => unfinished += 1,
            }
        }
        let mut state = self.state.lock();
        for id in finished {
            state.forget(id);
        }
        if let Some(jobs) = state.by_client.get_mut(client) {
            for t in jobs.iter_mut().filter(|t| still.contains(&t.id)) {
                t.checked = now;
            }
        }
        state.accepted += 1;
        if state.accepted.is_multiple_of(SWEEP_EVERY) {
            state.sweep(now);
        }
        let jobs = state.by_client.entry(client.to_owned()).or_default();
        jobs.push(Tracked {
            id: job,
            since: now,
            checked: now,
        });
        let dropped = jobs.len().saturating_sub(MAX_TRACKED_PER_CLIENT);
        let dropped: Vec<Uuid> = jobs.drain(..dropped).map(|t| t.id).collect();
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
