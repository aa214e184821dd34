//! Modules in the embedded database ([`crate::db`]): the registry of a coordinator without
//! Redis, kept across restarts with a `--data-dir` (in memory with `--data-dir none`).
//!
//! Table `modules`: one row per module hash with its registration (JSON), its bytes and when it
//! was first published. A publish checks the hash and the `name@version` (in the manifest JSON)
//! and inserts in one step of the single writer, so the first manifest of a hash and the first
//! module of a name both win, even when two publish at once.

use std::sync::Arc;

use async_trait::async_trait;
use notary_protocol::Digest32;
use rusqlite::{params, OptionalExtension};

use super::{ModuleStore, Put, RegisteredModule};
use crate::db::Db;
use crate::error::Result;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS modules (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    hash TEXT NOT NULL UNIQUE,
    manifest TEXT NOT NULL,
    bytes BLOB NOT NULL,
    published_ms INTEGER NOT NULL
);
";

/// Modules in SQLite.
pub struct SqliteModules {
    db: Arc<Db>,
}

impl SqliteModules {
    /// The registry in `db` (its table created if missing).
    pub async fn open(db: Arc<Db>) -> Result<SqliteModules> {
        db.migrate(SCHEMA).await?;
        Ok(SqliteModules { db })
    }
}

#[async_trait]
impl ModuleStore for SqliteModules {
    async fn put(&self, module: &RegisteredModule, bytes: &[u8]) -> Result<Put> {
        let hash = module.manifest.sha256.to_hex();
        let (name, version) = (
            module.manifest.name.clone(),
            module.manifest.version.clone(),
        );
        let manifest = serde_json::to_string(module)?;
        let bytes = bytes.to_vec();
        let published = module.published_at_ms as i64;
        // One closure runs as one step of the database's single writer: the checks and the
        // insert cannot interleave with another publish.
        let owner: Option<String> = self
            .db
            .call(move |c| {
                let exists = c
                    .query_row("SELECT 1 FROM modules WHERE hash = ?1", [&hash], |_| Ok(()))
                    .optional()?
                    .is_some();
                if exists {
                    return Ok(Some(hash));
                }
                // Publishing is rare and registries are small: a scan of the manifests.
                let owner: Option<String> = c
                    .query_row(
                        "SELECT hash FROM modules
                         WHERE json_extract(manifest, '$.manifest.name') = ?1
                           AND json_extract(manifest, '$.manifest.version') = ?2
                         ORDER BY seq LIMIT 1",
                        params![name, version],
                        |r| r.get(0),
                    )
                    .optional()?;
                if owner.is_some() {
                    return Ok(owner);
                }
                c.execute(
                    "INSERT INTO modules (hash, manifest, bytes, published_ms)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![hash, manifest, bytes, published],
                )?;
                Ok(None)
            })
            .await?;
        Ok(match owner {
            None => Put::Created,
            Some(owner) if owner == module.manifest.sha256.to_hex() => Put::Exists,
            Some(owner) => Put::NameTaken(Digest32::from_hex(&owner).map_err(|_| {
                crate::error::Error::Store(format!("module table holds a bad hash {owner:?}"))
            })?),
        })
    }

    async fn manifest(&self, hash: &Digest32) -> Result<Option<RegisteredModule>> {
        let hash = hash.to_hex();
        let text: Option<String> = self
            .db
            .call(move |c| {
                c.query_row(
                    "SELECT manifest FROM modules WHERE hash = ?1",
                    [hash],
                    |r| r.get(0),
                )
                .optional()
            })
            .await?;
        Ok(text.map(|t| serde_json::from_str(&t)).transpose()?)
    }

    async fn bytes(&self, hash: &Digest32) -> Result<Option<Vec<u8>>> {
        let hash = hash.to_hex();
        self.db
            .call(move |c| {
                c.query_row("SELECT bytes FROM modules WHERE hash = ?1", [hash], |r| {
                    r.get(0)
                })
                .optional()
            })
            .await
    }

    async fn list(&self) -> Result<Vec<RegisteredModule>> {
        let texts: Vec<String> = self
            .db
            .call(|c| {
                let mut stmt =
                    c.prepare("SELECT manifest FROM modules ORDER BY published_ms, seq")?;
                let rows = stmt.query_map([], |r| r.get(0))?;
                rows.collect()
            })
            .await?;
        texts.iter().map(|t| Ok(serde_json::from_str(t)?)).collect()
    }
}
