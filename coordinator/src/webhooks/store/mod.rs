//! Webhooks, the outbox of deliveries and the attempt history: one trait, a SQLite backend
//! (embedded mode, in [`crate::db`]) and a Redis one (fleet mode, shared by every replica).
//!
//! The outbox is a set of deliveries ordered by when each is due. [`WebhookStore::claim`]
//! takes the due ones atomically and moves each one's due time forward by a lease, with a new
//! claim token: another coordinator does not see it until the lease ends, and if the claimer
//! dies, it is due again then. [`WebhookStore::record`] stores an attempt and the delivery's
//! next state only if the caller still holds the claim (its token), so a claimer that lost its
//! lease cannot overwrite a newer attempt.

mod redis;
mod sqlite;

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use self::redis::RedisWebhooks;
pub use self::sqlite::SqliteWebhooks;
use super::{Webhook, WebhookEvent};
use crate::error::Result;

/// Attempts kept per webhook for `GET /webhooks/:id/deliveries` (the oldest are dropped).
pub const MAX_ATTEMPTS_KEPT: usize = 200;
/// How long a finished delivery's key is kept, so a re-delivered event does not send it
/// again (longer than the event log keeps events).
pub const FINISHED_RETENTION: Duration = Duration::from_secs(7 * 86_400);

/// A delivery to make: what the consumer puts in the outbox.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewDelivery {
    /// `webhook-id`: see [`super::delivery_id`].
    pub id: String,
    /// The webhook.
    pub webhook_id: Uuid,
    /// The job.
    pub job_id: Uuid,
    /// The event.
    pub event: WebhookEvent,
    /// The exact body sent on every attempt (JSON).
    pub body: String,
    /// When the job became final (unix ms), for the delivery latency.
    pub final_at_ms: u64,
}

/// A delivery claimed for one attempt.
#[derive(Clone, Debug, PartialEq)]
pub struct Claimed {
    /// The delivery.
    pub delivery: NewDelivery,
    /// Attempts made before this one.
    pub attempts: u32,
    /// The claim's token, to give back to [`WebhookStore::record`].
    pub token: String,
}

/// One attempt as the history shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    /// The delivery (`webhook-id`).
    pub delivery_id: String,
    /// The job.
    pub job_id: Uuid,
    /// The event.
    pub event: WebhookEvent,
    /// Which attempt of the delivery (1 for the first).
    pub attempt: u32,
    /// When it started (unix ms).
    pub at_ms: u64,
    /// The receiver's status code, if it answered.
    pub status_code: Option<u16>,
    /// What went wrong when it did not (timeout, connection refused, refused address).
    pub error: Option<String>,
    /// How long it took (ms).
    pub duration_ms: u64,
}

/// What happens to a delivery after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Try again at this time (unix ms).
    RetryAt(u64),
    /// Finished: delivered, exhausted, or dropped (webhook gone or disabled).
    Finished,
    /// The receiver answered 410 Gone: finished, and the webhook is disabled.
    DisableWebhook,
}

/// Storage of webhooks and their outbox.
#[async_trait]
pub trait WebhookStore: Send + Sync + 'static {
    /// Stores a newly registered webhook.
    async fn insert_webhook(&self, webhook: &Webhook) -> Result<()>;
    /// Reads a webhook.
    async fn webhook(&self, id: Uuid) -> Result<Option<Webhook>>;
    /// Deletes a webhook and its history; its pending deliveries are dropped when claimed.
    /// Returns whether it existed.
    async fn delete_webhook(&self, id: Uuid) -> Result<bool>;
    /// Puts a delivery in the outbox, due now, unless one with its id exists (pending or
    /// finished): returns whether it was added.
    async fn enqueue(&self, delivery: &NewDelivery) -> Result<bool>;
    /// Claims up to `max` deliveries due at `now_ms` for `lease`.
    async fn claim(&self, now_ms: u64, max: usize, lease: Duration) -> Result<Vec<Claimed>>;
    /// Records `attempt` of a claimed delivery and what happens next, if `claimed.token` still
    /// holds the claim; returns whether it did.
    async fn record(&self, claimed: &Claimed, attempt: &Attempt, next: Next) -> Result<bool>;
    /// The last `limit` attempts of a webhook's deliveries, newest first.
    async fn attempts(&self, webhook: Uuid, limit: usize) -> Result<Vec<Attempt>>;
    /// Deliveries in the outbox (pending or claimed).
    async fn outbox_depth(&self) -> Result<u64>;
}
