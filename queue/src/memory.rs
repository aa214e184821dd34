//! The in-memory backend: the lease protocol inside one process.
//!
//! Used by the single-process embedded mode and by tests. It mirrors the Redis backend entry
//! for entry: every delivery gets a fresh token, a release or redelivery goes to the tail of
//! its lane (one FIFO per lane; a lease takes from the lowest non-empty one), idle
//! time is measured from the last delivery or heartbeat. Time is `tokio::time::Instant`, so a
//! test with a paused clock drives leases and TTLs without sleeping.
//!
//! Targeted tasks wait in one queue per target identity; `lease_as` looks there first, then in
//! the shared lanes. Every enqueue (shared or targeted) wakes every waiting lease call, which
//! re-checks its own queues, so a waiting `lease_as` wakes at once for its targeted tasks.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::model::{
    check_consumer_name, check_identity, dead_letter_reason, target_not_alive_reason, LANES,
};
use crate::{
    Error, IntakeDelivery, IntakeItem, JobEnvelope, JobQueue, Lease, Leases, OutputPiece,
    QueueDepth, ReapReport, Result, OUTPUT_LOG_PIECES, OUTPUT_TTL,
};

/// Default time after which an intake item handed out but not acknowledged is handed out again
/// (both backends).
pub const DEFAULT_INTAKE_TTL: Duration = Duration::from_secs(30);

/// Identities unseen for this long are forgotten by `reap` (the Redis backend uses its
/// `consumer_prune_idle` instead).
const ALIVE_RETENTION: Duration = Duration::from_secs(3600);

/// The lease protocol in memory.
///
/// The state sits behind a std `Mutex`, not a tokio one: every critical section is a few map
/// operations and never awaits, so a blocking lock is cheaper and cannot be held across a
/// suspension point. Waiting for work is done on `Notify`s outside the lock.
#[derive(Debug)]
pub struct MemoryQueue {
    state: Mutex<State>,
    /// Woken when a job becomes leasable.
    jobs_ready: Notify,
    /// Woken when an intake item arrives.
    intake_ready: Notify,
    /// Woken when a piece of live output arrives.
    output_ready: Notify,
    intake_ttl: Duration,
}

#[derive(Debug, Default)]
struct State {
    /// Source of tokens, shared by jobs and intake items; only ever grows.
    next_token: u64,
    /// Jobs waiting for a worker, one queue per lane, head first.
    waiting: [VecDeque<(u64, JobEnvelope)>; LANES as usize],
    /// Targeted tasks waiting, per target identity, head first, with the time each was queued.
    targeted: HashMap<String, VecDeque<(u64, JobEnvelope, Instant)>>,
    /// When each identity last called `lease_as` or heartbeated a lease taken through it.
    alive: HashMap<String, Instant>,
    /// Jobs leased, by token (ordered, so a reap handles them oldest first like Redis).
    leased: BTreeMap<u64, Leased>,
    /// Intake items not yet handed out, head first.
    intake: VecDeque<(u64, IntakeItem)>,
    /// Intake items handed out and not yet acknowledged, by token.
    intake_taken: BTreeMap<u64, Taken>,
    /// Live output logs by job id.
    outputs: HashMap<String, OutputLog>,
}

/// A job's live output log.
#[derive(Debug)]
struct OutputLog {
    /// Pieces dropped from the front (past [`OUTPUT_LOG_PIECES`]).
    dropped: usize,
    pieces: VecDeque<OutputPiece>,
    /// When it last grew.
    last: Instant,
}

#[derive(Debug)]
struct Leased {
    job: JobEnvelope,
    worker: String,
    identity: Option<String>,
    last_seen: Instant,
}

#[derive(Debug)]
struct Taken {
    item: IntakeItem,
    since: Instant,
}

impl State {
    fn token(&mut self) -> u64 {
        self.next_token += 1;
        self.next_token
    }

    /// Queues a job at the tail of its queue: its target's, or its lane.
    fn push_job(&mut self, job: JobEnvelope) {
        let token = self.token();
        match job.target.clone() {
            Some(target) => {
                self.targeted
                    .entry(target)
                    .or_default()
                    .push_back((token, job, Instant::now()))
            }
            None => self.waiting[usize::from(job.lane)].push_back((token, job)),
        }
    }

    /// The head of `identity`'s targeted queue, else the oldest job of the lowest non-empty
    /// lane.
    fn pop_job(&mut self, identity: Option<&str>, seats_only: bool) -> Option<(u64, JobEnvelope)> {
        if let Some(identity) = identity {
            if let Some(queue) = self.targeted.get_mut(identity) {
                let head = queue.pop_front();
                if queue.is_empty() {
                    self.targeted.remove(identity);
                }
                if let Some((token, job, _)) = head {
                    return Some((token, job));
                }
            }
        }
        if seats_only {
            return None;
        }
        self.waiting.iter_mut().find_map(VecDeque::pop_front)
    }

    fn mark_alive(&mut self, identity: &str) {
        self.alive.insert(identity.to_owned(), Instant::now());
    }

    /// Whether `identity` was seen within `within` of `now`.
    fn is_alive(&self, identity: &str, now: Instant, within: Duration) -> bool {
        self.alive
            .get(identity)
            .is_some_and(|seen| now.duration_since(*seen) <= within)
    }

    /// Dead-letters the targeted tasks of identities not alive within `lease_ttl` that waited
    /// at least that long; returns how many.
    fn reap_absent_targets(&mut self, now: Instant, lease_ttl: Duration) -> u64 {
        let gone: Vec<String> = self
            .targeted
            .keys()
            .filter(|target| !self.is_alive(target, now, lease_ttl))
            .cloned()
            .collect();
        let mut dead = 0;
        for target in gone {
            let Some(mut queue) = self.targeted.remove(&target) else {
                continue;
            };
            let reason = target_not_alive_reason(&target, millis(lease_ttl));
            while queue
                .front()
                .is_some_and(|(_, _, since)| now.duration_since(*since) >= lease_ttl)
            {
                let Some((_, job, _)) = queue.pop_front() else {
                    break;
                };
                self.push_intake(IntakeItem::DeadLettered {
                    job,
                    reason: reason.clone(),
                });
                dead += 1;
            }
            if !queue.is_empty() {
                self.targeted.insert(target, queue);
            }
        }
        self.alive
            .retain(|_, seen| now.duration_since(*seen) < ALIVE_RETENTION.max(lease_ttl));
        dead
    }

    fn push_intake(&mut self, item: IntakeItem) {
        let token = self.token();
        self.intake.push_back((token, item));
    }
}

impl Default for MemoryQueue {
    fn default() -> Self {
        Self::new(DEFAULT_INTAKE_TTL)
    }
}

impl MemoryQueue {
    /// An empty queue whose unacknowledged intake items are handed out again after
    /// `intake_ttl`.
    pub fn new(intake_ttl: Duration) -> Self {
        Self {
            state: Mutex::new(State::default()),
            jobs_ready: Notify::new(),
            intake_ready: Notify::new(),
            output_ready: Notify::new(),
            intake_ttl,
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps half-updated in a way later
        // calls would trip on (each section is a few std collection calls), so keep going.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Leases the next job for `worker`: with an identity, its targeted tasks first (and the
    /// identity is marked alive), then the shared lanes.
    /// Leases for `worker` (as `identity`, if any: its targeted tasks first, then the shared
    /// lanes unless `seats_only`), waiting up to `wait`.
    async fn lease_from(
        &self,
        worker: &str,
        identity: Option<&str>,
        seats_only: bool,
        wait: Duration,
    ) -> Result<Option<Lease>> {
        check_consumer_name(worker)?;
        if let Some(identity) = identity {
            check_identity(identity)?;
        }
        Ok(self
            .wait_for(&self.jobs_ready, wait, || {
                self.try_lease(worker, identity, seats_only)
            })
            .await)
    }

    fn try_lease(&self, worker: &str, identity: Option<&str>, seats_only: bool) -> Option<Lease> {
        let mut state = self.state();
        if let Some(identity) = identity {
            state.mark_alive(identity);
        }
        let (token, job) = state.pop_job(identity, seats_only)?;
        let identity = identity.map(str::to_owned);
        state.leased.insert(
            token,
            Leased {
                job: job.clone(),
                worker: worker.to_owned(),
                identity: identity.clone(),
                last_seen: Instant::now(),
            },
        );
        Some(Lease {
            job,
            worker: worker.to_owned(),
            token: token.to_string(),
            identity,
        })
    }

    fn try_intake(&self) -> Option<IntakeDelivery> {
        let now = Instant::now();
        let mut state = self.state();
        // Items a coordinator took and never acknowledged come first, as with XAUTOCLAIM.
        let stale = state
            .intake_taken
            .iter_mut()
            .find(|(_, taken)| now.duration_since(taken.since) >= self.intake_ttl);
        if let Some((token, taken)) = stale {
            taken.since = now;
            return Some(IntakeDelivery {
                item: taken.item.clone(),
                token: token.to_string(),
            });
        }
        let (token, item) = state.intake.pop_front()?;
        state.intake_taken.insert(
            token,
            Taken {
                item: item.clone(),
                since: now,
            },
        );
        Some(IntakeDelivery {
            item,
            token: token.to_string(),
        })
    }

    /// Runs `attempt` until it yields something or `wait` has passed, sleeping on `ready`
    /// in between. The `Notify` is armed before each attempt, so a wake-up that lands between
    /// the attempt and the sleep is not lost.
    async fn wait_for<T>(
        &self,
        ready: &Notify,
        wait: Duration,
        attempt: impl Fn() -> Option<T>,
    ) -> Option<T> {
        let now = Instant::now();
        // A wait too long to represent means "no deadline worth tracking": a year will do.
        let deadline = now
            .checked_add(wait)
            .unwrap_or_else(|| now + Duration::from_secs(365 * 24 * 3600));
        loop {
            let notified = ready.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(found) = attempt() {
                return Some(found);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return None;
            }
        }
    }
}

/// Tokens are our own decimal numbers; anything else (say, a Redis lease passed by mistake)
/// matches nothing.
fn parse_token(token: &str) -> Option<u64> {
    token.parse().ok()
}

fn millis(d: Duration) -> u64 {
    d.as_millis().min(u64::MAX as u128) as u64
}

#[async_trait]
impl Leases for MemoryQueue {
    async fn lease(&self, worker: &str, wait: Duration) -> Result<Option<Lease>> {
        self.lease_from(worker, None, false, wait).await
    }

    async fn lease_as(
        &self,
        worker: &str,
        identity: &str,
        wait: Duration,
    ) -> Result<Option<Lease>> {
        self.lease_from(worker, Some(identity), false, wait).await
    }

    async fn lease_seats(
        &self,
        worker: &str,
        identity: &str,
        wait: Duration,
    ) -> Result<Option<Lease>> {
        self.lease_from(worker, Some(identity), true, wait).await
    }

    async fn heartbeat(&self, lease: &Lease) -> Result<bool> {
        let Some(token) = parse_token(&lease.token) else {
            return Ok(false);
        };
        let mut state = self.state();
        match state.leased.get_mut(&token) {
            Some(leased) if leased.worker == lease.worker => {
                leased.last_seen = Instant::now();
                if let Some(identity) = leased.identity.clone() {
                    state.mark_alive(&identity);
                }
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn submit(&self, lease: &Lease, payload: String) -> Result<()> {
        {
            let mut state = self.state();
            state.push_intake(IntakeItem::Submitted {
                job_id: lease.job.job_id.clone(),
                worker: lease.worker.clone(),
                attempt: lease.job.attempt,
                payload,
            });
            if let Some(token) = parse_token(&lease.token) {
                state.leased.remove(&token);
            }
        }
        // One item, one waiter: a coordinator runs several intake tasks, and waking them all
        // for each result is a herd (a waiter that finds nothing waits again).
        self.intake_ready.notify_one();
        Ok(())
    }

    async fn release(&self, lease: &Lease) -> Result<bool> {
        let Some(token) = parse_token(&lease.token) else {
            return Ok(false);
        };
        {
            let mut state = self.state();
            let leased = match state.leased.entry(token) {
                Entry::Occupied(held) if held.get().worker == lease.worker => held.remove(),
                _ => return Ok(false),
            };
            state.push_job(leased.job);
        }
        self.jobs_ready.notify_waiters();
        Ok(true)
    }

    async fn append_output(&self, job_id: &str, piece: &OutputPiece) -> Result<()> {
        {
            let mut state = self.state();
            let now = Instant::now();
            // Logs past their TTL go on the way, as Redis expires them.
            state
                .outputs
                .retain(|_, log| now.duration_since(log.last) < OUTPUT_TTL);
            let log = state
                .outputs
                .entry(job_id.to_owned())
                .or_insert_with(|| OutputLog {
                    dropped: 0,
                    pieces: VecDeque::new(),
                    last: now,
                });
            log.pieces.push_back(piece.clone());
            // Trimmed like Redis's `MAXLEN` (a cursor counts every piece ever appended).
            if log.pieces.len() > OUTPUT_LOG_PIECES {
                log.pieces.pop_front();
                log.dropped += 1;
            }
            log.last = now;
        }
        self.output_ready.notify_waiters();
        Ok(())
    }
}

#[async_trait]
impl JobQueue for MemoryQueue {
    async fn enqueue(&self, mut job: JobEnvelope) -> Result<()> {
        if let Some(target) = &job.target {
            check_identity(target)?;
        }
        job.attempt = job.attempt.max(1);
        job.lane = job.lane.min(LANES - 1);
        self.state().push_job(job);
        self.jobs_ready.notify_waiters();
        Ok(())
    }

    async fn alive(&self, within: Duration) -> Result<Vec<String>> {
        let now = Instant::now();
        let state = self.state();
        let mut alive: Vec<String> = state
            .alive
            .iter()
            .filter(|(_, seen)| now.duration_since(**seen) <= within)
            .map(|(identity, _)| identity.clone())
            .collect();
        alive.sort();
        Ok(alive)
    }

    async fn reap(&self, lease_ttl: Duration, max_deliveries: u32) -> Result<ReapReport> {
        let max_deliveries = max_deliveries.max(1);
        let now = Instant::now();
        let mut report = ReapReport::default();
        {
            let mut state = self.state();
            let stale: Vec<u64> = state
                .leased
                .iter()
                .filter(|(_, leased)| now.duration_since(leased.last_seen) >= lease_ttl)
                .map(|(token, _)| *token)
                .collect();
            for token in stale {
                let Some(Leased { mut job, .. }) = state.leased.remove(&token) else {
                    continue;
                };
                if job.attempt >= max_deliveries {
                    let reason = dead_letter_reason(job.attempt, max_deliveries);
                    state.push_intake(IntakeItem::DeadLettered { job, reason });
                    report.dead_lettered += 1;
                } else {
                    job.attempt += 1;
                    state.push_job(job);
                    report.redelivered += 1;
                }
            }
            report.dead_lettered += state.reap_absent_targets(now, lease_ttl);
        }
        if report.redelivered > 0 {
            self.jobs_ready.notify_waiters();
        }
        if report.dead_lettered > 0 {
            self.intake_ready.notify_waiters();
        }
        Ok(report)
    }

    async fn next_intake(&self, consumer: &str, wait: Duration) -> Result<Option<IntakeDelivery>> {
        check_consumer_name(consumer)?;
        Ok(self
            .wait_for(&self.intake_ready, wait, || self.try_intake())
            .await)
    }

    async fn ack_intake(&self, delivery: &IntakeDelivery) -> Result<()> {
        if let Some(token) = parse_token(&delivery.token) {
            self.state().intake_taken.remove(&token);
        }
        Ok(())
    }

    async fn depth(&self) -> Result<QueueDepth> {
        let state = self.state();
        Ok(QueueDepth {
            waiting: (state.waiting.iter().map(VecDeque::len).sum::<usize>()
                + state.targeted.values().map(VecDeque::len).sum::<usize>())
                as u64,
            leased: state.leased.len() as u64,
            intake: (state.intake.len() + state.intake_taken.len()) as u64,
        })
    }

    async fn ping(&self) -> Result<()> {
        Ok(())
    }

    async fn read_output(
        &self,
        job_id: &str,
        cursor: &str,
        wait: Duration,
    ) -> Result<(Vec<OutputPiece>, String)> {
        // The cursor is the number of pieces appended before the next one to read.
        let from: usize = if cursor.is_empty() {
            0
        } else {
            cursor
                .parse()
                .map_err(|_| Error::InvalidArgument(format!("not an output cursor: {cursor:?}")))?
        };
        let found = self
            .wait_for(&self.output_ready, wait, || {
                let state = self.state();
                let log = state.outputs.get(job_id)?;
                let end = log.dropped + log.pieces.len();
                // Pieces trimmed before they were read are skipped.
                let start = from.max(log.dropped);
                (end > start).then(|| {
                    let pieces = log.pieces.range(start - log.dropped..).cloned().collect();
                    (pieces, end)
                })
            })
            .await;
        Ok(match found {
            Some((pieces, next)) => (pieces, next.to_string()),
            None => (Vec::new(), from.to_string()),
        })
    }
}
