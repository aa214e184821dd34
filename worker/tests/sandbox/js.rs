//! JavaScript through the real QuickJS runtime (skipped until it has been built).

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use notary_worker::sandbox::{GuestStatus, Program, RunOutcome, RunRequest, Sandbox, TrapKind};
use sha2::{Digest, Sha256};

use crate::support::*;

fn js_sandbox() -> Option<Arc<Sandbox>> {
    static JS: OnceLock<Option<Arc<Sandbox>>> = OnceLock::new();
    JS.get_or_init(|| {
        let runtime = js_runtime()?;
        let mut config = test_config();
        config.js_runtime_wasm = runtime;
        Some(Arc::new(Sandbox::new(config).expect("JS sandbox builds")))
    })
    .clone()
}

macro_rules! js_sandbox_or_skip {
    () => {
        match js_sandbox() {
            Some(sandbox) => sandbox,
            None => {
                eprintln!("skipping: {} not built yet", js_runtime_path().display());
                return;
            }
        }
    };
}

fn js(source: &str, fuel: u64) -> RunRequest {
    RunRequest {
        program: Program::JavaScript {
            source: source.to_string(),
        },
        input: Vec::new(),
        fuel,
        timeout: Duration::from_secs(60),
        seed: [42; 32],
        stdout_tap: None,
    }
}

async fn run_js(sandbox: &Sandbox, source: &str) -> RunOutcome {
    sandbox.run(js(source, 10_000_000_000)).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_log_hello_world() {
    let sandbox = js_sandbox_or_skip!();
    let source = r#"console.log("hello world")"#;
    let first = run_js(&sandbox, source).await;
    assert_eq!(
        first.status,
        GuestStatus::Exited(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(first.stdout, b"hello world\n");
    assert_eq!(
        hex::encode(Sha256::digest(&first.stdout)),
        "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447"
    );
    let second = run_js(&sandbox, source).await;
    assert_eq!(second.fuel_used, first.fuel_used);

    let runs = 50u32;
    let started = Instant::now();
    for _ in 0..runs {
        run_js(&sandbox, source).await;
    }
    eprintln!(
        "MEASURE JS hello world: {:?} per run (warm), fuel {}",
        started.elapsed() / runs,
        first.fuel_used
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_javascript_runs_out_of_fuel() {
    let sandbox = js_sandbox_or_skip!();
    let started = Instant::now();
    let out = run_js(&sandbox, "while (true) {}").await;
    let took = started.elapsed();
    assert!(
        matches!(
            out.status,
            GuestStatus::Trapped {
                kind: TrapKind::OutOfFuel,
                ..
            }
        ),
        "{:?}",
        out.status
    );
    assert_eq!(out.fuel_used, 10_000_000_000);
    assert!(took < Duration::from_secs(30), "{took:?}");
    eprintln!("MEASURE JS while(true) with 10^10 fuel: OutOfFuel after {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_javascript_recursion_works() {
    let sandbox = js_sandbox_or_skip!();
    let out = run_js(
        &sandbox,
        "function depth(n) { return n === 0 ? 0 : 1 + depth(n - 1); } console.log(depth(2000));",
    )
    .await;
    assert_eq!(
        out.status,
        GuestStatus::Exited(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, b"2000\n");

    // Past ~11,900 frames QuickJS throws node's catchable RangeError before the 8 MiB wasm
    // stack runs out; uncaught, it ends the program with exit code 1 and the sandbox carries on.
    let out = run_js(
        &sandbox,
        "function depth(n) { return n === 0 ? 0 : 1 + depth(n - 1); } console.log(depth(20000));",
    )
    .await;
    assert_eq!(out.status, GuestStatus::Exited(1), "{:?}", out.status);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Maximum call stack size exceeded"),
        "{stderr}"
    );
    let out = run_js(
        &sandbox,
        "function d(n) { return n === 0 ? 0 : 1 + d(n - 1); } try { d(1e6) } catch (e) { console.log(e instanceof RangeError) }",
    )
    .await;
    assert_eq!(out.stdout, b"true\n");
    let out = run_js(&sandbox, r#"console.log("hello world")"#).await;
    assert_eq!(out.stdout, b"hello world\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_and_randomness_are_deterministic_across_sandboxes() {
    let sandbox = js_sandbox_or_skip!();
    let source = "console.log(Date.now(), new Date().toISOString(), Math.random(), Math.random(), performance.now());";
    let first = run_js(&sandbox, source).await;
    assert_eq!(
        first.status,
        GuestStatus::Exited(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let text = String::from_utf8(first.stdout.clone()).unwrap();
    assert!(
        text.starts_with("1767225600000 2026-01-01T00:00:00"),
        "{text}"
    );

    let mut config = test_config();
    config.js_runtime_wasm = js_runtime().unwrap();
    let other = Sandbox::new(config).unwrap();
    let second = run_js(&other, source).await;
    assert_eq!(second.stdout, first.stdout);
    assert_eq!(second.fuel_used, first.fuel_used);
    eprintln!("JS time/random output: {text}");
}

/// Every job starts from the runtime's pristine snapshot, also in a reused pool slot (whose
/// pages written by the last job are kept resident and copied back from the image rather than
/// released): globals, prototypes and the library's state a job changed are not seen by the next
/// one, and the output and fuel are the same every time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reused_slot_starts_every_job_from_the_pristine_snapshot() {
    let Some(runtime) = js_runtime() else {
        eprintln!("skipping: {} not built yet", js_runtime_path().display());
        return;
    };
    let mut config = test_config();
    config.js_runtime_wasm = runtime;
    config.max_concurrent_instances = 1;
    let sandbox = Sandbox::new(config).unwrap();
    let source = r#"
        console.log(typeof globalThis.leak, Array.prototype.leak, Object.keys(require('util')).length);
        globalThis.leak = 'x'.repeat(100000);
        Array.prototype.leak = 1;
        require('util').leak = true;
        const big = []; for (let i = 0; i < 20000; i++) big.push({ i, s: 'v' + i });
        console.log(big.length, Math.random() < 1);
    "#;
    let first = run_js(&sandbox, source).await;
    assert_eq!(
        first.status,
        GuestStatus::Exited(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(String::from_utf8_lossy(&first.stdout).starts_with("undefined undefined "));
    for _ in 0..5 {
        let again = run_js(&sandbox, source).await;
        assert_eq!(again.stdout, first.stdout);
        assert_eq!(again.fuel_used, first.fuel_used);
    }
}
