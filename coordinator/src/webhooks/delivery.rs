//! The outbox worker: claims due deliveries, posts them, records each attempt and decides the
//! next step.
//!
//! It runs as its own task (started by [`crate::server`]), apart from job handling: a receiver
//! that is slow holds one of [`MAX_IN_FLIGHT`] attempt slots for at most the timeout, and a
//! receiver that is down costs a connection error. Outcomes: 2xx is delivered; 410 Gone
//! disables the webhook; anything else (another status, a timeout, a refused connection, an
//! address refused by the [`guard`](super::guard)) is a failure, retried after the next delay
//! of the schedule with ±10 % jitter (or later, if a 429/503 says `Retry-After`), and after the
//! schedule's last attempt the delivery is exhausted. The client follows no redirect and uses
//! no proxy.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE, RETRY_AFTER, USER_AGENT};
use reqwest::StatusCode;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::guard::{AddressPolicy, GuardedResolver};
use super::signing::{notary_signature, standard_key, standard_signature};
use super::store::{Attempt, Claimed, Next, WebhookStore};
use super::WebhookConfig;
use crate::error::{Error, Result};
use crate::record::now_ms;

/// Attempts in flight at once per coordinator: bounds the sockets and memory slow receivers
/// can hold.
pub const MAX_IN_FLIGHT: usize = 32;
/// Longest `Retry-After` honoured: a receiver cannot park a delivery for longer than the
/// schedule's longest step.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(86_400);
/// How often the outbox is polled when nothing was due.
const POLL: Duration = Duration::from_millis(100);
/// How long a stopping worker lets its attempts finish (their claims come back after the lease
/// otherwise).
const DRAIN: Duration = Duration::from_secs(5);

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// 2xx.
    Delivered,
    /// 410 Gone.
    Gone,
    /// Any other answer or no answer; the `Retry-After` it asked for, if any.
    Failed(Option<Duration>),
}

/// The outbox worker.
pub struct Deliverer {
    store: Arc<dyn WebhookStore>,
    client: reqwest::Client,
    policy: Arc<AddressPolicy>,
    schedule: Vec<Duration>,
    lease: Duration,
}

impl Deliverer {
    /// A worker over `store` with `config`'s schedule, address policy and timeout.
    pub fn new(store: Arc<dyn WebhookStore>, config: &WebhookConfig) -> Result<Self> {
        let policy = Arc::new(AddressPolicy::new(config.allow.clone()));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver::new(policy.clone())))
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(5)))
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| Error::Config(format!("webhook HTTP client: {e}")))?;
        Ok(Deliverer {
            store,
            client,
            policy,
            schedule: config.schedule.clone(),
            // Longer than an attempt can take, with room for recording it.
            lease: config.timeout + Duration::from_secs(30),
        })
    }

    /// Delivers until `stop`, then lets attempts in flight finish for a while.
    pub async fn run(self, stop: CancellationToken) {
        let this = Arc::new(self);
        let slots = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
        let mut running = JoinSet::new();
        let mut delay = POLL;
        let mut sampled = Instant::now() - Duration::from_secs(10);
        while !stop.is_cancelled() {
            while running.try_join_next().is_some() {}
            if sampled.elapsed() >= Duration::from_secs(1) {
                sampled = Instant::now();
                if let Ok(depth) = this.store.outbox_depth().await {
                    crate::metrics::webhook_outbox_depth(depth);
                }
            }
            let free = slots.available_permits();
            let claimed = if free == 0 {
                Ok(Vec::new())
            } else {
                this.store.claim(now_ms(), free, this.lease).await
            };
            let claimed = match claimed {
                Ok(c) => {
                    delay = POLL;
                    c
                }
                Err(e) => {
                    tracing::warn!(error = %e, "webhook outbox unavailable; backing off");
                    delay = (delay * 2).min(Duration::from_secs(5));
                    Vec::new()
                }
            };
            if claimed.is_empty() {
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = running.join_next(), if !running.is_empty() => {}
                    _ = stop.cancelled() => break,
                }
                continue;
            }
            for c in claimed {
                let permit = slots.clone().acquire_owned().await.expect("never closed");
                let this = this.clone();
                running.spawn(async move {
                    let _permit = permit;
                    this.deliver(c).await;
                });
            }
        }
        if tokio::time::timeout(DRAIN, async {
            while running.join_next().await.is_some() {}
        })
        .await
        .is_err()
        {
            tracing::warn!(
                left = running.len(),
                "stopping with webhook attempts in flight; they are made again after their lease"
            );
            running.abort_all();
        }
    }

    /// One attempt of a claimed delivery, recorded.
    async fn deliver(&self, claimed: Claimed) {
        let d = &claimed.delivery;
        let number = claimed.attempts + 1;
        let webhook = match self.store.webhook(d.webhook_id).await {
            Ok(w) => w,
            Err(e) => {
                // Left claimed: due again after the lease.
                tracing::warn!(delivery_id = %d.id, error = %e, "webhook store unavailable");
                return;
            }
        };
        let started_ms = now_ms();
        let started = Instant::now();
        let (status, error, outcome) = match &webhook {
            None => (None, Some("webhook deleted".to_string()), None),
            Some(w) if w.disabled => (None, Some("webhook disabled".to_string()), None),
            Some(w) => {
                let (status, error, outcome) = self.post(&w.url, &w.secret, &d.id, &d.body).await;
                (status, error, Some(outcome))
            }
        };
        let elapsed = started.elapsed();
        let (next, label) = match outcome {
            None => (Next::Finished, "dropped"),
            Some(Outcome::Delivered) => (Next::Finished, "delivered"),
            Some(Outcome::Gone) => (Next::DisableWebhook, "disabled"),
            Some(Outcome::Failed(retry_after)) => match self.schedule.get(number as usize) {
                Some(step) => {
                    let wait = jitter(*step).max(retry_after.unwrap_or_default());
                    (
                        Next::RetryAt(now_ms() + wait.as_millis() as u64),
                        "retrying",
                    )
                }
                None => (Next::Finished, "exhausted"),
            },
        };
        if outcome.is_some() {
            crate::metrics::webhook_attempt(
                match (status, outcome) {
                    (_, Some(Outcome::Delivered)) => "success",
                    (Some(_), _) => "http_error",
                    _ => "network_error",
                },
                elapsed,
            );
        }
        let attempt = Attempt {
            delivery_id: d.id.clone(),
            job_id: d.job_id,
            event: d.event,
            attempt: number,
            at_ms: started_ms,
            status_code: status,
            error,
            duration_ms: elapsed.as_millis() as u64,
        };
        match self.store.record(&claimed, &attempt, next).await {
            Ok(true) => {
                if label != "retrying" {
                    crate::metrics::webhook_delivery(label, now_ms().saturating_sub(d.final_at_ms));
                }
                tracing::info!(
                    delivery_id = %d.id,
                    webhook_id = %d.webhook_id,
                    job_id = %d.job_id,
                    attempt = number,
                    status = ?status,
                    error = attempt.error.as_deref().unwrap_or(""),
                    outcome = label,
                    "webhook attempt"
                );
            }
            Ok(false) => {
                tracing::warn!(delivery_id = %d.id, "webhook claim lost before the attempt was recorded (lease expired)")
            }
            Err(e) => {
                tracing::warn!(delivery_id = %d.id, error = %e, "recording a webhook attempt failed; it is made again after the lease")
            }
        }
    }

    /// Posts `body` to `url`, signed. Never logs the URL or the secret.
    async fn post(
        &self,
        url: &str,
        secret: &str,
        id: &str,
        body: &str,
    ) -> (Option<u16>, Option<String>, Outcome) {
        // An IP literal is not resolved, so it is checked here; names are checked by the
        // client's resolver on every connection.
        if let Err(e) = self.policy.check_url(url) {
            return (None, Some(e.to_string()), Outcome::Failed(None));
        }
        let timestamp = now_ms() / 1000;
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(USER_AGENT, HeaderValue::from_static("Notary-Webhooks/1"));
        let values = [
            (
                "x-notary-signature",
                notary_signature(secret, body.as_bytes()),
            ),
            ("webhook-id", id.to_string()),
            ("webhook-timestamp", timestamp.to_string()),
            (
                "webhook-signature",
                standard_signature(&standard_key(secret), id, timestamp, body.as_bytes()),
            ),
        ];
        for (name, value) in values {
            headers.insert(
                name,
                HeaderValue::from_str(&value).expect("ASCII header value"),
            );
        }
        let sent = self
            .client
            .post(url)
            .headers(headers)
            .body(body.to_string())
            .send()
            .await;
        match sent {
            Ok(resp) => {
                let status = resp.status();
                let retry_after = retry_after(resp.headers());
                // The answer's body is not needed; dropping it closes or reuses the connection.
                drop(resp);
                let outcome = if status.is_success() {
                    Outcome::Delivered
                } else if status == StatusCode::GONE {
                    Outcome::Gone
                } else if status == StatusCode::TOO_MANY_REQUESTS
                    || status == StatusCode::SERVICE_UNAVAILABLE
                {
                    Outcome::Failed(retry_after)
                } else {
                    Outcome::Failed(None)
                };
                (Some(status.as_u16()), None, outcome)
            }
            Err(e) => (None, Some(describe(e)), Outcome::Failed(None)),
        }
    }
}

/// A request error for the history and logs: its causes, without the URL.
fn describe(e: reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else {
        "request"
    };
    let e = e.without_url();
    let mut text = kind.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// `Retry-After` in seconds (the HTTP-date form is not honoured: the schedule applies).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let secs: u64 = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER))
}

/// `step` ±10 %, so receivers that failed together are not retried together.
fn jitter(step: Duration) -> Duration {
    if step.is_zero() {
        return step;
    }
    step.mul_f64(rand::thread_rng().gen_range(0.9..1.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_ten_percent() {
        for _ in 0..100 {
            let j = jitter(Duration::from_secs(100));
            assert!(
                j >= Duration::from_secs(90) && j <= Duration::from_secs(110),
                "{j:?}"
            );
        }
        assert_eq!(jitter(Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn retry_after_takes_seconds_and_is_capped() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("99999999"));
        assert_eq!(retry_after(&h), Some(MAX_RETRY_AFTER));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }
}
