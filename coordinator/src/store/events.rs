//! The durable log of final jobs: one [`JobEvent`] per job that becomes final, appended by
//! [`JobStore::finalize`](super::JobStore::finalize) in the same atomic step that sets the
//! outcome (a Lua script in Redis, one transaction in SQLite), so a job is never final without
//! its event, nor has two.
//!
//! Consumers (the payment settlement, webhooks, later juries and chains) read the log through
//! [`EventLog`] under a *consumer name* of their own: each name has its own position in the
//! log, so every consumer sees every event. Within one name, each event is handed to one
//! reader at a time (several coordinators may read under the same name, as a Redis consumer
//! group); an event not acknowledged within `redeliver_after` is handed out again (the reader
//! may have crashed). Delivery is therefore *at least once*: a consumer must be idempotent by
//! job id. The job service's `consumers` module runs a consumer with retries and acknowledgements.

use std::time::Duration;

use async_trait::async_trait;
use notary_protocol::Verdict;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::Result;
use crate::record::{JobRecord, JobStatus};

/// What happened to a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The job reached its final state (`completed` or `error`).
    Final,
}

/// One entry of the event log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobEvent {
    /// Position in the log, backend-specific (a Redis stream id, a SQLite sequence number);
    /// pass it back unchanged to [`EventLog::ack`]. Not part of the stored body.
    #[serde(skip)]
    pub id: String,
    /// The job.
    pub job_id: Uuid,
    /// What happened.
    pub kind: EventKind,
    /// The job's status after the event.
    pub status: JobStatus,
    /// The verdict, for a completed job.
    pub result: Option<Verdict>,
    /// When it happened (unix ms).
    pub at_ms: u64,
    /// The webhook the job named, so the webhook consumer skips the others without a read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_id: Option<Uuid>,
    /// Whether the job is a step of a compute chain, so the chain consumer skips the others
    /// without a read (`None` in events written before the field: read the record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_step: Option<bool>,
}

impl JobEvent {
    /// The final event of a record that has its outcome (`id` is set by the log).
    pub fn final_of(record: &JobRecord) -> JobEvent {
        let outcome = record.outcome.as_ref();
        JobEvent {
            id: String::new(),
            job_id: record.id(),
            kind: EventKind::Final,
            status: record.status(),
            result: outcome.and_then(|o| o.result),
            at_ms: outcome.map_or(record.created_at_ms, |o| o.completed_at_ms),
            webhook_id: record.webhook_id,
            chain_step: Some(record.chain.is_some()),
        }
    }

    /// The stored body (JSON).
    pub fn body(&self) -> String {
        serde_json::to_string(self).expect("an event serializes")
    }

    /// An event read back from the log at position `id`.
    pub fn parse(id: String, body: &str) -> Result<JobEvent> {
        let mut event: JobEvent = serde_json::from_str(body)?;
        event.id = id;
        Ok(event)
    }
}

/// Reading the event log (the writing is [`JobStore::finalize`](super::JobStore::finalize)).
#[async_trait]
pub trait EventLog: Send + Sync + 'static {
    /// Up to `max` events not yet acknowledged by `consumer` and not handed out to one of its
    /// readers in the last `redeliver_after`, oldest first, waiting up to `wait` for one.
    async fn read(
        &self,
        consumer: &str,
        max: usize,
        wait: Duration,
        redeliver_after: Duration,
    ) -> Result<Vec<JobEvent>>;

    /// Marks `event` as handled by `consumer`: it is not handed to that consumer again.
    async fn ack(&self, consumer: &str, event: &JobEvent) -> Result<()>;

    /// [`EventLog::ack`] of several events at once (one command where the backend can).
    async fn ack_many(&self, consumer: &str, events: &[JobEvent]) -> Result<()> {
        for event in events {
            self.ack(consumer, event).await?;
        }
        Ok(())
    }
}
