//! Job records and the event log in Redis, shared by every coordinator replica.
//!
//! Layout: one hash per job at [`notary_protocol::keys::job`] with a `record` field (the
//! accepted job, JSON) and, once final, an `outcome` field (JSON) written with `HSETNX` inside a
//! Lua script that also refreshes the retention, appends the job's final event to the events
//! stream ([`notary_protocol::keys::events`], trimmed to the retention with `MINID`) and
//! publishes the job id (and its sender) on the done channel. So a result is recorded once, with exactly one
//! event, even if two workers, or two coordinators, finalize the same job, and the coordinator
//! holding the client's request is woken at once.
//!
//! The event log is read with one consumer group per consumer name (`XREADGROUP`); entries a
//! reader took and did not acknowledge within `redeliver_after` are claimed again with
//! `XAUTOCLAIM` (at most every quarter of `redeliver_after` per consumer, not on every read).
//! Each blocking read has a connection of its own ([`BlockingPool`]): it never holds up the job
//! records' commands nor another consumer's read. A read that failed (timed out, connection
//! lost) may still have been served by Redis, its entries then pending for this reader with
//! nobody handling them: the consumer's next read first takes back its own pending entries
//! (`XREADGROUP ... 0`) instead of waiting `redeliver_after` for them.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures::StreamExt;
use notary_protocol::keys;
use notary_queue::blocking::{read_group, BlockingPool};
use notary_queue::RedisLink;
use parking_lot::Mutex;
use redis::Script;
use uuid::Uuid;

use super::events::{EventLog, JobEvent};
use super::waiters::Waiters;
use super::{Finalized, JobStore, Unfinished};
use crate::error::{Error, Result};
use crate::jury::JuryState;
use crate::record::{now_ms, JobOutcome, JobRecord};

/// Sets a job's outcome once: 1 set (with its event and done message), 0 final already, -1 no
/// such job. The retention is refreshed first, which also tells whether the record exists (one
/// command instead of an `EXISTS` as well; a late duplicate report refreshes it too).
/// KEYS: the job's hash, the done channel, the events stream. ARGV: outcome JSON, retention
/// ms, done message, event body, the events' trim id.
const FINALIZE: &str = r#"
if redis.call('PEXPIRE', KEYS[1], ARGV[2]) == 0 then return -1 end
local set = redis.call('HSETNX', KEYS[1], 'outcome', ARGV[1])
if set == 1 then
  redis.call('XADD', KEYS[3], 'MINID', '~', ARGV[5], '*', 'body', ARGV[4])
  redis.call('PUBLISH', KEYS[2], ARGV[3])
end
return set
"#;

/// Stores an accepted job: its record with the retention, and its place in the time index, in
/// one step (a script rather than `MULTI`/`EXEC`: one command less, the same atomicity).
/// KEYS: the job's hash, the time index. ARGV: record JSON, retention ms, created ms, job id,
/// and a score below which the index is trimmed ('' for none).
const INSERT: &str = r#"
redis.call('HSET', KEYS[1], 'record', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
if ARGV[5] ~= '' then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[5]) end
"#;

/// Compare-and-set of a job's jury state (`jury`, `juryVersion`): 1 stored, 0 refused (another
/// version, or the job is final), -1 no such job. An escalated state is announced on the done
/// channel (ARGV[4] `1`, ARGV[5] the job id and its sender), so waiters on every replica answer.
const SAVE_JURY: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('HEXISTS', KEYS[1], 'outcome') == 1 then return 0 end
local v = tonumber(redis.call('HGET', KEYS[1], 'juryVersion') or '0')
if v ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'jury', ARGV[2], 'juryVersion', ARGV[3])
if ARGV[4] == '1' then redis.call('PUBLISH', KEYS[2], ARGV[5]) end
return 1
"#;

/// Longest a blocking event read waits.
const MAX_EVENT_WAIT: Duration = Duration::from_secs(2);

/// How long an event read's answer may take past its block time.
const EVENT_ANSWER: Duration = Duration::from_secs(2);

/// Idle blocking connections kept (about one per consumer of a coordinator).
const EVENT_CONNECTIONS: usize = 8;

/// Job records and the event log in Redis.
pub struct RedisStore {
    conn: RedisLink,
    /// Connections of their own for blocking `XREADGROUP`s.
    blocking: BlockingPool,
    prefix: String,
    retention: Duration,
    waiters: Arc<Waiters>,
    insert: Script,
    finalize: Script,
    save_jury: Script,
    /// This process's consumer name inside every consumer group.
    reader: String,
    /// Consumer groups known to exist.
    groups: Mutex<HashSet<String>>,
    /// Consumers whose last read failed, with the id past which their own pending entries are
    /// to be read back (`0` first).
    recover: Mutex<HashMap<String, String>>,
    /// When each consumer last claimed its stale entries (`XAUTOCLAIM`): at most every quarter
    /// of its `redeliver_after`, not on every read (it was one command per read per consumer).
    claimed_at: Mutex<HashMap<String, Instant>>,
}

impl RedisStore {
    /// Builds the store without touching Redis (the first command connects) and starts the
    /// pub/sub subscriber that wakes local waiters when any replica finalizes a job. Fails
    /// only on a malformed URL. Must be called inside a Tokio runtime. `reader` names this
    /// process inside the event log's consumer groups (unique per coordinator).
    pub fn new_lazy(
        url: &str,
        prefix: &str,
        retention: Duration,
        reader: &str,
    ) -> Result<Arc<Self>> {
        let conn = crate::redis_conn::link(url, Duration::from_secs(2))?;
        let blocking = BlockingPool::new(conn.clone(), EVENT_CONNECTIONS);
        let store = Arc::new(RedisStore {
            conn,
            blocking,
            prefix: prefix.to_string(),
            retention,
            waiters: Arc::new(Waiters::default()),
            insert: Script::new(INSERT),
            finalize: Script::new(FINALIZE),
            save_jury: Script::new(SAVE_JURY),
            reader: reader.to_string(),
            groups: Mutex::new(HashSet::new()),
            recover: Mutex::new(HashMap::new()),
            claimed_at: Mutex::new(HashMap::new()),
        });
        tokio::spawn(subscribe_done(
            store.conn.clone(),
            keys::done_channel(prefix),
            store.waiters.clone(),
            store.reader.clone(),
        ));
        Ok(store)
    }

    /// The done channel's message for `id`: the job id, then who sent it (this process wakes
    /// its own waiters as it writes, and skips its own messages).
    fn done_message(&self, id: Uuid) -> String {
        format!("{id} {}", self.reader)
    }

    fn key(&self, id: Uuid) -> String {
        keys::job(&self.prefix, &id.to_string())
    }

    fn events_key(&self) -> String {
        keys::events(&self.prefix)
    }

    /// Creates `group` on the events stream (from its start, so a new consumer sees every
    /// retained event) unless it is known to exist.
    async fn ensure_group(&self, group: &str) -> Result<()> {
        if self.groups.lock().contains(group) {
            return Ok(());
        }
        let mut conn = self.conn.clone();
        let created: redis::RedisResult<()> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(self.events_key())
            .arg(group)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(&mut conn)
            .await;
        match created {
            Ok(()) => {}
            Err(e) if e.code() == Some("BUSYGROUP") => {}
            Err(e) => return Err(Error::redis(e)),
        }
        self.groups.lock().insert(group.to_string());
        Ok(())
    }
}

/// Forwards done-channel messages to local waiters, reconnecting forever. Waiters also re-read
/// the record when their timeout ends, so a message lost while disconnected only delays an
/// answer, it never loses one.
///
/// On a Redis Cluster a `PUBLISH` reaches the subscribers of every node, so any node will do;
/// after losing one (it may have failed over for good) the next attempt tries the next node.
async fn subscribe_done(link: RedisLink, channel: String, waiters: Arc<Waiters>, me: String) {
    let mut turn = 0usize;
    loop {
        let client = match link.nodes().await {
            Ok(nodes) if nodes.len() > 1 => {
                let (host, port) = &nodes[turn % nodes.len()];
                link.client_for(host, *port)
                    .unwrap_or_else(|_| link.client().clone())
            }
            _ => link.client().clone(),
        };
        turn = turn.wrapping_add(1);
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => {
                if pubsub.subscribe(&channel).await.is_ok() {
                    let mut messages = pubsub.into_on_message();
                    while let Some(msg) = messages.next().await {
                        let Ok(text) = msg.get_payload::<String>() else {
                            continue;
                        };
                        let mut parts = text.split(' ');
                        let id = parts.next().and_then(|id| Uuid::parse_str(id).ok());
                        // This process's own writes woke its waiters already (and handed
                        // them the final record, which a wake from here would not).
                        if let (Some(id), false) = (id, parts.next() == Some(me.as_str())) {
                            waiters.wake(id);
                        }
                    }
                }
                tracing::warn!("done-channel subscription lost; reconnecting");
            }
            Err(e) => tracing::debug!(error = %e, "done-channel subscribe failed; retrying"),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Stream entries (`[[id, [field, value, ...]], ...]`) as events; unreadable ones are skipped.
fn entries(value: &redis::Value) -> Vec<JobEvent> {
    let redis::Value::Array(items) = value else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            let redis::Value::Array(pair) = item else {
                return None;
            };
            let id: String = redis::from_redis_value_ref(pair.first()?).ok()?;
            let fields: Vec<String> = redis::from_redis_value_ref(pair.get(1)?).ok()?;
            let body = fields
                .chunks(2)
                .find(|kv| kv[0] == "body")
                .and_then(|kv| kv.get(1))?;
            match JobEvent::parse(id, body) {
                Ok(e) => Some(e),
                Err(e) => {
                    tracing::warn!(error = %e, "unreadable event skipped");
                    None
                }
            }
        })
        .collect()
}

impl RedisStore {
    /// One read of [`EventLog::read`]: this reader's own pending entries after a failed read,
    /// else stale entries of other readers when a claim is due, else new entries (blocking).
    async fn read_once(
        &self,
        consumer: &str,
        max: usize,
        wait: Duration,
        redeliver_after: Duration,
    ) -> Result<Vec<JobEvent>> {
        let max = max.max(1);
        let stream = self.events_key();
        let recover_from = self.recover.lock().get(consumer).cloned();
        if let Some(from) = recover_from {
            let mut cmd = read_group(consumer, &self.reader, max, Duration::ZERO, &[&stream]);
            let reply = cmd.arg(&from).query_async(&mut self.conn.clone()).await;
            let events = self.events_of(reply, consumer)?;
            let mut recover = self.recover.lock();
            match events.last() {
                Some(last) if events.len() == max => {
                    recover.insert(consumer.to_string(), last.id.clone());
                }
                _ => {
                    recover.remove(consumer);
                }
            }
            if !events.is_empty() {
                return Ok(events);
            }
        }
        let claim_due = {
            let mut claimed_at = self.claimed_at.lock();
            let now = Instant::now();
            let due = claimed_at
                .get(consumer)
                .is_none_or(|at| now.duration_since(*at) >= redeliver_after / 4);
            if due {
                claimed_at.insert(consumer.to_string(), now);
            }
            due
        };
        if claim_due {
            // Entries another reader (maybe a crashed coordinator) took and never acknowledged.
            let claimed: redis::RedisResult<redis::Value> = redis::cmd("XAUTOCLAIM")
                .arg(&stream)
                .arg(consumer)
                .arg(&self.reader)
                .arg(redeliver_after.as_millis() as u64)
                .arg("0-0")
                .arg("COUNT")
                .arg(max)
                .query_async(&mut self.conn.clone())
                .await;
            let claimed = match claimed {
                Ok(v) => v,
                Err(e) if e.code() == Some("NOGROUP") => {
                    // Redis lost the group (restarted without persistence): create it again.
                    self.groups.lock().remove(consumer);
                    return Ok(Vec::new());
                }
                Err(e) => return Err(Error::redis(e)),
            };
            if let redis::Value::Array(parts) = &claimed {
                if let Some(list) = parts.get(1) {
                    let events = entries(list);
                    if !events.is_empty() {
                        // More may be stale: claim again on the next read.
                        self.claimed_at.lock().remove(consumer);
                        return Ok(events);
                    }
                }
            }
        }
        let block = wait.min(MAX_EVENT_WAIT);
        let mut cmd = read_group(consumer, &self.reader, max, block, &[&stream]);
        cmd.arg(">");
        let reply = match self
            .blocking
            .query("read events", &cmd, block + EVENT_ANSWER)
            .await
        {
            Ok(v) => Ok(v),
            Err(notary_queue::Error::Redis(e)) => Err(e),
            Err(e) => return Err(e.into()),
        };
        self.events_of(reply, consumer)
    }

    /// The events of an `XREADGROUP` answer (none when Redis lost the group: it is created
    /// again on the next read).
    fn events_of(
        &self,
        reply: redis::RedisResult<redis::Value>,
        consumer: &str,
    ) -> Result<Vec<JobEvent>> {
        let reply = match reply {
            Ok(v) => v,
            Err(e) if e.code() == Some("NOGROUP") => {
                self.groups.lock().remove(consumer);
                return Ok(Vec::new());
            }
            Err(e) => return Err(Error::redis(e)),
        };
        // Nil on timeout; otherwise [[stream, entries]] (RESP2) or a map (RESP3).
        let list = match &reply {
            redis::Value::Array(streams) => streams.first().and_then(|s| match s {
                redis::Value::Array(kv) => kv.get(1).cloned(),
                _ => None,
            }),
            redis::Value::Map(m) => m.first().map(|(_, v)| v.clone()),
            _ => None,
        };
        Ok(list.map(|l| entries(&l)).unwrap_or_default())
    }
}

#[async_trait]
impl EventLog for RedisStore {
    async fn read(
        &self,
        consumer: &str,
        max: usize,
        wait: Duration,
        redeliver_after: Duration,
    ) -> Result<Vec<JobEvent>> {
        self.ensure_group(consumer).await?;
        let result = self.read_once(consumer, max, wait, redeliver_after).await;
        if result.is_err() {
            // Redis may have served the read anyway: take back this reader's entries next.
            self.recover
                .lock()
                .entry(consumer.to_string())
                .or_insert_with(|| "0".to_string());
        }
        result
    }

    async fn ack(&self, consumer: &str, event: &JobEvent) -> Result<()> {
        let mut conn = self.conn.clone();
        redis::cmd("XACK")
            .arg(self.events_key())
            .arg(consumer)
            .arg(&event.id)
            .query_async::<()>(&mut conn)
            .await
            .map_err(Error::redis)
    }

    async fn ack_many(&self, consumer: &str, events: &[JobEvent]) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn.clone();
        let mut cmd = redis::cmd("XACK");
        cmd.arg(self.events_key()).arg(consumer);
        for event in events {
            cmd.arg(&event.id);
        }
        cmd.query_async::<()>(&mut conn).await.map_err(Error::redis)
    }
}

#[async_trait]
impl JobStore for RedisStore {
    async fn insert(&self, record: &JobRecord) -> Result<()> {
        let mut conn = self.conn.clone();
        let json = serde_json::to_string(record)?;
        let key = self.key(record.id());
        let by_time = keys::jobs_by_time(&self.prefix);
        // The time index outlives no record: now and then, drop what is past retention.
        let trim_below = if rand::random::<u8>() < 4 {
            now_ms()
                .saturating_sub(self.retention.as_millis() as u64)
                .to_string()
        } else {
            String::new()
        };
        self.insert
            .key(&key)
            .key(&by_time)
            .arg(json)
            .arg(self.retention.as_millis() as u64)
            .arg(record.created_at_ms)
            .arg(record.id().to_string())
            .arg(trim_below)
            .invoke_async::<()>(&mut conn)
            .await
            .map_err(Error::redis)
    }

    async fn get(&self, id: Uuid) -> Result<Option<JobRecord>> {
        let mut conn = self.conn.clone();
        let (record, outcome, jury): (Option<String>, Option<String>, Option<String>) =
            redis::cmd("HMGET")
                .arg(self.key(id))
                .arg("record")
                .arg("outcome")
                .arg("jury")
                .query_async(&mut conn)
                .await
                .map_err(Error::redis)?;
        let Some(record) = record else {
            return Ok(None);
        };
        Ok(Some(super::decode(
            &record,
            outcome.as_deref(),
            jury.as_deref(),
        )?))
    }

    async fn finalize(&self, record: &JobRecord, outcome: &JobOutcome) -> Result<Finalized> {
        let id = record.id();
        let (last, event) = super::with_outcome(record, outcome);
        let min_id = now_ms().saturating_sub(self.retention.as_millis() as u64);
        let mut conn = self.conn.clone();
        let set: i64 = self
            .finalize
            .key(self.key(id))
            .key(keys::done_channel(&self.prefix))
            .key(self.events_key())
            .arg(serde_json::to_string(outcome)?)
            .arg(self.retention.as_millis() as u64)
            .arg(self.done_message(id))
            .arg(event.body())
            .arg(min_id)
            .invoke_async(&mut conn)
            .await
            .map_err(Error::redis)?;
        match set {
            1 => {
                self.waiters.wake_final(&last);
                Ok(Finalized::Applied(last))
            }
            -1 => Ok(Finalized::Missing),
            _ => Ok(self
                .get(id)
                .await?
                .map_or(Finalized::Missing, Finalized::AlreadyFinal)),
        }
    }

    async fn save_jury(&self, id: Uuid, state: &JuryState) -> Result<bool> {
        let mut conn = self.conn.clone();
        let set: i64 = self
            .save_jury
            .key(self.key(id))
            .key(keys::done_channel(&self.prefix))
            .arg(state.version.saturating_sub(1))
            .arg(serde_json::to_string(state)?)
            .arg(state.version)
            .arg(if state.escalated { "1" } else { "0" })
            .arg(self.done_message(id))
            .invoke_async(&mut conn)
            .await
            .map_err(Error::redis)?;
        if set == 1 && state.escalated {
            self.waiters.wake(id);
        }
        Ok(set == 1)
    }

    fn waiters(&self) -> &Arc<Waiters> {
        &self.waiters
    }

    async fn record_delivery(&self, _id: Uuid, _attempt: u32) -> Result<()> {
        // The Redis queue counts deliveries itself: only a reaped lease counts one.
        Ok(())
    }

    async fn take_unfinished(&self) -> Result<Vec<Unfinished>> {
        // The Redis queue keeps queued and leased jobs itself; its reaper redelivers them.
        Ok(Vec::new())
    }

    async fn recent(&self, before: Option<(u64, Uuid)>, limit: usize) -> Result<Vec<JobRecord>> {
        let mut conn = self.conn.clone();
        let by_time = keys::jobs_by_time(&self.prefix);
        let max = before.map_or("+inf".to_string(), |(ms, _)| ms.to_string());
        let mut out = Vec::with_capacity(limit);
        let mut offset = 0usize;
        // Pages of the index (ties at the cursor's millisecond are skipped up to its id);
        // members whose record expired are skipped.
        while out.len() < limit {
            let want = (limit - out.len()).max(16);
            let members: Vec<(String, u64)> = redis::cmd("ZRANGE")
                .arg(&by_time)
                .arg(&max)
                .arg("-inf")
                .arg("BYSCORE")
                .arg("REV")
                .arg("LIMIT")
                .arg(offset)
                .arg(want)
                .arg("WITHSCORES")
                .query_async(&mut conn)
                .await
                .map_err(Error::redis)?;
            offset += members.len();
            let ids: Vec<Uuid> = members
                .iter()
                .filter(|(id, ms)| match before {
                    Some((b_ms, b_id)) => *ms < b_ms || id.as_str() < b_id.to_string().as_str(),
                    None => true,
                })
                .filter_map(|(id, _)| id.parse().ok())
                .collect();
            let mut pipe = redis::pipe();
            for id in &ids {
                pipe.cmd("HMGET")
                    .arg(self.key(*id))
                    .arg("record")
                    .arg("outcome")
                    .arg("jury");
            }
            let rows: Vec<(Option<String>, Option<String>, Option<String>)> = if ids.is_empty() {
                Vec::new()
            } else {
                pipe.query_async(&mut conn).await.map_err(Error::redis)?
            };
            for (record, outcome, jury) in rows {
                if let Some(record) = record {
                    out.push(super::decode(&record, outcome.as_deref(), jury.as_deref())?);
                    if out.len() == limit {
                        break;
                    }
                }
            }
            if members.len() < want {
                break;
            }
        }
        Ok(out)
    }

    async fn ping(&self) -> Result<()> {
        let mut conn = self.conn.clone();
        redis::cmd("PING")
            .query_async::<()>(&mut conn)
            .await
            .map_err(Error::redis)
    }
}
