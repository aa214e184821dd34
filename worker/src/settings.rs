//! Sandbox settings as an operator sets them: flags, environment variables, or a TOML table.
//!
//! Shared by `notary-worker` and by `notary-coordinator` (whose embedded workers take the same
//! options). In a TOML config file these live in a `[sandbox]` table.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use serde::Deserialize;

use crate::js_runtime::JS_RUNTIME_WASM;
use crate::sandbox::{
    EngineKind, SandboxConfig, DEFAULT_FUEL_PER_JOB, DEFAULT_MEMORY_LIMIT_BYTES,
    DEFAULT_STDOUT_LIMIT_BYTES,
};

/// Sandbox options. Every field is optional so that flags, environment and file can be merged
/// (flag or env first, then file, then the default).
#[derive(Args, Deserialize, Debug, Clone, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SandboxSettings {
    /// Fuel budget of one job (default 10^10; a 10^7-step JavaScript loop costs ~8*10^9).
    #[arg(long, env = "NOTARY_FUEL", value_name = "UNITS")]
    pub fuel: Option<u64>,
    /// Linear-memory limit of one guest, MiB (default 256).
    #[arg(long, env = "NOTARY_MEMORY_LIMIT_MB", value_name = "MIB")]
    pub memory_limit_mb: Option<usize>,
    /// Most bytes of stdout a guest may write; more is an ERROR (default 1 MiB).
    #[arg(long, env = "NOTARY_OUTPUT_LIMIT_BYTES", value_name = "BYTES")]
    pub output_limit_bytes: Option<usize>,
    /// Directory of compiled modules kept across restarts (default: `$XDG_CACHE_HOME/notary`
    /// or `~/.cache/notary`; `none` disables it).
    #[arg(long, env = "NOTARY_MODULE_CACHE_DIR", value_name = "DIR")]
    pub module_cache_dir: Option<String>,
    /// How guest code runs: `cranelift` (native code, default) or `pulley` (wasmtime's portable
    /// interpreter, slower). Part of the runtime id when not the default.
    #[arg(long, env = "NOTARY_ENGINE", value_enum, value_name = "ENGINE")]
    pub engine: Option<EngineKind>,
}

impl SandboxSettings {
    /// Fills unset fields from `other` (a config file's values).
    pub fn or(self, other: SandboxSettings) -> SandboxSettings {
        SandboxSettings {
            fuel: self.fuel.or(other.fuel),
            memory_limit_mb: self.memory_limit_mb.or(other.memory_limit_mb),
            output_limit_bytes: self.output_limit_bytes.or(other.output_limit_bytes),
            module_cache_dir: self.module_cache_dir.or(other.module_cache_dir),
            engine: self.engine.or(other.engine),
        }
    }

    /// The fuel budget in force.
    pub fn fuel(&self) -> u64 {
        self.fuel.unwrap_or(DEFAULT_FUEL_PER_JOB)
    }

    /// The sandbox configuration these settings describe, for `slots` concurrent jobs.
    pub fn sandbox_config(&self, slots: usize) -> SandboxConfig {
        let mut config = SandboxConfig::new(Arc::from(JS_RUNTIME_WASM));
        config.fuel_per_job = self.fuel();
        config.memory_limit_bytes = self
            .memory_limit_mb
            .map_or(DEFAULT_MEMORY_LIMIT_BYTES, |mb| mb << 20);
        config.stdout_limit_bytes = self
            .output_limit_bytes
            .unwrap_or(DEFAULT_STDOUT_LIMIT_BYTES);
        // A few spare slots beyond the job slots: a dropped (timed-out) instance returns its
        // slot asynchronously.
        config.max_concurrent_instances = (slots as u32).max(1) + 2;
        config.module_cache_dir = self.cache_dir();
        config.engine = self.engine.unwrap_or_default();
        config
    }

    fn cache_dir(&self) -> Option<PathBuf> {
        match self.module_cache_dir.as_deref() {
            Some("none") | Some("") => None,
            Some(dir) => Some(PathBuf::from(dir)),
            None => {
                let base = std::env::var_os("XDG_CACHE_HOME")
                    .map(PathBuf::from)
                    .or_else(|| {
                        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache"))
                    })?;
                Some(base.join("notary"))
            }
        }
    }
}
