//! Assignments (issue 12): the leases that workers of the open fleet hold over HTTP.
//!
//! A remote worker leases through the coordinator (`GET /assignments`): the coordinator takes
//! the lease from the queue in the worker's name and keeps it here under a random
//! `assignmentId`, with the worker it belongs to. The worker then only ever names the id (to
//! heartbeat, release or submit); the queue's own handles (stream entry ids, guessable) never
//! leave the coordinator, so no worker can touch another's lease. An assignment lives as long
//! as its lease is renewed (each heartbeat extends it) and ends with the submission or release.
//!
//! Two backends, one conformance suite (`tests/it/assignment_store.rs`): Redis (a fleet's
//! coordinators share assignments, so any of them takes a heartbeat or a submission) and
//! memory (the embedded mode, whose queue is in memory too).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use notary_protocol::Address;
use notary_queue::Lease;
use notary_queue::RedisLink;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{Error, Result};

/// Which seat an assignment is (source document 000's two kinds of worker work).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Seat {
    /// A tier-1 job: the one worker that runs it provides the result (`POST
    /// /jobs/:jobId/result`).
    Provider,
    /// A juror's seat: the worker re-runs the job and attests (`POST /jobs/:jobId/attest`).
    Verifier,
}

impl Seat {
    /// The seat of a lease: targeted tasks are jurors' seats.
    pub fn of(lease: &Lease) -> Seat {
        if lease.job.target.is_some() {
            Seat::Verifier
        } else {
            Seat::Provider
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Seat::Provider => "provider",
            Seat::Verifier => "verifier",
        }
    }
}

/// One lease held by a remote worker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Assignment {
    /// The random id the worker names it by.
    pub id: String,
    /// The worker it belongs to.
    pub actor: Address,
    /// The queue's lease (its payload is dropped once handed out: the worker has it).
    pub lease: Lease,
}

/// Where assignments live.
#[async_trait]
pub trait AssignmentStore: Send + Sync + 'static {
    /// Keeps `assignment` for `ttl`.
    async fn put(&self, assignment: &Assignment, ttl: Duration) -> Result<()>;
    /// The assignment, unless it ended or expired.
    async fn get(&self, id: &str) -> Result<Option<Assignment>>;
    /// Keeps it for `ttl` from now; `false` if it is gone.
    async fn touch(&self, id: &str, ttl: Duration) -> Result<bool>;
    /// Ends it; `false` if it was gone already (so two submissions cannot both end it).
    async fn remove(&self, id: &str) -> Result<bool>;
    /// Takes the live assignment stream `key` (a worker process) for `holder` for `ttl`, or
    /// renews it when `holder` has it already; `false` while another holder has it (one live
    /// stream per worker id, across every coordinator of the fleet).
    async fn hold_stream(&self, key: &str, holder: &str, ttl: Duration) -> Result<bool>;
    /// Lets the stream `key` go, when `holder` has it.
    async fn end_stream(&self, key: &str, holder: &str) -> Result<()>;
}

/// Assignments in this process.
#[derive(Default)]
pub struct MemoryAssignments {
    map: Mutex<HashMap<String, (Assignment, Instant)>>,
    streams: Mutex<HashMap<String, (String, Instant)>>,
}

#[async_trait]
impl AssignmentStore for MemoryAssignments {
    async fn put(&self, assignment: &Assignment, ttl: Duration) -> Result<()> {
        let now = Instant::now();
        let mut map = self.map.lock();
        map.retain(|_, (_, until)| *until > now);
        map.insert(assignment.id.clone(), (assignment.clone(), now + ttl));
        Ok(())
    }

    async fn get(&self, id: &str) -> Result<Option<Assignment>> {
        let map = self.map.lock();
        Ok(map
            .get(id)
            .filter(|(_, until)| *until > Instant::now())
            .map(|(a, _)| a.clone()))
    }

    async fn touch(&self, id: &str, ttl: Duration) -> Result<bool> {
        let now = Instant::now();
        let mut map = self.map.lock();
        match map.get_mut(id) {
            Some((_, until)) if *until > now => {
                *until = now + ttl;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn remove(&self, id: &str) -> Result<bool> {
        let now = Instant::now();
        Ok(self
            .map
            .lock()
            .remove(id)
            .is_some_and(|(_, until)| until > now))
    }

    async fn hold_stream(&self, key: &str, holder: &str, ttl: Duration) -> Result<bool> {
        let now = Instant::now();
        let mut streams = self.streams.lock();
        streams.retain(|_, (_, until)| *until > now);
        match streams.get(key) {
            Some((other, _)) if other != holder => Ok(false),
            _ => {
                streams.insert(key.to_string(), (holder.to_string(), now + ttl));
                Ok(true)
            }
        }
    }

    async fn end_stream(&self, key: &str, holder: &str) -> Result<()> {
        let mut streams = self.streams.lock();
        if streams.get(key).is_some_and(|(h, _)| h == holder) {
            streams.remove(key);
        }
        Ok(())
    }
}

/// Takes or renews a stream key for its holder (`KEYS[1]`; `ARGV`: holder, ttl ms).
const HOLD_STREAM: &str = r#"
local held = redis.call('GET', KEYS[1])
if held and held ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"#;

/// Deletes a stream key when its holder asks (`KEYS[1]`; `ARGV[1]`: holder).
const END_STREAM: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
"#;

/// Assignments in Redis: `<prefix>assignment:<id>` (JSON) with the TTL as the key's expiry.
pub struct RedisAssignments {
    conn: RedisLink,
    prefix: String,
}

impl RedisAssignments {
    /// Builds the store without touching Redis. Fails only on a malformed URL.
    pub fn new_lazy(url: &str, prefix: &str) -> Result<Self> {
        Ok(RedisAssignments {
            conn: crate::redis_conn::link(url, Duration::from_secs(2))?,
            prefix: prefix.to_string(),
        })
    }

    fn key(&self, id: &str) -> String {
        format!("{}assignment:{id}", self.prefix)
    }

    fn stream_key(&self, key: &str) -> String {
        format!("{}assignment-stream:{key}", self.prefix)
    }
}

fn ms(ttl: Duration) -> u64 {
    (ttl.as_millis() as u64).max(1)
}

#[async_trait]
impl AssignmentStore for RedisAssignments {
    async fn put(&self, assignment: &Assignment, ttl: Duration) -> Result<()> {
        let mut conn = self.conn.clone();
        redis::cmd("SET")
            .arg(self.key(&assignment.id))
            .arg(serde_json::to_string(assignment)?)
            .arg("PX")
            .arg(ms(ttl))
            .query_async::<()>(&mut conn)
            .await
            .map_err(Error::redis)
    }

    async fn get(&self, id: &str) -> Result<Option<Assignment>> {
        let mut conn = self.conn.clone();
        let text: Option<String> = redis::cmd("GET")
            .arg(self.key(id))
            .query_async(&mut conn)
            .await
            .map_err(Error::redis)?;
        Ok(match text {
            Some(t) => Some(serde_json::from_str(&t)?),
            None => None,
        })
    }

    async fn touch(&self, id: &str, ttl: Duration) -> Result<bool> {
        let mut conn = self.conn.clone();
        let set: i64 = redis::cmd("PEXPIRE")
            .arg(self.key(id))
            .arg(ms(ttl))
            .query_async(&mut conn)
            .await
            .map_err(Error::redis)?;
        Ok(set == 1)
    }

    async fn remove(&self, id: &str) -> Result<bool> {
        let mut conn = self.conn.clone();
        let removed: i64 = redis::cmd("DEL")
            .arg(self.key(id))
            .query_async(&mut conn)
            .await
            .map_err(Error::redis)?;
        Ok(removed == 1)
    }

    async fn hold_stream(&self, key: &str, holder: &str, ttl: Duration) -> Result<bool> {
        let mut conn = self.conn.clone();
        let held: i64 = redis::Script::new(HOLD_STREAM)
            .key(self.stream_key(key))
            .arg(holder)
            .arg(ms(ttl))
            .invoke_async(&mut conn)
            .await
            .map_err(Error::redis)?;
        Ok(held == 1)
    }

    async fn end_stream(&self, key: &str, holder: &str) -> Result<()> {
        let mut conn = self.conn.clone();
        redis::Script::new(END_STREAM)
            .key(self.stream_key(key))
            .arg(holder)
            .invoke_async::<i64>(&mut conn)
            .await
            .map_err(Error::redis)?;
        Ok(())
    }
}
