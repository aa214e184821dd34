//! Infrastructure failures of the sandbox.
//!
//! A [`SandboxError`] means the *worker* could not run the job: the job is refundable and may
//! be retried elsewhere. Anything the guest did (trap, exit code, output flood, running out
//! of fuel, an invalid module) is a [`GuestStatus`](super::GuestStatus) inside a successful
//! [`RunOutcome`](super::RunOutcome), never a `SandboxError`.

/// Why the sandbox could not run a job (refundable).
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The engine could not be built or its support threads started.
    #[error("sandbox engine: {0}")]
    Engine(String),
    /// The JavaScript runtime module given in the config is unusable (fails validation or
    /// linking). A deployment error, found at start-up.
    #[error("JavaScript runtime module: {0}")]
    JsRuntime(String),
    /// A module that passed validation failed to compile: an engine bug or resource failure,
    /// not the client's fault.
    #[error("compiling a validated module failed: {0}")]
    Compile(String),
    /// The pooling allocator had no free slot. `run` waits for a slot before instantiating,
    /// so this indicates a wasmtime-level shortage (a bug or a slot not yet released).
    #[error("no free instance slot (max_concurrent_instances reached)")]
    PoolExhausted,
    /// Instantiation failed for a host reason (memory mapping, fiber stack allocation).
    #[error("instantiating the guest failed on the host: {0}")]
    Instantiate(String),
    /// The request asked for more fuel than this worker allows per job.
    #[error("job asks for {requested} fuel; this worker allows at most {limit}")]
    FuelAboveLimit {
        /// Requested fuel.
        requested: u64,
        /// The worker's `fuel_per_job`.
        limit: u64,
    },
    /// The compiled-module cache directory could not be prepared.
    #[error("module cache directory: {0}")]
    CacheDir(String),
    /// A blocking helper task failed (panicked or was cancelled).
    #[error("sandbox task failed: {0}")]
    Task(String),
}
