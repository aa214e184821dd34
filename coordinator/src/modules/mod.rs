//! The module registry: packaged guests, content-addressed by the sha256 of their bytes.
//!
//! `POST /modules` admits a [`ModulePackage`] (see [`admit_package`]: size limit, the
//! workers' validator, manifest checks) and stores it; a job may then name the module by
//! `moduleHash` instead of sending `code`. Storage sits behind [`ModuleStore`]: Redis in a
//! fleet (every coordinator sees every module), the embedded database otherwise
//! ([`SqliteModules`]: kept across restarts with a `--data-dir`).
//!
//! Publishing is idempotent: the first manifest stored for a hash wins, and publishing the
//! same bytes again returns that hash and changes nothing. A `name@version` belongs to the first
//! module published under it: other bytes under the same name and version are refused (`409`),
//! so the `/info` container id `name@version` always means one module. Modules never expire.
//!
//! A job for a registered wasm module carries only its hash; workers read the bytes from the
//! registry (`notary_worker::ModuleSource`: Redis in a fleet, [`RegistrySource`] over this
//! store for in-process workers) and keep compiled modules in memory and on disk keyed by
//! module hash and engine compatibility hash, so a module is compiled once per machine, not
//! once per job. A registered JavaScript module is sent as source, like inline code, because
//! the task types wrap it.

mod redis;
mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine as _;
use notary_profile::{validate_module, ValidationLimits};
use notary_protocol::{sha256, Digest32, ModuleLanguage, ModuleManifest, ModulePackage};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub use self::redis::RedisModules;
pub use self::sqlite::SqliteModules;
use crate::error::Rejected;
use crate::error::Result;

/// Longest module name and version string.
pub const MAX_NAME_CHARS: usize = 64;
/// Longest description, input and output description.
pub const MAX_DESCRIPTION_CHARS: usize = 2048;

/// A registered module's manifest and when it was first published.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisteredModule {
    /// The manifest as first published.
    pub manifest: ModuleManifest,
    /// When it was first published (unix ms).
    pub published_at_ms: u64,
}

/// What [`ModuleStore::put`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Put {
    /// This call stored the module.
    Created,
    /// A module with these bytes was registered already (its manifest is kept).
    Exists,
    /// Other bytes own this `name@version` (the first module published under it): nothing
    /// was stored.
    NameTaken(Digest32),
}

/// Storage of modules.
#[async_trait]
pub trait ModuleStore: Send + Sync + 'static {
    /// Stores a module unless one with the same hash exists or another module owns its
    /// `name@version`; atomic, so of two concurrent publishers of one name only one wins.
    async fn put(&self, module: &RegisteredModule, bytes: &[u8]) -> Result<Put>;
    /// A module's registration.
    async fn manifest(&self, hash: &Digest32) -> Result<Option<RegisteredModule>>;
    /// A module's bytes.
    async fn bytes(&self, hash: &Digest32) -> Result<Option<Vec<u8>>>;
    /// Every registered module, oldest first.
    async fn list(&self) -> Result<Vec<RegisteredModule>>;
}

/// The registry as the module source of in-process workers.
pub struct RegistrySource(pub Arc<dyn ModuleStore>);

#[async_trait]
impl notary_worker::ModuleSource for RegistrySource {
    async fn module_bytes(&self, hash: &Digest32) -> Result<Option<Arc<[u8]>>, String> {
        self.0
            .bytes(hash)
            .await
            .map(|bytes| bytes.map(Arc::from))
            .map_err(|e| e.to_string())
    }
}

/// Checks an uploaded package and returns its manifest (with the computed hash and size)
/// and the module bytes; a precise 400 or 413 for everything wrong.
pub fn admit_package(
    body: &[u8],
    limits: &ValidationLimits,
    max_fuel: u64,
) -> Result<(ModuleManifest, Vec<u8>), Rejected> {
    let package: ModulePackage = serde_json::from_slice(body).map_err(|e| Rejected::Invalid {
        message: format!(
            "body is not a module package ({{\"manifest\": {{…}}, \"module\": base64}}): {e}"
        ),
        params: json!({"line": e.line(), "column": e.column()}),
    })?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(package.module.trim())
        .map_err(|e| Rejected::field("module", format!("module must be base64: {e}")))?;
    if bytes.len() > limits.max_module_bytes {
        return Err(Rejected::TooLarge {
            message: format!(
                "module is {} bytes; the limit is {} bytes",
                bytes.len(),
                limits.max_module_bytes
            ),
            params: json!({"field": "module", "limit": limits.max_module_bytes, "size": bytes.len()}),
        });
    }
    let mut manifest = package.manifest;
    let hash = sha256(&bytes);
    if manifest.sha256 != hash {
        return Err(Rejected::field_with(
            "manifest.sha256",
            format!(
                "the module bytes hash to {hash}, the manifest says {}",
                manifest.sha256
            ),
            json!({"actual": hash}),
        ));
    }
    check_name("manifest.name", &manifest.name)?;
    check_name("manifest.version", &manifest.version)?;
    for (field, text) in [
        ("manifest.description", &manifest.description),
        ("manifest.input", &manifest.input),
        ("manifest.output", &manifest.output),
    ] {
        if text.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(Rejected::field_with(
                field,
                format!("{field} is longer than {MAX_DESCRIPTION_CHARS} characters"),
                json!({"max": MAX_DESCRIPTION_CHARS}),
            ));
        }
    }
    if let Some(fuel) = manifest.fuel {
        if fuel == 0 || fuel > max_fuel {
            return Err(Rejected::field_with(
                "manifest.fuel",
                format!("manifest.fuel must be between 1 and {max_fuel}"),
                json!({"min": 1, "max": max_fuel}),
            ));
        }
    }
    match manifest.language {
        ModuleLanguage::Wasm => {
            validate_module(&bytes, limits).map_err(|e| {
                Rejected::field_with(
                    "module",
                    format!("module rejected: {e}"),
                    json!({"reason": "module-validation"}),
                )
            })?;
        }
        ModuleLanguage::Javascript => {
            let text = std::str::from_utf8(&bytes).map_err(|e| {
                Rejected::field("module", format!("a javascript module must be UTF-8: {e}"))
            })?;
            if text.trim().is_empty() {
                return Err(Rejected::field("module", "the module is empty"));
            }
            // A JavaScript module travels inside every job that names it (source, not a
            // compiled artifact), so it has inline code's limit: a 100-byte request must not
            // store megabytes per job.
            if bytes.len() > crate::record::MAX_CODE_BYTES {
                return Err(Rejected::TooLarge {
                    message: format!(
                        "a javascript module is {} bytes; the limit is {} bytes (as for inline code)",
                        bytes.len(),
                        crate::record::MAX_CODE_BYTES
                    ),
                    params: json!({"field": "module", "limit": crate::record::MAX_CODE_BYTES, "size": bytes.len()}),
                });
            }
        }
    }
    manifest.size = bytes.len() as u64;
    Ok((manifest, bytes))
}

fn check_name(field: &str, value: &str) -> Result<(), Rejected> {
    let ok = !value.is_empty()
        && value.chars().count() <= MAX_NAME_CHARS
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+'));
    if ok {
        Ok(())
    } else {
        Err(Rejected::field_with(
            field,
            format!(
                "{field} must be 1 to {MAX_NAME_CHARS} characters of letters, digits, '.', '_', '-', '+'"
            ),
            json!({"max": MAX_NAME_CHARS}),
        ))
    }
}
