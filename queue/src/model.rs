//! The values that travel through the queue.
//!
//! Payloads are opaque strings (JSON written by other crates): the queue moves them, it never
//! reads them. The backend-specific `token` fields identify a stream entry (Redis) or a slot
//! (memory); pass them back unchanged.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::keys::REAPER_CONSUMER;
use crate::{Error, Result};

/// How many fairness lanes the queue has (see [`JobEnvelope::lane`]).
pub const LANES: u8 = 4;

/// A job as the queue carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobEnvelope {
    /// The job's id, chosen by the coordinator. The queue does not deduplicate on it.
    pub job_id: String,
    /// The job itself, opaque to the queue.
    pub payload: String,
    /// Which delivery this is: 1 for the first, +1 each time a lease expires and the reaper
    /// redelivers the job. A release does not count.
    pub attempt: u32,
    /// Fairness lane, `0..LANES` (larger values count as the last lane). Workers take the
    /// oldest job of the lowest non-empty lane, so a client's first unfinished job (lane 0)
    /// runs before another client's fifth; redeliveries and releases keep their lane. The
    /// coordinator chooses it (see its `jobs::fair`); the queue only orders by it.
    #[serde(default)]
    pub lane: u8,
    /// The only worker identity that may lease this task (a juror's seat); `None`: the shared
    /// lanes.
    ///
    /// A targeted task is leased only through [`JobQueue::lease_as`](crate::JobQueue::lease_as)
    /// with this identity; redeliveries and releases keep it, and so does its dead letter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

impl JobEnvelope {
    /// A job on its first delivery.
    pub fn new(job_id: impl Into<String>, payload: impl Into<String>) -> Self {
        Self {
            job_id: job_id.into(),
            payload: payload.into(),
            attempt: 1,
            lane: 0,
            target: None,
        }
    }

    /// A task on its first delivery that only a worker of identity `target` may lease (see
    /// [`JobQueue::lease_as`](crate::JobQueue::lease_as)).
    pub fn for_worker(
        job_id: impl Into<String>,
        payload: impl Into<String>,
        target: impl Into<String>,
    ) -> Self {
        Self {
            target: Some(target.into()),
            ..Self::new(job_id, payload)
        }
    }

    /// The same job in `lane` (capped at the last lane).
    pub fn in_lane(mut self, lane: u8) -> Self {
        self.lane = lane.min(LANES - 1);
        self
    }
}

/// A job owned by one worker until it submits, releases, or stops heartbeating for longer than
/// the lease TTL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// The leased job.
    pub job: JobEnvelope,
    /// The worker (consumer) name that holds the lease.
    pub worker: String,
    /// Backend handle of this delivery (the Redis stream entry id). Each delivery of a job has a
    /// new one, so a lease that was reaped can never touch the redelivered copy.
    pub token: String,
    /// The worker identity the lease was taken as ([`JobQueue::lease_as`](crate::JobQueue::lease_as));
    /// `None` for a plain [`JobQueue::lease`](crate::JobQueue::lease). A heartbeat of such a
    /// lease also marks the identity alive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
}

/// What coordinators read from the intake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum IntakeItem {
    /// A worker submitted a result.
    Submitted {
        /// The job the result is for.
        job_id: String,
        /// The worker that submitted it.
        worker: String,
        /// The delivery the worker ran.
        attempt: u32,
        /// The result, opaque to the queue.
        payload: String,
    },
    /// A job whose leases kept expiring until it reached the delivery limit, or a targeted task
    /// that waited past the lease TTL while its target was not alive. It will not be delivered
    /// again. `job.target` is kept, so the coordinator can tell which seat to fill again.
    DeadLettered {
        /// The job as it was last delivered.
        job: JobEnvelope,
        /// Why it was given up, for operators.
        reason: String,
    },
}

impl IntakeItem {
    /// The job this item is about.
    pub fn job_id(&self) -> &str {
        match self {
            IntakeItem::Submitted { job_id, .. } => job_id,
            IntakeItem::DeadLettered { job, .. } => &job.job_id,
        }
    }
}

/// An intake item handed to one coordinator. Until it is acknowledged with
/// [`JobQueue::ack_intake`](crate::JobQueue::ack_intake), it is handed out again after the
/// intake TTL (the coordinator may have crashed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntakeDelivery {
    /// The submitted result or dead letter.
    pub item: IntakeItem,
    /// Backend handle of the intake entry, for the acknowledgement.
    pub token: String,
}

/// What one [`JobQueue::reap`](crate::JobQueue::reap) call did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReapReport {
    /// Stale leases whose job went back to the queue with `attempt + 1`.
    pub redelivered: u64,
    /// Stale leases whose job had reached the delivery limit and went to the intake as a dead
    /// letter, plus targeted tasks dead-lettered because their target was not alive.
    pub dead_lettered: u64,
}

/// How much work is in the queue, for metrics and `/info`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueDepth {
    /// Jobs waiting for a worker (shared and targeted).
    pub waiting: u64,
    /// Jobs leased to a worker, shared and targeted (or, briefly, held by a reaper).
    pub leased: u64,
    /// Intake items (results and dead letters) not yet acknowledged by a coordinator.
    pub intake: u64,
}

/// The reason given in a dead letter. Both backends use this exact text.
pub(crate) fn dead_letter_reason(attempt: u32, max_deliveries: u32) -> String {
    format!("no result after {attempt} deliveries (max {max_deliveries})")
}

/// The reason given when a targeted task is dead-lettered because its target is not alive. Both
/// backends use this exact text (the Redis reap script spells it too).
pub(crate) fn target_not_alive_reason(target: &str, lease_ttl_ms: u64) -> String {
    format!(
        "target {target} is not alive (no lease_as or heartbeat within {lease_ttl_ms} ms) and the task waited longer than that"
    )
}

/// How long a job's live output log is kept after its last piece.
pub const OUTPUT_TTL: Duration = Duration::from_secs(600);

/// Most bytes in one piece of live output (a writer splits larger runs of writes).
pub const OUTPUT_PIECE_MAX: usize = 64 * 1024;

/// Pieces a job's live output log keeps at most (about: Redis trims with `MAXLEN ~`); older ones
/// are dropped, so one log holds at most about 64 MiB whatever a writer sends.
pub const OUTPUT_LOG_PIECES: usize = 1024;

/// One piece of a streamed job's live output ([`Leases::append_output`](crate::Leases::append_output)).
/// A job may be run more than once (a redelivery, a retry): each delivery writes its own pieces,
/// tagged with its `attempt`, and a reader keeps the bytes past what it already has (a
/// deterministic guest writes the same bytes every time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputPiece {
    /// `bytes` of stdout starting at byte `offset` of delivery `attempt`'s output.
    Data {
        /// The delivery.
        attempt: u32,
        /// Where in that delivery's stdout these bytes start.
        offset: u64,
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// Delivery `attempt` has ended: it writes nothing more.
    End {
        /// The delivery.
        attempt: u32,
    },
}

/// Worker identities must be non-empty.
pub(crate) fn check_identity(identity: &str) -> Result<()> {
    if identity.is_empty() {
        return Err(Error::InvalidArgument("worker identity is empty".into()));
    }
    Ok(())
}

/// Worker and coordinator names are consumer names: they must be non-empty and must not be the
/// reaper's.
pub(crate) fn check_consumer_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::InvalidArgument("consumer name is empty".into()));
    }
    if name == REAPER_CONSUMER {
        return Err(Error::InvalidArgument(format!(
            "consumer name {REAPER_CONSUMER:?} is reserved for the reaper"
        )));
    }
    Ok(())
}
