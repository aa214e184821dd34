//! The event consumer `webhooks`: turns a final job that opted in (`webhookId`) into an outbox
//! delivery.
//!
//! It only writes to the outbox, never to the network, so a slow or dead receiver cannot hold
//! up the event log (or anything else). The delivery's id is derived from (webhook, job,
//! event) and the outbox ignores an id it has seen, so an event handed out twice (at least
//! once) adds one delivery.

use std::sync::Arc;

use async_trait::async_trait;
use notary_protocol::Verdict;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::store::{NewDelivery, WebhookStore};
use super::{delivery_id, WebhookEvent};
use crate::error::Result;
use crate::jobs::consumers::EventHandler;
use crate::record::JobRecord;
use crate::store::{JobEvent, JobStore};

/// The consumer (see the module docs).
pub struct WebhookConsumer {
    jobs: Arc<dyn JobStore>,
    webhooks: Arc<dyn WebhookStore>,
}

impl WebhookConsumer {
    /// A consumer reading job records from `jobs` and writing deliveries to `webhooks`.
    pub fn new(jobs: Arc<dyn JobStore>, webhooks: Arc<dyn WebhookStore>) -> Self {
        WebhookConsumer { jobs, webhooks }
    }
}

#[async_trait]
impl EventHandler for WebhookConsumer {
    fn name(&self) -> &'static str {
        "webhooks"
    }

    async fn handle(&self, event: &JobEvent) -> Result<()> {
        // Most jobs name no webhook: the event says so, no record read needed.
        if event.webhook_id.is_none() {
            return Ok(());
        }
        let Some(record) = self.jobs.get(event.job_id).await? else {
            return Ok(()); // past its retention
        };
        let (Some(webhook_id), Some(kind)) = (record.webhook_id, event_of(&record)) else {
            return Ok(());
        };
        let Some(webhook) = self.webhooks.webhook(webhook_id).await? else {
            return Ok(()); // deleted since
        };
        if !webhook.wants(kind) {
            return Ok(());
        }
        let final_at_ms = record.updated_at_ms();
        let delivery = NewDelivery {
            id: delivery_id(webhook_id, record.id(), kind),
            webhook_id,
            job_id: record.id(),
            event: kind,
            body: payload(&record, kind).to_string(),
            final_at_ms,
        };
        if self.webhooks.enqueue(&delivery).await? {
            tracing::info!(job_id = %record.id(), %webhook_id, delivery_id = %delivery.id, event = kind.as_str(), "webhook delivery queued");
        }
        Ok(())
    }
}

/// The webhook event of a final job: `verification.completed` for VALID or INVALID,
/// `verification.failed` for ERROR, TIMEOUT and infrastructure failures.
pub fn event_of(record: &JobRecord) -> Option<WebhookEvent> {
    let outcome = record.outcome.as_ref()?;
    Some(match outcome.result {
        Some(Verdict::Valid | Verdict::Invalid) => WebhookEvent::Completed,
        _ => WebhookEvent::Failed,
    })
}

/// Milliseconds rounded to microseconds, written as JavaScript writes numbers (`3`, not
/// `3.0`), so `JSON.stringify(JSON.parse(body))` gives the body back and document 002's
/// signature check (which hashes the re-serialized body) works too.
fn js_number(ms: f64) -> Value {
    let rounded = (ms * 1000.0).round() / 1000.0;
    if rounded.fract() == 0.0 && rounded.abs() < 9e15 {
        json!(rounded as i64)
    } else {
        json!(rounded)
    }
}

fn iso(ms: u64) -> Value {
    OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .map_or(Value::Null, Value::String)
}

/// The body: document 002's `{"event", "timestamp", "data": {"jobId", "result",
/// "expectedHash", "actualHash", ...}}` (the signature is in the headers, not the body).
pub fn payload(record: &JobRecord, event: WebhookEvent) -> Value {
    let outcome = record.outcome.as_ref();
    json!({
        "event": event.as_str(),
        "timestamp": iso(record.updated_at_ms()),
        "data": {
            "jobId": record.id(),
            "status": record.status().as_str(),
            "result": outcome.and_then(|o| o.result).map(|v| v.as_str()),
            "expectedHash": record.spec.expected_hash,
            "actualHash": outcome.and_then(|o| o.actual_hash),
            "taskType": record.spec.task_type.as_str(),
            "fuelUsed": outcome.map(|o| o.fuel_used),
            "executionTimeMs": outcome.map(|o| js_number(o.execution_ms)),
            "errorCode": outcome.and_then(|o| o.error_code.clone()),
            "errorMessage": outcome.and_then(|o| o.error_message.clone()),
            "refundEligible": outcome.map(|o| o.refund_eligible),
            "checkStatusAt": format!("/verify/{}", record.id()),
        }
    })
}
