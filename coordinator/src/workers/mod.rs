//! The worker book: what each worker did on juries, and who is suspended (issue 11: dissent has
//! consequences). One trait, a Redis backend (a fleet's coordinators share it) and a SQLite one
//! (the embedded database), one conformance suite (`tests/it/worker_book.rs`).
//!
//! When a jury round closes with a verdict, every juror that delivered is booked once: agreed
//! or dissented (a round without a majority books nobody's vote, only that it sat). A worker
//! with more than `max_dissents` dissents within `window` is suspended: it is not seated on new
//! juries (its current seats finish) until an operator lifts it (`notary-coordinator workers
//! unsuspend 0x…`). The booking and the suspension are one atomic step per worker, so two
//! coordinators closing rounds at once count every dissent and suspend once.
//!
//! The book also keeps the open fleet's registrations (issue 12, [`registration`]): a
//! worker's roles, runtime id, engine and whether it is approved for juries. A registration is
//! one atomic upsert (roles accumulate: a key registered as provider and as verifier holds
//! both); approval is sticky (registering again, e.g. with a new runtime, keeps it). A
//! provider's declared services ([`services`]) live here too.

pub mod cli;
mod redis;
pub mod registration;
pub mod services;
mod sqlite;

use std::collections::HashSet;
use std::time::Duration;

use async_trait::async_trait;
use notary_protocol::Address;
use serde::Serialize;

pub use self::redis::RedisWorkerBook;
pub use self::registration::{Approval, Registered, Registration, Role};
pub use self::services::{Service, ServiceTarget};
pub use self::sqlite::SqliteWorkerBook;
use crate::error::Result;

/// How a juror's answer compared with its round's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vote {
    /// Same answer as the verdict.
    Agreed,
    /// Another answer than the verdict.
    Dissented,
    /// The round had no majority.
    Undecided,
}

/// What booking a vote did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Booked {
    /// Counted.
    Counted,
    /// Counted, and it suspended the worker just now.
    Suspended,
}

/// When a worker is suspended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SuspensionRule {
    /// More dissents than this within `window` suspend.
    pub max_dissents: u32,
    /// The window.
    pub window: Duration,
}

impl Default for SuspensionRule {
    fn default() -> Self {
        SuspensionRule {
            max_dissents: 3,
            window: Duration::from_secs(3600),
        }
    }
}

/// One worker's record.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkerStats {
    /// Jury seats it delivered in closed rounds.
    pub jobs: u64,
    /// Rounds where it agreed with the verdict.
    pub agreements: u64,
    /// Rounds where it dissented.
    pub dissents: u64,
    /// Dissents within the suspension window now.
    pub recent_dissents: u64,
    /// Since when it is suspended (unix ms), if it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suspended_at_ms: Option<u64>,
}

/// Storage of the worker book.
#[async_trait]
pub trait WorkerBook: Send + Sync + 'static {
    /// Books `worker`'s vote at `at_ms`; suspends it (once) when its dissents within the rule's
    /// window exceed the rule's maximum.
    async fn record(&self, worker: Address, vote: Vote, at_ms: u64) -> Result<Booked>;
    /// The workers suspended now.
    async fn suspended(&self) -> Result<HashSet<Address>>;
    /// Lifts a suspension (its dissents in the window are forgiven); `false` if it was not
    /// suspended.
    async fn unsuspend(&self, worker: Address) -> Result<bool>;
    /// One worker's record (all zero if never booked).
    async fn stats(&self, worker: Address) -> Result<WorkerStats>;
    /// Every booked or registered worker, ascending.
    async fn workers(&self) -> Result<Vec<Address>>;

    /// Registers (or registers again) a worker at `at_ms`: adds the role, replaces the runtime,
    /// engine and description, approves it if `approve` (never un-approves). Returns the
    /// registration and whether it is the worker's first.
    async fn register(
        &self,
        registration: &Registration,
        approve: bool,
        at_ms: u64,
    ) -> Result<(Registered, bool)>;
    /// A worker's registration, if it registered.
    async fn registration(&self, worker: Address) -> Result<Option<Registered>>;
    /// Approves a registered worker for juries; `false` if it never registered.
    async fn approve(&self, worker: Address) -> Result<bool>;
    /// Registered workers that are approved.
    async fn approved(&self) -> Result<HashSet<Address>>;

    /// Declares a service of `worker` (a new one, or the same target again: its price and
    /// `updatedAtMs` are replaced, `createdAtMs` kept). Returns it as stored and whether it is
    /// new.
    async fn put_service(&self, worker: Address, service: &Service) -> Result<(Service, bool)>;
    /// A worker's services, by id.
    async fn services(&self, worker: Address) -> Result<Vec<Service>>;
    /// Withdraws a service; `false` if there was none of that id.
    async fn remove_service(&self, worker: Address, service_id: &str) -> Result<bool>;

    /// Credits `worker` with `units` (token base units) earned on `job`, once per (worker,
    /// job): a settlement that runs again credits nothing more. `false` if it was credited.
    async fn credit(&self, worker: Address, job: uuid::Uuid, units: u64) -> Result<bool>;
    /// Everything `worker` earned from released deposits (token base units).
    async fn earnings(&self, worker: Address) -> Result<u64>;
}
