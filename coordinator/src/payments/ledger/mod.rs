//! The payment ledger: every piece of state the payments layer keeps, behind one trait, so
//! payments work in every mode.
//!
//! - [`RedisLedger`]: in Redis under `<prefix>pay:`, shared by every coordinator of a fleet
//!   (the keys and Lua scripts payments always had).
//! - [`SqliteLedger`]: in the embedded database ([`crate::db`]), so a single coordinator
//!   without Redis keeps its used payments, open settlements and statistics across restarts.
//!
//! What the ledger holds, per operation group:
//! - *pending jobs*: a job that answered 402 and waits for its payment, until it expires;
//! - *used payments*: which job a payment (a transaction hash, an EIP-3009 authorization) paid
//!   for. Set once, never expires, never changes hands: a payment pays for one job only, also
//!   after a restart;
//! - *job payments*: a job's [`Payment`], its [`Settlement`], and the two crash-recovery fields
//!   [`JobField::RegistryAttempt`] and [`JobField::RefundRaw`];
//! - *payer slots*: the payer's unfinished jobs (at most `max_jobs_per_payer`);
//! - *open jobs*: paid jobs not settled yet;
//! - *settling locks*: the short lock of whoever settles a job;
//! - *statistics*: counters of settled jobs, each job counted once, and the minutes served;
//! - *on-chain requests*: the compute requests a `ComputeCoordinator` contract emitted (issue
//!   14), open until every interval is delivered, and the watcher's block cursor.
//!
//! Every operation documented as atomic is one Lua script (Redis) or one [`crate::db::Db::call`]
//! transaction (SQLite): concurrent callers see it entirely or not at all.

mod redis;
mod sqlite;

use std::time::Duration;

use alloy::primitives::{Address, U256};
use async_trait::async_trait;
use uuid::Uuid;

pub use self::redis::RedisLedger;
pub use self::sqlite::SqliteLedger;
use super::{Payment, PendingJob, Settlement};
use crate::compute::onchain::OnchainRequest;
use crate::error::Result;

/// A crash-recovery field of a job's payment record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobField {
    /// Unix ms of the first registry write attempt: a re-run looks on chain before writing.
    RegistryAttempt,
    /// The signed refund (`{"hash", "raw"}`), stored before it is broadcast.
    RefundRaw,
}

impl JobField {
    /// The field's name (the Redis hash field, the SQLite column).
    pub fn name(self) -> &'static str {
        match self {
            JobField::RegistryAttempt => "registryAttempt",
            JobField::RefundRaw => "refundRaw",
        }
    }
}

/// What [`PaymentLedger::consume`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Consumed {
    /// The payment is now this job's.
    Done,
    /// This job was already paid (a concurrent retry of the same payment got there first);
    /// nothing changed.
    AlreadyPaid,
    /// The payment belongs to another job (its id); nothing changed.
    UsedBy(String),
}

/// One settled job's contribution to the statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatsEntry {
    /// The result was delivered (and recorded when a registry is configured).
    pub delivered: bool,
    /// The job's duration.
    pub duration_ms: i64,
    /// Kept ETH revenue, in gwei (0 when refunded).
    pub revenue_gwei: i64,
    /// Kept token revenue, in token units (0 when refunded).
    pub revenue_token_units: i64,
}

/// The statistics' counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatsCounters {
    /// Settled jobs.
    pub total: i64,
    /// Of which delivered.
    pub delivered: i64,
    /// Sum of their durations.
    pub duration_ms: i64,
    /// Kept ETH revenue, gwei.
    pub revenue_gwei: i64,
    /// Kept token revenue, token units.
    pub revenue_token_units: i64,
    /// The first minute (unix minutes) any coordinator served.
    pub up_since: Option<u64>,
    /// How many distinct minutes were served.
    pub up_minutes: u64,
}

/// The state of x402 payments. Object-safe; one backend per store.
#[async_trait]
pub trait PaymentLedger: Send + Sync + 'static {
    /// Stores (or replaces) a job that waits for its payment, readable for `ttl`.
    async fn put_pending(&self, pending: &PendingJob, ttl: Duration) -> Result<()>;

    /// A job waiting for payment, unless it expired or was paid.
    async fn pending(&self, job: Uuid) -> Result<Option<PendingJob>>;

    /// The job a payment (its used-record key) paid for or is reserved by.
    async fn used_by(&self, used: &str) -> Result<Option<String>>;

    /// Atomically reserves the used-record `used` for `job` before an on-chain settlement:
    /// `Ok(Err(other))` when another job holds it (nothing changed); reserving again for the
    /// same job succeeds.
    async fn reserve(&self, used: &str, job: Uuid) -> Result<std::result::Result<(), String>>;

    /// Drops a reservation whose settlement failed (the authorization was not spent).
    async fn unreserve(&self, used: &str) -> Result<()>;

    /// Atomically consumes a payment for a job: records `used` as the job's (forever), stores
    /// the job's payment, marks the job open and drops its pending entry. Nothing changes when
    /// the job is already paid ([`Consumed::AlreadyPaid`]) or the payment is another job's
    /// ([`Consumed::UsedBy`]).
    async fn consume(&self, job: Uuid, payment: &Payment, used: &str) -> Result<Consumed>;

    /// A job's payment and settlement (`None` for a job that was never paid; a default
    /// settlement when none was saved yet).
    async fn job_payment(&self, job: Uuid) -> Result<Option<(Payment, Settlement)>>;

    /// Replaces a job's settlement.
    async fn save_settlement(&self, job: Uuid, settlement: &Settlement) -> Result<()>;

    /// A crash-recovery field of a job.
    async fn job_field(&self, job: Uuid, field: JobField) -> Result<Option<String>>;

    /// Sets a crash-recovery field of a job (durable once this returns).
    async fn set_job_field(&self, job: Uuid, field: JobField, value: &str) -> Result<()>;

    /// Clears a crash-recovery field of a job.
    async fn clear_job_field(&self, job: Uuid, field: JobField) -> Result<()>;

    /// Atomically takes one of `payer`'s slots for `job`: `true` when taken (or `job` already
    /// holds one), `false` when `max` other jobs hold them.
    async fn take_payer_slot(&self, payer: Address, job: Uuid, max: usize) -> Result<bool>;

    /// Gives `job`'s slot of `payer` back (no-op when it holds none).
    async fn release_payer_slot(&self, payer: Address, job: Uuid) -> Result<()>;

    /// Paid jobs not settled yet.
    async fn open_jobs(&self) -> Result<Vec<Uuid>>;

    /// Atomically removes a settled job from the open jobs and frees its payer slot.
    async fn close(&self, job: Uuid, payer: Address) -> Result<()>;

    /// Takes the settling lock of `job` for `owner` for `ttl` (so a crashed holder cannot block
    /// the job for long): `true` when taken, `false` while anyone holds it unexpired. Exclusive:
    /// two callers never both get `true` for one unexpired lock.
    async fn lock_settling(&self, job: Uuid, owner: &str, ttl: Duration) -> Result<bool>;

    /// Releases `job`'s settling lock if `owner` still holds it (a lock that expired and was
    /// taken by someone else stays theirs).
    async fn unlock_settling(&self, job: Uuid, owner: &str) -> Result<()>;

    /// Adds a settled job to the statistics, once per job: `true` when counted now, `false`
    /// when it was already (a settlement re-run after a crash changes nothing).
    async fn count(&self, job: Uuid, entry: StatsEntry) -> Result<bool>;

    /// The statistics' counters.
    async fn counters(&self) -> Result<StatsCounters>;

    /// Marks `minute` (unix minutes) as served; the first one ever is `up_since`.
    async fn beat(&self, minute: u64) -> Result<()>;

    /// The first block of `contract` the on-chain watcher has not scanned (`None`: never
    /// scanned).
    async fn onchain_cursor(&self, contract: Address) -> Result<Option<u64>>;

    /// Atomically stores the requests found in the blocks before `next_block` and moves the
    /// cursor there. A request already stored, or closed, is left as it is (scanning a block
    /// twice changes nothing); the cursor never moves back.
    async fn record_onchain(
        &self,
        contract: Address,
        requests: &[OnchainRequest],
        next_block: u64,
    ) -> Result<()>;

    /// The open requests of `contract`, by request id.
    async fn open_onchain(&self, contract: Address) -> Result<Vec<OnchainRequest>>;

    /// Closes a request (every interval delivered or given up): it is not open again, even
    /// when its block is scanned again.
    async fn close_onchain(&self, contract: Address, request: U256) -> Result<()>;
}

/// Stored on-chain requests (JSON bodies) by request id.
fn requests_by_id(bodies: &[String]) -> Result<Vec<OnchainRequest>> {
    let mut out = bodies
        .iter()
        .map(|b| serde_json::from_str(b))
        .collect::<std::result::Result<Vec<OnchainRequest>, _>>()?;
    out.sort_by_key(|r| r.request_id);
    Ok(out)
}
