//! [`Sandbox`]: runs one job in a fresh, limited, deterministic guest instance.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use wasmtime::{Engine, Linker, Store, UpdateDeadline};

use super::cache::{CacheStats, CompiledModule, LoadError, ModuleCache};
use super::config::SandboxConfig;
use super::engine::{build_engine, EpochTicker, RuntimeId};
use super::error::SandboxError;
use super::guest::{guest_state, GuestSetup, GuestState};
use super::outcome::{classify, GuestStatus, RunOutcome, TrapKind};
use notary_profile::{validate_module, ValidationLimits};

/// Fuel between two points where the guest's fuel count is written back to the store.
///
/// Compiled code keeps the count in a register and writes it back only at calls, returns,
/// traps of its own and when its fuel slice is used up; an epoch interruption or a dropped
/// future (the wall-clock timeout) does not. A guest looping without calls would otherwise
/// end TIMEOUT with its starting fuel still in the store, i.e. `fuel_used: 0` in a signed
/// attestation. Handing fuel out in slices of this size (wasmtime's fuel yield interval; a
/// yield costs no fuel, so fuel figures do not change) bounds that error: a timed-out run
/// reports at least the fuel it burnt, short by less than one slice (~5 ms of a tight loop).
/// Short jobs (hello world uses ~1.3 M) never reach a slice's end.
pub const FUEL_FLUSH_INTERVAL: u64 = 10_000_000;

/// The code of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Program {
    /// JavaScript source, run by the QuickJS runtime module.
    JavaScript {
        /// The script.
        source: String,
    },
    /// A WASI preview1 command module (binary wasm).
    Wasm {
        /// The module bytes.
        module: Arc<[u8]>,
    },
}

/// One job for the sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRequest {
    /// What to run.
    pub program: Program,
    /// The guest's stdin (for JavaScript, after the source; see [`js_stdin`]).
    pub input: Vec<u8>,
    /// Fuel budget; at most [`SandboxConfig::fuel_per_job`].
    pub fuel: u64,
    /// Wall-clock backstop for instantiation plus execution.
    pub timeout: Duration,
    /// Seed of all the guest's randomness (derive it from the job, so reruns agree).
    pub seed: [u8; 32],
    /// Where stdout is copied as it is written (live output); never changes the run.
    pub stdout_tap: Option<super::output::OutputTap>,
}

/// The stdin the JavaScript runtime expects: `u32` little-endian source length, the source,
/// then the job input. `None` if the source does not fit a `u32` length.
pub fn js_stdin(source: &str, input: &[u8]) -> Option<Vec<u8>> {
    let len = u32::try_from(source.len()).ok()?;
    let mut stdin = Vec::with_capacity(4 + source.len() + input.len());
    stdin.extend_from_slice(&len.to_le_bytes());
    stdin.extend_from_slice(source.as_bytes());
    stdin.extend_from_slice(input);
    Some(stdin)
}

/// The sandbox of one worker process: an engine of the determinism profile, its module
/// cache, the pre-linked JavaScript runtime and the epoch ticker.
///
/// `Send + Sync`: share one `Arc<Sandbox>` between all job slots. Dropping it stops the
/// ticker thread.
pub struct Sandbox {
    engine: Engine,
    cache: Arc<ModuleCache>,
    js_runtime: Arc<CompiledModule>,
    runtime_id: RuntimeId,
    config: SandboxConfig,
    limits: ValidationLimits,
    /// One permit per pool slot: a run waits for a free slot instead of failing.
    slots: Arc<Semaphore>,
    _ticker: EpochTicker,
}

impl Sandbox {
    /// Builds the engine, compiles (or loads from the disk cache) the JavaScript runtime once,
    /// and starts the epoch ticker.
    ///
    /// Blocking and CPU-heavy when the runtime is not cached (compiling QuickJS takes 0.6 to
    /// 2 s depending on the machine; ~35 ms from the disk cache): from async code call it
    /// through `spawn_blocking`.
    pub fn new(config: SandboxConfig) -> Result<Self, SandboxError> {
        let engine = build_engine(&config)?;
        let mut linker: Linker<GuestState> = Linker::new(&engine);
        wasmtime_wasi::p1::add_to_linker_async(&mut linker, |state: &mut GuestState| {
            &mut state.wasi
        })
        .and_then(|()| super::poll::link(&mut linker))
        .and_then(|()| super::pricing::link(&mut linker))
        .map_err(|e| SandboxError::Engine(format!("linking WASI preview1: {e:#}")))?;

        let limits = config.validation_limits();
        let cache = Arc::new(ModuleCache::new(
            engine.clone(),
            Arc::new(linker),
            config.module_cache_dir.as_deref(),
        )?);

        let js_bytes = &config.js_runtime_wasm;
        let info = validate_module(js_bytes, &limits)
            .map_err(|e| SandboxError::JsRuntime(e.to_string()))?;
        let js_runtime = cache
            .load_or_compile(info.sha256, js_bytes)
            .map_err(|e| match e {
                LoadError::Compile(m) | LoadError::Rejected(m) => SandboxError::JsRuntime(m),
            })?;

        let ticker = EpochTicker::start(engine.clone())?;
        Ok(Self {
            slots: Arc::new(Semaphore::new(
                config.max_concurrent_instances.max(1) as usize
            )),
            runtime_id: RuntimeId::new(&config),
            engine,
            cache,
            js_runtime,
            config,
            limits,
            _ticker: ticker,
        })
    }

    /// The identity of this execution environment (goes into attestations).
    pub fn runtime_id(&self) -> &RuntimeId {
        &self.runtime_id
    }

    /// The configuration this sandbox was built with.
    pub fn config(&self) -> &SandboxConfig {
        &self.config
    }

    /// The admission limits this sandbox enforces (what the coordinator should validate
    /// against).
    pub fn validation_limits(&self) -> &ValidationLimits {
        &self.limits
    }

    /// Module cache counters.
    pub fn cache_stats(&self) -> CacheStats {
        self.cache.stats()
    }

    /// Runs one job to the end.
    ///
    /// Returns `Ok` for everything the guest did (see [`GuestStatus`]) and `Err` only for
    /// infrastructure failures, which are refundable.
    ///
    /// Must be polled inside a Tokio runtime with timers enabled. The guest executes *inside*
    /// this future: it yields at least every epoch tick (~10 ms), but a CPU-bound guest keeps
    /// the polling thread busy for its whole run, so drive jobs on a runtime (or threads)
    /// dedicated to them, not on the one serving the API.
    ///
    /// With more concurrent calls than `max_concurrent_instances`, the extra calls wait for a
    /// free instance slot (the timeout starts once a slot is held). A module not yet in the
    /// cache is compiled on Tokio's blocking pool first.
    pub async fn run(&self, req: RunRequest) -> Result<RunOutcome, SandboxError> {
        if req.fuel > self.config.fuel_per_job {
            return Err(SandboxError::FuelAboveLimit {
                requested: req.fuel,
                limit: self.config.fuel_per_job,
            });
        }

        let (compiled, stdin) = match req.program {
            Program::JavaScript { source } => match js_stdin(&source, &req.input) {
                Some(stdin) => (self.js_runtime.clone(), stdin),
                None => {
                    return Ok(refused(format!(
                        "JavaScript source is {} bytes; the runtime's framing allows at most {}",
                        source.len(),
                        u32::MAX
                    )))
                }
            },
            Program::Wasm { module } => match self.prepare_wasm(module).await? {
                Ok(compiled) => (compiled, req.input),
                Err(message) => return Ok(refused(message)),
            },
        };

        let slot = self
            .slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| SandboxError::Task(e.to_string()))?;
        let started = Instant::now();
        let (state, outputs) = guest_state(GuestSetup {
            stdin,
            seed: &req.seed,
            stdout_limit: self.config.stdout_limit_bytes,
            stderr_limit: self.config.stderr_limit_bytes,
            memory_limit: self.config.memory_limit_bytes,
            // An absurd timeout must not overflow `Instant`: a century is forever here.
            deadline: started
                .checked_add(req.timeout)
                .unwrap_or(started + Duration::from_secs(100 * 365 * 24 * 3600)),
            stdout_tap: req.stdout_tap,
        });
        let mut store = self.new_store(state, req.fuel)?;

        // Dropping the execution future (on timeout) unwinds the guest's fiber; the store
        // stays usable for reading the remaining fuel.
        let result = tokio::time::timeout(req.timeout, execute(&compiled, &mut store)).await;
        let elapsed = started.elapsed();
        let fuel_used = if self.config.fuel_metering {
            req.fuel.saturating_sub(store.get_fuel().unwrap_or(0))
        } else {
            0
        };

        let status = match result {
            Err(_elapsed) => GuestStatus::TimedOut,
            Ok(Ok(())) => match outputs.overflowed() {
                Some(stream) => GuestStatus::OutputLimitExceeded { stream },
                None => GuestStatus::Exited(0),
            },
            Ok(Err(Failure::Instantiate(e))) => classify(&e, &outputs, true)?,
            Ok(Err(Failure::Run(e))) => classify(&e, &outputs, false)?,
        };
        let outcome = RunOutcome {
            status,
            stdout: outputs.stdout.take(),
            stderr: outputs.stderr.take(),
            fuel_used,
            elapsed,
        };
        // Dropping the store resets its instance slot (the pages the guest wrote are copied
        // back from the image: ~80 us for hello world), so it happens after the outcome is
        // handed out, not before; the permit goes with it, so there are never more live
        // instances than slots.
        tokio::task::spawn_blocking(move || {
            drop(store);
            drop(slot);
        });
        Ok(outcome)
    }

    /// A store for one run: limiter, fuel budget, and the epoch callback that makes a running
    /// guest yield every tick and stops it once past its deadline.
    fn new_store(&self, state: GuestState, fuel: u64) -> Result<Store<GuestState>, SandboxError> {
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limiter);
        if self.config.fuel_metering {
            store
                .set_fuel(fuel)
                .and_then(|()| store.fuel_async_yield_interval(Some(FUEL_FLUSH_INTERVAL)))
                .map_err(|e| SandboxError::Engine(format!("{e:#}")))?;
        }
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|ctx| {
            if Instant::now() >= ctx.data().deadline {
                // A CPU-bound guest past its deadline stops at its next epoch check even if
                // the executor is slow to fire the run's timeout.
                Ok(UpdateDeadline::Interrupt)
            } else {
                // Tokio's `yield_now` lets the scheduler process timers before resuming us.
                Ok(UpdateDeadline::YieldCustom(
                    1,
                    Box::pin(tokio::task::yield_now()),
                ))
            }
        });
        Ok(store)
    }

    /// Finds or builds the compiled module; `Ok(Err(message))` when the module is refused
    /// (the guest's fault).
    async fn prepare_wasm(
        &self,
        module: Arc<[u8]>,
    ) -> Result<Result<Arc<CompiledModule>, String>, SandboxError> {
        let sha256: [u8; 32] = Sha256::digest(&module).into();
        if let Some(compiled) = self.cache.get(&sha256) {
            return Ok(Ok(compiled));
        }
        // Not trusting the coordinator's admission check: validate before compiling.
        if let Err(e) = validate_module(&module, &self.limits) {
            return Ok(Err(format!("module rejected: {e}")));
        }
        let cache = self.cache.clone();
        let loaded = tokio::task::spawn_blocking(move || cache.load_or_compile(sha256, &module))
            .await
            .map_err(|e| SandboxError::Task(e.to_string()))?;
        match loaded {
            Ok(compiled) => Ok(Ok(compiled)),
            Err(LoadError::Compile(e)) => Err(SandboxError::Compile(e)),
            Err(LoadError::Rejected(e)) => Ok(Err(format!("module cannot run here: {e}"))),
        }
    }
}

/// Where a run failed.
enum Failure {
    Instantiate(wasmtime::Error),
    Run(wasmtime::Error),
}

/// Instantiates (running any start function) and calls `_start`.
async fn execute(compiled: &CompiledModule, store: &mut Store<GuestState>) -> Result<(), Failure> {
    let instance = compiled
        .pre
        .instantiate_async(&mut *store)
        .await
        .map_err(Failure::Instantiate)?;
    let start = instance
        .get_typed_func::<(), ()>(&mut *store, "_start")
        .map_err(Failure::Instantiate)?;
    start
        .call_async(&mut *store, ())
        .await
        .map_err(Failure::Run)
}

/// The outcome of a job refused before it ran.
fn refused(message: String) -> RunOutcome {
    RunOutcome {
        status: GuestStatus::Trapped {
            kind: TrapKind::Other,
            message,
        },
        stdout: Vec::new(),
        stderr: Vec::new(),
        fuel_used: 0,
        elapsed: Duration::ZERO,
    }
}
