//! Sandbox settings: what a worker operator may choose, and the fixed limits they may not.
//!
//! Every setting that can change a guest's output or fuel is written into the canonical
//! profile text (see `engine.rs`) whose hash goes into every attestation, so two workers with
//! different settings never claim the same runtime id.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use notary_profile::ValidationLimits;
pub use notary_profile::{
    DEFAULT_MAX_MODULE_BYTES, DEFAULT_MEMORY_LIMIT_BYTES, TABLE_ELEMENTS_CAP,
};

/// Default fuel a job may burn: 10^10 (a 10^7-step JavaScript loop costs ~8·10^9).
pub const DEFAULT_FUEL_PER_JOB: u64 = 10_000_000_000;
/// Default stdout limit: 1 MiB.
pub const DEFAULT_STDOUT_LIMIT_BYTES: usize = 1 << 20;
/// Default stderr limit: 64 KiB (diagnostics, not a result).
pub const DEFAULT_STDERR_LIMIT_BYTES: usize = 64 << 10;
/// Default wasm stack: 8 MiB. With 1 MiB, QuickJS overflowed near 2,000 nested JS calls;
/// 8 MiB leaves room for deep but sane recursion.
pub const DEFAULT_MAX_WASM_STACK_BYTES: usize = 8 << 20;
/// Default number of guest instances that may run at once (pool slots).
pub const DEFAULT_MAX_CONCURRENT_INSTANCES: u32 = 16;

/// Stack left for host code (WASI calls) on each async fiber stack, above `max_wasm_stack`.
///
/// Threat: host functions run on the guest's fiber stack; without headroom a deep guest
/// stack plus a WASI call would overflow the host stack and abort the whole worker.
pub const HOST_STACK_HEADROOM_BYTES: usize = 2 << 20;

/// Cap on a core instance's `VMContext` (functions, globals, tables metadata).
///
/// Threat: a module with hundreds of thousands of globals or exported functions would make
/// the host allocate large per-instance metadata; the pool refuses such an instance.
pub const MAX_CORE_INSTANCE_BYTES: usize = 1 << 20;

/// Largest `random_get` request, in bytes.
///
/// Threat: the host allocates the random buffer before copying it into guest memory; this
/// bounds that allocation independently of the guest's memory.
pub const MAX_RANDOM_GET_BYTES: u64 = 64 << 20;

/// The fixed `argv[0]` every guest sees (no other arguments, no environment).
pub const GUEST_ARGV0: &str = "guest";

/// How often the epoch ticker advances the engine epoch; a running guest yields to the async
/// executor at least this often, so a wall-clock timeout can fire.
pub const EPOCH_TICK: std::time::Duration = std::time::Duration::from_millis(10);

/// Most modules kept compiled in memory (each with its `InstancePre`).
///
/// Threat: clients choose the modules; without a bound the compiled-code cache would grow
/// with every distinct upload.
pub const MEMORY_CACHE_ENTRIES: usize = 256;

/// How wasmtime runs guest code. Part of the profile text (so of the runtime id) when it is not
/// the default: two engines are interchangeable in a jury only if they give the same output
/// and the same fuel on every program, which nothing proves in general (fuel is counted on
/// wasm operators, but stack depth at overflow and memory-initialisation paths may differ), so
/// workers on different engines never claim the same runtime id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EngineKind {
    /// Native machine code compiled by Cranelift (the default, and the fast one).
    #[default]
    Cranelift,
    /// Pulley: Cranelift compiles to wasmtime's portable bytecode, which an interpreter runs.
    /// Slower, but the same on every host architecture.
    Pulley,
}

impl EngineKind {
    /// The name used in flags, config files and the profile text.
    pub fn as_str(self) -> &'static str {
        match self {
            EngineKind::Cranelift => "cranelift",
            EngineKind::Pulley => "pulley",
        }
    }
}

/// The Pulley target matching this host's pointer width and byte order (wasmtime requires
/// the interpreter's pointer width to match the host's).
pub const PULLEY_TARGET: &str = if cfg!(target_pointer_width = "64") {
    if cfg!(target_endian = "little") {
        "pulley64"
    } else {
        "pulley64be"
    }
} else if cfg!(target_endian = "little") {
    "pulley32"
} else {
    "pulley32be"
};

/// Settings for one worker's [`Sandbox`](super::Sandbox).
#[derive(Clone)]
pub struct SandboxConfig {
    /// Most fuel one job may ask for ([`RunRequest::fuel`](super::RunRequest::fuel) above this
    /// is refused with [`SandboxError::FuelAboveLimit`](super::SandboxError::FuelAboveLimit)),
    /// and the budget callers use when a job names none.
    ///
    /// Threat: fuel is the deterministic bound on guest CPU; without a cap a client could buy
    /// a run that occupies a core for hours.
    pub fuel_per_job: u64,
    /// Linear-memory limit per guest (also the pool's slot size). Growing past it traps with
    /// [`TrapKind::MemoryLimit`](super::TrapKind::MemoryLimit).
    ///
    /// Threat: guest memory is host memory; this bounds each job's share.
    pub memory_limit_bytes: usize,
    /// Most bytes a guest may write to stdout; writing more ends the run with
    /// [`GuestStatus::OutputLimitExceeded`](super::GuestStatus::OutputLimitExceeded).
    ///
    /// Threat: output is buffered in host memory and hashed; unbounded output is unbounded
    /// host memory, and writing costs the guest no fuel.
    pub stdout_limit_bytes: usize,
    /// Most bytes a guest may write to stderr (same rule as stdout).
    pub stderr_limit_bytes: usize,
    /// Native stack available to wasm code. Fixed per fleet: recursion depth decides between
    /// success and [`TrapKind::StackOverflow`](super::TrapKind::StackOverflow), so it is part
    /// of the profile hash.
    ///
    /// Threat: unbounded recursion would overflow the host stack.
    pub max_wasm_stack_bytes: usize,
    /// Guest instances that may exist at once (pooling allocator slots). Runs beyond this
    /// wait for a free slot; size the worker's job slots to at most this.
    ///
    /// Threat: each slot reserves address space and a fiber stack; the pool bounds the total.
    pub max_concurrent_instances: u32,
    /// Directory for compiled modules, so a restarted worker does not recompile (the JS
    /// runtime takes 0.6 to 2 s to compile). `None` keeps compiled code in memory only.
    pub module_cache_dir: Option<PathBuf>,
    /// The QuickJS runtime module (a WASI command reading its framed stdin).
    pub js_runtime_wasm: Arc<[u8]>,
    /// Fuel metering (on by default, and always in a fleet). Off only to measure what
    /// metering costs (`worker/examples/fuel_cost.rs`): then only the wall clock bounds a
    /// guest and `fuel_used` is 0. Part of the profile hash, so attestations tell.
    pub fuel_metering: bool,
    /// Native code (the default) or the Pulley interpreter.
    pub engine: EngineKind,
}

impl SandboxConfig {
    /// The default settings, with the given JavaScript runtime module.
    pub fn new(js_runtime_wasm: Arc<[u8]>) -> Self {
        Self {
            fuel_per_job: DEFAULT_FUEL_PER_JOB,
            memory_limit_bytes: DEFAULT_MEMORY_LIMIT_BYTES,
            stdout_limit_bytes: DEFAULT_STDOUT_LIMIT_BYTES,
            stderr_limit_bytes: DEFAULT_STDERR_LIMIT_BYTES,
            max_wasm_stack_bytes: DEFAULT_MAX_WASM_STACK_BYTES,
            max_concurrent_instances: DEFAULT_MAX_CONCURRENT_INSTANCES,
            module_cache_dir: None,
            js_runtime_wasm,
            fuel_metering: true,
            engine: EngineKind::Cranelift,
        }
    }

    /// The admission limits matching this sandbox: give these to the coordinator's
    /// [`validate_module`](super::validate_module) call.
    pub fn validation_limits(&self) -> ValidationLimits {
        ValidationLimits {
            max_module_bytes: DEFAULT_MAX_MODULE_BYTES,
            max_memory_bytes: self.memory_limit_bytes as u64,
            max_table_elements: TABLE_ELEMENTS_CAP as u64,
        }
    }
}

impl fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxConfig")
            .field("fuel_per_job", &self.fuel_per_job)
            .field("memory_limit_bytes", &self.memory_limit_bytes)
            .field("stdout_limit_bytes", &self.stdout_limit_bytes)
            .field("stderr_limit_bytes", &self.stderr_limit_bytes)
            .field("max_wasm_stack_bytes", &self.max_wasm_stack_bytes)
            .field("fuel_metering", &self.fuel_metering)
            .field("engine", &self.engine)
            .field("max_concurrent_instances", &self.max_concurrent_instances)
            .field("module_cache_dir", &self.module_cache_dir)
            .field("js_runtime_wasm_bytes", &self.js_runtime_wasm.len())
            .finish()
    }
}
