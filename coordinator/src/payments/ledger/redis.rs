//! The payment ledger in Redis, shared by every coordinator of a fleet, under `<prefix>pay:`:
//!
//! - `pending:<jobId>`: a job that answered 402 and waits for its payment (`SET PX`);
//! - `used:<payment>`: the job a payment paid for. Set once, never expires;
//! - `job:<jobId>`: a hash with the job's `payment`, `settlement`, `registryAttempt` and
//!   `refundRaw`;
//! - `payer:<address>`: the payer's unfinished jobs (a set);
//! - `open`: paid jobs not settled yet (a set);
//! - `settling:<jobId>`: the settling lock (`SET NX PX`, value: the owner token);
//! - `stats` (hash of counters), `stats:counted` (the jobs counted), `up:since` and
//!   `up:minutes` (the minutes served);
//! - `onchain:<contract>:open` (hash: request id → request), `onchain:<contract>:closed` (a
//!   set of request ids) and `onchain:<contract>:cursor` (the next block to scan).
//!
//! Multi-key operations are Lua scripts, so each is atomic across replicas.

use std::collections::HashMap;
use std::time::Duration;

use alloy::primitives::{Address, U256};
use async_trait::async_trait;
use notary_queue::RedisLink;
use uuid::Uuid;

use super::{Consumed, JobField, PaymentLedger, StatsCounters, StatsEntry};
use crate::compute::onchain::OnchainRequest;
use crate::error::{Error, Result};
use crate::payments::{Payment, PendingJob, Settlement};

const TAKE_SLOT: &str = r"if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 1 end
              if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
              redis.call('SADD', KEYS[1], ARGV[1])
              return 1";

const CONSUME: &str = r"if redis.call('HEXISTS', KEYS[2], 'payment') == 1 then return '=' end
              local cur = redis.call('GET', KEYS[1])
              if cur and cur ~= ARGV[1] then return cur end
              redis.call('SET', KEYS[1], ARGV[1])
              redis.call('HSET', KEYS[2], 'payment', ARGV[2])
              redis.call('SADD', KEYS[3], ARGV[1])
              redis.call('DEL', KEYS[4])
              return ''";

const RESERVE: &str = r"local cur = redis.call('GET', KEYS[1])
              if cur and cur ~= ARGV[1] then return cur end
              redis.call('SET', KEYS[1], ARGV[1])
              return ''";

const COUNT: &str = r"if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then return 0 end
              redis.call('HINCRBY', KEYS[1], 'total', 1)
              redis.call('HINCRBY', KEYS[1], 'delivered', ARGV[2])
              redis.call('HINCRBY', KEYS[1], 'durationMs', ARGV[3])
              redis.call('HINCRBY', KEYS[1], 'revenueGwei', ARGV[4])
              redis.call('HINCRBY', KEYS[1], 'revenueTokenUnits', ARGV[5])
              return 1";

const CLOSE: &str = r"redis.call('SREM', KEYS[1], ARGV[1])
              redis.call('SREM', KEYS[2], ARGV[1])
              return 1";

const UNLOCK: &str = r"if redis.call('GET', KEYS[1]) == ARGV[1] then
                return redis.call('DEL', KEYS[1])
              end
              return 0";

/// Stores requests (ARGV pairs of id and body after the block) unless open or closed, and
/// moves the cursor forward only.
const RECORD_ONCHAIN: &str = r"for i = 2, #ARGV, 2 do
                if redis.call('SISMEMBER', KEYS[2], ARGV[i]) == 0 then
                  redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1])
                end
              end
              local cur = tonumber(redis.call('GET', KEYS[3]) or '0')
              if tonumber(ARGV[1]) > cur then redis.call('SET', KEYS[3], ARGV[1]) end
              return 1";

const CLOSE_ONCHAIN: &str = r"redis.call('SADD', KEYS[2], ARGV[1])
              redis.call('HDEL', KEYS[1], ARGV[1])
              return 1";

/// The payment ledger in Redis.
pub struct RedisLedger {
    conn: RedisLink,
    prefix: String,
}

fn redis_err(e: redis::RedisError) -> Error {
    Error::redis(e)
}

impl RedisLedger {
    /// Connects to Redis (failing now if it cannot be reached) with keys under `prefix`.
    pub async fn connect(url: &str, prefix: &str) -> Result<RedisLedger> {
        let conn = crate::redis_conn::link(url, Duration::from_secs(5))?;
        conn.resolve().await.map_err(redis_err)?;
        Ok(RedisLedger {
            conn,
            prefix: prefix.to_string(),
        })
    }

    fn key(&self, rest: &str) -> String {
        format!("{}pay:{rest}", self.prefix)
    }

    fn onchain_key(&self, contract: Address, rest: &str) -> String {
        self.key(&format!("onchain:{contract}:{rest}"))
    }

    fn job_key(&self, job: Uuid) -> String {
        self.key(&format!("job:{job}"))
    }
}

#[async_trait]
impl PaymentLedger for RedisLedger {
    async fn put_pending(&self, pending: &PendingJob, ttl: Duration) -> Result<()> {
        let mut conn = self.conn.clone();
        redis::cmd("SET")
            .arg(self.key(&format!("pending:{}", pending.record.id())))
            .arg(serde_json::to_string(pending)?)
            .arg("PX")
            .arg(ttl.as_millis().max(1) as u64)
            .query_async::<()>(&mut conn)
            .await
            .map_err(redis_err)
    }

    async fn pending(&self, job: Uuid) -> Result<Option<PendingJob>> {
        let mut conn = self.conn.clone();
        let text: Option<String> = redis::cmd("GET")
            .arg(self.key(&format!("pending:{job}")))
            .query_async(&mut conn)
            .await
            .map_err(redis_err)?;
        Ok(match text {
            Some(t) => Some(serde_json::from_str(&t)?),
            None => None,
        })
    }

    async fn used_by(&self, used: &str) -> Result<Option<String>> {
        let mut conn = self.conn.clone();
        redis::cmd("GET")
            .arg(self.key(used))
            .query_async(&mut conn)
            .await
            .map_err(redis_err)
    }

    async fn reserve(&self, used: &str, job: Uuid) -> Result<std::result::Result<(), String>> {
        let mut conn = self.conn.clone();
        let cur: String = redis::Script::new(RESERVE)
            .key(self.key(used))
            .arg(job.to_string())
            .invoke_async(&mut conn)
            .await
            .map_err(redis_err)?;
        Ok(if cur.is_empty() { Ok(()) } else { Err(cur) })
    }

    async fn unreserve(&self, used: &str) -> Result<()> {
        let mut conn = self.conn.clone();
        redis::cmd("DEL")
            .arg(self.key(used))
            .query_async::<()>(&mut conn)
            .await
            .map_err(redis_err)
    }

    async fn consume(&self, job: Uuid, payment: &Payment, used: &str) -> Result<Consumed> {
        let mut conn = self.conn.clone();
        let outcome: String = redis::Script::new(CONSUME)
            .key(self.key(used))
            .key(self.job_key(job))
            .key(self.key("open"))
            .key(self.key(&format!("pending:{job}")))
            .arg(job.to_string())
            .arg(serde_json::to_string(payment)?)
            .invoke_async(&mut conn)
            .await
            .map_err(redis_err)?;
        Ok(match outcome.as_str() {
            "" => Consumed::Done,
            "=" => Consumed::AlreadyPaid,
            _ => Consumed::UsedBy(outcome),
        })
    }

    async fn job_payment(&self, job: Uuid) -> Result<Option<(Payment, Settlement)>> {
        let mut conn = self.conn.clone();
        let (payment, settlement): (Option<String>, Option<String>) = redis::cmd("HMGET")
            .arg(self.job_key(job))
            .arg("payment")
            .arg("settlement")
            .query_async(&mut conn)
            .await
            .map_err(redis_err)?;
        let Some(payment) = payment else {
            return Ok(None);
        };
        let settlement = match settlement {
            Some(s) => serde_json::from_str(&s)?,
            None => Settlement::default(),
        };
        Ok(Some((serde_json::from_str(&payment)?, settlement)))
    }

    async fn save_settlement(&self, job: Uuid, settlement: &Settlement) -> Result<()> {
        self.set_field(job, "settlement", &serde_json::to_string(settlement)?)
            .await
    }

    async fn job_field(&self, job: Uuid, field: JobField) -> Result<Option<String>> {
        let mut conn = self.conn.clone();
        redis::cmd("HGET")
            .arg(self.job_key(job))
            .arg(field.name())
            .query_async(&mut conn)
            .await
            .map_err(redis_err)
    }

    async fn set_job_field(&self, job: Uuid, field: JobField, value: &str) -> Result<()> {
        self.set_field(job, field.name(), value).await
    }

    async fn clear_job_field(&self, job: Uuid, field: JobField) -> Result<()> {
        let mut conn = self.conn.clone();
        redis::cmd("HDEL")
            .arg(self.job_key(job))
            .arg(field.name())
            .query_async::<()>(&mut conn)
            .await
            .map_err(redis_err)
    }

    async fn take_payer_slot(&self, payer: Address, job: Uuid, max: usize) -> Result<bool> {
        let mut conn = self.conn.clone();
        let taken: i64 = redis::Script::new(TAKE_SLOT)
            .key(self.key(&format!("payer:{payer}")))
            .arg(job.to_string())
            .arg(max)
            .invoke_async(&mut conn)
            .await
            .map_err(redis_err)?;
        Ok(taken == 1)
    }

    async fn release_payer_slot(&self, payer: Address, job: Uuid) -> Result<()> {
        let mut conn = self.conn.clone();
        redis::cmd("SREM")
            .arg(self.key(&format!("payer:{payer}")))
            .arg(job.to_string())
            .query_async::<()>(&mut conn)
            .await
            .map_err(redis_err)
    }

    async fn open_jobs(&self) -> Result<Vec<Uuid>> {
        let mut conn = self.conn.clone();
        let open: Vec<String> = redis::cmd("SMEMBERS")
            .arg(self.key("open"))
            .query_async(&mut conn)
            .await
            .map_err(redis_err)?;
        Ok(open
            .iter()
            .filter_map(|id| Uuid::parse_str(id).ok())
            .collect())
    }

    async fn close(&self, job: Uuid, payer: Address) -> Result<()> {
        let mut conn = self.conn.clone();
        redis::Script::new(CLOSE)
            .key(self.key("open"))
            .key(self.key(&format!("payer:{payer}")))
            .arg(job.to_string())
            .invoke_async::<i64>(&mut conn)
            .await
            .map_err(redis_err)?;
        Ok(())
    }

    async fn lock_settling(&self, job: Uuid, owner: &str, ttl: Duration) -> Result<bool> {
        let mut conn = self.conn.clone();
        let got: Option<String> = redis::cmd("SET")
            .arg(self.key(&format!("settling:{job}")))
            .arg(owner)
            .arg("NX")
            .arg("PX")
            .arg(ttl.as_millis().max(1) as u64)
            .query_async(&mut conn)
            .await
            .map_err(redis_err)?;
        Ok(got.is_some())
    }

    async fn unlock_settling(&self, job: Uuid, owner: &str) -> Result<()> {
        let mut conn = self.conn.clone();
        redis::Script::new(UNLOCK)
            .key(self.key(&format!("settling:{job}")))
            .arg(owner)
            .invoke_async::<i64>(&mut conn)
            .await
            .map_err(redis_err)?;
        Ok(())
    }

    async fn count(&self, job: Uuid, entry: StatsEntry) -> Result<bool> {
        let mut conn = self.conn.clone();
        let counted: i64 = redis::Script::new(COUNT)
            .key(self.key("stats"))
            .key(self.key("stats:counted"))
            .arg(job.to_string())
            .arg(i64::from(entry.delivered))
            .arg(entry.duration_ms)
            .arg(entry.revenue_gwei)
            .arg(entry.revenue_token_units)
            .invoke_async(&mut conn)
            .await
            .map_err(redis_err)?;
        Ok(counted == 1)
    }

    async fn counters(&self) -> Result<StatsCounters> {
        let mut conn = self.conn.clone();
        let (fields, since, minutes): (HashMap<String, i64>, Option<u64>, u64) = redis::pipe()
            .hgetall(self.key("stats"))
            .get(self.key("up:since"))
            .scard(self.key("up:minutes"))
            .query_async(&mut conn)
            .await
            .map_err(redis_err)?;
        let get = |k: &str| fields.get(k).copied().unwrap_or(0);
        Ok(StatsCounters {
            total: get("total"),
            delivered: get("delivered"),
            duration_ms: get("durationMs"),
            revenue_gwei: get("revenueGwei"),
            revenue_token_units: get("revenueTokenUnits"),
            up_since: since,
            up_minutes: minutes,
        })
    }

    async fn beat(&self, minute: u64) -> Result<()> {
        let mut conn = self.conn.clone();
        redis::pipe()
            .cmd("SET")
            .arg(self.key("up:since"))
            .arg(minute)
            .arg("NX")
            .ignore()
            .sadd(self.key("up:minutes"), minute)
            .ignore()
            .query_async::<()>(&mut conn)
            .await
            .map_err(redis_err)
    }

    async fn onchain_cursor(&self, contract: Address) -> Result<Option<u64>> {
        let mut conn = self.conn.clone();
        redis::cmd("GET")
            .arg(self.onchain_key(contract, "cursor"))
            .query_async(&mut conn)
            .await
            .map_err(redis_err)
    }

    async fn record_onchain(
        &self,
        contract: Address,
        requests: &[OnchainRequest],
        next_block: u64,
    ) -> Result<()> {
        let mut conn = self.conn.clone();
        let record = redis::Script::new(RECORD_ONCHAIN);
        let mut script = record.prepare_invoke();
        script
            .key(self.onchain_key(contract, "open"))
            .key(self.onchain_key(contract, "closed"))
            .key(self.onchain_key(contract, "cursor"))
            .arg(next_block);
        for r in requests {
            script
                .arg(r.request_id.to_string())
                .arg(serde_json::to_string(r)?);
        }
        script
            .invoke_async::<()>(&mut conn)
            .await
            .map_err(redis_err)
    }

    async fn open_onchain(&self, contract: Address) -> Result<Vec<OnchainRequest>> {
        let mut conn = self.conn.clone();
        let bodies: Vec<String> = redis::cmd("HVALS")
            .arg(self.onchain_key(contract, "open"))
            .query_async(&mut conn)
            .await
            .map_err(redis_err)?;
        super::requests_by_id(&bodies)
    }

    async fn close_onchain(&self, contract: Address, request: U256) -> Result<()> {
        let mut conn = self.conn.clone();
        redis::Script::new(CLOSE_ONCHAIN)
            .key(self.onchain_key(contract, "open"))
            .key(self.onchain_key(contract, "closed"))
            .arg(request.to_string())
            .invoke_async::<()>(&mut conn)
            .await
            .map_err(redis_err)
    }
}

impl RedisLedger {
    async fn set_field(&self, job: Uuid, field: &str, value: &str) -> Result<()> {
        let mut conn = self.conn.clone();
        redis::cmd("HSET")
            .arg(self.job_key(job))
            .arg(field)
            .arg(value)
            .query_async::<()>(&mut conn)
            .await
            .map_err(redis_err)
    }
}
