//! Modules in Redis, shared by every coordinator of a fleet.
//!
//! Keys (under the fleet's prefix, named in `notary_protocol::keys`): `module:<hash>` is a hash
//! with fields `manifest` (the registration, JSON) and `bytes`; `modules` is a sorted set of
//! hashes scored by publish time; `modules:names` maps `name@version` to its owner's hash. A
//! Lua script checks the hash and the name and stores all three at once, so two coordinators
//! publishing the same module (or two modules under one name) at the same moment store one.

use std::time::Duration;

use async_trait::async_trait;
use notary_protocol::{keys, Digest32};
use notary_queue::RedisLink;
use redis::Script;

use super::{ModuleStore, Put, RegisteredModule};
use crate::error::{Error, Result};

/// KEYS: module, index, names. ARGV: manifest, bytes, published ms, hash, `name@version`, the
/// owner of that name found among modules published before the names hash existed (or "").
/// Returns "created", "exists", or the owning hash.
const PUT: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 1 then return 'exists' end
local owner = redis.call('HGET', KEYS[3], ARGV[5])
if not owner and ARGV[6] ~= '' then owner = ARGV[6] end
if owner and owner ~= ARGV[4] then
  redis.call('HSETNX', KEYS[3], ARGV[5], owner)
  return owner
end
redis.call('HSET', KEYS[1], 'manifest', ARGV[1], 'bytes', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
redis.call('HSET', KEYS[3], ARGV[5], ARGV[4])
return 'created'
"#;

/// Modules in Redis.
pub struct RedisModules {
    conn: RedisLink,
    prefix: String,
    put: Script,
}

impl RedisModules {
    /// Builds the store without touching Redis. Fails only on a malformed URL.
    pub fn new_lazy(url: &str, prefix: &str) -> Result<Self> {
        // Module uploads are up to 16 MiB: a longer response timeout than the job store's.
        let conn = crate::redis_conn::link(url, Duration::from_secs(10))?;
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

    fn names(&self) -> String {
        keys::module_names(&self.prefix)
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
    async fn put(&self, module: &RegisteredModule, bytes: &[u8]) -> Result<Put> {
        let mut conn = self.conn.clone();
        let hash = module.manifest.sha256;
        let name = format!("{}@{}", module.manifest.name, module.manifest.version);
        // Registries written before names had owners: the oldest module of this name owns it.
        let indexed: Option<String> = self
            .read(redis::cmd("HGET").arg(self.names()).arg(&name))
            .await?;
        let legacy = match indexed {
            Some(_) => String::new(),
            None => self
                .list()
                .await?
                .into_iter()
                .find(|m| {
                    m.manifest.name == module.manifest.name
                        && m.manifest.version == module.manifest.version
                })
                .map(|m| m.manifest.sha256.to_hex())
                .unwrap_or_default(),
        };
        let answer: String = self
            .put
            .key(self.key(&hash))
            .key(self.index())
            .key(self.names())
            .arg(serde_json::to_string(module)?)
            .arg(bytes)
            .arg(module.published_at_ms)
            .arg(hash.to_hex())
            .arg(&name)
            .arg(legacy)
            .invoke_async(&mut conn)
            .await
            .map_err(Error::redis)?;
        match answer.as_str() {
            "created" => Ok(Put::Created),
            "exists" => Ok(Put::Exists),
            owner => Digest32::from_hex(owner)
                .map(Put::NameTaken)
                .map_err(|_| Error::Store(format!("module names hold a bad hash {owner:?}"))),
        }
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
