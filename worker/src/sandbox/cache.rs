//! Compiled modules: in memory by sha256, optionally on disk across restarts.
//!
//! Compiling is the expensive step (the ~1.5 MB QuickJS runtime takes 0.6 to 2 s);
//! instantiating a pre-linked module from the pool takes microseconds. So every module is
//! compiled once per process (memory cache, with its `InstancePre`) and, with a cache
//! directory, once per machine: `<dir>/<engine-compat-hash>/<module-sha256>.cwasm`.
//!
//! The engine-compatibility directory means a worker with a different wasmtime build or
//! engine settings never reads another's artifacts; wasmtime also checks each artifact's
//! header against the engine and refuses a mismatch, in which case we recompile and replace
//! the file.

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use wasmtime::{Engine, InstancePre, Linker, Module};

use super::config::MEMORY_CACHE_ENTRIES;
use super::engine::engine_compat_hash;
use super::error::SandboxError;
use super::guest::GuestState;

/// A compiled, pre-linked module ready to instantiate.
pub struct CompiledModule {
    /// sha256 of the module bytes.
    pub sha256: [u8; 32],
    /// The module pre-linked against the WASI preview1 imports.
    pub pre: InstancePre<GuestState>,
}

/// Counters of the module cache, for metrics and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Modules compiled with Cranelift (a cache miss everywhere).
    pub compiled: u64,
    /// Modules loaded from the disk cache instead of compiled.
    pub disk_hits: u64,
    /// Runs served from the in-memory cache.
    pub memory_hits: u64,
    /// Artifacts written to the disk cache.
    pub disk_writes: u64,
    /// Disk cache reads or writes that failed (the module was compiled instead; logged).
    pub disk_errors: u64,
    /// Modules dropped from the in-memory cache to stay within its bound.
    pub evictions: u64,
}

/// Why a module could not be made ready.
#[derive(Debug)]
pub enum LoadError {
    /// Compilation failed for a reason that is not the module's fault (an engine bug, the
    /// host out of resources).
    Compile(String),
    /// The module itself cannot run here: its imports do not link against WASI preview1, or
    /// it needs more per-instance metadata than a pool slot allows.
    Rejected(String),
}

/// wasmtime's context on errors from the pooling allocator's per-module checks (instance
/// size, memories, tables). These are untyped errors, so they are recognised by this text;
/// a sandbox test pins it for the exact wasmtime version.
const POOLING_LIMIT_CONTEXT: &str = "does not fit in pooling allocator requirements";

fn compile_error(e: wasmtime::Error) -> LoadError {
    let message = format!("{e:#}");
    if e.chain()
        .any(|c| c.to_string().contains(POOLING_LIMIT_CONTEXT))
    {
        LoadError::Rejected(message)
    } else {
        LoadError::Compile(message)
    }
}

#[derive(Default)]
struct Counters {
    compiled: AtomicU64,
    disk_hits: AtomicU64,
    memory_hits: AtomicU64,
    disk_writes: AtomicU64,
    disk_errors: AtomicU64,
    evictions: AtomicU64,
}

struct Entry {
    module: Arc<CompiledModule>,
    last_used: u64,
}

#[derive(Default)]
struct Lru {
    entries: HashMap<[u8; 32], Entry>,
    clock: u64,
}

/// The module cache of one sandbox.
pub struct ModuleCache {
    engine: Engine,
    linker: Arc<Linker<GuestState>>,
    disk_dir: Option<PathBuf>,
    memory: Mutex<Lru>,
    counters: Counters,
    temp_counter: AtomicU64,
}

impl ModuleCache {
    /// A cache for `engine`; with `dir`, artifacts persist in `<dir>/<engine-compat-hash>/`.
    pub fn new(
        engine: Engine,
        linker: Arc<Linker<GuestState>>,
        dir: Option<&Path>,
    ) -> Result<Self, SandboxError> {
        let disk_dir = match dir {
            Some(root) => {
                let dir = root.join(engine_compat_hash(&engine));
                prepare_private_dir(root)?;
                prepare_private_dir(&dir)?;
                Some(dir)
            }
            None => None,
        };
        Ok(Self {
            engine,
            linker,
            disk_dir,
            memory: Mutex::new(Lru::default()),
            counters: Counters::default(),
            temp_counter: AtomicU64::new(0),
        })
    }

    /// The cache counters so far.
    pub fn stats(&self) -> CacheStats {
        let c = &self.counters;
        CacheStats {
            compiled: c.compiled.load(Ordering::Relaxed),
            disk_hits: c.disk_hits.load(Ordering::Relaxed),
            memory_hits: c.memory_hits.load(Ordering::Relaxed),
            disk_writes: c.disk_writes.load(Ordering::Relaxed),
            disk_errors: c.disk_errors.load(Ordering::Relaxed),
            evictions: c.evictions.load(Ordering::Relaxed),
        }
    }

    /// The in-memory entry for `sha256`, if any.
    pub fn get(&self, sha256: &[u8; 32]) -> Option<Arc<CompiledModule>> {
        let mut lru = self.memory.lock();
        lru.clock += 1;
        let now = lru.clock;
        let entry = lru.entries.get_mut(sha256)?;
        entry.last_used = now;
        self.counters.memory_hits.fetch_add(1, Ordering::Relaxed);
        Some(entry.module.clone())
    }

    /// Loads `bytes` (whose sha256 is `sha256`) from disk or compiles it, links it, and
    /// keeps it in memory. Blocking and CPU-heavy on a miss: call from a blocking thread.
    ///
    /// `bytes` must already have passed [`validate_module`](super::validate_module).
    pub fn load_or_compile(
        &self,
        sha256: [u8; 32],
        bytes: &[u8],
    ) -> Result<Arc<CompiledModule>, LoadError> {
        let module = match self.load_from_disk(&sha256) {
            Some(module) => module,
            None => {
                let module = Module::from_binary(&self.engine, bytes).map_err(compile_error)?;
                self.counters.compiled.fetch_add(1, Ordering::Relaxed);
                self.store_on_disk(&sha256, &module);
                module
            }
        };
        let pre = self
            .linker
            .instantiate_pre(&module)
            .map_err(|e| LoadError::Rejected(format!("{e:#}")))?;
        let compiled = Arc::new(CompiledModule { sha256, pre });
        self.insert(compiled.clone());
        Ok(compiled)
    }

    fn insert(&self, module: Arc<CompiledModule>) {
        let mut lru = self.memory.lock();
        lru.clock += 1;
        let now = lru.clock;
        if !lru.entries.contains_key(&module.sha256) && lru.entries.len() >= MEMORY_CACHE_ENTRIES {
            let oldest = lru
                .entries
                .iter()
                .min_by_key(|(_, e)| e.last_used)
                .map(|(k, _)| *k);
            if let Some(oldest) = oldest {
                lru.entries.remove(&oldest);
                self.counters.evictions.fetch_add(1, Ordering::Relaxed);
            }
        }
        lru.entries.insert(
            module.sha256,
            Entry {
                module,
                last_used: now,
            },
        );
    }

    fn artifact_path(&self, sha256: &[u8; 32]) -> Option<PathBuf> {
        let dir = self.disk_dir.as_ref()?;
        Some(dir.join(format!("{}.cwasm", hex::encode(sha256))))
    }

    fn load_from_disk(&self, sha256: &[u8; 32]) -> Option<Module> {
        let path = self.artifact_path(sha256)?;
        if !path.exists() {
            return None;
        }
        match deserialize_own_artifact(&self.engine, &path) {
            Ok(module) => {
                self.counters.disk_hits.fetch_add(1, Ordering::Relaxed);
                Some(module)
            }
            Err(e) => {
                // Typically an artifact from an incompatible engine build: recompile and
                // replace it.
                tracing::warn!(path = %path.display(), error = %format!("{e:#}"),
                    "discarding unusable cached module");
                self.counters.disk_errors.fetch_add(1, Ordering::Relaxed);
                let _ = fs::remove_file(&path);
                None
            }
        }
    }

    fn store_on_disk(&self, sha256: &[u8; 32], module: &Module) {
        let Some(path) = self.artifact_path(sha256) else {
            return;
        };
        match self.write_atomically(&path, module) {
            Ok(()) => {
                self.counters.disk_writes.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot cache compiled module");
                self.counters.disk_errors.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Writes to a fresh temporary file in the same directory, then renames it over the
    /// final name: a reader sees either no file or a complete one, and a file that is mapped
    /// by a running module is never modified in place (rename replaces the directory entry;
    /// the old inode stays intact for whoever has it mapped).
    fn write_atomically(&self, path: &Path, module: &Module) -> Result<(), String> {
        let bytes = module.serialize().map_err(|e| format!("{e:#}"))?;
        let dir = path.parent().ok_or("artifact path has no parent")?;
        let temp = dir.join(format!(
            ".{}.{}.{}.tmp",
            path.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("module"),
            std::process::id(),
            self.temp_counter.fetch_add(1, Ordering::Relaxed)
        ));
        let result = (|| -> std::io::Result<()> {
            let mut options = fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&temp)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
            fs::rename(&temp, path)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&temp);
        }
        result.map_err(|e| e.to_string())
    }
}

/// Loads a compiled artifact this cache wrote earlier.
///
/// This is the one `unsafe` call in the project. `Module::deserialize_file` trusts the file
/// to be a genuine wasmtime artifact (it contains machine code that will run) and to stay
/// unchanged while it is memory-mapped. Both hold here:
/// - the file is one *we* wrote with `Module::serialize`, in a directory we created with
///   mode 0700 (and re-tightened to 0700 at start-up, which only the owner can do), named by
///   the engine-compatibility hash and the module's sha256; no other user can plant or
///   alter a file there;
/// - files are only ever replaced by atomic rename of a complete temporary file, never
///   written in place, so a mapping always sees the bytes it was created from;
/// - wasmtime still checks the header (version, engine flags) and refuses a mismatch.
///
/// A process running as the same user could tamper with the directory, but such a process
/// can already modify the worker binary itself.
#[allow(unsafe_code)]
fn deserialize_own_artifact(engine: &Engine, path: &Path) -> wasmtime::Result<Module> {
    // SAFETY: see the function documentation: the file is our own serialized artifact in a
    // private directory, and it is never modified in place.
    unsafe { Module::deserialize_file(engine, path) }
}

/// Creates `dir` if needed and makes it private to this user (0700).
fn prepare_private_dir(dir: &Path) -> Result<(), SandboxError> {
    let err = |e: std::io::Error| SandboxError::CacheDir(format!("{}: {e}", dir.display()));
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(err)?;
    }
    Ok(())
}
