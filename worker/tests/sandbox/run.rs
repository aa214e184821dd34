//! Normal runs: output, input, determinism, clocks, randomness, concurrency.

use std::time::{Duration, Instant};

use notary_worker::sandbox::{GuestStatus, Program, RunRequest, SandboxError};

use crate::support::*;

/// Fuel of the hello-world guest under wasmtime 48.0.8. A change here means fuel accounting
/// changed: that changes attestations, so it must be deliberate.
const HELLO_FUEL: u64 = 12;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hello_world_exits_zero_with_exact_output_and_fuel() {
    let out = run(&shared(), &wasm(HELLO)).await;
    assert_eq!(out.status, GuestStatus::Exited(0));
    assert!(out.status.is_success());
    assert_eq!(out.stdout, b"hello world\n");
    assert!(out.stderr.is_empty());
    assert_eq!(out.fuel_used, HELLO_FUEL, "fuel accounting changed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdin_reaches_the_guest_and_reruns_are_identical() {
    let sandbox = shared();
    let module = wasm(ECHO);
    let input: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
    let mut req = request(&module);
    req.input = input.clone();

    let first = sandbox.run(req.clone()).await.unwrap();
    let second = sandbox.run(req).await.unwrap();
    assert_eq!(first.status, GuestStatus::Exited(0));
    assert_eq!(first.stdout, input);
    assert_eq!(first.stdout, second.stdout);
    assert_eq!(first.fuel_used, second.fuel_used);
    assert!(first.fuel_used > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn javascript_stdin_is_framed_with_the_source_length() {
    // The shared test sandbox uses the echo guest as its "JavaScript runtime".
    let req = RunRequest {
        program: Program::JavaScript {
            source: "print(1)".to_string(),
        },
        input: b"input".to_vec(),
        fuel: 1_000_000_000,
        timeout: Duration::from_secs(10),
        seed: [0; 32],
        stdout_tap: None,
    };
    let out = shared().run(req).await.unwrap();
    assert_eq!(out.status, GuestStatus::Exited(0));
    assert_eq!(out.stdout, b"\x08\x00\x00\x00print(1)input");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clocks_are_virtual_and_step_one_microsecond_per_read() {
    let sandbox = shared();
    let decode = |bytes: &[u8]| -> (u64, u64) {
        (
            u64::from_le_bytes(bytes[..8].try_into().unwrap()),
            u64::from_le_bytes(bytes[8..16].try_into().unwrap()),
        )
    };

    let realtime = run(&sandbox, &wasm(&read_clock_twice(0))).await;
    assert_eq!(realtime.status, GuestStatus::Exited(0));
    // 2026-01-01T00:00:00Z, then one step later.
    assert_eq!(
        decode(&realtime.stdout),
        (1_767_225_600_000_000_000, 1_767_225_600_000_001_000)
    );

    let monotonic = run(&sandbox, &wasm(&read_clock_twice(1))).await;
    assert_eq!(monotonic.status, GuestStatus::Exited(0));
    assert_eq!(decode(&monotonic.stdout), (0, 1_000));

    // A fresh run starts from the same instant again.
    let again = run(&sandbox, &wasm(&read_clock_twice(0))).await;
    assert_eq!(again.stdout, realtime.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn randomness_follows_the_seed() {
    let sandbox = shared();
    let module = wasm(RANDOM_32);
    let with_seed = |seed: [u8; 32]| {
        let mut req = request(&module);
        req.seed = seed;
        req
    };
    let a = sandbox.run(with_seed([1; 32])).await.unwrap();
    let b = sandbox.run(with_seed([1; 32])).await.unwrap();
    let c = sandbox.run(with_seed([2; 32])).await.unwrap();
    assert_eq!(a.status, GuestStatus::Exited(0));
    assert_eq!(a.stdout.len(), 32);
    assert_eq!(a.stdout, b.stdout);
    assert_ne!(a.stdout, c.stdout);
    assert_ne!(a.stdout, vec![0; 32]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fuel_is_identical_across_runs_that_yield_many_times() {
    // Long enough to cross many 10 ms epoch ticks (each one a yield to the executor), also on
    // a fast machine: 5e7 iterations took only 25 ms on one, under the 30 ms asserted below.
    let module = wasm(
        r#"
(module
  (func (export "_start")
    (local $i i32)
    (local.set $i (i32.const 400000000))
    (loop $l
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (br_if $l (local.get $i)))))
"#,
    );
    let sandbox = shared();
    let first = run(&sandbox, &module).await;
    let second = run(&sandbox, &module).await;
    assert_eq!(first.status, GuestStatus::Exited(0));
    assert!(
        first.elapsed > Duration::from_millis(30),
        "{:?}",
        first.elapsed
    );
    assert_eq!(first.fuel_used, second.fuel_used);
    // 6 operators per iteration (local.get, i32.const, i32.sub, local.set, local.get, br_if)
    // plus 3 outside the loop.
    assert_eq!(first.fuel_used, 2_400_000_003);
    eprintln!(
        "MEASURE 4e8-iteration loop: {} fuel in {:?}",
        first.fuel_used, first.elapsed
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_concurrent_runs_on_one_sandbox() {
    let sandbox = shared();
    let module = wasm(ECHO);
    let jobs = (0..8u8).map(|i| {
        let sandbox = sandbox.clone();
        let mut req = request(&module);
        req.input = vec![b'a' + i; 1000 + usize::from(i)];
        tokio::spawn(async move {
            let expected = req.input.clone();
            let out = sandbox.run(req).await.unwrap();
            (out, expected)
        })
    });
    for job in futures::future::join_all(jobs).await {
        let (out, expected) = job.unwrap();
        assert_eq!(out.status, GuestStatus::Exited(0));
        assert_eq!(out.stdout, expected);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fuel_above_the_worker_cap_is_refused() {
    let mut req = request(&wasm(HELLO));
    req.fuel = u64::MAX;
    let err = shared().run(req).await.unwrap_err();
    assert!(matches!(err, SandboxError::FuelAboveLimit { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_job_time_of_a_trivial_module() {
    let sandbox = shared();
    let module = wasm(HELLO);
    run(&sandbox, &module).await; // compile once
    let runs = 500;
    let started = Instant::now();
    for _ in 0..runs {
        let out = run(&sandbox, &module).await;
        assert_eq!(out.stdout, b"hello world\n");
    }
    let per_job = started.elapsed() / runs;
    eprintln!("MEASURE trivial wasm run (cached module, whole Sandbox::run): {per_job:?} per job");
}
