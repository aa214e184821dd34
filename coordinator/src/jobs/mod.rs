//! The job service: the one place where a job's life is run.
//!
//! ```text
//!  handler (POST /verify, the paid flow, …)
//!     │ submit(record, client)              await_final(id, wait)
//!     ▼                                          ▲
//!  JobService ── insert ──▶ JobStore            │ woken on finalize (any replica)
//!     │ enqueue                                  │
//!     ▼                                          │
//!  JobQueue ──▶ workers ──▶ intake ──▶ checks ──▶ CompletionPolicy ──▶ finalize
//!                                                                   │ (outcome + event,
//!                                                                   ▼  one atomic step)
//!                                                            event log ──▶ consumers
//!                                                          (settlement, webhooks, …)
//! ```
//!
//! Handlers parse requests and answer; they never touch the store's final write. Only this
//! module calls [`JobStore::finalize`]: from the intake (a worker's accepted result, through the
//! [`CompletionPolicy`], or a dead letter), when a job could not be queued, and when a restarted
//! embedded coordinator finds a job past its delivery limit. Every job that becomes final emits
//! exactly one event on the durable event log ([`crate::store::events`]); features that react to
//! final jobs are event consumers ([`consumers`]), not more callers of `finalize`.
//!
//! - [`intake`]: the intake loop and the checks of worker reports.
//! - [`accepted`]: the records of jobs accepted here and not final, so the intake need not read
//!   them back.
//! - [`policy`]: when a job is final.
//! - [`consumers`]: runs event consumers with retries and acknowledgements.
//! - [`reaper`]: reclaims leases of dead workers.
//! - [`deliveries`]: records the in-process workers' leases, so a restart counts real deliveries only.
//! - [`fair`]: the queue lane of a new job, so clients share the slots fairly.
//! - [`jury`]: the completion policy of jobs with a jury (trust tier above 1): seats, sealed
//!   results, replacements, verdicts and escalations.

pub mod accepted;
pub mod consumers;
pub mod deliveries;
pub mod fair;
pub mod intake;
pub mod jury;
pub mod policy;
pub mod reaper;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use notary_protocol::{Address, Digest32};
use notary_queue::{JobEnvelope, JobQueue};
use uuid::Uuid;

pub use self::jury::Juries;
pub use self::policy::{CompletionPolicy, Decision, FirstAccepted};
use crate::error::{Error, Rejected, Result};
use crate::jury::{JuryPlan, JuryRequest};
use crate::record::{JobOutcome, JobRecord};
use crate::store::{EventLog, Finalized, JobStore};
use crate::workers::WorkerBook;

/// Which finalized jobs raise which notification ([`JobService::wake_on_final`]).
type FinalWatch = (fn(&JobRecord) -> bool, Arc<tokio::sync::Notify>);

/// The job service (see the module docs).
pub struct JobService {
    store: Arc<dyn JobStore>,
    queue: Arc<dyn JobQueue>,
    policy: Arc<dyn CompletionPolicy>,
    max_deliveries: u32,
    lanes: fair::FairLanes,
    accepted: accepted::Accepted,
    juries: Juries,
    /// Runtime ids whose reports count (empty: any).
    runtimes: HashSet<Digest32>,
    /// Who wants to hear at once of jobs this replica finalizes (see
    /// [`JobService::wake_on_final`]).
    final_watches: parking_lot::RwLock<Vec<FinalWatch>>,
}

impl JobService {
    /// A service over `store` and `queue` that accepts reports signed by `allowed` workers and
    /// gives a job up after `max_deliveries`; a worker that leased within `live_within` (the
    /// lease TTL) is alive, so it can sit on a jury; jurors' votes are booked in `book`.
    pub fn new(
        store: Arc<dyn JobStore>,
        queue: Arc<dyn JobQueue>,
        policy: Arc<dyn CompletionPolicy>,
        allowed: HashSet<Address>,
        max_deliveries: u32,
        live_within: Duration,
        book: Arc<dyn WorkerBook>,
    ) -> Self {
        let juries = Juries::new(store.clone(), queue.clone(), book, allowed, live_within);
        JobService {
            store,
            queue,
            policy,
            max_deliveries: max_deliveries.max(1),
            lanes: fair::FairLanes::default(),
            accepted: accepted::Accepted::default(),
            juries,
            runtimes: HashSet::new(),
            final_watches: Default::default(),
        }
    }

    /// A notification raised each time this replica finalizes a job that `wanted` picks: an
    /// event consumer that lingers between reads (to take many events per read) ends its
    /// linger for the events that must not wait (the next step of a chain).
    pub fn wake_on_final(&self, wanted: fn(&JobRecord) -> bool) -> Arc<tokio::sync::Notify> {
        let notify = Arc::new(tokio::sync::Notify::new());
        self.final_watches.write().push((wanted, notify.clone()));
        notify
    }

    /// Accepts reports of these runtime ids only (empty: any): a report of another runtime is
    /// refused like one of a worker not on the allow list.
    pub fn with_accepted_runtimes(mut self, runtimes: HashSet<Digest32>) -> Self {
        self.runtimes = runtimes;
        self
    }

    /// Whether results of runtime `id` are accepted (`--accept-runtime`; any when none given).
    pub fn accepts_runtime(&self, id: &Digest32) -> bool {
        self.runtimes.is_empty() || self.runtimes.contains(id)
    }

    /// Fixes the jury of a job being accepted (`None`: tier 1, no jury) from the eligible
    /// workers that serve it; a 503-class refusal when too few are.
    pub async fn plan_jury(
        &self,
        request: JuryRequest,
        job: &notary_protocol::JobSpec,
    ) -> Result<std::result::Result<Option<JuryPlan>, Rejected>> {
        self.juries.plan(request, job).await
    }

    /// The jury policy (eligibility, the worker book).
    pub fn juries(&self) -> &Juries {
        &self.juries
    }

    /// `POST /jobs/:jobId/escalate`: a fresh, larger jury for an escalated job (`Ok(Ok(None))`:
    /// no such job; a conflict when it cannot be escalated, nothing changed).
    pub async fn escalate(
        &self,
        id: Uuid,
    ) -> Result<std::result::Result<Option<JobRecord>, Rejected>> {
        self.juries.escalate(id).await
    }

    /// The job records.
    pub fn store(&self) -> &Arc<dyn JobStore> {
        &self.store
    }

    /// The event log of final jobs, for consumers.
    pub fn events(&self) -> Arc<dyn EventLog> {
        self.store.clone()
    }

    /// The queue.
    pub fn queue(&self) -> &Arc<dyn JobQueue> {
        &self.queue
    }

    /// Accepts a job of `client` (see [`fair`]; `None`: a client of its own): stores its record,
    /// then queues it in the client's fair lane. If it cannot be queued, the record is closed as
    /// an infrastructure failure (so nobody sees it running forever) and the error returned;
    /// nothing ran.
    ///
    /// Runs to the end even when the caller stops waiting (a client that hangs up drops its
    /// request's future): a record stored and never queued would be a paid job that never runs.
    pub async fn submit(self: &Arc<Self>, record: &JobRecord, client: Option<&str>) -> Result<()> {
        self.accept_detached(record, client, false).await
    }

    /// Accepts a job nobody paid for, like [`JobService::submit`], but queues it as soon as its
    /// record's write is issued ([`JobStore::insert_issued`]): on the embedded database the job
    /// runs while that write commits, and its final write is applied after it. Returns once
    /// the record is stored; if it could not be, the error (the caller was promised nothing,
    /// and a result that came anyway finds no record). A paid job must not run before its
    /// record is stored: a crash in between would lose a job that was paid for.
    pub async fn submit_unpaid(
        self: &Arc<Self>,
        record: &JobRecord,
        client: Option<&str>,
    ) -> Result<()> {
        self.accept_detached(record, client, true).await
    }

    /// [`Self::accept`] on a task of its own, so that dropping the caller's future cannot stop
    /// it between the record's write and the enqueue.
    async fn accept_detached(
        self: &Arc<Self>,
        record: &JobRecord,
        client: Option<&str>,
        overlap: bool,
    ) -> Result<()> {
        let (this, record, client) = (self.clone(), record.clone(), client.map(str::to_owned));
        tokio::spawn(async move { this.accept(&record, client.as_deref(), overlap).await })
            .await
            .map_err(|e| Error::Store(format!("accepting the job stopped: {e}")))?
    }

    async fn accept(&self, record: &JobRecord, client: Option<&str>, overlap: bool) -> Result<()> {
        let id = record.id();
        let payload = serde_json::to_string(&record.spec)?;
        let mut stored = Some(self.store.insert_issued(record).await?);
        if !overlap || record.jury.is_some() {
            if let Some(stored) = stored.take() {
                stored.await?;
            }
        }
        if record.jury.is_some() {
            return self.seat_jury(record).await;
        }
        self.accepted.keep(record, payload.len());
        let lane = match client {
            Some(client) => self.lanes.assign(client, id, self.store.as_ref()).await,
            None => 0,
        };
        if let Err(e) = self
            .queue
            .enqueue(JobEnvelope::new(id.to_string(), payload).in_lane(lane))
            .await
        {
            tracing::error!(job_id = %id, error = %e, "enqueue failed");
            let outcome = JobOutcome::infrastructure_failure(
                record,
                "Service Unavailable",
                "the job queue is unavailable; nothing ran",
                0,
            );
            let _ = self.finalize(record, &outcome).await;
            return Err(Error::Queue(e));
        }
        if let Some(stored) = stored {
            if let Err(e) = stored.await {
                tracing::error!(job_id = %id, error = %e, "the record of a queued job could not be stored; its result will find none");
                self.accepted.forget(id);
                return Err(e);
            }
        }
        tracing::info!(job_id = %id, language = record.language.as_str(), lane, "job queued");
        Ok(())
    }

    /// Seats the first jury of a stored job (its jurors' tasks queued); a job that cannot be
    /// seated or queued is closed as an infrastructure failure (refundable), like a job the
    /// queue refused.
    async fn seat_jury(&self, record: &JobRecord) -> Result<()> {
        match self.juries.open(record).await {
            Ok(None) => {
                tracing::info!(job_id = %record.id(), tier = record.trust_tier(), "job queued for its jury");
                Ok(())
            }
            Ok(Some(outcome)) => self.finalize(record, &outcome).await,
            Err(e) => {
                tracing::error!(job_id = %record.id(), error = %e, "seating the jury failed");
                let outcome = JobOutcome::infrastructure_failure(
                    record,
                    "Service Unavailable",
                    "the jury could not be seated; nothing ran",
                    0,
                );
                let _ = self.finalize(record, &outcome).await;
                Err(e)
            }
        }
    }

    /// A job as it is now.
    pub async fn get(&self, id: Uuid) -> Result<Option<JobRecord>> {
        self.store.get(id).await
    }

    /// Waits up to `wait` for a job to be final and returns it as it is then (`None`: no
    /// such job). `Duration::ZERO` reads it once.
    pub async fn await_final(&self, id: Uuid, wait: Duration) -> Result<Option<JobRecord>> {
        if wait.is_zero() {
            return self.store.get(id).await;
        }
        self.store.wait_final(id, wait).await
    }

    /// Starts waiting for a job's final state before [`Self::submit`] queues it, so that
    /// [`Self::await_watched`] needs no first read of a record it knows is not final.
    pub fn watch_final(&self, id: Uuid) -> crate::store::FinalWatch {
        self.store.watch_final(id)
    }

    /// Waits up to `wait` on a [`Self::watch_final`] registration (see [`Self::await_final`]).
    pub async fn await_watched(
        &self,
        watch: crate::store::FinalWatch,
        wait: Duration,
    ) -> Result<Option<JobRecord>> {
        self.store.wait_watched(watch, wait).await
    }

    /// After a restart of an embedded coordinator: queues every job that was accepted and not
    /// final again (its delivery count increased), or fails it as refundable past the delivery
    /// limit. Returns how many were queued again.
    pub async fn recover(&self) -> Result<usize> {
        let unfinished = self.store.take_unfinished().await?;
        let mut queued = 0;
        for job in unfinished {
            let id = job.record.id();
            if job.attempt > self.max_deliveries {
                tracing::error!(job_id = %id, attempt = job.attempt, "job past its delivery limit after a restart");
                let outcome = JobOutcome::infrastructure_failure(
                    &job.record,
                    "VM Spawn Failed",
                    &format!(
                        "no result after {} deliveries (max {}): the coordinator stopped while it ran",
                        job.attempt - 1,
                        self.max_deliveries
                    ),
                    job.attempt - 1,
                );
                self.finalize(&job.record, &outcome).await?;
                continue;
            }
            if job.record.jury.is_some() {
                if let Some(outcome) = self.juries.resume(&job.record, job.attempt).await? {
                    self.finalize(&job.record, &outcome).await?;
                    continue;
                }
            } else {
                self.requeue(&job.record, job.attempt).await?;
            }
            tracing::info!(job_id = %id, attempt = job.attempt, "job queued again after a restart");
            queued += 1;
        }
        Ok(queued)
    }

    /// Queues an accepted job (again) as delivery `attempt`.
    async fn requeue(&self, record: &JobRecord, attempt: u32) -> Result<()> {
        // Lane 0: a job queued again has waited its turn once already.
        let envelope = JobEnvelope {
            job_id: record.id().to_string(),
            payload: serde_json::to_string(&record.spec)?,
            attempt,
            lane: 0,
            target: None,
        };
        self.queue.enqueue(envelope).await?;
        Ok(())
    }

    /// The final write (the only call of [`JobStore::finalize`]): sets the outcome and emits
    /// the job's final event, once.
    async fn finalize(&self, record: &JobRecord, outcome: &JobOutcome) -> Result<()> {
        let finalized = self.store.finalize(record, outcome).await?;
        self.accepted.forget(record.id());
        self.lanes.finished(record.id());
        match finalized {
            Finalized::Applied(r) => {
                crate::metrics::job_final(&r);
                for (wanted, notify) in self.final_watches.read().iter() {
                    if wanted(&r) {
                        notify.notify_one();
                    }
                }
                let o = r.outcome.as_ref().expect("applied outcome");
                tracing::info!(
                    job_id = %r.id(),
                    result = o.result.map_or("error", |v| v.as_str()),
                    fuel = o.fuel_used,
                    total_ms = o.total_ms,
                    "job final"
                );
            }
            Finalized::AlreadyFinal(_) => tracing::debug!(job_id = %record.id(), "already final"),
            Finalized::Missing => {
                tracing::warn!(job_id = %record.id(), "job expired before its result")
            }
        }
        Ok(())
    }
}
