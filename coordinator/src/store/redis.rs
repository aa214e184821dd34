//! Job records in Redis, shared by every coordinator replica.
//!
//! Layout: one hash per job at [`notary_protocol::keys::job`] with a `record` field (the
//! accepted job, JSON) and, once final, an `outcome` field (JSON) written with `HSETNX` inside a
//! Lua script that also refreshes the retention and publishes the job id on the done channel.
//! So a result is recorded once even if two workers, or two coordinators, finalize the same
//! job, and the coordinator holding the client's request is woken at once.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use notary_protocol::keys;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::Script;
use uuid::Uuid;

use super::waiters::{wait_until_final, Waiters};
use super::{Finalized, JobStore};
use crate::record::{JobOutcome, JobRecord};
use crate::{Error, Result};

const FINALIZE: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local set = redis.call('HSETNX', KEYS[1], 'outcome', ARGV[1])
if set == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  redis.call('PUBLISH', KEYS[2], ARGV[3])
end
return set
"#;

/// Job records in Redis.
pub struct RedisStore {
    conn: ConnectionManager,
    client: redis::Client,
    prefix: String,
    retention: Duration,
    waiters: Arc<Waiters>,
    finalize: Script,
}

impl RedisStore {
    /// Builds the store without touching Redis (the first command connects) and starts the
    /// pub/sub subscriber that wakes local waiters when any replica finalizes a job. Fails
    /// only on a malformed URL. Must be called inside a Tokio runtime.
    pub fn new_lazy(url: &str, prefix: &str, retention: Duration) -> Result<Arc<Self>> {
        let client = redis::Client::open(url).map_err(Error::redis)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), config)
            .map_err(Error::redis)?;
        let store = Arc::new(RedisStore {
            conn,
            client,
            prefix: prefix.to_string(),
            retention,
            waiters: Arc::new(Waiters::default()),
            finalize: Script::new(FINALIZE),
        });
        tokio::spawn(subscribe_done(
            store.client.clone(),
            keys::done_channel(prefix),
            store.waiters.clone(),
        ));
        Ok(store)
    }

    fn key(&self, id: Uuid) -> String {
        keys::job(&self.prefix, &id.to_string())
    }
}

/// Forwards done-channel messages to local waiters, reconnecting forever. Waiters also re-read
/// the record when their timeout ends, so a message lost while disconnected only delays an
/// answer, it never loses one.
async fn subscribe_done(client: redis::Client, channel: String, waiters: Arc<Waiters>) {
    loop {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => {
                if pubsub.subscribe(&channel).await.is_ok() {
                    let mut messages = pubsub.into_on_message();
                    while let Some(msg) = messages.next().await {
                        if let Ok(Ok(id)) = msg.get_payload::<String>().map(|s| Uuid::parse_str(&s))
                        {
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

#[async_trait]
impl JobStore for RedisStore {
    async fn insert(&self, record: &JobRecord) -> Result<()> {
        let mut conn = self.conn.clone();
        let json = serde_json::to_string(record)?;
        let key = self.key(record.id());
        redis::pipe()
            .atomic()
            .hset(&key, "record", json)
            .ignore()
            .pexpire(&key, self.retention.as_millis() as i64)
            .ignore()
            .query_async::<()>(&mut conn)
            .await
            .map_err(Error::redis)
    }

    async fn get(&self, id: Uuid) -> Result<Option<JobRecord>> {
        let mut conn = self.conn.clone();
        let (record, outcome): (Option<String>, Option<String>) = redis::cmd("HMGET")
            .arg(self.key(id))
            .arg("record")
            .arg("outcome")
            .query_async(&mut conn)
            .await
            .map_err(Error::redis)?;
        let Some(record) = record else {
            return Ok(None);
        };
        let mut record: JobRecord = serde_json::from_str(&record)?;
        if let Some(outcome) = outcome {
            record.outcome = Some(serde_json::from_str(&outcome)?);
        }
        Ok(Some(record))
    }

    async fn finalize(&self, record: &JobRecord, outcome: &JobOutcome) -> Result<Finalized> {
        let id = record.id();
        let mut conn = self.conn.clone();
        let set: i64 = self
            .finalize
            .key(self.key(id))
            .key(keys::done_channel(&self.prefix))
            .arg(serde_json::to_string(outcome)?)
            .arg(self.retention.as_millis() as u64)
            .arg(id.to_string())
            .invoke_async(&mut conn)
            .await
            .map_err(Error::redis)?;
        match set {
            1 => {
                self.waiters.wake(id);
                // The accepted fields never change, so the final record is ours plus the outcome:
                // no read-back on the hot path.
                let mut record = record.clone();
                record.outcome = Some(outcome.clone());
                Ok(Finalized::Applied(record))
            }
            -1 => Ok(Finalized::Missing),
            _ => Ok(self
                .get(id)
                .await?
                .map_or(Finalized::Missing, Finalized::AlreadyFinal)),
        }
    }

    async fn wait_final(&self, id: Uuid, timeout: Duration) -> Result<Option<JobRecord>> {
        wait_until_final(&self.waiters, id, timeout, || self.get(id)).await
    }

    async fn ping(&self) -> Result<()> {
        let mut conn = self.conn.clone();
        redis::cmd("PING")
            .query_async::<()>(&mut conn)
            .await
            .map_err(Error::redis)
    }
}
