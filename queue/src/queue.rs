//! The lease protocol as two traits: [`Leases`] (the worker side) and [`JobQueue`] (all of it).

use std::time::Duration;

use async_trait::async_trait;

use crate::{IntakeDelivery, JobEnvelope, Lease, OutputPiece, QueueDepth, ReapReport, Result};

/// The worker side of the lease protocol: what a worker slot needs to take, keep and finish a
/// job. [`JobQueue`] extends it with the coordinator side; a worker that reaches its jobs some
/// other way (over HTTP, through a coordinator) implements only this.
#[async_trait]
pub trait Leases: Send + Sync + 'static {
    /// Takes the job at the head of the queue, waiting up to `wait` for one (`Duration::ZERO`:
    /// do not wait). The returned lease is owned by `worker` until it is submitted, released,
    /// or left without a heartbeat for longer than the lease TTL the reaper runs with.
    ///
    /// Jobs are handed out lane by lane (the oldest job of the lowest non-empty
    /// [lane](JobEnvelope::lane) first), in queue order within a lane; a job is leased by one
    /// worker at a time.
    async fn lease(&self, worker: &str, wait: Duration) -> Result<Option<Lease>>;

    /// Like [`lease`](Self::lease), for a worker slot whose identity (its signing address,
    /// lowercase `0x` hex) is `identity`: tasks targeted at `identity` come first (in queue
    /// order), then the shared lanes. Marks `identity` alive. A waiting call wakes for a
    /// targeted task of its identity as promptly as for a shared job. An empty identity is
    /// refused. The returned lease carries `identity`, so its heartbeats keep it alive too.
    async fn lease_as(&self, worker: &str, identity: &str, wait: Duration)
        -> Result<Option<Lease>>;

    /// Like [`lease_as`](Self::lease_as), but only tasks targeted at `identity`: never a job
    /// of the shared lanes (a worker that sits on juries only). Marks `identity` alive.
    async fn lease_seats(
        &self,
        worker: &str,
        identity: &str,
        wait: Duration,
    ) -> Result<Option<Lease>>;

    /// Keeps a running job's lease alive (resets its idle time). `Ok(false)` if the lease was
    /// lost (reclaimed by a reaper, or gone because the job was submitted); it never takes a
    /// lease back from another owner.
    async fn heartbeat(&self, lease: &Lease) -> Result<bool>;

    /// Records the worker's result in the intake and, in the same atomic step, removes the job.
    ///
    /// The result is recorded even if the lease was lost meanwhile: the work was done, and the
    /// redelivered copy (if any) may be submitted as well. Each call adds exactly one intake
    /// item, so the intake consumer must deduplicate per job id.
    async fn submit(&self, lease: &Lease, payload: String) -> Result<()>;

    /// Gives a job back at once (graceful shutdown) without counting a delivery: it goes to the
    /// tail of the queue with the same `attempt`. `Ok(false)` if the lease was already lost
    /// (nothing is done then).
    async fn release(&self, lease: &Lease) -> Result<bool>;

    /// Appends a piece of a streamed job's live output to the job's output log, for
    /// [`JobQueue::read_output`]; the log is kept for [`OUTPUT_TTL`](crate::OUTPUT_TTL) after
    /// its last piece. The default drops the piece: a worker that reaches its jobs some other
    /// way (over HTTP) has no log, and a reader then gets the recorded output when the job
    /// ends.
    async fn append_output(&self, job_id: &str, piece: &OutputPiece) -> Result<()> {
        let _ = (job_id, piece);
        Ok(())
    }
}

/// The job queue shared by coordinators and workers.
///
/// Object-safe on purpose: callers hold an `Arc<dyn JobQueue>` and the same code runs on Redis
/// ([`RedisQueue`](crate::RedisQueue)) in a fleet and in memory
/// ([`MemoryQueue`](crate::MemoryQueue)) in the embedded mode. Both pass the same conformance
/// suite (`tests/it/conformance.rs`).
///
/// Worker side: [`lease`](Self::lease) (or [`lease_as`](Self::lease_as)), then [`heartbeat`](Self::heartbeat) while running, then
/// [`submit`](Self::submit) (or [`release`](Self::release) when shutting down).
/// Coordinator side: [`enqueue`](Self::enqueue), [`next_intake`](Self::next_intake) /
/// [`ack_intake`](Self::ack_intake), and a periodic [`reap`](Self::reap).
///
/// Calls on a backend that is down fail within a bounded time (a few seconds; for the blocking
/// `lease` and `next_intake`, their wait plus that) with an error for which
/// [`Error::is_unavailable`](crate::Error::is_unavailable) is true; they never hang. A call that
/// timed out may still have taken effect (the request may have reached Redis): `enqueue` retried
/// after a timeout can queue a job twice, a timed-out `lease` can leave a delivery nobody received
/// (the reaper redelivers it after the lease TTL, counting one delivery). Downstream deduplication
/// by job id absorbs both.
///
/// # Choosing the timings
///
/// * **Heartbeat interval ≤ lease TTL / 3**, so that two heartbeats can be late or lost before the
///   reaper takes the job away. The TTL must exceed the worst stall between two heartbeats (the
///   worker's own scheduling, Redis latency, a Redis failover): a lease reaped from a live worker
///   costs a duplicate run, not a wrong result.
/// * **Reap every ~ lease TTL / 2** from every coordinator (concurrent reapers are safe); a stale
///   lease is then handled between one TTL and 1.5 TTL after its last sign of life.
/// * **`max_deliveries`** counts expired leases only (a release does not count); 3 is a sane
///   default. Always pass the same value from every coordinator.
/// * **Intake TTL** (a backend setting) must exceed the time a coordinator takes to process one
///   item and acknowledge it; acknowledge once the outcome is durably stored.
/// * **Waits** of `lease` / `next_intake` of a few seconds: they bound how late a shutdown or a
///   silent network partition is noticed.
///
/// # Targeted tasks (juries)
///
/// Next to the shared lanes, a job may be queued for one worker *identity* only
/// ([`JobEnvelope::for_worker`], `target: Some(identity)`): a jury of tier n is n such tasks, one
/// per juror. The identity is the worker's signing address (lowercase `0x` hex); several worker
/// slots and processes may share one, and any of them may lease its tasks. A targeted task is
/// leased only through [`lease_as`](Self::lease_as) with that identity (never by another
/// identity, never by a plain [`lease`](Self::lease)); otherwise it lives exactly like a shared
/// job: heartbeat, submit, release (back to its target's queue), reap (redelivered to the same
/// target with `attempt + 1`, or dead-lettered at `max_deliveries` with `job.target` kept).
///
/// `lease_as` and heartbeats of leases taken through it mark the identity *alive*
/// ([`alive`](Self::alive)). A targeted task still waiting, unleased, for longer than the reap's
/// `lease_ttl` while its target has not been alive within `lease_ttl` is dead-lettered by
/// [`reap`](Self::reap) (the reason says the target is not alive), so the coordinator can
/// replace a juror that left the fleet. Workers calling `lease_as` every lease wait (well under
/// the TTL) and heartbeating every TTL / 3 therefore never look dead.
///
/// A worker whose `heartbeat` answers `false` has lost its lease: the job is (or will be) run by
/// someone else. It may stop at once, or finish and submit anyway; either is correct.
#[async_trait]
pub trait JobQueue: Leases {
    /// Appends a job at the tail of its queue (its target's for a targeted task, else its lane).
    /// The queue does not deduplicate job ids; an empty `target` is refused.
    /// An `attempt` of 0 is stored as 1, a lane past the last as the last.
    async fn enqueue(&self, job: JobEnvelope) -> Result<()>;

    /// Identities that called `lease_as`, or heartbeated a lease they got through it, within
    /// `within`; sorted, distinct. Identities unseen for a long time (an hour) are forgotten by
    /// `reap`, so `within` beyond that sees no further back.
    async fn alive(&self, within: Duration) -> Result<Vec<String>>;

    /// Reclaims leases idle for longer than `lease_ttl`. A job whose stale delivery was its
    /// `max_deliveries`-th (or later) goes to the intake as
    /// [`IntakeItem::DeadLettered`](crate::IntakeItem::DeadLettered); any other goes back to the
    /// tail of the queue with `attempt + 1`. Each stale lease is handled in one atomic step, so
    /// several coordinators may reap at once: each stale lease is handled once.
    ///
    /// Also dead-letters targeted tasks that waited unleased for longer than `lease_ttl` while
    /// their target was not alive within `lease_ttl` (counted in `dead_lettered`), and forgets
    /// long-unseen identities.
    ///
    /// `max_deliveries` below 1 counts as 1.
    async fn reap(&self, lease_ttl: Duration, max_deliveries: u32) -> Result<ReapReport>;

    /// Coordinator side: the next submitted result or dead letter, waiting up to `wait` for one.
    /// Several coordinators may consume at once; each item goes to one of them. An item handed
    /// out but not acknowledged within the backend's intake TTL is handed out again (to any
    /// consumer); that check happens at the start of each call.
    async fn next_intake(&self, consumer: &str, wait: Duration) -> Result<Option<IntakeDelivery>>;

    /// Acknowledges (and removes) an intake item once it is durably processed.
    async fn ack_intake(&self, delivery: &IntakeDelivery) -> Result<()>;

    /// Jobs waiting, jobs leased and intake items not yet acknowledged.
    async fn depth(&self) -> Result<QueueDepth>;

    /// Cheap liveness check of the backend (PING for Redis).
    async fn ping(&self) -> Result<()>;

    /// The pieces of `job_id`'s output log after `cursor` (`""`: from its start), in the order
    /// they were appended, waiting up to `wait` while there are none; and the cursor to read on
    /// from. A log nobody wrote reads as empty.
    async fn read_output(
        &self,
        job_id: &str,
        cursor: &str,
        wait: Duration,
    ) -> Result<(Vec<OutputPiece>, String)>;
}
