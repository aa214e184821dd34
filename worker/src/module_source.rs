//! Where a worker reads the bytes of a registered module that a job names by hash.
//!
//! A job for a registered wasm module carries only the module's sha256
//! (`ProgramSpec::Module`), so a queued job stays small however large the module is. The
//! worker reads the bytes from the registry through a [`ModuleSource`]: Redis in a fleet
//! ([`RedisModuleSource`], the keys the coordinators write), the coordinator's own registry in
//! the embedded mode. Compiled code is cached by the sandbox (in memory and on disk, by module
//! hash and engine compatibility hash); the bytes themselves are kept in a small in-memory cache
//! here, which is always correct because a module's bytes never change for its hash.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use notary_protocol::{keys, Digest32};
use notary_queue::link::LinkSettings;
use notary_queue::RedisLink;
use parking_lot::Mutex;

/// Module bytes by hash.
#[async_trait]
pub trait ModuleSource: Send + Sync + 'static {
    /// The bytes of the module with sha256 `hash`; `Ok(None)` when no such module is
    /// registered; `Err` when the registry cannot be read (an infrastructure failure).
    async fn module_bytes(&self, hash: &Digest32) -> Result<Option<Arc<[u8]>>, String>;
}

/// Total bytes of modules a [`RedisModuleSource`] keeps in memory.
///
/// Threat: clients choose which modules run; without a bound the byte cache would grow with
/// every distinct module. Past the bound the cache starts over (modules are re-read once).
pub const MODULE_BYTES_CACHE: usize = 64 << 20;

/// Registered modules read from the fleet's Redis.
pub struct RedisModuleSource {
    conn: RedisLink,
    prefix: String,
    cache: ByteCache,
}

/// Module bytes by hash, at most [`MODULE_BYTES_CACHE`] in all (past it, the cache starts
/// over). Always correct: a module's bytes never change for its hash.
#[derive(Default)]
pub struct ByteCache {
    /// Total bytes held, and the modules.
    inner: Mutex<(usize, Modules)>,
}

/// Modules' bytes by hash.
type Modules = HashMap<Digest32, Arc<[u8]>>;

impl ByteCache {
    /// The bytes of `hash`, if held.
    pub fn get(&self, hash: &Digest32) -> Option<Arc<[u8]>> {
        self.inner.lock().1.get(hash).cloned()
    }

    /// Holds `bytes` (of `hash`) and gives them back.
    pub fn keep(&self, hash: &Digest32, bytes: Vec<u8>) -> Arc<[u8]> {
        let bytes: Arc<[u8]> = Arc::from(bytes);
        let mut cache = self.inner.lock();
        if cache.0 + bytes.len() > MODULE_BYTES_CACHE {
            *cache = (0, HashMap::new());
        }
        if bytes.len() <= MODULE_BYTES_CACHE {
            cache.0 += bytes.len();
            cache.1.insert(*hash, bytes.clone());
        }
        bytes
    }
}

impl RedisModuleSource {
    /// A source reading `<prefix>module:<hash>`; does not connect until first used. Fails only
    /// on a malformed URL. Must be called inside a Tokio runtime.
    pub fn new_lazy(url: &str, prefix: &str) -> Result<Self, String> {
        // Modules are up to 16 MiB: a longer response timeout than the queue's.
        let settings = LinkSettings::new(Duration::from_secs(2), Duration::from_secs(10));
        let conn = RedisLink::new_lazy(url, settings).map_err(|e| e.to_string())?;
        Ok(RedisModuleSource {
            conn,
            prefix: prefix.to_string(),
            cache: ByteCache::default(),
        })
    }
}

#[async_trait]
impl ModuleSource for RedisModuleSource {
    async fn module_bytes(&self, hash: &Digest32) -> Result<Option<Arc<[u8]>>, String> {
        if let Some(bytes) = self.cache.get(hash) {
            return Ok(Some(bytes));
        }
        let mut conn = self.conn.clone();
        let bytes: Option<Vec<u8>> = redis::cmd("HGET")
            .arg(keys::module(&self.prefix, &hash.to_hex()))
            .arg("bytes")
            .query_async(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
        let Some(bytes) = bytes else {
            return Ok(None);
        };
        Ok(Some(self.cache.keep(hash, bytes)))
    }
}
