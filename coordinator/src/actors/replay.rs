//! The replay cache of actor-signed requests: each signed request is accepted once. Two
//! backends, one conformance suite (`tests/it/replay_cache.rs`): Redis (`SET NX PXAT`, so a
//! fleet's coordinators share it) and the embedded database (one `INSERT OR IGNORE`, expired
//! rows pruned on the way; in memory with `--data-dir none`).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use notary_queue::RedisLink;
use rusqlite::params;

use crate::db::Db;
use crate::error::{Error, Result};

/// Remembers which signed requests were seen.
#[async_trait]
pub trait ReplayCache: Send + Sync + 'static {
    /// Records `digest` (the actor and the hex signing hash of one request) until `expires_at_ms` (unix ms);
    /// `true` the first time, `false` for a digest seen before that has not expired.
    async fn first_use(&self, digest: &str, expires_at_ms: u64, now_ms: u64) -> Result<bool>;
}

/// The replay cache in Redis: `<prefix>actor-sig:<digest>` keys that expire on their own.
pub struct RedisReplayCache {
    conn: RedisLink,
    prefix: String,
}

impl RedisReplayCache {
    /// Builds the cache without touching Redis. Fails only on a malformed URL.
    pub fn new_lazy(url: &str, prefix: &str) -> Result<Self> {
        Ok(RedisReplayCache {
            conn: crate::redis_conn::link(url, Duration::from_secs(2))?,
            prefix: prefix.to_string(),
        })
    }
}

#[async_trait]
impl ReplayCache for RedisReplayCache {
    async fn first_use(&self, digest: &str, expires_at_ms: u64, now_ms: u64) -> Result<bool> {
        let mut conn = self.conn.clone();
        // A digest already past its expiry needs no memory: the timestamp check refuses it.
        let at = expires_at_ms.max(now_ms + 1);
        let set: Option<String> = redis::cmd("SET")
            .arg(format!("{}actor-sig:{digest}", self.prefix))
            .arg(1)
            .arg("NX")
            .arg("PXAT")
            .arg(at)
            .query_async(&mut conn)
            .await
            .map_err(Error::redis)?;
        Ok(set.is_some())
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS actor_signatures (
    digest TEXT PRIMARY KEY,
    expires_at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS actor_signatures_by_expiry ON actor_signatures (expires_at_ms);
";

/// The replay cache in the embedded database.
pub struct SqliteReplayCache {
    db: Arc<Db>,
}

impl SqliteReplayCache {
    /// The cache in `db` (table created if missing).
    pub async fn open(db: Arc<Db>) -> Result<Arc<Self>> {
        db.migrate(SCHEMA).await?;
        Ok(Arc::new(SqliteReplayCache { db }))
    }
}

#[async_trait]
impl ReplayCache for SqliteReplayCache {
    async fn first_use(&self, digest: &str, expires_at_ms: u64, now_ms: u64) -> Result<bool> {
        let digest = digest.to_string();
        self.db
            .call(move |c| {
                c.execute(
                    "DELETE FROM actor_signatures WHERE expires_at_ms <= ?1",
                    [now_ms as i64],
                )?;
                let added = c.execute(
                    "INSERT OR IGNORE INTO actor_signatures (digest, expires_at_ms) VALUES (?1, ?2)",
                    params![digest, expires_at_ms.max(now_ms + 1) as i64],
                )?;
                Ok(added == 1)
            })
            .await
    }
}
