//! Running one leased job: decode it, run it in the sandbox, judge the output, sign.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use notary_protocol::{
    sha256, Attestation, Digest32, JobSpec, ProgramSpec, RuntimeInfo, Verdict, WorkerKey,
    WorkerReport,
};
use tracing::Instrument as _;

use crate::module_source::ModuleSource;
use crate::sandbox::{GuestStatus, OutputTap, Program, RunOutcome, RunRequest, Sandbox, TrapKind};

/// Bytes of stdout echoed back in a report for the client to read.
pub const OUTPUT_PREVIEW_BYTES: usize = 4096;
/// Bytes of stderr quoted in an error message.
const STDERR_TAIL_BYTES: usize = 1024;

/// A TEST AID: a deliberate lie the executor tells in its attestations, to play a dishonest
/// juror against a coordinator or a jury. Never on unless asked for (`notary-worker --fault`).
///
/// The job runs normally; the lie is applied in one place (`claimed_results`) before the
/// verdict, the output hash, the preview and the signed fields are derived, so the report is
/// internally consistent and the signature is valid: only a comparison with an honest worker's
/// attestation of the same job reveals it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fault {
    /// Claim the guest printed one more byte (`\n`) than it did: the attested output hash is
    /// sha256 of the real stdout with a newline appended, the preview shows that output, and
    /// the verdict follows from the claimed hash. Applies to runs that exited (the others
    /// attest no output hash).
    WrongOutput,
    /// Claim one fuel unit more than the run used (one less when the run used its whole
    /// budget, so the claim stays within the job's budget).
    WrongFuel,
}

impl Fault {
    /// The flag value, e.g. `wrong-output`.
    pub fn as_str(self) -> &'static str {
        match self {
            Fault::WrongOutput => "wrong-output",
            Fault::WrongFuel => "wrong-fuel",
        }
    }
}

/// Runs jobs and signs their attestations; one per worker process, shared by its slots.
pub struct JobExecutor {
    sandbox: Arc<Sandbox>,
    key: WorkerKey,
    runtime: RuntimeInfo,
    modules: Option<Arc<dyn ModuleSource>>,
    fault: Option<Fault>,
    taps: OutputTaps,
    output_log: Option<Arc<dyn notary_queue::Leases>>,
}

/// Live stdout of chosen jobs: a job whose id has a tap here has its stdout copied to it as
/// the guest writes (the coordinator's streaming route registers one before it submits the
/// job to its in-process workers). Clones share the registry.
#[derive(Clone, Default)]
pub struct OutputTaps(Arc<parking_lot::Mutex<std::collections::HashMap<uuid::Uuid, OutputTap>>>);

impl OutputTaps {
    /// Copies `job`'s stdout to `tap` from now on.
    pub fn insert(&self, job: uuid::Uuid, tap: OutputTap) {
        self.0.lock().insert(job, tap);
    }

    /// Stops copying `job`'s stdout (the tap is dropped once the run holding it ends).
    pub fn remove(&self, job: &uuid::Uuid) {
        self.0.lock().remove(job);
    }

    fn get(&self, job: &uuid::Uuid) -> Option<OutputTap> {
        self.0.lock().get(job).cloned()
    }
}

impl JobExecutor {
    /// An executor signing with `key`.
    pub fn new(sandbox: Arc<Sandbox>, key: WorkerKey) -> Self {
        let id = sandbox.runtime_id();
        let runtime = RuntimeInfo {
            wasmtime: id.wasmtime_version.to_string(),
            config_hash: Digest32(id.config_hash),
            js_runtime_hash: Digest32(id.js_runtime_hash),
        };
        JobExecutor {
            sandbox,
            key,
            runtime,
            modules: None,
            fault: None,
            taps: OutputTaps::default(),
            output_log: None,
        }
    }

    /// TEST AID: makes this executor lie in every attestation as `fault` says (see [`Fault`]).
    /// For tests of juries and coordinators against a dishonest worker.
    pub fn with_fault(mut self, fault: Fault) -> Self {
        self.fault = Some(fault);
        self
    }

    /// The lie this executor tells, if any.
    pub fn fault(&self) -> Option<Fault> {
        self.fault
    }

    /// Reads registered modules (jobs naming a module by hash) from `modules`. Without one,
    /// such jobs fail as infrastructure failures.
    pub fn with_module_source(mut self, modules: Arc<dyn ModuleSource>) -> Self {
        self.modules = Some(modules);
        self
    }

    /// Publishes the stdout of streamed jobs (spec `stream`) without an in-process tap to
    /// their output log in `log` as they run (see [`crate::live_output`]).
    pub fn with_output_log(mut self, log: Arc<dyn notary_queue::Leases>) -> Self {
        self.output_log = Some(log);
        self
    }

    /// The live-output registry of this executor's runs.
    pub fn taps(&self) -> &OutputTaps {
        &self.taps
    }

    /// The runtime this executor attests to.
    pub fn runtime(&self) -> &RuntimeInfo {
        &self.runtime
    }

    /// The worker's address.
    pub fn address(&self) -> notary_protocol::Address {
        self.key.address()
    }

    /// Runs the job in `payload` (delivery `attempt`) and returns the signed report, or `None`
    /// when the payload is not a job at all (nothing can be attested about it).
    pub async fn execute(&self, payload: &str, attempt: u32) -> Option<WorkerReport> {
        let spec: JobSpec = match serde_json::from_str(payload) {
            Ok(spec) => spec,
            Err(e) => {
                tracing::error!(error = %e, "leased payload is not a job; dropping it");
                return None;
            }
        };
        let job_id = spec.job_id;
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        crate::metrics::leased(Duration::from_millis(
            now_ms.saturating_sub(spec.enqueued_at_ms),
        ));
        // Instrumented, not entered: a guard held across the awaits below would leak this
        // span into whatever other job the thread polls meanwhile (wrong `job_id` in logs).
        let span = tracing::info_span!("job", job_id = %job_id, attempt);
        self.run_spec(spec, attempt).instrument(span).await
    }

    /// [`execute`](Self::execute) of a parsed job, inside its span.
    async fn run_spec(&self, spec: JobSpec, attempt: u32) -> Option<WorkerReport> {
        let (program, module_hash) = match &spec.program {
            ProgramSpec::Javascript { source } => (
                Program::JavaScript {
                    source: source.clone(),
                },
                Digest32(self.sandbox.runtime_id().js_runtime_hash),
            ),
            ProgramSpec::Wasm { module } => {
                match base64::engine::general_purpose::STANDARD.decode(module) {
                    Ok(bytes) => {
                        let hash = sha256(&bytes);
                        (
                            Program::Wasm {
                                module: Arc::from(bytes),
                            },
                            hash,
                        )
                    }
                    Err(e) => {
                        return self.failure(
                            &spec,
                            attempt,
                            format!("job carries an undecodable module: {e}"),
                        );
                    }
                }
            }
            ProgramSpec::Module { hash } => match self.registered_module(hash).await {
                Ok(module) => (Program::Wasm { module }, *hash),
                Err(message) => return self.failure(&spec, attempt, message),
            },
        };
        let (stdout_tap, publisher) = match (self.taps.get(&spec.job_id), &self.output_log) {
            (Some(tap), _) => (Some(tap), None),
            (None, Some(log)) if spec.stream => {
                let (tap, publisher) =
                    crate::live_output::tap(log.clone(), spec.job_id.to_string(), attempt);
                (Some(tap), Some(publisher))
            }
            _ => (None, None),
        };
        let request = RunRequest {
            program,
            input: spec.input_bytes().to_vec(),
            fuel: spec.fuel,
            timeout: Duration::from_millis(spec.timeout_ms),
            seed: spec.seed(),
            stdout_tap,
        };
        let ran = self.sandbox.run(request).await;
        if let Some(publisher) = publisher {
            // The run is over: what is left and the end go out before the result, so a reader
            // has the whole output when the job is final.
            publisher.finish().await;
        }
        match ran {
            Ok(outcome) => Some(self.judge(&spec, attempt, outcome, module_hash)),
            Err(e) => {
                tracing::error!(error = %e, "sandbox failure");
                self.failure(&spec, attempt, format!("sandbox failure: {e}"))
            }
        }
    }

    /// The bytes of a registered module, checked against its hash.
    async fn registered_module(&self, hash: &Digest32) -> Result<Arc<[u8]>, String> {
        let source = self.modules.as_ref().ok_or_else(|| {
            format!("job names module {hash} but this worker has no module registry")
        })?;
        match source.module_bytes(hash).await {
            Ok(Some(bytes)) if sha256(&bytes) == *hash => Ok(bytes),
            Ok(Some(_)) => Err(format!(
                "the registry's bytes for module {hash} do not hash to it"
            )),
            Ok(None) => Err(format!("module {hash} is not in the registry")),
            Err(e) => Err(format!("reading module {hash} from the registry: {e}")),
        }
    }

    fn judge(
        &self,
        spec: &JobSpec,
        attempt: u32,
        outcome: RunOutcome,
        module_hash: Digest32,
    ) -> WorkerReport {
        let (stdout, fuel_used) = self.claimed_results(spec, &outcome);
        let stdout_hash = sha256(&stdout);
        let stderr_tail = tail(&outcome.stderr, STDERR_TAIL_BYTES);
        let with_stderr = |msg: String| {
            if stderr_tail.is_empty() {
                msg
            } else {
                format!("{msg}; stderr: {stderr_tail}")
            }
        };
        let (verdict, output_hash, exit_code, error_message) = match &outcome.status {
            GuestStatus::Exited(0) => {
                let verdict = if stdout_hash == spec.expected_hash {
                    Verdict::Valid
                } else {
                    Verdict::Invalid
                };
                (verdict, stdout_hash, Some(0), None)
            }
            GuestStatus::Exited(code) => (
                Verdict::Error,
                stdout_hash,
                Some(*code),
                Some(with_stderr(format!("program exited with code {code}"))),
            ),
            GuestStatus::Trapped { kind, message } => {
                let what = match kind {
                    TrapKind::OutOfFuel => format!(
                        "out of fuel: the run used its whole budget of {} units",
                        spec.fuel
                    ),
                    TrapKind::StackOverflow => {
                        "stack overflow: the wasm stack limit was reached".to_string()
                    }
                    TrapKind::MemoryLimit => format!("memory limit exceeded: {message}"),
                    _ => format!("trap: {message}"),
                };
                (
                    Verdict::Error,
                    Digest32::ZERO,
                    None,
                    Some(with_stderr(what)),
                )
            }
            GuestStatus::OutputLimitExceeded { stream } => (
                Verdict::Error,
                Digest32::ZERO,
                None,
                Some(format!("{stream} exceeded the output limit")),
            ),
            GuestStatus::TimedOut => (
                Verdict::Timeout,
                Digest32::ZERO,
                None,
                Some(format!(
                    "wall-clock limit of {} ms reached",
                    spec.timeout_ms
                )),
            ),
        };
        let fields = self.fields(spec, output_hash, fuel_used, verdict);
        let preview_len = stdout.len().min(OUTPUT_PREVIEW_BYTES);
        // What a run gave stays below info: a juror's result is sealed until its round closes,
        // and fleet logs are often gathered in one place.
        tracing::info!(elapsed_ms = outcome.elapsed.as_secs_f64() * 1e3, "job ran");
        tracing::debug!(
            result = verdict.as_str(),
            fuel = fuel_used,
            "job ran: result"
        );
        WorkerReport {
            job_id: spec.job_id,
            attempt,
            attestation: self.sign(fields, spec),
            runtime: self.runtime.clone(),
            error_message,
            exit_code,
            output_preview: String::from_utf8_lossy(&stdout[..preview_len]).into_owned(),
            output_truncated: preview_len < stdout.len(),
            execution_ms: outcome.elapsed.as_secs_f64() * 1e3,
            module_hash,
        }
    }

    /// The stdout and fuel this executor attests to: the run's own, unless a [`Fault`] is set.
    /// The one place a fault is applied; everything signed or reported derives from these.
    fn claimed_results<'a>(&self, spec: &JobSpec, outcome: &'a RunOutcome) -> (Cow<'a, [u8]>, u64) {
        let stdout = Cow::Borrowed(&outcome.stdout[..]);
        match self.fault {
            None => (stdout, outcome.fuel_used),
            Some(Fault::WrongOutput) if matches!(outcome.status, GuestStatus::Exited(_)) => {
                let mut lie = outcome.stdout.clone();
                lie.push(b'\n');
                (Cow::Owned(lie), outcome.fuel_used)
            }
            Some(Fault::WrongOutput) => (stdout, outcome.fuel_used),
            Some(Fault::WrongFuel) => {
                let fuel = if outcome.fuel_used < spec.fuel {
                    outcome.fuel_used + 1
                } else {
                    outcome.fuel_used.saturating_sub(1)
                };
                (stdout, fuel)
            }
        }
    }

    fn failure(&self, spec: &JobSpec, attempt: u32, message: String) -> Option<WorkerReport> {
        let fields = self.fields(spec, Digest32::ZERO, 0, Verdict::Failed);
        Some(WorkerReport {
            job_id: spec.job_id,
            attempt,
            attestation: self.sign(fields, spec),
            runtime: self.runtime.clone(),
            error_message: Some(message),
            exit_code: None,
            output_preview: String::new(),
            output_truncated: false,
            execution_ms: 0.0,
            module_hash: Digest32::ZERO,
        })
    }

    /// The signed fields: the job's own hashes, plus what this run produced.
    fn fields(
        &self,
        spec: &JobSpec,
        output_hash: Digest32,
        fuel_used: u64,
        result: Verdict,
    ) -> Attestation {
        Attestation {
            job_id: spec.job_id,
            code_hash: spec.code_hash,
            input_hash: spec.input_hash,
            output_hash,
            expected_hash: spec.expected_hash,
            fuel_used,
            result,
            runtime_id: self.runtime.id(),
        }
    }

    fn sign(&self, fields: Attestation, spec: &JobSpec) -> notary_protocol::SignedAttestation {
        // Signing a 32-byte prehash with a valid key cannot fail (k256 only errors on a zero
        // or out-of-range nonce, which RFC 6979 never produces).
        self.key
            .sign(fields, &spec.domain)
            .expect("signing a prehash cannot fail")
    }
}

/// The last `max` bytes of `bytes` as lossy UTF-8, trimmed.
fn tail(bytes: &[u8], max: usize) -> String {
    let start = bytes.len().saturating_sub(max);
    String::from_utf8_lossy(&bytes[start..]).trim().to_string()
}
