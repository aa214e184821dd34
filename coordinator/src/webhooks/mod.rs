//! Webhooks (issue 10): a client registers a URL with a secret, names it in a job's
//! `webhookId`, and receives a signed `POST` when that job is final.
//!
//! ```text
//!  event log ──▶ consumer ("webhooks") ──▶ outbox (WebhookStore) ──▶ delivery worker ──▶ receiver
//!  (final jobs)   one delivery per          durable, leased claims    15 s per attempt,
//!                 (webhook, job, event)                               retries on a schedule
//! ```
//!
//! - [`consumer`]: reads final jobs from the event log under its own name and inserts one
//!   delivery per (webhook, job, event) into the outbox, idempotently: a re-delivered event
//!   adds nothing.
//! - [`store`]: webhooks, the outbox and the attempt history ([`WebhookStore`]), in SQLite
//!   (embedded) or Redis (fleet).
//! - [`delivery`]: the outbox worker, its own task: claims due deliveries with a lease, posts
//!   them, records each attempt and schedules the next.
//! - [`signing`]: `x-notary-signature` (document 002's HMAC) and the Standard Webhooks headers.
//! - [`guard`]: which URLs and addresses a delivery may reach.
//! - [`settings`]: flags, environment and the `[webhooks]` table.
//!
//! # Guarantees
//!
//! At least once: the event log hands each final job to the consumer until it acknowledges,
//! the consumer acknowledges only after the outbox insert is committed, and a delivery leaves
//! the outbox only after a 2xx (or a 410, or the last retry) is recorded. A coordinator that
//! dies holding a claim loses nothing: the claim is a lease, and the delivery is due again when
//! it expires. Several coordinators share the outbox and claim atomically, so each attempt is
//! made by one of them. The `webhook-id` header is the delivery's id, derived from
//! (webhook, job, event) and the same on every retry, so a receiver can drop the duplicates
//! that at-least-once allows (a crash between the receiver's 2xx and its recording).
//!
//! # Threat model of each limit
//!
//! - **Server-side request forgery.** The coordinator sits inside a network; a webhook URL is
//!   a request the client makes it send. Only `http` and `https`; loopback, RFC 1918, CGNAT,
//!   link-local (with the cloud metadata address 169.254.169.254), unique-local, multicast,
//!   unspecified and IPv4-mapped forms of those are refused unless `--webhook-allow-network`
//!   opens them. The check is made at registration (an early 400) and again on *the address
//!   actually connected to* at every attempt ([`guard::GuardedResolver`]), so a DNS record
//!   changed after registration (DNS rebinding) does not get around it. Redirects are not
//!   followed (a public URL could answer `307 Location: http://169.254.169.254/`) and no proxy
//!   from the environment is used (it would resolve the name instead of us).
//! - **Credentials in URLs** are refused at registration: they would end up in logs and in the
//!   listing; a receiver authenticates us by the signature instead.
//! - **A slow or dead receiver** holds one attempt for at most the timeout (15 s), never the
//!   job's life: deliveries run in their own task from the outbox, not in job handling, and at
//!   most [`delivery::MAX_IN_FLIGHT`] at once per coordinator.
//! - **A receiver that never recovers** costs the schedule's attempts (10 over about 3 days
//!   by default), then the delivery is marked exhausted; `410 Gone` disables the webhook at
//!   once. `Retry-After` on 429/503 is honoured up to [`delivery::MAX_RETRY_AFTER`].
//! - **Secrets** are at least 24 bytes (guessing an HMAC key must be hopeless), are never
//!   logged, and authorize the management routes (`authorization: Bearer <secret>`), compared
//!   in constant time. Unknown ids and wrong secrets both answer 401, so ids cannot be probed.
//! - **Stored history** is bounded: the last [`store::MAX_ATTEMPTS_KEPT`] attempts per webhook.

pub mod consumer;
pub mod delivery;
pub mod guard;
pub mod settings;
pub mod signing;
pub mod special;
pub mod store;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use self::settings::{WebhookConfig, WebhookSettings};
pub use self::store::{RedisWebhooks, SqliteWebhooks, WebhookStore};

/// An event a webhook can subscribe to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WebhookEvent {
    /// The job completed with a verdict: VALID or INVALID.
    #[serde(rename = "verification.completed")]
    Completed,
    /// The job failed: ERROR, TIMEOUT, or an infrastructure failure.
    #[serde(rename = "verification.failed")]
    Failed,
}

impl WebhookEvent {
    /// Every event, in the API's order.
    pub const ALL: [WebhookEvent; 2] = [WebhookEvent::Completed, WebhookEvent::Failed];

    /// The API name.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEvent::Completed => "verification.completed",
            WebhookEvent::Failed => "verification.failed",
        }
    }

    /// The event of an API name.
    pub fn parse(s: &str) -> Option<WebhookEvent> {
        WebhookEvent::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// A registered webhook.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Webhook {
    /// Its id (random: knowing it is what lets a job name it).
    pub id: Uuid,
    /// Where deliveries go.
    pub url: String,
    /// The events it receives.
    pub events: Vec<WebhookEvent>,
    /// The signing secret exactly as registered (also the management credential).
    pub secret: String,
    /// When it was registered (unix ms).
    pub created_at_ms: u64,
    /// Set when a receiver answered 410 Gone: nothing more is sent.
    #[serde(default)]
    pub disabled: bool,
}

impl Webhook {
    /// Whether it receives `event`.
    pub fn wants(&self, event: WebhookEvent) -> bool {
        !self.disabled && self.events.contains(&event)
    }
}

/// The `webhook-id` of the delivery of `event` for `job` to `webhook`: the same for every
/// retry and for a re-delivered event, so it is both the outbox key and the receiver's
/// deduplication key.
pub fn delivery_id(webhook: Uuid, job: Uuid, event: WebhookEvent) -> String {
    let digest = notary_protocol::sha256(format!("{webhook}:{job}:{}", event.as_str()).as_bytes());
    format!("msg_{}", &digest.to_hex()[..32])
}
