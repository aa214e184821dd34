//! The worker book in Redis, shared by a fleet's coordinators. Keys under the prefix:
//! `worker:<address>` (hash: `jobs`, `agreements`, `dissents`, `suspendedAt`),
//! `worker:<address>:dissents` (sorted set of dissent times, trimmed to the window) and
//! `workers` (set of booked and registered addresses), `workers:suspended` (set). A Lua script
//! books a vote and decides the suspension in one step.
//!
//! Registrations live in the same `worker:<address>` hash (`role:provider`, `role:verifier`,
//! `configHash`, `engine`, `description`, `approved`, `registeredAt`, `updatedAt`), with
//! `workers:approved` (set) for the eligibility check; a Lua script upserts one. A provider's
//! services are the hash `worker:<address>:services`: `service:<id>` (JSON) and
//! `created:<id>` (unix ms, set once), written together by a script. Earnings are the hash
//! `worker:<address>:earnings` (`job:<id>`: units, set once; `total`), credited by a script.

use std::collections::HashSet;
use std::time::Duration;

use async_trait::async_trait;
use notary_protocol::{Address, Digest32};
use notary_queue::RedisLink;
use redis::Script;

use super::{
    Booked, Registered, Registration, Role, Service, SuspensionRule, Vote, WorkerBook, WorkerStats,
};
use crate::error::{Error, Result};
use crate::record::now_ms;

/// KEYS: worker, its dissents, workers, suspended. ARGV: agreed (0/1), dissented (0/1), at ms,
/// window start ms, max dissents, address. Returns 1 when it suspended the worker now.
const RECORD: &str = r#"
redis.call('HINCRBY', KEYS[1], 'jobs', 1)
redis.call('HINCRBY', KEYS[1], 'agreements', ARGV[1])
redis.call('HINCRBY', KEYS[1], 'dissents', ARGV[2])
redis.call('SADD', KEYS[3], ARGV[6])
if ARGV[2] == '0' then return 0 end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[3] .. ':' .. redis.call('HGET', KEYS[1], 'dissents'))
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[4])
if redis.call('ZCARD', KEYS[2]) > tonumber(ARGV[5]) and redis.call('HSETNX', KEYS[1], 'suspendedAt', ARGV[3]) == 1 then
  redis.call('SADD', KEYS[4], ARGV[6])
  return 1
end
return 0
"#;

/// KEYS: worker, its dissents, suspended. ARGV: address. Returns 1 if it was suspended.
const UNSUSPEND: &str = r#"
if redis.call('HDEL', KEYS[1], 'suspendedAt') == 0 then return 0 end
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[3], ARGV[1])
return 1
"#;

/// KEYS: worker, workers, approved. ARGV: address, role, config hash, engine, description
/// ('' for none), approve (0/1), at ms. Returns 1 for a first registration.
const REGISTER: &str = r#"
local first = redis.call('HSETNX', KEYS[1], 'registeredAt', ARGV[7])
redis.call('HSET', KEYS[1], 'role:' .. ARGV[2], '1', 'configHash', ARGV[3], 'engine', ARGV[4],
  'updatedAt', ARGV[7])
if ARGV[5] == '' then
  redis.call('HDEL', KEYS[1], 'description')
else
  redis.call('HSET', KEYS[1], 'description', ARGV[5])
end
redis.call('SADD', KEYS[2], ARGV[1])
if ARGV[6] == '1' then
  redis.call('HSET', KEYS[1], 'approved', '1')
  redis.call('SADD', KEYS[3], ARGV[1])
end
return first
"#;

/// KEYS: worker, approved. ARGV: address. Returns 1 if the worker is registered (now approved).
const APPROVE: &str = r#"
if redis.call('HEXISTS', KEYS[1], 'registeredAt') == 0 then return 0 end
redis.call('HSET', KEYS[1], 'approved', '1')
redis.call('SADD', KEYS[2], ARGV[1])
return 1
"#;

/// KEYS: services. ARGV: id, JSON, at ms. Returns the creation time (ms) and 1 when new.
const PUT_SERVICE: &str = r#"
local first = redis.call('HSETNX', KEYS[1], 'created:' .. ARGV[1], ARGV[3])
redis.call('HSET', KEYS[1], 'service:' .. ARGV[1], ARGV[2])
return {redis.call('HGET', KEYS[1], 'created:' .. ARGV[1]), first}
"#;

/// KEYS: the worker's earnings hash. ARGV: job, units. Credits once per job (`total` field).
const CREDIT: &str = r#"
if redis.call('HSETNX', KEYS[1], 'job:' .. ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], 'total', ARGV[2])
return 1
"#;

/// The registration fields of the worker hash, in the order `registration` reads them.
const REGISTRATION_FIELDS: [&str; 8] = [
    "role:provider",
    "role:verifier",
    "configHash",
    "engine",
    "description",
    "approved",
    "registeredAt",
    "updatedAt",
];

/// The worker book in Redis.
pub struct RedisWorkerBook {
    conn: RedisLink,
    prefix: String,
    rule: SuspensionRule,
    record: Script,
    unsuspend: Script,
    register: Script,
    approve: Script,
}

impl RedisWorkerBook {
    /// Builds the book without touching Redis. Fails only on a malformed URL.
    pub fn new_lazy(url: &str, prefix: &str, rule: SuspensionRule) -> Result<Self> {
        Ok(RedisWorkerBook {
            conn: crate::redis_conn::link(url, Duration::from_secs(2))?,
            prefix: prefix.to_string(),
            rule,
            record: Script::new(RECORD),
            unsuspend: Script::new(UNSUSPEND),
            register: Script::new(REGISTER),
            approve: Script::new(APPROVE),
        })
    }

    fn worker(&self, w: &Address) -> String {
        format!("{}worker:{w:#x}", self.prefix)
    }

    fn dissents(&self, w: &Address) -> String {
        format!("{}worker:{w:#x}:dissents", self.prefix)
    }

    fn all(&self) -> String {
        format!("{}workers", self.prefix)
    }

    fn suspended_set(&self) -> String {
        format!("{}workers:suspended", self.prefix)
    }

    fn earnings_key(&self, w: &Address) -> String {
        format!("{}worker:{w:#x}:earnings", self.prefix)
    }

    fn services_key(&self, w: &Address) -> String {
        format!("{}worker:{w:#x}:services", self.prefix)
    }

    fn approved_set(&self) -> String {
        format!("{}workers:approved", self.prefix)
    }

    async fn members(&self, set: String) -> Result<Vec<Address>> {
        let mut conn = self.conn.clone();
        let members: Vec<String> = redis::cmd("SMEMBERS")
            .arg(set)
            .query_async(&mut conn)
            .await
            .map_err(Error::redis)?;
        Ok(addresses(members))
    }

    fn since(&self, at_ms: u64) -> u64 {
        at_ms.saturating_sub(self.rule.window.as_millis() as u64)
    }
}

fn addresses(members: Vec<String>) -> Vec<Address> {
    let mut out: Vec<Address> = members.iter().filter_map(|a| a.parse().ok()).collect();
    out.sort();
    out
}

#[async_trait]
impl WorkerBook for RedisWorkerBook {
    async fn record(&self, worker: Address, vote: Vote, at_ms: u64) -> Result<Booked> {
        let (agreed, dissented) = match vote {
            Vote::Agreed => (1, 0),
            Vote::Dissented => (0, 1),
            Vote::Undecided => (0, 0),
        };
        let mut conn = self.conn.clone();
        let suspended: i64 = self
            .record
            .key(self.worker(&worker))
            .key(self.dissents(&worker))
            .key(self.all())
            .key(self.suspended_set())
            .arg(agreed)
            .arg(dissented)
            .arg(at_ms)
            .arg(self.since(at_ms))
            .arg(self.rule.max_dissents)
            .arg(format!("{worker:#x}"))
            .invoke_async(&mut conn)
            .await
            .map_err(Error::redis)?;
        Ok(if suspended == 1 {
            Booked::Suspended
        } else {
            Booked::Counted
        })
    }

    async fn suspended(&self) -> Result<HashSet<Address>> {
        Ok(self
            .members(self.suspended_set())
            .await?
            .into_iter()
            .collect())
    }

    async fn unsuspend(&self, worker: Address) -> Result<bool> {
        let mut conn = self.conn.clone();
        let lifted: i64 = self
            .unsuspend
            .key(self.worker(&worker))
            .key(self.dissents(&worker))
            .key(self.suspended_set())
            .arg(format!("{worker:#x}"))
            .invoke_async(&mut conn)
            .await
            .map_err(Error::redis)?;
        Ok(lifted == 1)
    }

    async fn stats(&self, worker: Address) -> Result<WorkerStats> {
        let mut conn = self.conn.clone();
        let ((jobs, agreements, dissents, suspended_at), recent): (
            (Option<u64>, Option<u64>, Option<u64>, Option<u64>),
            u64,
        ) = redis::pipe()
            .cmd("HMGET")
            .arg(self.worker(&worker))
            .arg(&["jobs", "agreements", "dissents", "suspendedAt"][..])
            .cmd("ZCOUNT")
            .arg(self.dissents(&worker))
            .arg(self.since(now_ms()))
            .arg("+inf")
            .query_async(&mut conn)
            .await
            .map_err(Error::redis)?;
        Ok(WorkerStats {
            jobs: jobs.unwrap_or(0),
            agreements: agreements.unwrap_or(0),
            dissents: dissents.unwrap_or(0),
            recent_dissents: recent,
            suspended_at_ms: suspended_at,
        })
    }

    async fn workers(&self) -> Result<Vec<Address>> {
        self.members(self.all()).await
    }

    async fn register(
        &self,
        registration: &Registration,
        approve: bool,
        at_ms: u64,
    ) -> Result<(Registered, bool)> {
        let worker = registration.address;
        let mut conn = self.conn.clone();
        let first: i64 = self
            .register
            .key(self.worker(&worker))
            .key(self.all())
            .key(self.approved_set())
            .arg(format!("{worker:#x}"))
            .arg(registration.role.as_str())
            .arg(registration.config_hash.to_hex())
            .arg(&registration.engine)
            .arg(registration.description.as_deref().unwrap_or(""))
            .arg(u8::from(approve))
            .arg(at_ms)
            .invoke_async(&mut conn)
            .await
            .map_err(Error::redis)?;
        let registered = self.registration(worker).await?.ok_or_else(|| {
            Error::Redis(format!(
                "the registration of {worker} vanished as it was written"
            ))
        })?;
        Ok((registered, first == 1))
    }

    async fn registration(&self, worker: Address) -> Result<Option<Registered>> {
        let mut conn = self.conn.clone();
        let fields: Vec<Option<String>> = redis::cmd("HMGET")
            .arg(self.worker(&worker))
            .arg(&REGISTRATION_FIELDS[..])
            .query_async(&mut conn)
            .await
            .map_err(Error::redis)?;
        let [provider, verifier, config_hash, engine, description, approved, at, updated] =
            <[Option<String>; 8]>::try_from(fields)
                .map_err(|_| Error::Redis("HMGET answered the wrong number of fields".into()))?;
        let (Some(config_hash), Some(at)) = (config_hash, at) else {
            return Ok(None);
        };
        let number = |t: Option<String>| t.and_then(|t| t.parse::<u64>().ok()).unwrap_or(0);
        let mut roles = Vec::new();
        if provider.is_some() {
            roles.push(Role::Provider);
        }
        if verifier.is_some() {
            roles.push(Role::Verifier);
        }
        Ok(Some(Registered {
            roles,
            config_hash: Digest32::from_hex(&config_hash)
                .map_err(|e| Error::Redis(format!("stored config hash of {worker}: {e}")))?,
            engine: engine.unwrap_or_default(),
            description,
            approved: approved.is_some(),
            registered_at_ms: number(Some(at)),
            updated_at_ms: number(updated),
        }))
    }

    async fn approve(&self, worker: Address) -> Result<bool> {
        let mut conn = self.conn.clone();
        let done: i64 = self
            .approve
            .key(self.worker(&worker))
            .key(self.approved_set())
            .arg(format!("{worker:#x}"))
            .invoke_async(&mut conn)
            .await
            .map_err(Error::redis)?;
        Ok(done == 1)
    }

    async fn approved(&self) -> Result<HashSet<Address>> {
        Ok(self
            .members(self.approved_set())
            .await?
            .into_iter()
            .collect())
    }

    async fn put_service(&self, worker: Address, service: &Service) -> Result<(Service, bool)> {
        let mut conn = self.conn.clone();
        let (created, first): (String, i64) = Script::new(PUT_SERVICE)
            .key(self.services_key(&worker))
            .arg(&service.service_id)
            .arg(serde_json::to_string(service)?)
            .arg(service.updated_at_ms)
            .invoke_async(&mut conn)
            .await
            .map_err(Error::redis)?;
        let mut stored = service.clone();
        stored.created_at_ms = created.parse().unwrap_or(service.created_at_ms);
        Ok((stored, first == 1))
    }

    async fn services(&self, worker: Address) -> Result<Vec<Service>> {
        let mut conn = self.conn.clone();
        let fields: std::collections::HashMap<String, String> = redis::cmd("HGETALL")
            .arg(self.services_key(&worker))
            .query_async(&mut conn)
            .await
            .map_err(Error::redis)?;
        let mut services = Vec::new();
        for (field, json) in &fields {
            let Some(id) = field.strip_prefix("service:") else {
                continue;
            };
            let mut service: Service = serde_json::from_str(json)?;
            if let Some(created) = fields.get(&format!("created:{id}")) {
                service.created_at_ms = created.parse().unwrap_or(service.created_at_ms);
            }
            services.push(service);
        }
        services.sort_by(|a, b| a.service_id.cmp(&b.service_id));
        Ok(services)
    }

    async fn remove_service(&self, worker: Address, service_id: &str) -> Result<bool> {
        let mut conn = self.conn.clone();
        let removed: i64 = redis::cmd("HDEL")
            .arg(self.services_key(&worker))
            .arg(format!("service:{service_id}"))
            .arg(format!("created:{service_id}"))
            .query_async(&mut conn)
            .await
            .map_err(Error::redis)?;
        Ok(removed > 0)
    }

    async fn credit(&self, worker: Address, job: uuid::Uuid, units: u64) -> Result<bool> {
        let mut conn = self.conn.clone();
        let added: i64 = Script::new(CREDIT)
            .key(self.earnings_key(&worker))
            .arg(job.to_string())
            .arg(units.min(i64::MAX as u64))
            .invoke_async(&mut conn)
            .await
            .map_err(Error::redis)?;
        Ok(added == 1)
    }

    async fn earnings(&self, worker: Address) -> Result<u64> {
        let mut conn = self.conn.clone();
        let total: Option<u64> = redis::cmd("HGET")
            .arg(self.earnings_key(&worker))
            .arg("total")
            .query_async(&mut conn)
            .await
            .map_err(Error::redis)?;
        Ok(total.unwrap_or(0))
    }
}
