//! The sandbox: runs untrusted guest code deterministically in wasmtime.
//!
//! A guest is a WASI preview1 command module, or JavaScript run by a QuickJS runtime module.
//! Given the same program, input, fuel budget and seed, every worker of the fleet produces
//! the same stdout, exit status and fuel count, bit for bit. That is what lets a signed
//! attestation mean something.
//!
//! # Parts
//!
//! - [`validate`](validate_module): admission checks in pure `wasmparser` (the `notary-profile`
//!   crate, shared with the coordinator and `notary-pack`; re-exported here) (imports, memories,
//!   tables, features, `_start`). The coordinator calls it before queuing a job; the sandbox
//!   calls it again before compiling.
//! - `engine`: the only place that configures `wasmtime::Config`. It fixes the determinism
//!   profile (fuel, NaN canonicalisation, no threads or relaxed SIMD, fixed wasm stack,
//!   pooling allocator) and writes it out as the canonical [`profile_text`] whose hash is in
//!   the [`RuntimeId`].
//! - `guest`: the per-job WASI world: stdin from the request, bounded stdout/stderr
//!   (`output`), virtual clocks (`clocks`), randomness derived from the job seed, no env,
//!   files or network; and the resource limiter.
//! - `cache`: compiled modules by sha256, in memory (with their `InstancePre`) and on disk.
//! - [`Sandbox`]: runs one [`RunRequest`] to a [`RunOutcome`].
//! - [`GuestStatus`] vs [`SandboxError`]: what the guest did (a result) vs what went wrong
//!   on the host (refundable).
//!
//! # Bounds, and what each protects against
//!
//! | bound | threat |
//! |---|---|
//! | fuel per job | guest CPU; deterministic, so the same code always stops at the same point |
//! | wall-clock timeout + epoch ticker | a guest that runs longer than its client will wait (fuel priced for a long job); a host stall |
//! | virtual `poll_oneoff` (`poll`), priced in fuel | a sleeping guest holding a slot while burning nothing |
//! | fuel per host call and per `random_get` byte (`pricing`) | a loop of cheap or large WASI calls holding a slot on almost no fuel |
//! | memory limit (traps past it) | host memory |
//! | stdout / stderr limits (trap past them) | host memory; writing costs no fuel |
//! | wasm stack | host stack overflow from recursion |
//! | table cap, one memory, one table, instance size | host memory outside the linear-memory limit |
//! | module size | compile time and compiled-code memory |
//! | import allow-list | every host function is attack surface; sockets and non-WASI imports are refused |
//!
//! # Determinism
//!
//! Clocks start at 2026-01-01T00:00:00Z (wall) and 0 (monotonic) and advance 1 µs per read;
//! sleeping (`poll_oneoff`) returns at once and moves both clocks forward by the time slept,
//! at a fixed fuel price per call; randomness is ChaCha20 seeded from the job seed. Only two outcomes depend on the machine:
//! [`GuestStatus::TimedOut`] (wall-clock backstop; its `fuel_used` is not exact either) and,
//! in principle, a host that cannot back a memory grow the limits allowed (the guest then
//! sees -1).

mod cache;
mod clocks;
mod config;
mod engine;
mod error;
mod guest;
mod outcome;
mod output;
mod poll;
mod pricing;
mod runner;

pub use cache::CacheStats;
pub use clocks::{CLOCK_STEP_NANOS, MONOTONIC_CLOCK_START_NANOS, WALL_CLOCK_START_NANOS};
pub use config::{
    EngineKind, SandboxConfig, DEFAULT_FUEL_PER_JOB, DEFAULT_MAX_CONCURRENT_INSTANCES,
    DEFAULT_MAX_MODULE_BYTES, DEFAULT_MAX_WASM_STACK_BYTES, DEFAULT_MEMORY_LIMIT_BYTES,
    DEFAULT_STDERR_LIMIT_BYTES, DEFAULT_STDOUT_LIMIT_BYTES, PULLEY_TARGET, TABLE_ELEMENTS_CAP,
};
pub use engine::{profile_text, RuntimeId, WASMTIME_VERSION};
pub use error::SandboxError;
pub use notary_profile::{
    validate_module, wat_to_wasm, ModuleInfo, ValidationError, ValidationLimits, PROFILE_FEATURES,
};
pub use notary_profile::{
    WasiFunction, ALLOWED_WASI_FUNCTIONS, REFUSED_WASI_FUNCTIONS, WASI_MODULE,
};
pub use outcome::{GuestStatus, RunOutcome, TrapKind};
pub use output::OutputTap;
pub use poll::{POLL_ONEOFF_BASE_FUEL, POLL_ONEOFF_FUEL_PER_SUBSCRIPTION};
pub use pricing::{HOSTCALL_FUEL, RANDOM_GET_FUEL_PER_BYTE};
pub use runner::{js_stdin, Program, RunRequest, Sandbox, FUEL_FLUSH_INTERVAL};
