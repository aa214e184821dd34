//! The wasmtime engine of the determinism profile, and the runtime id that names it.
//!
//! This is the only place in the project that touches `wasmtime::Config`. Every setting that
//! can change a guest's output or fuel is also written, in a fixed order, into
//! [`profile_text`]; its sha256 is the `config_hash` of the [`RuntimeId`] that goes into every
//! attestation. Change a setting here and the runtime id changes with it.

use std::hash::Hasher;
use std::sync::mpsc;
use std::thread::JoinHandle;

use sha2::{Digest, Sha256};
use wasmparser::WasmFeatures;
use wasmtime::{
    Enabled, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig, Strategy,
};

use super::clocks::{CLOCK_STEP_NANOS, MONOTONIC_CLOCK_START_NANOS, WALL_CLOCK_START_NANOS};
use super::config::{
    EngineKind, SandboxConfig, EPOCH_TICK, GUEST_ARGV0, HOST_STACK_HEADROOM_BYTES,
    MAX_CORE_INSTANCE_BYTES, MAX_RANDOM_GET_BYTES, PULLEY_TARGET, TABLE_ELEMENTS_CAP,
};
use super::error::SandboxError;
use super::guest::RANDOM_DERIVATION_PREFIX;
use super::poll::{POLL_ONEOFF_BASE_FUEL, POLL_ONEOFF_FUEL_PER_SUBSCRIPTION};
use super::pricing::{HOSTCALL_FUEL, RANDOM_GET_FUEL_PER_BYTE};
use notary_profile::{MAX_MEMORIES, MAX_TABLES, PROFILE_FEATURES};

/// The exact wasmtime version the fleet runs (fuel costs differ between versions).
pub const WASMTIME_VERSION: &str = "48.0.8";

/// Bytes of each linear-memory slot kept resident between runs (Linux). A pre-initialized
/// guest (the JavaScript runtime's snapshot) starts from a copy-on-write image, and every page
/// it writes costs a page fault plus a TLB shootdown across the process's threads: measured, a
/// quarter of the embedded coordinator's CPU at saturation. With `PAGEMAP_SCAN` (Linux 6.7+)
/// wasmtime finds the pages a run wrote and copies the image back into just those, so the next
/// run in the slot writes them without faulting; pages past this bound are released as
/// before. Speed and memory only: the guest sees the same bytes either way.
const LINEAR_MEMORY_KEEP_RESIDENT_BYTES: usize = 16 << 20;

/// Bytes of each table slot kept resident between runs (Linux; the same mechanism as
/// [`LINEAR_MEMORY_KEEP_RESIDENT_BYTES`]): released table pages cost an `madvise` at every
/// reset and a write-protect fault with a TLB shootdown at the next run's first call through
/// the table (`perf`, saturated embedded: 3.4 % of the CPU between them). 1 MiB covers the
/// largest table the profile allows (65,536 elements).
const TABLE_KEEP_RESIDENT_BYTES: usize = 1 << 20;

/// Identity of the execution environment, carried in every attestation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RuntimeId {
    /// wasmtime version, e.g. `"48.0.8"`.
    pub wasmtime_version: &'static str,
    /// sha256 of [`profile_text`]: every engine and sandbox setting that can change output
    /// or fuel.
    pub config_hash: [u8; 32],
    /// sha256 of the JavaScript runtime module.
    pub js_runtime_hash: [u8; 32],
    /// `sha256(wasmtime_version bytes || config_hash || js_runtime_hash)`.
    pub id: [u8; 32],
}

impl RuntimeId {
    /// Computes the id for a sandbox configuration.
    pub fn new(config: &SandboxConfig) -> Self {
        let config_hash: [u8; 32] = Sha256::digest(profile_text(config).as_bytes()).into();
        let js_runtime_hash: [u8; 32] = Sha256::digest(&config.js_runtime_wasm).into();
        let mut h = Sha256::new();
        h.update(WASMTIME_VERSION.as_bytes());
        h.update(config_hash);
        h.update(js_runtime_hash);
        Self {
            wasmtime_version: WASMTIME_VERSION,
            config_hash,
            js_runtime_hash,
            id: h.finalize().into(),
        }
    }
}

/// The canonical text of the determinism profile: one `key=value` per line, fixed order.
///
/// Listed: everything that can change a guest's stdout, exit status or fuel. Not listed:
/// settings that only change speed or capacity (pool size, cache directory, cranelift
/// optimisation level: fuel is counted on wasm operators, before optimisation) and the
/// per-job budget and timeout, which belong to the job.
pub fn profile_text(config: &SandboxConfig) -> String {
    let mut features: Vec<&str> = PROFILE_FEATURES
        .iter_names()
        .map(|(name, _)| name)
        .collect();
    features.sort_unstable();
    let lines = [
        "notary-sandbox-profile=1".to_string(),
        format!("wasmtime={WASMTIME_VERSION}"),
        "compiler=cranelift".to_string(),
        format!("consume_fuel={}", config.fuel_metering),
        "fuel_costs=wasmtime-default".to_string(),
        "nan_canonicalization=true".to_string(),
        "relaxed_simd_deterministic=true".to_string(),
        format!("wasm_features={}", features.join(",")),
        format!("max_wasm_stack={}", config.max_wasm_stack_bytes),
        format!("memory_limit_bytes={}", config.memory_limit_bytes),
        "memory_grow_past_limit=trap".to_string(),
        format!("max_memories={MAX_MEMORIES}"),
        format!("max_tables={MAX_TABLES}"),
        format!("table_elements_cap={TABLE_ELEMENTS_CAP}"),
        format!("max_core_instance_bytes={MAX_CORE_INSTANCE_BYTES}"),
        format!("stdout_limit_bytes={}", config.stdout_limit_bytes),
        format!("stderr_limit_bytes={}", config.stderr_limit_bytes),
        "output_past_limit=trap".to_string(),
        "wasi=preview1".to_string(),
        format!("argv={GUEST_ARGV0}"),
        "env=".to_string(),
        "preopens=".to_string(),
        "network=none".to_string(),
        format!("wall_clock_start_ns={WALL_CLOCK_START_NANOS}"),
        format!("monotonic_clock_start_ns={MONOTONIC_CLOCK_START_NANOS}"),
        format!("clock_step_per_read_ns={CLOCK_STEP_NANOS}"),
        format!(
            "host_call_fuel={HOSTCALL_FUEL}; random_get_fuel_per_byte={RANDOM_GET_FUEL_PER_BYTE}; \
             random_get=next_u32 as u8 per byte of the secure_random stream"
        ),
        format!(
            "poll_oneoff=virtual: earliest clock subscription fires at once, clocks advance by its \
             wait; fd subscriptions always ready; fuel {POLL_ONEOFF_BASE_FUEL} per call + \
             {POLL_ONEOFF_FUEL_PER_SUBSCRIPTION} per subscription"
        ),
        format!(
            "random=chacha20(sha256(\"{RANDOM_DERIVATION_PREFIX}\"||label||0x00||seed)); \
             labels secure_random,insecure_random; insecure_random_seed=u128le(first 16 bytes)"
        ),
        format!("max_random_get_bytes={MAX_RANDOM_GET_BYTES}"),
        "js_stdin=u32le(len(source))||source||input".to_string(),
    ];
    let mut lines = lines.to_vec();
    if config.engine != EngineKind::Cranelift {
        // Only a non-default engine adds a line: the default profile (and every runtime id
        // issued before engines were selectable) stays as it was.
        lines.push(format!(
            "engine={} (target {PULLEY_TARGET})",
            config.engine.as_str()
        ));
    }
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

/// Whether the kernel has `PAGEMAP_SCAN` (Linux 6.7 and later).
fn pagemap_scan_supported() -> bool {
    let Ok(release) = std::fs::read_to_string("/proc/sys/kernel/osrelease") else {
        return false;
    };
    let mut parts = release
        .trim()
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major, minor) >= (6, 7)
}

/// Builds the engine of the determinism profile.
pub fn build_engine(config: &SandboxConfig) -> Result<Engine, SandboxError> {
    let slots = config.max_concurrent_instances.max(1);

    let mut pool = PoolingAllocationConfig::new();
    pool.total_core_instances(slots)
        .total_memories(slots)
        .total_tables(slots)
        .total_stacks(slots)
        .total_component_instances(0)
        .max_memories_per_module(MAX_MEMORIES as u32)
        .max_tables_per_module(MAX_TABLES as u32)
        .max_memory_size(config.memory_limit_bytes)
        .table_elements(TABLE_ELEMENTS_CAP)
        .max_core_instance_size(MAX_CORE_INSTANCE_BYTES)
        .linear_memory_keep_resident(if pagemap_scan_supported() {
            LINEAR_MEMORY_KEEP_RESIDENT_BYTES
        } else {
            // Without the scan wasmtime would memset the whole bound on every reset.
            0
        })
        .table_keep_resident(if pagemap_scan_supported() {
            TABLE_KEEP_RESIDENT_BYTES
        } else {
            0
        })
        .pagemap_scan(Enabled::Auto);

    let mut c = wasmtime::Config::new();
    if config.engine == EngineKind::Pulley {
        c.target(PULLEY_TARGET)
            .map_err(|e| SandboxError::Engine(format!("pulley target {PULLEY_TARGET}: {e:#}")))?;
    }
    c.strategy(Strategy::Cranelift)
        .cranelift_opt_level(OptLevel::Speed)
        .cranelift_nan_canonicalization(true)
        .relaxed_simd_deterministic(true)
        .consume_fuel(config.fuel_metering)
        .epoch_interruption(true)
        .max_wasm_stack(config.max_wasm_stack_bytes)
        .async_stack_size(config.max_wasm_stack_bytes + HOST_STACK_HEADROOM_BYTES)
        // Trap messages must not depend on symbol names or frame details.
        .wasm_backtrace_max_frames(None)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    // Exactly the profile's features: everything else explicitly off, whatever wasmtime's
    // defaults or compiled-in cargo features would enable.
    c.wasm_features(WasmFeatures::all().difference(PROFILE_FEATURES), false);
    c.wasm_features(PROFILE_FEATURES, true);

    Engine::new(&c).map_err(|e| SandboxError::Engine(format!("{e:#}")))
}

/// A stable hex digest of the engine's precompiled-code compatibility: the disk cache keeps
/// artifacts in a directory of this name, so a changed engine never even looks at old ones.
pub fn engine_compat_hash(engine: &Engine) -> String {
    struct ShaHasher(Sha256);
    impl Hasher for ShaHasher {
        fn finish(&self) -> u64 {
            0
        }
        fn write(&mut self, bytes: &[u8]) {
            self.0.update(bytes);
        }
    }
    let mut hasher = ShaHasher(Sha256::new());
    std::hash::Hash::hash(&engine.precompile_compatibility_hash(), &mut hasher);
    hex::encode(hasher.0.finalize())
}

/// A thread that advances the engine epoch every [`EPOCH_TICK`], so a running guest reaches
/// an epoch check (and yields to the executor) at least that often. Stopped on drop.
pub struct EpochTicker {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    /// Starts the ticker for `engine`.
    pub fn start(engine: Engine) -> Result<Self, SandboxError> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("sandbox-epoch".to_string())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(EPOCH_TICK) {
                    engine.increment_epoch();
                }
            })
            .map_err(|e| SandboxError::Engine(format!("cannot start the epoch ticker: {e}")))?;
        Ok(Self {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        // Dropping the sender wakes the thread at once with `Disconnected`.
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
