//! Every limit and guest fault, and that the sandbox keeps working after each.

use std::sync::Arc;
use std::time::{Duration, Instant};

use notary_worker::sandbox::{GuestStatus, Sandbox, TrapKind};

use crate::support::*;

fn trap_kind(status: &GuestStatus) -> Option<TrapKind> {
    match status {
        GuestStatus::Trapped { kind, .. } => Some(*kind),
        _ => None,
    }
}

/// After any guest fault the same sandbox must still run a normal job.
async fn still_healthy(sandbox: &Sandbox) {
    let out = run(sandbox, &wasm(HELLO)).await;
    assert_eq!(out.status, GuestStatus::Exited(0));
    assert_eq!(out.stdout, b"hello world\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn infinite_loop_runs_out_of_fuel_quickly() {
    let sandbox = shared();
    let mut req = request(&wasm(INFINITE_LOOP));
    req.fuel = 1_000_000;
    let started = Instant::now();
    let out = sandbox.run(req).await.unwrap();
    assert_eq!(
        trap_kind(&out.status),
        Some(TrapKind::OutOfFuel),
        "{:?}",
        out.status
    );
    assert_eq!(out.fuel_used, 1_000_000);
    assert!(started.elapsed() < Duration::from_secs(1));
    still_healthy(&sandbox).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn growing_memory_past_the_limit_traps() {
    let sandbox = shared();
    // 10 pages are fine; 4096 more (256 MiB) cross the 256 MiB limit.
    let module = wasm(
        r#"
(module
  (memory 1)
  (func (export "_start")
    (if (i32.eq (memory.grow (i32.const 10)) (i32.const -1)) (then (unreachable)))
    (drop (memory.grow (i32.const 4096)))))
"#,
    );
    let out = run(&sandbox, &module).await;
    match &out.status {
        GuestStatus::Trapped {
            kind: TrapKind::MemoryLimit,
            message,
        } => assert!(message.contains("268435456"), "{message}"),
        other => panic!("expected MemoryLimit, got {other:?}"),
    }
    still_healthy(&sandbox).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn growing_past_a_declared_maximum_returns_minus_one() {
    // The module's own maximum is plain wasm semantics: -1, no trap.
    let module = wasm(
        r#"
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1 2)
  (func (export "_start")
    (if (i32.eq (memory.grow (i32.const 5)) (i32.const -1))
      (then (call $exit (i32.const 7))))))
"#,
    );
    let out = run(&shared(), &module).await;
    assert_eq!(out.status, GuestStatus::Exited(7));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unbounded_recursion_is_a_stack_overflow() {
    let sandbox = shared();
    let out = run(&sandbox, &wasm(RECURSE)).await;
    assert_eq!(
        trap_kind(&out.status),
        Some(TrapKind::StackOverflow),
        "{:?}",
        out.status
    );
    still_healthy(&sandbox).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_and_out_of_bounds_are_typed() {
    let sandbox = shared();
    let out = run(&sandbox, &wasm(UNREACHABLE)).await;
    assert_eq!(
        out.status,
        GuestStatus::Trapped {
            kind: TrapKind::Unreachable,
            message: "wasm trap: wasm `unreachable` instruction executed".to_string()
        }
    );
    let out = run(&sandbox, &wasm(OUT_OF_BOUNDS)).await;
    assert_eq!(
        trap_kind(&out.status),
        Some(TrapKind::MemoryOutOfBounds),
        "{:?}",
        out.status
    );
    still_healthy(&sandbox).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proc_exit_sets_the_exit_status() {
    let sandbox = shared();
    let out = run(&sandbox, &wasm(EXIT_3)).await;
    assert_eq!(out.status, GuestStatus::Exited(3));
    assert!(!out.status.is_success());
    still_healthy(&sandbox).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_flood_stops_at_the_limit() {
    let sandbox = shared();
    let out = run(&sandbox, &wasm(&flood(1))).await;
    assert_eq!(
        out.status,
        GuestStatus::OutputLimitExceeded { stream: "stdout" }
    );
    // 16 writes of 64 KiB fit exactly in 1 MiB; the 17th is refused whole.
    assert_eq!(out.stdout.len(), 1 << 20);
    assert!(
        out.fuel_used < 1_000_000,
        "stopped at the write, not by fuel"
    );

    let out = run(&sandbox, &wasm(&flood(2))).await;
    assert_eq!(
        out.status,
        GuestStatus::OutputLimitExceeded { stream: "stderr" }
    );
    assert_eq!(out.stderr.len(), 64 << 10);
    still_healthy(&sandbox).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cpu_bound_guest_with_huge_fuel_times_out() {
    let sandbox = shared();
    let mut req = request(&wasm(INFINITE_LOOP));
    req.fuel = TEST_FUEL_CAP;
    req.timeout = Duration::from_secs(1);
    let started = Instant::now();
    let out = sandbox.run(req).await.unwrap();
    let took = started.elapsed();
    assert_eq!(out.status, GuestStatus::TimedOut);
    // Ends at its timeout, not after 10^15 fuel (generous bound: a loaded machine is slow).
    assert!(took < Duration::from_secs(6), "{took:?}");
    // Issue 22, defect 5: a loop without calls used to report 0 (its fuel lived in a register
    // when the timeout cut it off). Now at least every full slice it burnt is counted.
    assert!(
        out.fuel_used >= notary_worker::sandbox::FUEL_FLUSH_INTERVAL,
        "{}",
        out.fuel_used
    );
    assert!(out.fuel_used < TEST_FUEL_CAP, "{}", out.fuel_used);
    eprintln!("MEASURE infinite loop, 10^15 fuel, 1 s timeout: ended after {took:?}");
    still_healthy(&sandbox).await;
}

#[tokio::test(flavor = "current_thread")]
async fn timeout_also_fires_on_a_current_thread_runtime() {
    let sandbox = shared();
    let mut req = request(&wasm(INFINITE_LOOP));
    req.fuel = TEST_FUEL_CAP;
    req.timeout = Duration::from_millis(300);
    let started = Instant::now();
    let out = sandbox.run(req).await.unwrap();
    assert_eq!(out.status, GuestStatus::TimedOut);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(out.fuel_used >= notary_worker::sandbox::FUEL_FLUSH_INTERVAL);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trapping_start_function_is_a_guest_trap() {
    let sandbox = shared();
    let out = run(&sandbox, &wasm(TRAPPING_START)).await;
    assert_eq!(
        trap_kind(&out.status),
        Some(TrapKind::Unreachable),
        "{:?}",
        out.status
    );
    still_healthy(&sandbox).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_module_that_fails_admission_is_a_guest_error_not_an_infrastructure_one() {
    let sandbox = shared();
    // A table over the cap: refused before instantiation, reported as the guest's fault.
    let module = wasm(r#"(module (table 100000 funcref) (func (export "_start")))"#);
    let out = run(&sandbox, &module).await;
    match &out.status {
        GuestStatus::Trapped {
            kind: TrapKind::Other,
            message,
        } => assert!(
            message.starts_with("module rejected: table initial size"),
            "{message}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(out.fuel_used, 0);

    let garbage: Arc<[u8]> = Arc::from(&b"not wasm at all"[..]);
    let out = run(&sandbox, &garbage).await;
    assert_eq!(trap_kind(&out.status), Some(TrapKind::Other));
    still_healthy(&sandbox).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_limit_failure_caused_by_the_module_is_a_guest_error() {
    // Valid, within every admission limit, but its 70,000 globals need more per-instance
    // metadata than a pool slot holds (MAX_CORE_INSTANCE_BYTES): wasmtime refuses it when
    // compiling for the pool. That is the module's fault, not a refundable failure.
    let globals = "(global i64 (i64.const 0))".repeat(70_000);
    let module = wasm(&format!(r#"(module {globals} (func (export "_start")))"#));
    let sandbox = shared();
    let out = run(&sandbox, &module).await;
    match &out.status {
        GuestStatus::Trapped {
            kind: TrapKind::Other,
            message,
        } => assert!(
            message.starts_with("module cannot run here:")
                && message.contains("does not fit in pooling allocator requirements"),
            "{message}"
        ),
        other => panic!("{other:?}"),
    }
    still_healthy(&sandbox).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trap_fuel_is_deterministic() {
    let sandbox = shared();
    for guest in [UNREACHABLE, OUT_OF_BOUNDS, RECURSE, TRAPPING_START] {
        let a = run(&sandbox, &wasm(guest)).await;
        let b = run(&sandbox, &wasm(guest)).await;
        assert_eq!(
            (a.status, a.stdout, a.fuel_used),
            (b.status, b.stdout, b.fuel_used),
            "{guest}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_beyond_the_pool_wait_for_a_slot() {
    let mut config = test_config();
    config.max_concurrent_instances = 1;
    let sandbox = Arc::new(Sandbox::new(config).unwrap());
    let mut sleeper = request(&wasm(INFINITE_LOOP));
    sleeper.fuel = TEST_FUEL_CAP;
    sleeper.timeout = Duration::from_millis(500);
    let started = Instant::now();
    let first = tokio::spawn({
        let sandbox = sandbox.clone();
        async move { sandbox.run(sleeper).await.unwrap() }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let second = run(&sandbox, &wasm(HELLO)).await;
    assert_eq!(second.status, GuestStatus::Exited(0));
    assert!(started.elapsed() >= Duration::from_millis(500));
    assert_eq!(first.await.unwrap().status, GuestStatus::TimedOut);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enormous_timeout_is_accepted() {
    let mut req = request(&wasm(HELLO));
    req.timeout = Duration::MAX;
    let out = shared().run(req).await.unwrap();
    assert_eq!(out.status, GuestStatus::Exited(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_in_a_row_then_a_normal_job() {
    // One sandbox goes through every fault in sequence: no state leaks between jobs.
    let sandbox = Sandbox::new(test_config()).unwrap();
    let faults = [
        INFINITE_LOOP,
        RECURSE,
        UNREACHABLE,
        EXIT_3,
        TRAPPING_START,
        OUT_OF_BOUNDS,
    ];
    for fault in faults {
        let mut req = request(&wasm(fault));
        req.fuel = 5_000_000;
        let out = sandbox.run(req).await.unwrap();
        assert!(!out.status.is_success(), "{fault}");
    }
    let flood_out = run(&sandbox, &wasm(&flood(1))).await;
    assert!(matches!(
        flood_out.status,
        GuestStatus::OutputLimitExceeded { .. }
    ));
    still_healthy(&sandbox).await;
}

/// A module's memory is its data segments and zeros at every start, also in a reused pool slot
/// whose written pages stay resident between runs (reset by copying the image back): the guest
/// prints its data segment and a zero region, then overwrites both; the next run prints the
/// pristine bytes again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reused_slot_gives_every_run_pristine_memory() {
    const SCRIBBLE: &str = r#"
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 4)
  (data (i32.const 65536) "pristine")
  (func (export "_start")
    (local $i i32)
    ;; print 8 bytes of the data segment and 8 bytes of never-initialized memory
    (i32.store (i32.const 0) (i32.const 65536))
    (i32.store (i32.const 4) (i32.const 8))
    (i32.store (i32.const 8) (i32.const 131072))
    (i32.store (i32.const 12) (i32.const 8))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)))
    (drop (call $fd_write (i32.const 1) (i32.const 8) (i32.const 1) (i32.const 16)))
    ;; then scribble over every page
    (local.set $i (i32.const 64))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (i32.const 262144)))
        (i64.store (local.get $i) (i64.const 0x4141414141414141))
        (local.set $i (i32.add (local.get $i) (i32.const 512)))
        (br $next)))))
"#;
    let mut config = test_config();
    config.max_concurrent_instances = 1;
    let sandbox = Sandbox::new(config).unwrap();
    let module = wasm(SCRIBBLE);
    for _ in 0..4 {
        let out = run(&sandbox, &module).await;
        assert_eq!(out.status, GuestStatus::Exited(0));
        assert_eq!(out.stdout, b"pristine\0\0\0\0\0\0\0\0");
    }
}
