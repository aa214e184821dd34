//! Webhooks and their outbox in Redis, shared by every coordinator replica.
//!
//! Keys, under the configured prefix:
//! - `webhook:{id}`: a hash with `webhook` (the registration, JSON) and `disabled` once a
//!   receiver answered 410;
//! - `webhook:{id}:attempts`: the attempt history, newest first, trimmed;
//! - `webhooks:delivery:{delivery id}`: a hash with `delivery` (JSON), `attempts`, the claim
//!   `token`, and `finished` once done (then it expires after [`FINISHED_RETENTION`], keeping
//!   the id taken so a re-delivered event adds nothing meanwhile);
//! - `webhooks:due`: a sorted set of pending delivery ids by due time (unix ms).
//!
//! Every multi-key step is one Lua script, so it is atomic across replicas: `ENQUEUE` adds a
//! delivery only if its id is new; `CLAIM` takes the due ids and pushes each one's score
//! forward by the lease with a fresh token (a crashed claimer's deliveries come back when
//! the lease ends); `RECORD` applies an attempt only under the caller's token.

use std::time::Duration;

use async_trait::async_trait;
use notary_queue::RedisLink;
use redis::{AsyncCommands, Script};
use uuid::Uuid;

use super::{
    Attempt, Claimed, NewDelivery, Next, WebhookStore, FINISHED_RETENTION, MAX_ATTEMPTS_KEPT,
};
use crate::error::{Error, Result};
use crate::webhooks::Webhook;

const ENQUEUE: &str = r#"
if redis.call('HSETNX', KEYS[1], 'delivery', ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'attempts', 0)
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1
"#;

const CLAIM: &str = r#"
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for i, id in ipairs(ids) do
  local key = ARGV[4] .. id
  local d = redis.call('HMGET', key, 'delivery', 'attempts', 'finished')
  if d[1] and not d[3] then
    redis.call('ZADD', KEYS[1], ARGV[3], id)
    redis.call('HSET', key, 'token', ARGV[4 + i])
    table.insert(out, d[1])
    table.insert(out, d[2] or '0')
    table.insert(out, ARGV[4 + i])
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out
"#;

const RECORD: &str = r#"
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return 0 end
redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('HDEL', KEYS[1], 'token')
if ARGV[3] == 'retry' then
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[2])
else
  redis.call('ZREM', KEYS[2], ARGV[2])
  redis.call('HSET', KEYS[1], 'finished', '1')
  redis.call('PEXPIRE', KEYS[1], ARGV[7])
end
if redis.call('EXISTS', KEYS[4]) == 1 then
  redis.call('LPUSH', KEYS[3], ARGV[5])
  redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[6]) - 1)
  if ARGV[3] == 'disable' then redis.call('HSET', KEYS[4], 'disabled', '1') end
end
return 1
"#;

/// Webhooks and their outbox in Redis.
pub struct RedisWebhooks {
    conn: RedisLink,
    prefix: String,
    enqueue: Script,
    claim: Script,
    record: Script,
}

impl RedisWebhooks {
    /// Builds the store without touching Redis (the first command connects). Fails only on a
    /// malformed URL.
    pub fn new_lazy(url: &str, prefix: &str) -> Result<std::sync::Arc<Self>> {
        let conn = crate::redis_conn::link(url, Duration::from_secs(2))?;
        Ok(std::sync::Arc::new(RedisWebhooks {
            conn,
            prefix: prefix.to_string(),
            enqueue: Script::new(ENQUEUE),
            claim: Script::new(CLAIM),
            record: Script::new(RECORD),
        }))
    }

    fn webhook_key(&self, id: Uuid) -> String {
        format!("{}webhook:{id}", self.prefix)
    }

    fn attempts_key(&self, id: Uuid) -> String {
        format!("{}webhook:{id}:attempts", self.prefix)
    }

    fn delivery_prefix(&self) -> String {
        format!("{}webhooks:delivery:", self.prefix)
    }

    fn due_key(&self) -> String {
        format!("{}webhooks:due", self.prefix)
    }
}

#[async_trait]
impl WebhookStore for RedisWebhooks {
    async fn insert_webhook(&self, webhook: &Webhook) -> Result<()> {
        let mut conn = self.conn.clone();
        let body = serde_json::to_string(webhook)?;
        let _: () = conn
            .hset(self.webhook_key(webhook.id), "webhook", body)
            .await
            .map_err(Error::redis)?;
        Ok(())
    }

    async fn webhook(&self, id: Uuid) -> Result<Option<Webhook>> {
        let mut conn = self.conn.clone();
        let (body, disabled): (Option<String>, Option<String>) = redis::cmd("HMGET")
            .arg(self.webhook_key(id))
            .arg("webhook")
            .arg("disabled")
            .query_async(&mut conn)
            .await
            .map_err(Error::redis)?;
        let Some(body) = body else { return Ok(None) };
        let mut webhook: Webhook = serde_json::from_str(&body)?;
        webhook.disabled |= disabled.is_some();
        Ok(Some(webhook))
    }

    async fn delete_webhook(&self, id: Uuid) -> Result<bool> {
        let mut conn = self.conn.clone();
        let n: u64 = conn
            .del(&[self.webhook_key(id), self.attempts_key(id)])
            .await
            .map_err(Error::redis)?;
        Ok(n > 0)
    }

    async fn enqueue(&self, delivery: &NewDelivery) -> Result<bool> {
        let mut conn = self.conn.clone();
        let added: i64 = self
            .enqueue
            .key(format!("{}{}", self.delivery_prefix(), delivery.id))
            .key(self.due_key())
            .arg(serde_json::to_string(delivery)?)
            .arg(crate::record::now_ms())
            .arg(&delivery.id)
            .invoke_async(&mut conn)
            .await
            .map_err(Error::redis)?;
        Ok(added == 1)
    }

    async fn claim(&self, now_ms: u64, max: usize, lease: Duration) -> Result<Vec<Claimed>> {
        let mut conn = self.conn.clone();
        let mut invocation = self.claim.key(self.due_key());
        invocation
            .arg(now_ms)
            .arg(max)
            .arg(now_ms + lease.as_millis() as u64)
            .arg(self.delivery_prefix());
        for _ in 0..max {
            invocation.arg(Uuid::new_v4().to_string());
        }
        let flat: Vec<String> = invocation
            .invoke_async(&mut conn)
            .await
            .map_err(Error::redis)?;
        flat.chunks_exact(3)
            .map(|c| {
                Ok(Claimed {
                    delivery: serde_json::from_str(&c[0])?,
                    attempts: c[1].parse().unwrap_or(0),
                    token: c[2].clone(),
                })
            })
            .collect()
    }

    async fn record(&self, claimed: &Claimed, attempt: &Attempt, next: Next) -> Result<bool> {
        let mut conn = self.conn.clone();
        let webhook = claimed.delivery.webhook_id;
        let (mode, due) = match next {
            Next::RetryAt(at) => ("retry", at),
            Next::Finished => ("finish", 0),
            Next::DisableWebhook => ("disable", 0),
        };
        let applied: i64 = self
            .record
            .key(format!("{}{}", self.delivery_prefix(), claimed.delivery.id))
            .key(self.due_key())
            .key(self.attempts_key(webhook))
            .key(self.webhook_key(webhook))
            .arg(&claimed.token)
            .arg(&claimed.delivery.id)
            .arg(mode)
            .arg(due)
            .arg(serde_json::to_string(attempt)?)
            .arg(MAX_ATTEMPTS_KEPT)
            .arg(FINISHED_RETENTION.as_millis() as u64)
            .invoke_async(&mut conn)
            .await
            .map_err(Error::redis)?;
        Ok(applied == 1)
    }

    async fn attempts(&self, webhook: Uuid, limit: usize) -> Result<Vec<Attempt>> {
        let mut conn = self.conn.clone();
        let stop = limit.max(1) as isize - 1;
        let rows: Vec<String> = conn
            .lrange(self.attempts_key(webhook), 0, stop)
            .await
            .map_err(Error::redis)?;
        rows.iter().map(|r| Ok(serde_json::from_str(r)?)).collect()
    }

    async fn outbox_depth(&self) -> Result<u64> {
        let mut conn = self.conn.clone();
        conn.zcard(self.due_key()).await.map_err(Error::redis)
    }
}
