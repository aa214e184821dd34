//! Modules in Redis, shared by every coordinator of a fleet.
//!
//! Keys (under the fleet's prefix, named in `notary_protocol::keys`): `module:<hash>` is a hash with fields `manifest` (the
//! registration, JSON) and `bytes`; `modules` is a sorted set of hashes scored by publish
//! time. A Lua script stores all three at once and only if the module is new, so two
//! coordinators publishing the same module at the same moment store it once.

use std::time::Duration;

use async_trait::async_trait;
use notary_protocol::{keys, Digest32};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::Script;

use super::{ModuleStore, RegisteredModule};
use crate::error::{Error, Result};

const PUT: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'manifest', ARGV[1], 'bytes', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
return 1
"#;

/// Modules in Redis.
pub struct RedisModules {
    conn: ConnectionManager,
    prefix: String,
    put: Script,
}

impl RedisModules {
    /// Builds the store without touching Redis. Fails only on a malformed URL.
    pub fn new_lazy(url: &str, prefix: &str) -> Result<Self> {
        let client = redis::Client::open(url).map_err(Error::redis)?;
        // Module uploads are up to 16 MiB: a longer response timeout than the job store's.
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(10)))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_lazy_with_config(client, config).map_err(Error::redis)?;
        Ok(RedisModules {
            conn,
            prefix: prefix.to_string(),
            put: Script::new(PUT),
        })
    }

    fn key(&self, hash: &Digest32) -> String {
        keys::module(&self.prefix, &hash.to_hex())
    }

    fn index(&self) -> String {
        keys::modules(&self.prefix)
    }

    /// Runs a read, once more if the connection had dropped: after a Redis restart the
    /// manager's old connection fails its first command before it reconnects, and a read is
    /// safe to repeat (`/info` answered 503 once while `/ready` was already 200).
    async fn read<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T> {
        let mut conn = self.conn.clone();
        match cmd.query_async(&mut conn).await {
            Err(e)
                if e.is_connection_dropped() || e.is_io_error() || e.is_unrecoverable_error() =>
            {
                tracing::debug!(error = %e, "module registry read retried after a dropped connection");
                cmd.query_async(&mut conn).await.map_err(Error::redis)
            }
            other => other.map_err(Error::redis),
        }
    }
}

#[async_trait]
impl ModuleStore for RedisModules {
    async fn put(&self, module: &RegisteredModule, bytes: &[u8]) -> Result<bool> {
        let mut conn = self.conn.clone();
        let hash = module.manifest.sha256;
        let stored: i64 = self
            .put
            .key(self.key(&hash))
            .key(self.index())
            .arg(serde_json::to_string(module)?)
            .arg(bytes)
            .arg(module.published_at_ms)
            .arg(hash.to_hex())
            .invoke_async(&mut conn)
            .await
            .map_err(Error::redis)?;
        Ok(stored == 1)
    }

    async fn manifest(&self, hash: &Digest32) -> Result<Option<RegisteredModule>> {
        let text: Option<String> = self
            .read(redis::cmd("HGET").arg(self.key(hash)).arg("manifest"))
            .await?;
        Ok(text.map(|t| serde_json::from_str(&t)).transpose()?)
    }

    async fn bytes(&self, hash: &Digest32) -> Result<Option<Vec<u8>>> {
        self.read(redis::cmd("HGET").arg(self.key(hash)).arg("bytes"))
            .await
    }

    async fn list(&self) -> Result<Vec<RegisteredModule>> {
        let hashes: Vec<String> = self
            .read(redis::cmd("ZRANGE").arg(self.index()).arg(0).arg(-1))
            .await?;
        let mut modules = Vec::with_capacity(hashes.len());
        for hash in hashes {
            if let Ok(hash) = Digest32::from_hex(&hash) {
                if let Some(module) = self.manifest(&hash).await? {
                    modules.push(module);
                }
            }
        }
        Ok(modules)
    }
}
