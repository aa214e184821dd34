//! `notary-worker exec`: runs one program in this worker's sandbox, locally, with no queue.
//!
//! The same engine, determinism profile, limits, JavaScript runtime and seed rule as a fleet
//! job, so what it prints is what a job's `output` would be. Uses: trying a guest before
//! submitting it, and the JavaScript comparison tests (`guest-sdk/js-runtime/tests`), which
//! must judge the product's sandbox, not another WASI host.
//!
//! The guest's stdout and stderr go to this process's stdout and stderr, byte for byte. The
//! exit code is the guest's own (`proc_exit(n)`, 0 when `_start` returns; an uncaught
//! JavaScript exception exits 1, as under node), or one of [`EXIT_TRAPPED`],
//! [`EXIT_OUTPUT_LIMIT`], [`EXIT_TIMED_OUT`] with a one-line reason on stderr, or
//! [`EXIT_HOST_ERROR`] when the sandbox itself failed. `--summary` adds one JSON line to
//! stderr with the status, fuel and output hash.
//!
//! `notary-worker exec --job JOB.json` runs one job spec (what a queue or `GET /assignments`
//! hands a worker) exactly as a fleet worker does, signs the attestation with this worker's
//! key (`NOTARY_WORKER_KEY` or `--key-file`) and prints the report as JSON on stdout: the
//! sandbox for another orchestrator, or for a worker of the open fleet written in another
//! language (`docs/worker-protocol.md`). A job naming a registered module by hash reads it
//! from `--coordinator URL`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use notary_protocol::{derive_seed, sha256};
use notary_worker::sandbox::{GuestStatus, Program, RunOutcome, RunRequest, Sandbox};
use notary_worker::SandboxSettings;
use serde::Serialize;

/// The guest trapped (fuel, stack, memory, `unreachable`...).
pub const EXIT_TRAPPED: i32 = 250;
/// The guest wrote past the stdout or stderr limit.
pub const EXIT_OUTPUT_LIMIT: i32 = 251;
/// The wall-clock backstop ended the run (as `timeout(1)` does).
pub const EXIT_TIMED_OUT: i32 = 124;
/// The sandbox failed for a reason that is not the guest's (sysexits' EX_SOFTWARE).
pub const EXIT_HOST_ERROR: i32 = 70;

/// What to run, and with which input.
#[derive(clap::Args, Debug)]
pub struct ExecArgs {
    /// JavaScript source file, run by the embedded QuickJS runtime.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = ["wasm", "job"],
        required_unless_present_any = ["wasm", "job"]
    )]
    js: Option<PathBuf>,
    /// WASI preview1 command module (binary `.wasm` or text `.wat`).
    #[arg(long, value_name = "FILE", conflicts_with = "job")]
    wasm: Option<PathBuf>,
    /// A job spec (JSON): run it as a fleet worker would, sign, print the report (JSON).
    #[arg(long, value_name = "FILE")]
    job: Option<PathBuf>,
    /// With `--job`: which delivery this is (the assignment's `attempt`).
    #[arg(long, default_value_t = 1, requires = "job")]
    attempt: u32,
    /// With `--job`: the signing key file (else `NOTARY_WORKER_KEY`).
    #[arg(long, value_name = "FILE", requires = "job")]
    key_file: Option<PathBuf>,
    /// With `--job`: where registered modules are read (`GET /modules/:hash/module`).
    #[arg(long, value_name = "URL", requires = "job")]
    coordinator: Option<String>,
    /// File whose bytes are the job input (the guest's stdin; for JavaScript, `inputData`).
    #[arg(long, value_name = "FILE")]
    input: Option<PathBuf>,
    /// Wall-clock backstop, seconds (as a job's `timeoutSeconds`).
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    timeout_seconds: u64,
    /// After the run, write one JSON line to stderr: status, exit code, fuel used, stdout sha256.
    #[arg(long)]
    summary: bool,
    #[command(flatten)]
    sandbox: SandboxSettings,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Summary {
    status: String,
    exit_code: i32,
    fuel_used: u64,
    output_hash: String,
    execution_time_ms: f64,
}

/// Runs the program and returns the process exit code.
pub fn exec(args: ExecArgs) -> i32 {
    match run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("notary-worker exec: {e:#}");
            EXIT_HOST_ERROR
        }
    }
}

/// `--job`: runs the spec, prints the signed report.
fn run_job(args: &ExecArgs, path: &std::path::Path) -> anyhow::Result<i32> {
    let payload =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let key = match (&args.key_file, std::env::var("NOTARY_WORKER_KEY")) {
        (Some(file), _) => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            notary_protocol::WorkerKey::from_hex(&text).context("the key file")?
        }
        (None, Ok(hex)) => {
            notary_protocol::WorkerKey::from_hex(&hex).context("NOTARY_WORKER_KEY")?
        }
        (None, Err(_)) => {
            anyhow::bail!("--job signs: pass --key-file FILE or set NOTARY_WORKER_KEY")
        }
    };
    let config = args.sandbox.sandbox_config(1);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (attempt, coordinator) = (args.attempt, args.coordinator.clone());
    let report = runtime.block_on(async move {
        let sandbox = tokio::task::spawn_blocking(move || Sandbox::new(config)).await??;
        let mut executor = notary_worker::JobExecutor::new(Arc::new(sandbox), key.clone());
        if let Some(url) = coordinator {
            let c = notary_worker::remote::Coordinator::new(&url, key)
                .map_err(|e| anyhow::anyhow!("coordinator client: {e}"))?;
            executor =
                executor.with_module_source(Arc::new(notary_worker::remote::RemoteModules::new(c)));
        }
        anyhow::Ok(executor.execute(&payload, attempt).await)
    })?;
    let report = report.context("the file is not a job spec")?;
    println!("{}", serde_json::to_string(&report)?);
    Ok(0)
}

fn run(args: ExecArgs) -> anyhow::Result<i32> {
    if let Some(path) = &args.job {
        return run_job(&args, path);
    }
    let (program, code) = match (&args.js, &args.wasm) {
        (Some(path), _) => {
            let source = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let code = source.as_bytes().to_vec();
            (Program::JavaScript { source }, code)
        }
        (None, Some(path)) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            let module = if bytes.starts_with(b"\0asm") {
                bytes
            } else {
                let text = String::from_utf8(bytes)
                    .with_context(|| format!("{}: neither wasm nor WAT text", path.display()))?;
                notary_worker::sandbox::wat_to_wasm(&text)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
            };
            (
                Program::Wasm {
                    module: Arc::from(module.as_slice()),
                },
                module,
            )
        }
        (None, None) => anyhow::bail!("pass --js FILE or --wasm FILE"),
    };
    let input = match &args.input {
        Some(path) => std::fs::read(path).with_context(|| format!("reading {}", path.display()))?,
        None => Vec::new(),
    };
    let fuel = args.sandbox.fuel();
    let request = RunRequest {
        program,
        seed: derive_seed(&sha256(&code), &sha256(&input)),
        stdout_tap: None,
        input,
        fuel,
        timeout: Duration::from_secs(args.timeout_seconds),
    };
    let config = args.sandbox.sandbox_config(1);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let outcome = runtime.block_on(async move {
        let sandbox = tokio::task::spawn_blocking(move || Sandbox::new(config)).await??;
        anyhow::Ok(sandbox.run(request).await?)
    })?;
    Ok(report(&outcome, args.summary))
}

/// Writes the guest's streams out and maps its status to an exit code.
fn report(outcome: &RunOutcome, summary: bool) -> i32 {
    use std::io::Write;
    let _ = std::io::stdout().write_all(&outcome.stdout);
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().write_all(&outcome.stderr);
    let (status, code) = match &outcome.status {
        GuestStatus::Exited(n) => (format!("exited {n}"), *n),
        GuestStatus::Trapped { kind, message } => {
            eprintln!("\nnotary-worker exec: guest trapped ({kind:?}): {message}");
            (format!("trapped {kind:?}"), EXIT_TRAPPED)
        }
        GuestStatus::OutputLimitExceeded { stream } => {
            eprintln!("\nnotary-worker exec: guest wrote past the {stream} limit");
            (format!("{stream} limit"), EXIT_OUTPUT_LIMIT)
        }
        GuestStatus::TimedOut => {
            eprintln!("\nnotary-worker exec: wall-clock timeout");
            ("timed out".to_string(), EXIT_TIMED_OUT)
        }
    };
    if summary {
        let line = Summary {
            status,
            exit_code: code,
            fuel_used: outcome.fuel_used,
            output_hash: sha256(&outcome.stdout).to_hex(),
            execution_time_ms: outcome.elapsed.as_secs_f64() * 1000.0,
        };
        if let Ok(json) = serde_json::to_string(&line) {
            eprintln!("{json}");
        }
    }
    code
}
