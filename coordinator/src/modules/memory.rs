//! Modules in memory (the embedded mode: they do not survive a restart).

use std::collections::HashMap;

use async_trait::async_trait;
use notary_protocol::Digest32;
use parking_lot::RwLock;

use super::{ModuleStore, RegisteredModule};
use crate::error::Result;

/// Modules in this process's memory.
#[derive(Default)]
pub struct MemoryModules {
    modules: RwLock<Registry>,
}

/// Publish order, and each module's registration and bytes.
type Registry = (
    Vec<Digest32>,
    HashMap<Digest32, (RegisteredModule, Vec<u8>)>,
);

#[async_trait]
impl ModuleStore for MemoryModules {
    async fn put(&self, module: &RegisteredModule, bytes: &[u8]) -> Result<bool> {
        let mut guard = self.modules.write();
        let (order, map) = &mut *guard;
        let hash = module.manifest.sha256;
        if map.contains_key(&hash) {
            return Ok(false);
        }
        order.push(hash);
        map.insert(hash, (module.clone(), bytes.to_vec()));
        Ok(true)
    }

    async fn manifest(&self, hash: &Digest32) -> Result<Option<RegisteredModule>> {
        Ok(self.modules.read().1.get(hash).map(|(m, _)| m.clone()))
    }

    async fn bytes(&self, hash: &Digest32) -> Result<Option<Vec<u8>>> {
        Ok(self.modules.read().1.get(hash).map(|(_, b)| b.clone()))
    }

    async fn list(&self) -> Result<Vec<RegisteredModule>> {
        let guard = self.modules.read();
        Ok(guard.0.iter().map(|h| guard.1[h].0.clone()).collect())
    }
}
