//! # notary-worker
//!
//! A stateless worker: it leases jobs from the queue, runs each in a deterministic, fuel-metered
//! wasmtime sandbox, hashes the output, signs an EIP-712 attestation and submits the report.
//! Any number of workers on any machines share one Redis; the same job gives the same output
//! hash and the same fuel on every one of them.
//!
//! - [`sandbox`]: the only code that configures wasmtime. Runs a guest (a WASI preview1 module,
//!   or JavaScript through the QuickJS runtime) with fuel, memory, output and wall-clock limits,
//!   virtual clocks and seeded randomness; validates modules before admission; caches compiled
//!   modules in memory and on disk.
//! - [`js_runtime`]: the embedded QuickJS-ng WASI module.
//! - [`execute`]: one job: decode, run, judge the output against the expected hash, sign.
//! - [`module_source`]: the bytes of registered modules that jobs name by hash (Redis in a
//!   fleet).
//! - [`pool`]: job slots on their own runtime: lease, heartbeat while running, submit, back off
//!   when Redis is away, drain on stop.
//! - [`remote`]: the open fleet's worker side: leases, heartbeats and submissions through a
//!   coordinator over HTTP with actor-signed requests, and module bytes from it (issue 12).
//! - [`metrics`]: Prometheus metrics of the worker (jobs by outcome, execution time, fuel,
//!   running sandboxes, queue errors) and the `/metrics` server of `notary-worker`.
//! - [`settings`]: sandbox options as flags, environment and TOML, shared with the coordinator's
//!   embedded workers.
//!
//! The binary (`notary-worker`) parses its options and calls [`pool::WorkerPool::start`].

pub mod execute;
pub mod js_runtime;
pub mod live_output;
pub mod metrics;
pub mod module_source;
pub mod pool;
pub mod remote;
pub mod sandbox;
pub mod seat_stream;
pub mod settings;

pub use execute::{JobExecutor, OutputTaps};
pub use module_source::{ModuleSource, RedisModuleSource};
pub use pool::{PoolConfig, WorkerPool};
pub use settings::SandboxSettings;
