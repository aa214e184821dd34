//! One job's guest world: the store state, its WASI context and its resource limiter.
//!
//! Everything the guest can observe is built here from the request alone (stdin, the seed)
//! plus fixed profile constants: no host environment, files, network, real clock or real
//! randomness reaches it.

use std::sync::Arc;
use std::time::Instant;

use chacha20::rand_core::SeedableRng;
use chacha20::ChaCha20Rng;
use sha2::{Digest, Sha256};
use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::MemoryInputPipe;
use wasmtime_wasi::WasiCtxBuilder;

use super::clocks::{VirtualMonotonicClock, VirtualTime, VirtualWallClock};
use super::config::{GUEST_ARGV0, MAX_RANDOM_GET_BYTES, TABLE_ELEMENTS_CAP};
use super::output::{BoundedOutput, OutputTap};

/// Domain-separation prefix for the three random streams derived from a job seed.
pub const RANDOM_DERIVATION_PREFIX: &str = "notary/sandbox/random/v1/";

/// The store data of one job.
pub struct GuestState {
    /// The guest's WASI preview1 context.
    pub wasi: WasiP1Ctx,
    /// Memory and table limits.
    pub limiter: GuestLimiter,
    /// Wall-clock instant after which a running guest is interrupted at its next epoch check.
    pub deadline: Instant,
    /// The guest's virtual time, shared with its clocks (advanced by `poll_oneoff`).
    pub time: Arc<VirtualTime>,
    /// The stream `random_get` draws from (the `secure_random` derivation of the seed).
    pub random: ChaCha20Rng,
}

/// The guest's stdout and stderr, kept by the host to read after the run.
pub struct GuestOutputs {
    /// Captured stdout.
    pub stdout: BoundedOutput,
    /// Captured stderr.
    pub stderr: BoundedOutput,
}

impl GuestOutputs {
    /// The stream the guest tried to overfill, if any.
    pub fn overflowed(&self) -> Option<&'static str> {
        [&self.stdout, &self.stderr]
            .into_iter()
            .find(|s| s.overflowed())
            .map(|s| s.name())
    }
}

/// Inputs for one job's guest world.
pub struct GuestSetup<'a> {
    /// Bytes the guest reads from stdin.
    pub stdin: Vec<u8>,
    /// The job's seed for all randomness.
    pub seed: &'a [u8; 32],
    /// Stdout limit in bytes.
    pub stdout_limit: usize,
    /// Stderr limit in bytes.
    pub stderr_limit: usize,
    /// Linear-memory limit in bytes.
    pub memory_limit: usize,
    /// When to interrupt a running guest.
    pub deadline: Instant,
    /// Where stdout is copied as it is written (live output), if anywhere.
    pub stdout_tap: Option<OutputTap>,
}

/// Builds the store data and the host's handles on the output streams.
pub fn guest_state(setup: GuestSetup<'_>) -> (GuestState, GuestOutputs) {
    let stdout = BoundedOutput::new("stdout", setup.stdout_limit).with_tap(setup.stdout_tap);
    let stderr = BoundedOutput::new("stderr", setup.stderr_limit);

    let time = VirtualTime::new();
    let mut builder = WasiCtxBuilder::new();
    builder
        .stdin(MemoryInputPipe::new(setup.stdin))
        .stdout(stdout.clone())
        .stderr(stderr.clone())
        .arg(GUEST_ARGV0)
        .wall_clock(VirtualWallClock(time.clone()))
        .monotonic_clock(VirtualMonotonicClock(time.clone()))
        // `random_get` is our own (priced per byte, `pricing`) and draws from the state's
        // copy of this stream; wasmtime-wasi's is kept identical should anything read it.
        .secure_random(ChaCha20Rng::from_seed(derive(setup.seed, "secure_random")))
        .insecure_random(ChaCha20Rng::from_seed(derive(
            setup.seed,
            "insecure_random",
        )))
        .insecure_random_seed(u128::from_le_bytes(
            derive(setup.seed, "insecure_random_seed")[..16]
                .try_into()
                .expect("16 bytes"),
        ))
        .max_random_size(MAX_RANDOM_GET_BYTES)
        // `poll_oneoff` is our own (virtual time); should wasmtime-wasi's ever run, a relative
        // sleep must not block the thread with `std::thread::sleep`, which no timeout stops.
        .allow_blocking_current_thread(false)
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false);

    let state = GuestState {
        wasi: builder.build_p1(),
        limiter: GuestLimiter::new(setup.memory_limit),
        deadline: setup.deadline,
        time,
        random: ChaCha20Rng::from_seed(derive(setup.seed, "secure_random")),
    };
    (state, GuestOutputs { stdout, stderr })
}

/// `sha256(prefix || label || 0x00 || seed)`: independent 32-byte seeds for each stream.
fn derive(seed: &[u8; 32], label: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(RANDOM_DERIVATION_PREFIX.as_bytes());
    h.update(label.as_bytes());
    h.update([0u8]);
    h.update(seed);
    h.finalize().into()
}

/// The trap a guest gets when it grows its memory past the sandbox limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("memory limit exceeded: the guest asked for {desired} bytes of linear memory; the limit is {limit} bytes")]
pub struct MemoryLimitError {
    /// The size the guest asked for.
    pub desired: usize,
    /// The limit.
    pub limit: usize,
}

/// Resource limiter: `StoreLimits` for tables and counts, plus a memory limit that *traps*.
///
/// Growing memory past the limit traps with [`MemoryLimitError`] instead of `memory.grow`
/// returning -1: the job then ends with a clear `MemoryLimit` status rather than whatever
/// each language runtime does on allocation failure. Growth past a maximum the module itself
/// declared still returns -1, as the wasm spec says.
///
/// A grow the limits allowed but the host could not perform also returns -1 (logged at debug
/// level, like every failed grow). With the pooling allocator every slot's memory is reserved
/// up front, so this only happens when the kernel refuses a protection change: the one host
/// condition that could make a guest see a different result.
pub struct GuestLimiter {
    limits: StoreLimits,
    memory_limit: usize,
}

impl GuestLimiter {
    fn new(memory_limit: usize) -> Self {
        Self {
            limits: StoreLimitsBuilder::new()
                .memory_size(memory_limit)
                .table_elements(TABLE_ELEMENTS_CAP)
                .instances(1)
                .memories(1)
                .tables(1)
                .build(),
            memory_limit,
        }
    }
}

impl ResourceLimiter for GuestLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_limit {
            return Err(wasmtime::Error::new(MemoryLimitError {
                desired,
                limit: self.memory_limit,
            }));
        }
        self.limits.memory_growing(current, desired, maximum)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        // Also reached when the guest grows past a maximum it declared itself: that is a
        // plain -1 in wasm, not a host problem, so this only logs at debug level.
        tracing::debug!(error = %error, "guest memory.grow failed");
        Ok(())
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        tracing::debug!(error = %error, "guest table.grow failed");
        Ok(())
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
}
